"""Built-in Crafter skill: dig into rock, seal the entrance, sleep through the night."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


MORNING = 0.8
"""Daylight at which the player leaves: zombies spawned in the night thin out by then."""


def run(api: CrafterAPI) -> None:
    """Shelter (if rock is at hand), then sleep until rested and wait for the morning; or,
    with a health need (``{"health": 7}``: hide and heal), rest until healed.

    Without a shelter it sleeps only when exhausted: asleep in the open, a zombie's hit
    costs 7 health instead of 2. It leaves early when food or drink is about to run out
    (a need at 0 drains health even in a shelter).
    """
    full = api.rules.items["energy"]["max"]
    heal_to = api.need.get("health", 0)
    sealed = api.shelter(max_steps=120)
    if not sealed and api.known("stone"):  # no spot among the cells seen: go to the rock
        api.move_toward("stone", max_steps=60)
        sealed = api.shelter(max_steps=120)
    if not sealed and api.inventory["energy"] > 2:
        return

    def resting() -> bool:
        if heal_to:  # hiding to heal: out again once healed
            return api.inventory["health"] < heal_to
        return api.inventory["energy"] < full or api.info["daylight"] < MORNING

    while resting():
        if min(api.inventory["food"], api.inventory["drink"]) <= 1:
            return
        if api.inventory["energy"] < full or api.info["sleeping"]:
            api.sleep()  # asleep, health comes back twice as fast
        else:
            api.noop()
