"""Built-in Crafter skill: place a furnace next to the table."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Place a furnace next to the table (materials must be held)."""
    if api.known("table") and not api.near("table"):
        # make_iron_* needs table and furnace in the same 3x3 area: build beside the table.
        api.move_near("table", max_steps=60)
    api.place("furnace")
