"""Built-in Crafter skill: plant a sapling on grass."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Plant a sapling on grass (materials must be held)."""
    api.place("plant")
