"""Routers, named for where they stand in the graph."""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END
from langgraph.runtime import Runtime

from graphs.context import RunContext
from graphs.state import AgentState


def route_after_plan(state: AgentState) -> Literal["score_affordances", "__end__"]:
    """Work on the first subgoal, or stop when planning gave up."""
    if state.outcome != "running" or state.subgoal is None:
        return END  # type: ignore[return-value]  # langgraph types END ("__end__") as str
    return "score_affordances"


def route_after_verify(state: AgentState) -> Literal["score_affordances", "plan", "__end__"]:
    """Next subgoal after a success, replan after a failure (or a used-up plan), or stop."""
    if state.outcome != "running":
        return END  # type: ignore[return-value]  # langgraph types END ("__end__") as str
    if state.verdict is not None and state.verdict.success and state.subgoal is not None:
        return "score_affordances"
    return "plan"


def route_after_score(
    state: AgentState, runtime: Runtime[RunContext]
) -> Literal["execute_skill", "write_skill"]:
    """Call the coder when writing is on and no skill scores well enough (once per subgoal)."""
    settings = runtime.context.settings
    subgoal = state.subgoal
    if not settings.write_skills or subgoal is None or subgoal.name in state.skills_written:
        return "execute_skill"
    best = state.candidates[0].score if state.candidates else 0.0
    if state.chosen is None or best < settings.write_threshold:
        return "write_skill"
    return "execute_skill"
