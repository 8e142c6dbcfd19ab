"""Built-in Crafter skill: collect coal (mine coal with a wood pickaxe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Collect coal until the planner's need (default: one more than held)."""
    target = api.need.get("coal", api.inventory.get("coal", 0) + 1)
    api.collect("coal", until=target)
