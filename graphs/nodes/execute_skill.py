"""Node `execute_skill`: run the chosen skill in the live env for up to its step budget."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graphs.context import RunContext
from graphs.nodes._view import NodeView, update_of
from graphs.state import AgentState


def execute_skill(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Run the chosen skill; record the actions it took so the run can be replayed."""
    ctx = runtime.context
    session = ctx.env
    subgoal = state.subgoal
    assert subgoal is not None, "routed to execute_skill without a subgoal"
    baseline = session.achievements
    start = session.steps
    before = {"start_inventory": session.inventory, "start_observation": session.describe()}
    if state.chosen is None:
        return before | {
            "baseline": baseline,
            "last_steps": 0,
            "last_stopped": "error",
            "last_error": "no skill is feasible for this subgoal in the current state",
        }
    left = ctx.settings.max_env_steps - state.env_steps
    budget = max(0, min(ctx.settings.skill_budget, left))
    skill = ctx.library.get(state.chosen)
    if ctx.settings.world_model == "learned":
        result = _run_and_learn(session, skill, subgoal, budget, baseline)
    else:
        result = skill.run(session, budget=budget, need=subgoal.need)
    actions = list(session.env.action_log[start:])
    return before | {
        "baseline": baseline,
        "actions": actions,
        "env_steps": state.env_steps + len(actions),
        "last_steps": len(actions),
        "last_stopped": result.stopped,
        "last_error": result.error,
        "observation": session.describe(),
    }


def _run_and_learn(session: Any, skill: Any, subgoal: Any, budget: int, baseline: Any) -> Any:
    """Run the skill while recording its transitions into the learned world model (saved)."""
    from agents import verifier
    from agents import world_model as wm

    model = wm.shared(session.env_id)
    before, start = session.inventory, session.steps
    achievement = skill.meta.achievement
    clear = not achievement or not model.missing(achievement, before, session.known_kinds())
    with wm.recording(session.env) as recorded:
        result = skill.run(session, budget=budget, need=subgoal.need)
    ok = verifier.check(subgoal, baseline, session.achievements, session.inventory)
    wm.learn_from_execution(
        model,
        recorded,
        skill=skill.meta.name,
        achievement=achievement,
        success=ok,
        steps=session.steps - start,
        before=before,
        after_info=session.info,
        clear=clear,
    )
    wm.save(model)
    return result


def view(event: dict[str, Any]) -> NodeView:
    """What the skill did: env steps, how it stopped, its error."""
    up = update_of(event)
    err = f" error: {up['last_error']}" if up.get("last_error") else ""
    total = event.get("env_steps", up.get("env_steps", "?"))
    return NodeView(
        label="act",
        style="bold yellow",
        summary=f"{up.get('last_steps', 0)} env steps (total {total}), stopped "
        f"{up.get('last_stopped')}{err}",
    )
