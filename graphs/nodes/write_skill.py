"""Node `write_skill`: no skill scores well enough for the subgoal, so the coder writes one.

Runs the Voyager loop (`agents.coder.write_skill`) for the subgoal's achievement, tested in
fresh envs of the run's seed; a verified skill is added to the library and chosen. If none
is verified, the best scorer (if any) stays chosen and the run goes on as before.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graphs.context import RunContext
from graphs.nodes._view import NodeView, update_of
from graphs.state import AgentState, LLMExchange


def write_skill(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Ask the coder for a skill for the current subgoal; choose it when it is verified."""
    from agents.coder import CoderSettings
    from agents.coder import write_skill as code_skill

    ctx = runtime.context
    subgoal = state.subgoal
    assert subgoal is not None, "routed to write_skill without a subgoal"
    settings = CoderSettings(
        env_id=ctx.settings.env_id,
        seeds=(ctx.settings.seed,),
        rounds=ctx.settings.write_rounds,
        budget=ctx.settings.skill_budget,
        llm_spec=ctx.settings.llm,
    )
    update: dict[str, Any] = {"skills_written": [*state.skills_written, subgoal.name]}
    try:
        result = code_skill(
            subgoal.instruction,
            llm=ctx.llm,
            library=ctx.library,
            settings=settings,
            target=subgoal.name,
        )
    except Exception as e:  # the coder failing must cost this subgoal a skill, not the run
        return update | {"message": f"coder failed: {type(e).__name__}: {e}"}
    rounds = "; ".join(
        f"round {a.round}: {'verified' if a.passed else 'failed'} ({', '.join(a.steps)})"
        for a in result.attempts
    )
    methods = ", ".join(dict.fromkeys(f"{a.mode}/{a.method}" for a in result.attempts))
    update["llm_log"] = [
        LLMExchange(role="coder", prompt=subgoal.text, reply=rounds, method=methods)
    ]
    if result.verified and result.name is not None:
        return update | {"chosen": result.name, "message": f"coder wrote {result.message}"}
    return update | {"message": f"coder: {result.message}"}


def view(event: dict[str, Any]) -> NodeView:
    """The coder's result: the skill it wrote and chose, or why none was verified."""
    up = update_of(event)
    written = up.get("skills_written") or ["?"]
    chosen = f", chose {up['chosen']}" if up.get("chosen") else ""
    return NodeView(
        label="write",
        style="bold blue",
        summary=f"coder for {written[-1]}{chosen}",
        details=(str(up["message"]),) if up.get("message") else (),
    )
