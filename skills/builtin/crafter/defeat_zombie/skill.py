"""Built-in Crafter skill: fight and defeat a zombie (zombies come out on grass at night)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.crafter import CrafterAPI


def run(api: CrafterAPI) -> None:
    """Walk to a zombie (exploring if none is known) and hit it until it dies."""
    api.attack("zombie")
