"""Built-in BabyAI skill: open a door."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.babyai import BabyAIAPI


def run(api: BabyAIAPI) -> None:
    """Go to the door the mission names and open it."""
    t = api.target()
    if t.get("verb") != "open":
        raise RuntimeError(f"the next clause is {t.get('name')}, not open_door")
    api.open(t["color"])
