"""What a node event says, as plain data: the one per-node rendering every view shares.

Each node module provides ``view(event) -> NodeView``; the live view (``agents._render``),
the trace tree (``mendako trace show``) and the HTML report (``graphs.export``) print that
and nothing node-specific of their own. The strings hold outside text (goals, LLM replies,
errors): every view escapes them (``envs.untrusted``, ``html.escape``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NodeView:
    """One node event, rendered."""

    label: str
    """A short word for the live view ("plan", "choose", "act", "verify", "write")."""
    style: str
    """Its rich style."""
    summary: str
    """One line: what the node did."""
    details: tuple[str, ...] = ()
    """Further lines (notes, messages)."""
    table: tuple[tuple[str, ...], ...] = ()
    """Rows of a table, the first the header (SayCan's candidates)."""
    top: int = 4
    """Table rows the live view shows."""


def update_of(event: dict[str, Any]) -> dict[str, Any]:
    """The event's state update ({} when it has none)."""
    up = event.get("update")
    return up if isinstance(up, dict) else {}


def generic(event: dict[str, Any]) -> NodeView:
    """The view of a node that provides none: which state keys it changed."""
    keys = ", ".join(sorted(k for k in update_of(event) if k != "llm_log")) or "no change"
    message = update_of(event).get("message")
    return NodeView(
        label=str(event.get("node")),
        style="bold",
        summary=f"updated {keys}",
        details=(str(message),) if message else (),
    )


def subgoal_text(s: Any) -> str:
    """A subgoal (a dict from the trace) as text: its name and what it should leave."""
    if not isinstance(s, dict):
        return str(s)
    need = ", ".join(f"{k}≥{v}" for k, v in (s.get("need") or {}).items())
    return str(s.get("name")) + (f" ({need})" if need else "")


def conditions_text(states: Any) -> str:
    """A goal's condition states (dicts from the trace) as one line: ``wood >= 5: met (5);
    make_wood_sword: not met (0 times)``; empty when there are none."""
    if not isinstance(states, list):
        return ""
    return "; ".join(
        f"{s.get('condition')}: {'met' if s.get('met') else 'not met'} ({s.get('seen')})"
        for s in states
        if isinstance(s, dict)
    )


def number(value: Any, digits: int) -> str:
    """A recorded score with `digits` decimals, or the value as text if it is not a number."""
    return f"{value:.{digits}f}" if type(value) in (int, float) else str(value)
