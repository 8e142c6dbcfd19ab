"""Built-in Crafter skill: sleep until energy is full, which unlocks wake_up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Wait until energy drops below max (sleep needs that), then sleep until woken."""
    counter = api.achievements.get("wake_up", 0)
    while not api.info["sleeping"] and api.inventory["energy"] >= api.rules.items["energy"]["max"]:
        api.noop()
    while api.achievements.get("wake_up", 0) == counter:
        api.sleep()
