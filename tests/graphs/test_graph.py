"""The graph on a real Crafter env and real built-in skills, with a scripted planner LLM."""

from __future__ import annotations

import json

import pytest
from graph_fakes import run_scripted

from graphs.routers import route_after_plan, route_after_verify
from graphs.state import AgentState, Subgoal, Verdict
from graphs.trace import find_run
from skills.library import SkillLibrary

_run = run_scripted


def test_collect_wood_reaches_goal_and_leaves_a_trace() -> None:
    summary, llm = _run("collect wood", {"target": "collect_wood", "subgoals": ["collect_wood"]})
    assert summary.outcome == "achieved"
    assert summary.achievements.get("collect_wood", 0) >= 1
    run = find_run(summary.run_id)
    nodes = [e["node"] for e in run.events() if e["kind"] == "node"]
    assert nodes[:4] == ["plan", "score_affordances", "execute_skill", "verify"]
    scored = next(e for e in run.events() if e.get("node") == "score_affordances")
    first = scored["update"]["candidates"][0]
    assert SkillLibrary("crafter").get(first["skill"]).meta.achievement == "collect_wood"
    assert first["score"] == pytest.approx(first["usefulness"] * first["affordance"])
    meta = json.loads(run.meta_path.read_text())
    assert meta["outcome"] == "achieved" and meta["env_steps"] == summary.env_steps > 0


def test_planner_repair_inserts_prerequisites() -> None:
    # The scripted LLM names only the target; the rules must insert wood and a table.
    summary, _ = _run(
        "make a wood pickaxe", {"target": "make_wood_pickaxe", "subgoals": ["make_wood_pickaxe"]}
    )
    assert summary.outcome == "achieved"
    assert {"collect_wood", "place_table", "make_wood_pickaxe"} <= set(summary.achievements)


def test_goal_no_skill_serves_ends_not_achievable() -> None:
    summary, _ = _run("fly to the moon", {"target": "collect_wood", "subgoals": ["collect_wood"]})
    assert summary.outcome == "not_achievable"
    assert "not achievable with the current skills" in summary.message
    assert summary.env_steps == 0


def test_replanning_is_bounded() -> None:
    # Two steps per skill cannot make a stone pickaxe: the planner must give up, not loop.
    summary, llm = _run(
        "make a stone pickaxe",
        {"target": "make_stone_pickaxe", "subgoals": ["make_stone_pickaxe"]},
        skill_budget=2,
        max_replans=2,
    )
    assert summary.outcome == "failed"
    assert "gave up after 2 replans" in summary.message
    assert len(llm.calls) == 3  # the first plan and two replans
    assert "The last attempt failed" in llm.calls[-1]


def test_routers() -> None:
    s = AgentState(goal="g", plan=[Subgoal(name="collect_wood")])
    assert route_after_plan(s) == "score_affordances"
    assert route_after_plan(s.model_copy(update={"outcome": "failed"})) == "__end__"
    ok = s.model_copy(update={"verdict": Verdict(success=True, reward=1.0)})
    assert route_after_verify(ok) == "score_affordances"
    assert route_after_verify(ok.model_copy(update={"cursor": 1})) == "plan"
    bad = s.model_copy(update={"verdict": Verdict(success=False, reward=0.0)})
    assert route_after_verify(bad) == "plan"
    assert route_after_verify(bad.model_copy(update={"outcome": "achieved"})) == "__end__"
