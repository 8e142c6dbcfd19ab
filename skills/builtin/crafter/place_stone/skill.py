"""Built-in Crafter skill: place a stone block."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Place a stone block (materials must be held)."""
    api.place("stone")
