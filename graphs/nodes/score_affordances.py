"""Node `score_affordances`: SayCan over the library for the current subgoal."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents import affordance
from graphs.context import RunContext
from graphs.nodes._view import NodeView, number, update_of
from graphs.state import AgentState


def score_affordances(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Rank every skill by usefulness x affordance and choose the best one (the model is
    asked only when two or more skills can succeed; one is a forced choice)."""
    ctx = runtime.context
    subgoal = state.subgoal
    assert subgoal is not None, "routed to score_affordances without a subgoal"
    skills = list(ctx.library)
    held = getattr(ctx.library, "held", None)
    own = held(subgoal.name) if callable(held) else None
    if own is not None:  # a subgoal the run driver holds (``goal_spec.HOLD``): its own skill
        skills = [own]
    steps = int(getattr(ctx.env, "steps", 0))
    scores, exchange, decision = affordance.rank(
        ctx.scorer,
        subgoal.instruction,
        skills,
        ctx.env,
        world_model=ctx.settings.world_model,
        subgoal=subgoal.name,
        seed=ctx.settings.seed,
        key=(steps, len(state.decisions), subgoal.name),
    )
    chosen = decision.choice
    return {
        "candidates": scores,
        "chosen": chosen,
        "observation": ctx.env.describe(),
        "llm_log": [exchange] if exchange is not None else [],
        "decisions": [decision],
    }


def view(event: dict[str, Any]) -> NodeView:
    """SayCan's choice and its table: usefulness, affordance, score and why, per skill."""
    up = update_of(event)
    rows = [("skill", "kind", "use", "aff", "score", "why")]
    for c in up.get("candidates") or []:
        rows.append(
            (
                str(c.get("skill")),
                str(c.get("kind", "")),
                number(c.get("usefulness"), 3),
                number(c.get("affordance"), 3),
                number(c.get("score"), 4),
                str(c.get("why", "")),
            )
        )
    return NodeView(
        label="saycan",
        style="bold magenta",
        summary=f"chose {up.get('chosen') or '(nothing feasible)'}",
        table=tuple(rows) if len(rows) > 1 else (),
    )
