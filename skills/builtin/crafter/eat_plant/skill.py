"""Built-in Crafter skill: eat a ripe plant (a placed sapling ripens after about 300 steps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Plant a sapling if no plant is known, then stand by it and eat it once ripe."""
    if not api.known("plant"):
        if api.inventory.get("sapling", 0) < 1:
            api.collect("sapling")
        api.place("plant")
    counter = api.achievements.get("eat_plant", 0)
    while api.achievements.get("eat_plant", 0) == counter:
        if api.facing_kind() != "plant" and not api.move_toward("plant", max_steps=40):
            return
        # Hitting an unripe plant does nothing; ripe, it is eaten.
        api.do()
