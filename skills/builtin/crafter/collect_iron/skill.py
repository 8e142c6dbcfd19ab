"""Built-in Crafter skill: collect iron (mine iron with a stone pickaxe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Collect iron until the planner's need (default: one more than held)."""
    target = api.need.get("iron", api.inventory.get("iron", 0) + 1)
    api.collect("iron", until=target)
