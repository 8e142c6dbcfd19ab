"""Built-in Crafter skill: collect sapling (search grass, one try in ten succeeds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Collect sapling until the planner's need (default: one more than held)."""
    target = api.need.get("sapling", api.inventory.get("sapling", 0) + 1)
    api.collect("sapling", until=target)
