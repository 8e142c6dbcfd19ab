"""Extension points are registries: a reward model added as one file (here a plugin found
through the entry-point group ``mendako.rewards``) is chosen, validated and used by a run
with no file of mendako changed; the env registry names what it knows."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from graph_fakes import ScriptedPlanner, WordScorer

import agents.rewards as rewards
from graphs.context import RunSettings
from graphs.runner import check_settings, run_goal
from graphs.trace import find_run
from skills.library import SkillLibrary

PLUGIN = textwrap.dedent(
    '''
    """A reward model in one file: success when the player holds more than before."""
    from agents.rewards import Assessment, RewardKind


    class GainReward:
        mode = "gain"

        def reset(self, info):
            pass

        def assess(self, goal, before, after):
            gained = sum(after["inventory"].values()) - sum(before["inventory"].values())
            return Assessment(success=gained > 0, reward=float(gained > 0), why=f"gained {gained}")


    KIND = RewardKind("gain", "the inventory grew", lambda **_: GainReward())
    '''
)


@pytest.fixture
def gain_plugin(tmp_path: Path):
    (tmp_path / "mendako_gain.py").write_text(PLUGIN)
    dist = tmp_path / "mendako_gain-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mendako-gain\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[mendako.rewards]\ngain = mendako_gain:KIND\n")
    sys.path.insert(0, str(tmp_path))
    rewards.reward_kinds.cache_clear()
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("mendako_gain", None)
    rewards.reward_kinds.cache_clear()


def test_a_reward_model_plugin_is_used_by_a_run(gain_plugin: None) -> None:
    assert "gain" in rewards.reward_kinds()
    assert rewards.check_options("gain").summary == "the inventory grew"
    s = run_goal(
        "collect wood",
        RunSettings(seed=0, reward="gain"),
        llm=ScriptedPlanner(replies=[{"target": "collect_wood", "subgoals": ["collect_wood"]}]),
        scorer=WordScorer(),
        library=SkillLibrary("crafter", kinds=("code",)),
    )
    verdicts = [
        e["update"]["verdict"] for e in find_run(s.run_id).events() if e.get("node") == "verify"
    ]
    assert verdicts and all(v["mode"] == "gain" for v in verdicts)
    assert "gained" in verdicts[0]["critique"]


def test_unknown_reward_is_refused_before_the_run() -> None:
    with pytest.raises(ValueError, match="not a reward model: programmatic, judge"):
        check_settings(RunSettings(reward="gain"))


def test_builtin_kinds_say_what_they_need() -> None:
    kinds = rewards.reward_kinds()
    assert "frame" in kinds["clip"].needs and "words" in kinds["judge"].needs
    assert kinds["programmatic"].make is None
    assert rewards.MODES == tuple(kinds)[: len(rewards.MODES)]
    with pytest.raises(ValueError, match="clip-weights"):
        rewards.check_options("clip")


LLM_PLUGIN = textwrap.dedent(
    '''
    """An LLM backend in one file: `seeded:<n>`, the none backend's random valid answers."""
    from agents._llm_none import NoneChatModel
    from agents.llm_backends import Backend


    def make(arg, run_seed=0, **_):
        return NoneChatModel(run_seed=int(arg) + run_seed)


    BACKEND = Backend("seeded", "seeded:<n>", "random valid answers from seed n", make=make)
    '''
)


@pytest.fixture
def seeded_backend(tmp_path: Path):
    from agents import llm_backends

    (tmp_path / "mendako_seeded.py").write_text(LLM_PLUGIN)
    dist = tmp_path / "mendako_seeded-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mendako-seeded\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[mendako.llms]\nseeded = mendako_seeded:BACKEND\n")
    sys.path.insert(0, str(tmp_path))
    llm_backends.backends.cache_clear()
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("mendako_seeded", None)
    llm_backends.backends.cache_clear()


def test_an_llm_backend_plugin_runs_a_goal(seeded_backend: None) -> None:
    from agents.llm import LLMError, make_chat_model, parse_spec
    from agents.llm_backends import spec_forms

    assert "seeded:<n>" in spec_forms()
    with pytest.raises(LLMError, match="needs a value"):
        parse_spec("seeded")
    assert type(make_chat_model("seeded:4")).__name__ == "NoneChatModel"
    s = run_goal(
        "collect wood",
        RunSettings(seed=0, llm="seeded:4"),
        library=SkillLibrary("crafter", kinds=("code",)),
    )
    assert find_run(s.run_id).meta()["llm"] == "seeded:4"
    assert s.outcome in ("achieved", "failed", "not_achievable")
