"""Built-in Crafter skill: collect drink (face water and drink)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Collect drink until the planner's need (default: one more than held)."""
    target = api.need.get("drink", api.inventory.get("drink", 0) + 1)
    api.collect("drink", until=target)
