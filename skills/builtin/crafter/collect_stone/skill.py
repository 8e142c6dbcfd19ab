"""Built-in Crafter skill: collect stone (mine stone with a wood pickaxe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Collect stone until the planner's need (default: one more than held)."""
    target = api.need.get("stone", api.inventory.get("stone", 0) + 1)
    api.collect("stone", until=target)
