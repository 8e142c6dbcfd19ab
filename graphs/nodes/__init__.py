"""Graph nodes, one per file: each is `(state, runtime) -> partial update`.

The registry: every public module here is a node named after it, providing the node function
of the same name and ``view(event) -> NodeView`` (``graphs.nodes._view``), the one rendering
the live view, the trace tree and the HTML report share. A new node is one file here (plus
its edges in ``graphs.build``); a node without a ``view`` renders generically.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from graphs.nodes._view import NodeView, generic


@dataclass(frozen=True)
class Node:
    """A registered node: its name, its function, its view."""

    name: str
    run: Callable[..., dict[str, Any]]
    view: Callable[[dict[str, Any]], NodeView]
    attempt: Literal["outside", "within", "closes"] = "within"
    """Where the node stands in an attempt at a subgoal (its module's ``ATTEMPT``): outside
    any (plan), within the current one (the default), or closing it (verify writes the
    attempt's record), which decides the attempt and subgoal its trace events name."""


@functools.cache
def nodes() -> dict[str, Node]:
    """Every node module of this package, by name (imported on first use)."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[info.name] = Node(
            info.name,
            getattr(module, info.name),
            getattr(module, "view", generic),
            getattr(module, "ATTEMPT", "within"),
        )
    return found


def view_of(event: dict[str, Any]) -> NodeView:
    """The node event rendered by its node's own view (generic for an unknown node)."""
    node = nodes().get(str(event.get("node")))
    try:
        return (node.view if node is not None else generic)(event)
    except Exception:  # a damaged trace line must render as something, not stop the view
        return generic(event)
