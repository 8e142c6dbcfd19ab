"""The step-level guard against Crafter's hostile creatures, read from the local view alone.

A zombie next to the player hits for 2 every 6 steps (7 on a sleeper) and follows it at its
own speed, so running away rarely works; a skeleton's arrows hit for 2. Hitting back is the
cheapest defence: 5 hits kill a zombie bare-handed, 3 with a wood sword, 2 with stone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envs._crafter_nav import DIRECTIONS, MOVE_ACTIONS, VIEW

__all__ = ["HOSTILE", "defend_action"]

HOSTILE = frozenset({"zombie", "skeleton"})
"""Creatures the guard fights when they stand next to the player."""


def defend_action(info: Mapping[str, Any]) -> str | None:
    """The action that fights a hostile creature on a cell next to the player, or None.

    ``do`` when the player faces it; otherwise the move toward it, which only turns the
    player because the creature blocks the cell (crafter's ``Player._move``).
    """
    view = info["local_view"]
    cx, cy = VIEW[0] // 2, VIEW[1] // 2
    fx, fy = info["facing"]
    if view[cx + fx, cy + fy] in HOSTILE:
        return "do"
    for name, (dx, dy) in zip(MOVE_ACTIONS, DIRECTIONS, strict=True):
        if view[cx + dx, cy + dy] in HOSTILE:
            return name
    return None
