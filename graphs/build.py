"""The graph factory: plan -> score_affordances -> execute_skill -> verify -> route."""

from __future__ import annotations

import functools

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graphs.context import RunContext
from graphs.nodes import nodes
from graphs.routers import route_after_plan, route_after_score, route_after_verify
from graphs.state import AgentState, InputState

Graph = CompiledStateGraph[AgentState, RunContext, InputState, AgentState]
"""Mendako's compiled graph: state, run context, input and output types."""


def build_graph(checkpointer: BaseCheckpointSaver | None = None) -> Graph:
    """Mendako's state machine, with `checkpointer`. Models, library and env come in the
    run's context. Compiled once per process (milliseconds); each run gets a copy that
    holds its own checkpointer."""
    graph = _compiled()
    return graph if checkpointer is None else graph.copy({"checkpointer": checkpointer})


@functools.cache
def _compiled() -> Graph:
    g = StateGraph(AgentState, context_schema=RunContext, input_schema=InputState)
    for node in nodes().values():  # every node module of graphs.nodes
        g.add_node(node.name, node.run)
    g.add_edge(START, "plan")
    g.add_conditional_edges("plan", route_after_plan)
    g.add_conditional_edges("score_affordances", route_after_score)
    g.add_edge("write_skill", "execute_skill")
    g.add_edge("execute_skill", "verify")
    g.add_conditional_edges("verify", route_after_verify)
    return g.compile(name="mendako")
