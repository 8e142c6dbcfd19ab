"""Reward models from language: the verifier's family (issue 8).

Each mode reads a transition (two infos) and returns an :class:`Assessment`
(success, reward, why):

- ``judge`` — an LLM answers yes/no about the user's words of good behaviour (RDLM);
- ``similarity`` — caption of the transition vs the subgoal text, embedded (ELLM);
- ``manual`` — task reward plus bonuses for events a game manual says help (Read and Reap);
- ``clip`` — CLIP reward of the rendered frame with a baseline projection (VLM-RMs).

:func:`make_reward_model` builds one for the verify node; :func:`transition_reward` wraps one
as a PPO reward (``skills.rl.rewards.make_reward(kind, subgoal)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.rewards.base import Assessment, RewardModel, subgoal_text

__all__ = [
    "LANGUAGE_MODES",
    "MODES",
    "Assessment",
    "RewardModel",
    "TransitionReward",
    "make_reward_model",
    "subgoal_text",
    "transition_reward",
]

MODES = ("programmatic", "judge", "similarity", "manual", "clip")
"""Verifier modes: the programmatic check, then the language reward models."""
LANGUAGE_MODES = MODES[1:]


def make_reward_model(
    mode: str,
    *,
    llm: Any = None,
    behaviour: str | None = None,
    manual: str | None = None,
    clip_weights: str | None = None,
) -> RewardModel:
    """The reward model for ``mode``; ``llm`` is a chat model (default: the embedded one),
    ``manual`` a manual file path (default: Crafter's), ``clip_weights`` a local CLIP folder."""
    if mode == "clip":
        from agents.rewards.clip import ClipReward

        return ClipReward.from_pretrained(clip_weights, goal_prompt=behaviour)
    if mode == "similarity":
        from agents.rewards.similarity import SimilarityReward

        return SimilarityReward()
    if mode not in ("judge", "manual"):
        raise ValueError(f"unknown reward mode {mode!r}: expected one of {', '.join(MODES)}")
    if llm is None:
        from agents.llm import make_chat_model

        llm = make_chat_model("embedded", temperature=0.0, max_tokens=16)
    if mode == "judge":
        from agents.rewards.judge import JudgeReward

        return JudgeReward(llm, behaviour)
    from agents.rewards.manual import ManualReward, load_manual

    return ManualReward(llm, load_manual(manual))


class TransitionReward:
    """A reward model as a PPO reward function (``reset(info)``, ``(before, after) -> float``)."""

    def __init__(self, model: RewardModel, subgoal: str) -> None:
        self.model = model
        self.subgoal = subgoal

    def reset(self, info: Mapping[str, Any]) -> None:
        self.model.reset(info)

    def __call__(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> float:
        return self.model.assess(self.subgoal, before, after).reward


_SHARED: dict[tuple[Any, ...], RewardModel] = {}


def transition_reward(kind: str, subgoal: str, **kw: Any) -> TransitionReward:
    """PPO reward of ``kind`` for ``subgoal``; ``kw`` as for :func:`make_reward_model`, where
    ``llm`` may also be a backend spec string (``embedded``, ``openai:<model>``, ...). Models
    are shared per process and options (one LLM, one cache for all vector envs)."""
    if kind not in LANGUAGE_MODES:
        raise ValueError(f"unknown language reward {kind!r}: expected one of {LANGUAGE_MODES}")
    key = (kind, *sorted((k, v if isinstance(v, str | None) else id(v)) for k, v in kw.items()))
    if key not in _SHARED:
        if isinstance(kw.get("llm"), str):
            from agents.llm import make_chat_model

            kw = {**kw, "llm": make_chat_model(kw["llm"], temperature=0.0, max_tokens=16)}
        _SHARED[key] = make_reward_model(kind, **kw)
    model = _SHARED[key]
    if kind == "manual":  # per-episode bonus bookkeeping must not be shared between envs
        from agents.rewards.manual import ManualReward

        assert isinstance(model, ManualReward)
        twin = ManualReward(model.llm, model.manual, bonus=model.bonus, questions=model.questions)
        twin._useful = model._useful  # the LLM's answers are shared, the paid set is not
        twin._runnable = model._runnable
        return TransitionReward(twin, subgoal)
    return TransitionReward(model, subgoal)
