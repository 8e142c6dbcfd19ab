"""Built-in Crafter skill: hunt and eat a cow (three hits without a sword)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Walk to the nearest cow (exploring if none is known) and hit it until eaten."""
    api.attack("cow")
