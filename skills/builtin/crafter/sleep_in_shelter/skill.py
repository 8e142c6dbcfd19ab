"""Built-in Crafter skill: dig into rock, seal the entrance, sleep through the night."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Shelter (if rock is at hand), then sleep until rested and wait for daylight.

    Without a shelter it sleeps only when exhausted: asleep in the open, a zombie's hit
    costs 7 health instead of 2.
    """
    full = api.rules.items["energy"]["max"]
    if not api.shelter(max_steps=120) and api.inventory["energy"] > 2:
        return
    while api.inventory["energy"] < full or api.info["daylight"] < 0.5:
        if api.inventory["energy"] < full or api.info["sleeping"]:
            api.sleep()
        else:
            api.noop()
