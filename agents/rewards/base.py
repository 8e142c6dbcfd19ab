"""What every language reward model returns, and the words of a subgoal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Assessment", "RewardModel", "subgoal_text"]


@dataclass(frozen=True)
class Assessment:
    """One reward model's reading of a transition: success, reward, and why (for the trace)."""

    success: bool
    reward: float
    why: str


class RewardModel(Protocol):
    """A reward model over two infos (``inventory``, ``achievements``, optional
    ``description`` text and ``frame`` image); ``reset`` marks an episode's start."""

    mode: str

    def reset(self, info: Mapping[str, Any]) -> None: ...

    def assess(
        self, goal: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Assessment: ...


def subgoal_text(goal: str) -> str:
    """``"collect_wood"`` -> ``"collect wood"``; free text is kept as it is."""
    return goal.replace("_", " ")
