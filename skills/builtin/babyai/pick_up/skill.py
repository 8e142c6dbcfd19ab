"""Built-in BabyAI skill: pick up an object."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.babyai import BabyAIAPI


def run(api: BabyAIAPI) -> None:
    """Go to the object the plan's next step names (the mission's, a key for a locked door,
    an object in a doorway) and pick it up."""
    t = api.target()
    if t.get("verb") != "pick_up":
        raise RuntimeError(f"the next clause is {t.get('name')}, not pick_up")
    api.pick_up(t["color"], t["type"], t.get("loc"), t.get("pos"))
