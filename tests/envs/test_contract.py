"""Contract tests over the env registry (Minigrid's ``tests/envs/test_envs.py`` is the model).

Every registered environment, and the example plugin (``examples/taxi_plugin``, installed
into a temporary folder by pip and found through its entry point), must pass gymnasium's
``check_env``, give the same episode for the same seed, perceive fairly, and run each of its
built-in skills within budget. MineDojo cannot start offline: it is skipped with its own
one-line reason.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence

from envs import registry
from envs.contract import EnvAdapter, Rules
from envs.registry import EnvSession, adapter, env_names

ENVS = [*env_names(), "taxi"] if "taxi" not in env_names() else list(env_names())


@pytest.fixture(params=ENVS)
def spec(request: pytest.FixtureRequest, taxi_installed: Path) -> EnvAdapter:
    """Each registered adapter (taxi through its entry point); MineDojo skips offline."""
    spec = adapter(request.param)
    if request.param == "minedojo":
        try:
            spec.make("minedojo")
        except ValueError as e:  # MineDojoUnavailable
            pytest.skip(f"MineDojo cannot start here: {str(e)[:120]}")
    return spec


def _episode(spec: EnvAdapter, seed: int, steps: int) -> list[tuple[object, dict]]:
    env = spec.make(spec.name, seed=seed)
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = [(obs, info)]
    for _ in range(steps):
        obs, _, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
        out.append((obs, info))
        if term or trunc:
            break
    return out


def test_plugin_is_found_through_its_entry_point(taxi_installed: Path) -> None:
    assert {"crafter", "babyai", "minedojo", "taxi"} <= set(env_names())
    assert type(adapter("taxi")).__module__ == "mendako_taxi"
    assert str(taxi_installed) in str(Path(sys.modules["mendako_taxi"].__file__))  # type: ignore[arg-type]


def test_unknown_env_names_the_registered_ones() -> None:
    with pytest.raises(registry.UnknownEnvError, match="crafter, babyai, minedojo"):
        adapter("nethack")


def test_gymnasium_check_env(spec: EnvAdapter) -> None:
    env = spec.make(spec.name, seed=0)
    check_env(env, skip_render_check=True)  # type: ignore[arg-type]


def test_same_seed_same_episode(spec: EnvAdapter) -> None:
    a, b = _episode(spec, 7, 60), _episode(spec, 7, 60)
    assert len(a) == len(b)
    for (obs_a, info_a), (obs_b, info_b) in zip(a, b, strict=True):
        assert data_equivalence(obs_a, obs_b) and data_equivalence(info_a, info_b)
    c = _episode(spec, 8, 60)  # and the seed matters
    assert not all(data_equivalence(x[1], y[1]) for x, y in zip(a, c, strict=False))


def test_fair_perception(spec: EnvAdapter) -> None:
    if spec.view_cells is None:
        pytest.skip(f"{spec.name} is fully observed by design: its observation is the state")
    for _, info in _episode(spec, 1, 40):
        assert spec.check_perception(info) == []


def test_fair_perception_check_can_fail() -> None:
    """Crafter's privileged whole-world map, handed in info, is caught."""
    env = adapter("crafter").make("crafter")
    _, info = env.reset(seed=0)
    leaked = info | {"semantic": np.zeros((64, 64), np.uint8)}
    problems = adapter("crafter").check_perception(leaked)
    assert any("semantic" in p for p in problems) and any("4096 cells" in p for p in problems)


def test_text_face_rules_and_api(spec: EnvAdapter) -> None:
    session = EnvSession.open(spec.name, 0)
    text = session.describe()
    assert isinstance(text, str) and text.strip()
    assert isinstance(session.rules, Rules)
    names = list(session.rules.achievements)
    assert names and all(isinstance(n, str) for n in names)
    chain = session.rules.prerequisites(names[-1], session.inventory, session.known_kinds())
    assert chain and chain[-1][0] == names[-1]
    api = session.api(3, {})
    assert api.steps_used == 0
    assert isinstance(spec.skill_description(names[0]), str)
    assert session.sees("no such kind") is False
    vocab = spec.goal_vocabulary()  # the goal reader's words, when the env ships them
    if vocab is not None:
        assert set(vocab.achievements) <= set(names) | set(session.achievements)
        for phrase, target in vocab.examples:
            assert target == vocab.refuse or target in vocab.achievements, phrase
    assert set(spec.vocabulary().achievements) <= set(names) | set(session.achievements)


def test_builtin_skills_run_within_budget(spec: EnvAdapter) -> None:
    """A smoke run of every shipped skill from a fresh world: no crash, budget kept; and at
    least one of them unlocks an achievement."""
    from skills.library import SkillLibrary

    library = SkillLibrary(spec.name, stats="frozen")
    skills = list(library)
    assert skills, f"{spec.name} ships no skills"
    unlocked = 0
    for skill in skills:
        session = EnvSession.open(spec.name, 0)
        before = session.achievements
        result = skill.run(session, budget=40, need={})
        assert result.steps <= 40 + 1, skill.meta.name
        assert result.stopped in ("returned", "budget", "episode_over", "error")
        if result.stopped == "error":  # a precondition not met here, said in words
            assert result.error and "Traceback" not in result.error, skill.meta.name
        after = session.achievements
        unlocked += any(after.get(k, 0) > before.get(k, 0) for k in after)
    assert unlocked >= 1
