"""Manual-grounded auxiliary rewards (Read and Reap, Wu et al. 2023, arXiv 2302.04449).

From a text manual of the game (Crafter's ships as ``envs/data/crafter_manual.md``; users
pass their own), the LLM answers one fixed yes/no question per in-game event: "Is
<collecting wood> useful for the goal <make wood pickaxe>?". Each event answered yes earns a
small auxiliary reward (``bonus``, once per episode, so it cannot be farmed) on top of the
task reward (1 when the programmatic check sees the subgoal's achievement), as Read and Reap
adds its auxiliary rewards to the environment's. Only the manual's lines that mention the
event's or the goal's object are put in the prompt (a 135M model reads short prompts best).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from agents._prompts import render
from agents.llm import method_of
from agents.rewards._captions import events, gerund
from agents.rewards.base import Assessment, subgoal_text
from agents.rewards.judge import JudgeAnswer
from agents.rewards.similarity import reference_events

__all__ = ["DEFAULT_BONUS", "ManualReward", "load_manual"]

DEFAULT_BONUS = 0.1
"""Auxiliary reward per useful event: small against the task's 1."""


def load_manual(path: str | Path | None = None) -> str:
    """The manual's text: ``path``, else the shipped Crafter manual."""
    if path is None:
        return (resources.files("envs.data") / "crafter_manual.md").read_text()
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"manual not found: {p} (--manual takes a text file)")
    return p.read_text()


def _objects(event: str) -> set[str]:
    words = set(event.split("_")[1:]) - {"up"}
    return words | {"water"} if event == "collect_drink" else words


def excerpt(manual: str, event: str, goal: str, limit: int = 8) -> str:
    """Lines of the manual that name the event's or the goal's objects (at most ``limit``)."""
    keys = _objects(event) | _objects(goal)
    lines = [ln.strip() for ln in manual.splitlines() if ln.strip() and not ln.startswith("#")]
    hits = [ln for ln in lines if any(re.search(rf"\b{k}", ln.lower()) for k in keys)]
    return "\n".join(hits[:limit]) or "\n".join(lines[:limit])


class ManualReward:
    """Task reward plus a bonus for events the manual (read by the LLM) says help the goal."""

    mode = "manual"

    def __init__(
        self,
        llm: Any,
        manual: str | None = None,
        *,
        bonus: float = DEFAULT_BONUS,
        questions: Sequence[str] | None = None,
    ) -> None:
        self.llm = llm
        self.manual = manual if manual is not None else load_manual()
        self.bonus = bonus
        self.questions = tuple(questions or reference_events())
        self._runnable = llm.with_structured_output(JudgeAnswer)
        self._useful: dict[str, frozenset[str]] = {}
        self._paid: set[str] = set()

    def question(self, event: str, goal: str) -> str:
        """The fixed question about one event, with its manual excerpt."""
        return render(
            "manual_questions",
            manual=excerpt(self.manual, event, goal),
            goal=subgoal_text(goal),
            event=gerund(event),
        )

    def useful(self, goal: str) -> frozenset[str]:
        """Events the LLM answered yes for (the goal's own event excluded), asked once."""
        if goal not in self._useful:
            yes = set()
            for event in self.questions:
                if event == goal:
                    continue
                out = self._runnable.invoke(self.question(event, goal))
                answer = out.answer if isinstance(out, JudgeAnswer) else dict(out)["answer"]
                if answer == "yes":
                    yes.add(event)
            self._useful[goal] = frozenset(yes)
        return self._useful[goal]

    def reset(self, info: Mapping[str, Any]) -> None:
        """A new episode: bonuses can be earned again."""
        self._paid = set()

    def assess(self, goal: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Assessment:
        """Task reward 1 on the goal's event, plus ``bonus`` per useful event not yet paid."""
        found = events(before, after)
        done = goal in found
        aux = [e for e in found if e in self.useful(goal) and e not in self._paid]
        self._paid |= set(aux)
        reward = float(done) + self.bonus * len(aux)
        why = f"manual: {subgoal_text(goal)} {'done' if done else 'not done'}"
        if aux:
            why += "; useful per the manual: " + ", ".join(gerund(e) for e in aux)
        why += f" (useful events asked by {method_of(self.llm) or 'structured output'})"
        return Assessment(done, reward, why)
