"""Reward functions for training RL skills on one subgoal.

- :func:`verifier_reward` — ELLM-style: 1.0 on the step where the verifier says the
  subgoal's achievement was unlocked (crafter's achievement counter went up, checked by
  ``envs._crafter_rules.CrafterRules.achieved``), else 0.0. The subgoal episode ends there.
- :func:`sparse_reward` — the baseline: Crafter's own reward, i.e. +1 the first time each
  achievement (any of the 22) is unlocked plus the change in health / 10. Crafter counts
  "first time" per Crafter episode; here it is per subgoal episode, so that a baseline run
  with the same episode boundaries as the verifier run gets the reward a fresh Crafter
  episode would give (otherwise continuing a world between subgoal episodes would starve
  the baseline of reward).

A reward function is an object with ``reset(info)`` (called at the start of each subgoal
episode) and ``__call__(before, after) -> float`` over two consecutive info dicts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = ["RewardFn", "achieved", "make_reward", "sparse_reward", "verifier_reward"]


class RewardFn(Protocol):
    """Reward over consecutive info dicts; ``reset`` marks the start of a subgoal episode."""

    def reset(self, info: Mapping[str, Any]) -> None: ...

    def __call__(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> float: ...


@functools.cache
def _rules_achieved() -> Callable[[str, Mapping[str, Any], Mapping[str, Any]], bool]:
    try:
        from envs._crafter_rules import load_rules
    except ImportError:  # the rules module is optional for toy envs
        return lambda name, b, a: (
            a.get("achievements", {}).get(name, 0) > b.get("achievements", {}).get(name, 0)
        )
    return load_rules().achieved


def achieved(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """The programmatic verifier: did achievement ``name`` unlock between the two infos?"""
    return _rules_achieved()(name, before, after)


class _Verifier:
    def __init__(self, subgoal: str) -> None:
        self.subgoal = subgoal
        self._check = _rules_achieved()

    def reset(self, info: Mapping[str, Any]) -> None:
        pass  # the check compares consecutive infos: no baseline to keep

    def __call__(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> float:
        return 1.0 if self._check(self.subgoal, before, after) else 0.0


class _Sparse:
    def __init__(self) -> None:
        self._unlocked: set[str] = set()

    def reset(self, info: Mapping[str, Any]) -> None:
        self._unlocked = set()

    def __call__(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> float:
        b_ach, a_ach = before.get("achievements", {}), after.get("achievements", {})
        new = {k for k, v in a_ach.items() if v > b_ach.get(k, 0) and k not in self._unlocked}
        self._unlocked |= new
        health = after.get("inventory", {}).get("health", 0) - before.get("inventory", {}).get(
            "health", 0
        )
        return float(len(new)) + health / 10.0


def verifier_reward(subgoal: str) -> RewardFn:
    """ELLM's reward: 1.0 when the verifier says ``subgoal`` (an achievement) was unlocked."""
    return _Verifier(subgoal)


def sparse_reward() -> RewardFn:
    """Crafter's own reward (+1 per new achievement, health change / 10): the baseline."""
    return _Sparse()


LANGUAGE_KINDS = ("judge", "similarity", "manual", "clip")
"""Reward kinds from ``agents.rewards`` (LLM judge, ELLM similarity, Read-and-Reap manual,
VLM-RMs CLIP); ``clip`` needs frames, which the fast training env does not render."""


def make_reward(kind: str, subgoal: str) -> RewardFn:
    """``"verifier"`` -> :func:`verifier_reward`, ``"sparse"`` -> :func:`sparse_reward`, a
    language kind (:data:`LANGUAGE_KINDS`) -> ``agents.rewards.transition_reward``."""
    if kind == "verifier":
        return verifier_reward(subgoal)
    if kind == "sparse":
        return sparse_reward()
    if kind in LANGUAGE_KINDS:
        from agents.rewards import transition_reward

        return transition_reward(kind, subgoal)
    raise ValueError(
        f"unknown reward {kind!r}: expected 'verifier', 'sparse' or one of {LANGUAGE_KINDS}"
    )
