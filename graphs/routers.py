"""Routers, named for where they stand in the graph."""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END

from graphs.state import AgentState


def route_after_plan(state: AgentState) -> Literal["score_affordances", "__end__"]:
    """Work on the first subgoal, or stop when planning gave up."""
    if state.outcome != "running" or state.subgoal is None:
        return END
    return "score_affordances"


def route_after_verify(state: AgentState) -> Literal["score_affordances", "plan", "__end__"]:
    """Next subgoal after a success, replan after a failure (or a used-up plan), or stop."""
    if state.outcome != "running":
        return END
    if state.verdict is not None and state.verdict.success and state.subgoal is not None:
        return "score_affordances"
    return "plan"
