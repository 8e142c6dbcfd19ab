"""Built-in Crafter skill: make an iron sword at a table and furnace."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Make an iron sword at a table and furnace; walks to a remembered table first."""
    api.make("iron_sword")
