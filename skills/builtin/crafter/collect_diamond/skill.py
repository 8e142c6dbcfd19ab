"""Built-in Crafter skill: collect diamond (mine a diamond with an iron pickaxe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Collect diamond until the planner's need (default: one more than held)."""
    target = api.need.get("diamond", api.inventory.get("diamond", 0) + 1)
    api.collect("diamond", until=target)
