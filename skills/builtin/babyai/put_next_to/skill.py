"""Built-in BabyAI skill: put an object next to another object."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.babyai import BabyAIAPI


def run(api: BabyAIAPI) -> None:
    """Carry the object the mission names next to the other one and drop it there."""
    t = api.target()
    if t.get("verb") != "put_next":
        raise RuntimeError(f"the next clause is {t.get('name')}, not put_next_to")
    api.put_next_to(
        t["color"], t["type"], t["fixed_color"], t["fixed_type"], t.get("loc"), t.get("fixed_loc")
    )
