"""Built-in Crafter skill: make a stone pickaxe at a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Make a stone pickaxe at a table; walks to a remembered table first."""
    api.make("stone_pickaxe")
