"""The shared value types live in `envs.values` (the bottom layer); `graphs.state` re-exports
them, and checkpoints written while they were `graphs.state.X` still load as those types."""

from __future__ import annotations

import logging

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from envs import values
from graphs import state
from graphs.trace import _state_types


def test_graph_state_re_exports_the_value_types() -> None:
    for name in ("Subgoal", "SkillScore", "Verdict", "LLMExchange", "Decision", "StepRecord"):
        assert getattr(state, name) is getattr(values, name)
    plan = state.AgentState(goal="g", plan=[values.Subgoal(name="collect_wood", need={"wood": 2})])
    assert plan.subgoal is not None and plan.subgoal.text == "collect wood (until you have 2 wood)"


def _record() -> values.StepRecord:
    sub = values.Subgoal(name="collect_wood", need={"wood": 1})
    score = values.SkillScore(skill="s", kind="code", usefulness=0.5, affordance=1, score=0.5)
    verdict = values.Verdict(success=True, reward=1.0, critique="done")
    return values.StepRecord(
        index=0, subgoal=sub, skill="s", candidates=[score], steps=3, stopped="returned",
        verdict=verdict,
    )  # fmt: skip


@pytest.mark.parametrize("module", ["envs.values", "graphs.state"])
def test_checkpointed_values_load_under_old_and_new_module_names(
    module: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A blob written when the classes were `graphs.state.X` (their module name is what the
    msgpack encoding records) decodes to the same types with the run store's allowlist."""
    record = _record()
    for cls in (values.Subgoal, values.SkillScore, values.Verdict, values.StepRecord):
        monkeypatch.setattr(cls, "__module__", module)
    blob = JsonPlusSerializer().dumps_typed(record)
    monkeypatch.undo()
    assert module.encode() in blob[1]
    serde = JsonPlusSerializer(allowed_msgpack_modules=_state_types())
    with caplog.at_level(logging.WARNING):
        back = serde.loads_typed(blob)
    assert "Blocked" not in caplog.text
    assert isinstance(back, values.StepRecord) and back == record
    assert isinstance(back.subgoal, values.Subgoal) and isinstance(back.verdict, values.Verdict)


def test_subgoal_met_is_the_verifiers_check() -> None:
    from agents.verifier import check

    wood = values.Subgoal(name="collect_wood", need={"wood": 2})
    once = values.Subgoal(name="collect_wood")
    cases = [
        (wood, {}, {}, {"wood": 2}, True),
        (wood, {}, {"collect_wood": 5}, {"wood": 1}, False),
        (once, {"collect_wood": 1}, {"collect_wood": 1}, {}, False),
        (once, {"collect_wood": 1}, {"collect_wood": 2}, {}, True),
    ]
    for sub, base, ach, inv, want in cases:
        assert values.subgoal_met(sub, base, ach, inv) is want
        assert check(sub, base, ach, inv) is want


def test_a_goal_spec_in_the_state_reloads_as_itself(caplog: pytest.LogCaptureFixture) -> None:
    from agents.goal_spec import Achieve, ConditionState, GoalSpec, Have

    serde = JsonPlusSerializer(allowed_msgpack_modules=_state_types())
    spec = GoalSpec(
        conditions=[Achieve(name="make_wood_pickaxe", times=1), Have(item="wood", at_least=5)]
    )
    with caplog.at_level(logging.WARNING):
        back = serde.loads_typed(serde.dumps_typed(spec))
        state_back = serde.loads_typed(
            serde.dumps_typed([ConditionState(condition="wood >= 5", met=False, seen="3")])
        )
    assert isinstance(back, GoalSpec) and back == spec
    assert isinstance(state_back[0], ConditionState)
    assert "Blocked deserialization" not in caplog.text
