"""Built-in BabyAI skill: open a door (or a box: it gives way to what it holds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.babyai import BabyAIAPI


def run(api: BabyAIAPI) -> None:
    """Go to the door (or box) the plan's next step names and open it."""
    t = api.target()
    if t.get("verb") != "open":
        raise RuntimeError(f"the next clause is {t.get('name')}, not open_door")
    api.open(t["color"], t.get("type") or "door", t.get("loc"), t.get("pos"))
