"""LLM judge reward (Reward Design with Language Models, Kwon et al. 2023, arXiv 2303.00001).

The user states in words what good behaviour is (default: the subgoal's text); the LLM reads
the before/after state descriptions and answers ``yes`` or ``no`` under a grammar (a pydantic
enum), which becomes reward 1 or 0. Answers are cached by prompt, in memory and in the chat
model's SQLite cache, so repeated transitions cost nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel

from agents._prompts import render
from agents.llm import method_of
from agents.rewards._captions import events, inventory_changes, state_text
from agents.rewards.base import Assessment, subgoal_text

__all__ = ["JudgeAnswer", "JudgeReward"]


class JudgeAnswer(BaseModel):
    """The judge's constrained answer."""

    answer: Literal["yes", "no"]


class JudgeReward:
    """Reward 1 when the LLM says the transition shows the good behaviour, else 0.

    Transitions where neither the inventory nor the achievements changed get ``no`` without a
    call: for Crafter's subgoals nothing the judge should reward can happen without either
    changing, and asking on every env step would make PPO with this reward unaffordable.
    """

    mode = "judge"

    def __init__(self, llm: Any, behaviour: str | None = None) -> None:
        self.llm = llm
        self.behaviour = behaviour
        self._runnable = llm.with_structured_output(JudgeAnswer)
        self._cache: dict[str, bool] = {}
        self.calls = 0

    def reset(self, info: Mapping[str, Any]) -> None:
        """Nothing to reset: each transition is judged on its own."""

    def prompt(self, goal: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
        """The judge's prompt for one transition (also its cache key)."""
        changes = "; ".join(
            part
            for part in (
                inventory_changes(before, after),
                ", ".join(
                    f"achievement {e.replace('_', ' ')} unlocked" for e in events(before, after)
                ),
            )
            if part
        )
        return render(
            "judge",
            behaviour=self.behaviour or subgoal_text(goal),
            before=str(before.get("description") or state_text(before)),
            after=str(after.get("description") or state_text(after)),
            changes=changes or "nothing",
        )

    def ask(self, prompt: str) -> bool:
        """The judge's yes/no for a prompt (cached)."""
        if prompt not in self._cache:
            self.calls += 1
            out = self._runnable.invoke(prompt)
            answer = out.answer if isinstance(out, JudgeAnswer) else dict(out)["answer"]
            self._cache[prompt] = answer == "yes"
        return self._cache[prompt]

    def assess(self, goal: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Assessment:
        """Ask the judge about one transition (see the class docstring for the skip rule)."""
        changed = bool(events(before, after) or inventory_changes(before, after))
        behaviour = self.behaviour or subgoal_text(goal)
        if not changed:
            return Assessment(False, 0.0, f"judge not asked: nothing changed ({behaviour})")
        yes = self.ask(self.prompt(goal, before, after))
        word = "yes" if yes else "no"
        how = method_of(self.llm) or "structured output"
        return Assessment(yes, float(yes), f"judge said {word} to '{behaviour}' ({how})")
