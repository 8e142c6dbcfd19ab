"""The verifier: did the subgoal succeed? Its reward goes back to the skill that ran.

The programmatic mode asks the env itself (achievement counters, inventory); it is the
ground truth where the env can answer, as it always can for Crafter achievements. The
other modes (``judge``, ``similarity``, ``manual``, ``clip``: ``agents.rewards``) replace its
success and reward by a language reward model's, via :func:`verify_with_model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.rewards import reward_kinds
from envs.values import Subgoal, Verdict, subgoal_met


def check(
    subgoal: Subgoal,
    baseline: dict[str, int],
    achievements: dict[str, int],
    inventory: dict[str, int],
) -> bool:
    """True when the subgoal's inventory need is met, or (with no need) its achievement rose
    (``envs.values.subgoal_met``, which skills use without importing the verifier)."""
    return subgoal_met(subgoal, baseline, achievements, inventory)


def verify(
    subgoal: Subgoal,
    baseline: dict[str, int],
    achievements: dict[str, int],
    inventory: dict[str, int],
    *,
    steps: int,
    stopped: str,
    error: str | None,
) -> Verdict:
    """Judge one skill execution against the env and explain a failure for the replanner."""
    ok = check(subgoal, baseline, achievements, inventory)
    if ok:
        return Verdict(success=True, reward=1.0, critique=f"{subgoal.text}: done in {steps} steps")
    parts = [f"{subgoal.text}: not achieved after {steps} steps"]
    for item, n in subgoal.need.items():
        parts.append(f"{item} {inventory.get(item, 0)}/{n}")
    if stopped == "budget":
        parts.append("the skill ran out of steps")
    elif stopped == "episode_over":
        parts.append("the episode ended")
    if error:
        parts.append(f"skill error: {error}")
    return Verdict(success=False, reward=0.0, critique="; ".join(parts))


def verify_with_model(
    programmatic: Verdict,
    model: Any,
    subgoal: Subgoal,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> Verdict:
    """A language reward model's verdict (``agents.rewards``); the programmatic check's result
    stays in the critique so the trace shows where the two disagree."""
    # A kind that reads words gets them with amounts ("collect wood (until you have 2
    # wood)"); the others match events, which are named by the achievement.
    kind = reward_kinds().get(model.mode)
    goal = subgoal.text if kind is not None and "words" in kind.needs else subgoal.name
    got = model.assess(goal, before, after)
    check = "done" if programmatic.success else "not done"
    return Verdict(
        success=got.success,
        reward=got.reward,
        mode=model.mode,
        critique=f"{got.why} (programmatic check: {check}; {programmatic.critique})",
    )
