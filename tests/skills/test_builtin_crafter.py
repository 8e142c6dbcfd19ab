"""Built-in Crafter code skills run through CrafterAPI on the real env."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from envs.crafter import BudgetExhausted, CrafterAPI, CrafterEnv, SkillStop, load_rules, make

SKILLS = Path(__file__).resolve().parents[2] / "skills" / "builtin" / "crafter"


def load_skill(name: str) -> ModuleType:
    """Import ``skills/builtin/crafter/<name>/skill.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        f"crafter_skill_{name}", SKILLS / name / "skill.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def meta(name: str) -> dict:
    """The skill's meta.json."""
    return json.loads((SKILLS / name / "meta.json").read_text())


def run_chain(env: CrafterEnv, target: str, budget: int = 1000) -> tuple[bool, int, list[str]]:
    """Run the rule-derived chain to ``target`` with built-in skills, each verified by its
    achievement counter (or, for collects, the needed count being held).
    Returns (target reached, steps used, failed subgoals)."""
    rules = load_rules()
    used, failed = 0, []
    for name, need in rules.prerequisites(target, env.info["inventory"]):
        before = env.info
        api = CrafterAPI(env, budget - used, need=need)
        try:
            load_skill(name).run(api)
        except SkillStop:
            used += api.steps_used
            failed.append(name)
            break
        used += api.steps_used
        inv = env.info["inventory"]
        held = bool(need) and all(inv.get(k, 0) >= v for k, v in need.items())
        if not (rules.achieved(name, before, env.info) or held):
            failed.append(name)
            break
    return env.info["achievements"][target] > 0, used, failed


# Code skills only: RL skills (policy.pt) in the same folder are tested with the RL code.
NAMES = sorted(p.name for p in SKILLS.iterdir() if (p / "skill.py").exists())


@pytest.fixture(scope="module")
def env() -> CrafterEnv:
    return make(seed=0)


def test_every_skill_folder_is_well_formed() -> None:
    rules = load_rules()
    assert len(NAMES) >= 20
    for name in NAMES:
        m = meta(name)
        assert m["name"] == name and m["kind"] == "code" and m["env"] == "crafter"
        assert m["achievement"] in rules.achievements
        assert m["description"] and m["version"] == 1
        tree = ast.parse((SKILLS / name / "skill.py").read_text())
        runs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run"]
        assert len(runs) == 1, name
        json.dumps(m)


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_wood_table_pickaxe_chain(env: CrafterEnv, seed: int) -> None:
    env.reset(seed=seed)
    ok, used, failed = run_chain(env, "make_wood_pickaxe", budget=400)
    assert ok, failed
    assert env.info["achievements"]["collect_wood"] >= 3
    assert env.info["achievements"]["place_table"] == 1
    assert used <= 400


@pytest.mark.parametrize("seed", [0, 2])
def test_stone_pickaxe_chain(env: CrafterEnv, seed: int) -> None:
    env.reset(seed=seed)
    ok, used, failed = run_chain(env, "make_stone_pickaxe", budget=600)
    assert ok, failed
    assert env.info["inventory"]["stone_pickaxe"] == 1


def test_collect_uses_need(env: CrafterEnv) -> None:
    env.reset(seed=0)
    api = CrafterAPI(env, budget=200, need={"wood": 3})
    load_skill("collect_wood").run(api)
    assert env.info["inventory"]["wood"] >= 3  # trees cut on the way count too
    assert api.steps_used == len(env.action_log)


def test_budget_is_enforced(env: CrafterEnv) -> None:
    env.reset(seed=0)
    api = CrafterAPI(env, budget=5)
    with pytest.raises(BudgetExhausted):
        api.explore(50)
    assert api.steps_used == 5


def test_make_without_table_fails_cleanly(env: CrafterEnv) -> None:
    env.reset(seed=0)
    api = CrafterAPI(env, budget=100)
    assert api.collect("wood")
    assert not api.make("wood_pickaxe")
    assert api.steps_used < 30


def test_collect_drink_and_eat_cow(env: CrafterEnv) -> None:
    env.reset(seed=0)
    api = CrafterAPI(env, budget=300)
    load_skill("eat_cow").run(api)
    assert env.info["achievements"]["eat_cow"] == 1
    load_skill("collect_drink").run(CrafterAPI(env, budget=300))
    assert env.info["achievements"]["collect_drink"] >= 1


def test_wake_up(env: CrafterEnv) -> None:
    env.reset(seed=1)
    api = CrafterAPI(env, budget=200)
    load_skill("wake_up").run(api)
    assert env.info["achievements"]["wake_up"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_stone_pickaxe_chain_all_seeds(seed: int) -> None:
    env = make(seed=seed)
    env.reset(seed=seed)
    ok, _, failed = run_chain(env, "make_stone_pickaxe", budget=1000)
    assert ok, failed


@pytest.mark.slow
def test_place_skills(env: CrafterEnv) -> None:
    env.reset(seed=0)
    assert run_chain(env, "place_stone", budget=1000)[0]
    env.reset(seed=0)
    assert run_chain(env, "place_plant", budget=1000)[0]
