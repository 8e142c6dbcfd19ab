"""Tests of the Crafter gymnasium wrapper: API shape, fair perception, determinism, text."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from envs.crafter import CrafterAPI, CrafterEnv, EpisodeOver, describe, make


@pytest.fixture(scope="module")
def env() -> CrafterEnv:
    return make("crafter", seed=0)


def test_gymnasium_api_shape(env: CrafterEnv) -> None:
    obs, info = env.reset(seed=0)
    assert isinstance(env, gymnasium.Env)
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8
    assert env.observation_space.contains(obs)
    assert env.action_space.n == len(env.action_names) == 17
    out = env.step(0)
    assert len(out) == 5
    obs2, reward, terminated, truncated, info2 = out
    assert isinstance(reward, float) and terminated is False and truncated is False
    for key in (
        "inventory",
        "achievements",
        "player_pos",
        "facing",
        "local_view",
        "step",
        "sleeping",
        "daylight",
        "discount",
    ):
        assert key in info and key in info2
    assert info2["step"] == 1 and env.action_log == [0]
    assert np.array_equal(env.render(), obs2)


def test_fair_perception(env: CrafterEnv) -> None:
    _, info = env.reset(seed=3)
    for _ in range(3):
        _, _, _, _, info = env.step(2)
    assert "semantic" not in info
    assert info["local_view"].shape == (9, 7)
    assert info["local_view"][4, 3] == "player"
    names = set(env.rules.materials) | {
        "player",
        "cow",
        "zombie",
        "skeleton",
        "arrow",
        "plant",
        "unknown",
    }
    assert set(info["local_view"].ravel().tolist()) <= names
    # Memory holds exactly the cells seen so far, nothing else.
    seen = env.memory.materials >= 0
    assert 0 < seen.sum() <= 9 * 7 * 4
    x, y = info["player_pos"]
    assert seen[x - 4 : x + 5, y - 3 : y + 4].all()
    assert not seen[x + 6 :, :].any() and not seen[:, y + 5 :].any()


def test_info_is_a_copy(env: CrafterEnv) -> None:
    _, info = env.reset(seed=0)
    pos = info["player_pos"]
    env.step(1)
    env.step(1)
    assert info["player_pos"] == pos and isinstance(pos, tuple)


def test_out_of_world_cells_are_unknown() -> None:
    env = make(seed=0)
    env.reset(seed=0)
    api = CrafterAPI(env, budget=40)
    for _ in range(36):
        api.act("move_up")
    view = env.info["local_view"]
    if env.info["player_pos"][1] < 3:
        assert (view[:, 0] == "unknown").all()


def test_same_seed_same_world() -> None:
    a, b = make(seed=5), make(seed=99)
    obs_a, info_a = a.reset(seed=5)
    obs_b, info_b = b.reset(seed=5)
    assert np.array_equal(obs_a, obs_b)
    actions = [2, 2, 3, 5, 4, 1, 5, 0, 6, 3] * 3
    for act in actions:
        obs_a, r_a, *_, info_a = a.step(act)
        obs_b, r_b, *_, info_b = b.step(act)
    assert np.array_equal(obs_a, obs_b) and r_a == r_b
    assert info_a["player_pos"] == info_b["player_pos"]
    assert np.array_equal(info_a["local_view"], info_b["local_view"])
    # A different seed gives a different world.
    obs_c, _ = b.reset(seed=6)
    obs_a, _ = a.reset(seed=5)
    assert not np.array_equal(obs_a, obs_c)


@pytest.mark.slow
def test_long_episodes_are_reproducible() -> None:
    rng = np.random.default_rng(0)
    actions = [int(a) for a in rng.integers(0, 5, 600)]
    infos = []
    for _ in range(2):
        env = make(seed=8)
        env.reset(seed=8)
        for a in actions:
            env.step(a)
        infos.append(env.info)
        del env
    assert infos[0]["player_pos"] == infos[1]["player_pos"]
    assert np.array_equal(infos[0]["local_view"], infos[1]["local_view"])


def test_replay_resumes(env: CrafterEnv) -> None:
    env.reset(seed=2)
    for act in [2, 2, 2, 5, 3, 3, 5]:
        env.step(act)
    info = env.info
    log = list(env.action_log)
    again = env.replay(log, seed=2)
    assert again["player_pos"] == info["player_pos"]
    assert again["inventory"] == info["inventory"]


def test_truncation_and_episode_over() -> None:
    env = make(seed=0, length=5)
    env.reset(seed=0)
    for _ in range(4):
        _, _, term, trunc, _ = env.step(0)
        assert not (term or trunc)
    _, _, term, trunc, _ = env.step(0)
    assert trunc and not term
    env.reset(seed=0)
    api = CrafterAPI(env, budget=100)
    with pytest.raises(EpisodeOver):
        for _ in range(10):
            api.noop()


def test_describe_mentions_inventory_and_nearby(env: CrafterEnv) -> None:
    obs, info = env.reset(seed=0)
    api = CrafterAPI(env, budget=200)
    assert api.collect("wood")
    text = describe(env.render(), env.info, env.memory)
    assert "wood 1" in text
    assert "Health 9" in text
    assert len(text) < 600
    first = describe(obs, info)
    assert "tree" in first and "cow" in first  # seed 0 starts with both in view
    assert "left" in first or "right" in first
    assert "Inventory: nothing" in first


def test_describe_remembers_out_of_view(env: CrafterEnv) -> None:
    env.reset(seed=0)
    api = CrafterAPI(env, budget=300)
    assert api.collect("wood", until=2) and api.place("table")
    api.explore(15)
    if not api.see("table"):
        assert "You remember: table" in describe(None, env.info, env.memory)


def test_make_rejects_unknown_id() -> None:
    with pytest.raises(ValueError):
        make("crafter-v9")


def test_drawing_frames_never_changes_the_episode() -> None:
    # Crafter draws night noise from the world's random state; frames have their own here,
    # so an env that draws no frames lives the same episode, and draws the same frame on request.
    drawn, blank = make("crafter", seed=1), make("crafter", seed=1, frames=False)
    obs, _ = drawn.reset(seed=1)
    blank_obs, _ = blank.reset(seed=1)
    assert obs.any() and not blank_obs.any()
    rng = np.random.default_rng(0)
    for step in range(1, 301):  # into the first night (noise from daylight 0.5, step ~150)
        a = int(rng.choice([0, 0, 0, 1, 2, 3, 4]))
        obs, _, term, _, info = drawn.step(a)
        _, _, term2, _, info2 = blank.step(a)
        assert term == term2
        if term:
            break
        assert info["player_pos"] == info2["player_pos"]
        assert (info["local_view"] == info2["local_view"]).all()
        if step == 100:  # by day no noise is drawn: the same frame, drawn on request
            assert np.array_equal(blank.render(), obs)
    assert step > 150, "the night was not reached"


def test_memory_knows_how_long_a_placed_plant_has_stood(env: CrafterEnv) -> None:
    env.reset(seed=0)
    api = CrafterAPI(env, budget=400)
    assert env.memory.age("plant") is None
    assert api.collect("sapling") and api.place("plant")
    placed = env.memory.step
    for _ in range(20):
        api.noop()
    assert env.memory.age("plant") == env.memory.step - placed == 20
    api.explore(40)  # out of view: the remembered plant's age still counts from the placing
    assert not api.see("plant")
    assert env.memory.age("plant") == env.memory.step - placed == 60
