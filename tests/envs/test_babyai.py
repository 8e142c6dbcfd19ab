"""BabyAI adapter: goals become missions, BabyAI's verifier judges, skills are honest."""

from __future__ import annotations

import numpy as np
import pytest

from envs import babyai
from envs._babyai_mission import MissionError, leaves, parse_goal
from envs.registry import EnvSession

GOALS = [
    "pick up the red ball",
    "put the red ball next to the blue box",
    "open the door, then pick up the key",
    "go to the green key",
    "pick up a box after you open the yellow door",
    "go to the grey ball and pick up the purple key",
]


def _solve(env: babyai.BabyAIEnv, budget: int = 300) -> babyai.BabyAIAPI:
    api = babyai.make_api(env, budget=budget)
    while env.active_clause() and not env.episode_over:
        t = env.active_clause()
        if t["verb"] == "go_to":
            api.go_to(t["color"], t["type"], t.get("loc"), t.get("pos"))
        elif t["verb"] == "pick_up":
            api.pick_up(t["color"], t["type"], t.get("loc"), t.get("pos"))
        elif t["verb"] == "open":
            api.open(t["color"], t.get("type") or "door", t.get("loc"))
        else:
            api.put_next_to(t["color"], t["type"], t["fixed_color"], t["fixed_type"])
    return api


def test_parse_goal_reads_babyai_language() -> None:
    instr = parse_goal("Open the door, then pick up the key.")
    assert [leaf.name for leaf in leaves(instr)] == ["open_door", "pick_up_key"]
    after = parse_goal("pick up a box after you open the yellow door")
    assert [leaf.name for leaf in leaves(after)] == ["open_yellow_door", "pick_up_box"]
    with pytest.raises(MissionError):
        parse_goal("collect wood")
    with pytest.raises(ValueError):
        parse_goal("pick up the door")


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize("seed", [0, 1])
def test_goal_becomes_mission_and_skills_succeed(goal: str, seed: int) -> None:
    env = babyai.make("babyai", seed=seed, goal=goal)
    env.reset(seed=seed)
    assert env.mission.replace("a box", "the box").startswith(goal.split()[0])
    _solve(env)
    assert env.success, env.mission
    ach = env.info["achievements"]
    assert all(ach[leaf.name] >= 1 for leaf in env.leaves())
    assert ach[env.mission_name] == 1


def test_native_level_mission_is_kept() -> None:
    env = babyai.make("babyai:BabyAI-GoToObj-v0", seed=0)
    env.reset(seed=0)
    same = babyai.make("babyai", seed=0, goal=env.mission)
    assert type(same._env).__name__ == "GoToObj"


def test_same_seed_same_episode() -> None:
    runs = []
    for _ in range(2):
        env = babyai.make("babyai", seed=3, goal="put the red ball next to the blue box")
        env.reset(seed=3)
        api = _solve(env)
        runs.append((env.mission, list(env.action_log), api.steps_used))
    assert runs[0] == runs[1]


def test_describe_is_the_partial_view() -> None:
    env = babyai.make("babyai", seed=0, goal="pick up the red ball")
    env.reset(seed=0)
    text = babyai.describe(None, env.info, env.memory)
    assert "You carry nothing." in text and "red ball" in text
    assert env.info["image"].shape == (7, 7, 3)
    # memory holds only what the 7x7 view showed, not the whole grid
    assert len(env.memory.cells) < env._env.width * env._env.height


def test_rules_decompose_compound_missions() -> None:
    s = EnvSession.open("babyai", 0, goal="open the door, then pick up the key")
    rules = s.rules
    assert rules.achievements == ["open_door_pick_up_key"]
    chain = [n for n, _ in rules.prerequisites("open_door_pick_up_key", {})]
    assert chain == ["open_door", "open_door_pick_up_key"]
    assert rules.missing("pick_up", {}, set()) and not rules.missing("open", {}, set())


def test_session_mission_and_unknown_level() -> None:
    assert EnvSession.open("babyai:BabyAI-PickupLoc-v0", 1).mission
    with pytest.raises(ValueError):
        babyai.make("babyai:BabyAI-Nope-v0")


def test_builtin_skills_through_the_library() -> None:
    from skills.library import SkillLibrary

    lib = SkillLibrary("babyai")
    assert {"go_to", "pick_up", "open_door", "put_next_to"} <= set(lib.names())
    s = EnvSession.open("babyai", 0, goal="put the red ball next to the blue box")
    res = lib.get("put_next_to").run(s, budget=200, need={})
    assert res.stopped == "returned" and s.env.success
    wrong = EnvSession.open("babyai", 0, goal="pick up the red ball")
    assert lib.get("open_door").run(wrong, budget=50, need={}).stopped == "error"


def test_image_is_egocentric_numpy() -> None:
    env = babyai.make("babyai", seed=0)
    obs, info = env.reset(seed=0)
    assert np.array_equal(obs["image"], info["image"])


@pytest.mark.parametrize(
    ("ja", "en"),
    [
        ("赤いボールを拾って", "pick up the red ball"),
        ("青い箱の隣に赤いボールを置いて", "put the red ball next to the blue box"),
        ("赤いボールを青い箱の隣に置いて", "put the red ball next to the blue box"),
        ("ドアを開けてから鍵を拾って", "open the door, then pick up the key"),
        ("緑の鍵へ行って", "go to the green key"),
        ("赤いボールと青い鍵を拾って", "pick up the red ball and pick up the blue key"),
    ],
)
def test_japanese_goal_becomes_the_same_mission(ja: str, en: str) -> None:
    from envs._babyai_mission import from_japanese

    assert from_japanese(ja) == en
    env = babyai.make("babyai", seed=0, goal=ja)
    env.reset(seed=0)
    assert [leaf.name for leaf in env.leaves()] == [leaf.name for leaf in leaves(parse_goal(en))]
    _solve(env)
    assert env.success, env.mission
    with pytest.raises(MissionError):
        parse_goal("空を飛んで")
