"""Built-in BabyAI skill: go to an object (the mission's current 'go to' clause)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.babyai import BabyAIAPI


def run(api: BabyAIAPI) -> None:
    """Go next to the object the mission names and face it."""
    t = api.target()
    if t.get("verb") != "go_to":
        raise RuntimeError(f"the next clause is {t.get('name')}, not go_to")
    api.go_to(t["color"], t["type"], t.get("loc"), t.get("pos"))
