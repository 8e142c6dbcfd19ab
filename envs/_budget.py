"""The step budget every primitive API shares: count steps, refuse past the budget or the end."""

from __future__ import annotations

from typing import Any

from envs._errors import BudgetExhausted, EpisodeOver


class StepBudget:
    """Base of the envs' primitive APIs: a budget of env steps and the planner's `need`."""

    def __init__(self, env: Any, budget: int, need: dict[str, int] | None = None) -> None:
        self.env = env
        self.budget = int(budget)
        self._need = dict(need or {})
        self._steps = 0

    @property
    def need(self) -> dict[str, int]:
        """What the planner asks this skill to reach, e.g. ``{"wood": 4}`` (a copy)."""
        return dict(self._need)

    @property
    def steps_used(self) -> int:
        """Env steps taken through this API so far."""
        return self._steps

    @property
    def steps_left(self) -> int:
        """Env steps left in the budget."""
        return max(0, self.budget - self._steps)

    def _spend(self) -> None:
        """Count one env step, or raise when the episode is over or the budget spent."""
        if self.env.episode_over:
            raise EpisodeOver("the episode is over")
        if self._steps >= self.budget:
            raise BudgetExhausted(f"step budget of {self.budget} spent")
        self._steps += 1
