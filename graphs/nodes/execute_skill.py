"""Node `execute_skill`: run the chosen skill in the live env for up to its step budget."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graphs.context import RunContext
from graphs.state import AgentState


def execute_skill(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Run the chosen skill; record the actions it took so the run can be replayed."""
    ctx = runtime.context
    session = ctx.env
    subgoal = state.subgoal
    assert subgoal is not None, "routed to execute_skill without a subgoal"
    baseline = session.achievements
    start = session.steps
    if state.chosen is None:
        return {
            "baseline": baseline,
            "last_steps": 0,
            "last_stopped": "error",
            "last_error": "no skill is feasible for this subgoal in the current state",
        }
    left = ctx.settings.max_env_steps - state.env_steps
    budget = max(0, min(ctx.settings.skill_budget, left))
    skill = ctx.library.get(state.chosen)
    result = skill.run(session, budget=budget, need=subgoal.need)
    actions = list(session.env.action_log[start:])
    return {
        "baseline": baseline,
        "actions": actions,
        "env_steps": state.env_steps + len(actions),
        "last_steps": len(actions),
        "last_stopped": result.stopped,
        "last_error": result.error,
        "observation": session.describe(),
    }
