"""Built-in Crafter skill: collect wood (hit a tree)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Collect wood until the planner's need (default: one more than held)."""
    target = api.need.get("wood", api.inventory.get("wood", 0) + 1)
    api.collect("wood", until=target)
