"""Reward models from language: the verifier's family (issue 8).

Each mode reads a transition (two infos) and returns an :class:`Assessment`
(success, reward, why):

- ``judge`` — an LLM answers yes/no about the user's words of good behaviour (RDLM);
- ``similarity`` — caption of the transition vs the subgoal text, embedded (ELLM);
- ``manual`` — task reward plus bonuses for events a game manual says help (Read and Reap);
- ``clip`` — CLIP reward of the rendered frame with a baseline projection (VLM-RMs).

:func:`make_reward_model` builds one for the verify node; :func:`transition_reward` wraps one
as a PPO reward (``skills.rl.rewards.make_reward(kind, subgoal, language=transition_reward)``:
skills import no agents, so ``skills learn`` passes it in as ``PPOArgs.language_reward``).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from agents.rewards.base import Assessment, RewardModel, subgoal_text

__all__ = [
    "LANGUAGE_MODES",
    "MODES",
    "Assessment",
    "RewardKind",
    "RewardModel",
    "TransitionReward",
    "check_options",
    "make_reward_model",
    "reward_kinds",
    "subgoal_text",
    "transition_reward",
]


@dataclass(frozen=True)
class RewardKind:
    """A verifier mode: its name, a line for ``--help``, what it needs, how it is made.

    A new reward model is one module of this package with a module-level ``KIND`` (or a
    package registering one under the entry-point group ``mendako.rewards``): the CLI's
    choices, help and validation, the run settings and the verify node read this registry.
    """

    name: str
    summary: str
    make: Callable[..., RewardModel] | None
    """``make(llm=, behaviour=, manual=, clip_weights=)``; None for the programmatic check."""
    needs: frozenset[str] = field(default_factory=frozenset)
    """What it reads besides the infos: ``"llm"`` (a chat model), ``"frame"`` (the verify
    node renders the env's frame into the transition), ``"words"`` (the subgoal in words,
    with amounts, instead of its achievement's name), ``"clip_weights"``, ``"manual"``."""
    check: Callable[[dict[str, Any]], None] | None = None
    """Refuses bad options with one ValueError line before any model loads."""


def _clip(llm: Any = None, behaviour: str | None = None, clip_weights: str | None = None,
          **_: Any) -> RewardModel:  # fmt: skip
    from agents.rewards.clip import ClipReward

    return ClipReward.from_pretrained(clip_weights, goal_prompt=behaviour)


def _check_clip(options: dict[str, Any]) -> None:
    from agents.rewards.clip import check_weights

    check_weights(options.get("clip_weights"))


def _similarity(**_: Any) -> RewardModel:
    from agents.rewards.similarity import SimilarityReward

    return SimilarityReward()


def _judge(llm: Any = None, behaviour: str | None = None, **_: Any) -> RewardModel:
    from agents.rewards.judge import JudgeReward

    return JudgeReward(_chat(llm), behaviour)


def _manual(llm: Any = None, manual: str | None = None, **_: Any) -> RewardModel:
    from agents.rewards.manual import ManualReward, load_manual

    return ManualReward(_chat(llm), load_manual(manual))


def _chat(llm: Any) -> Any:
    """The judging chat model: the one given, else the embedded one (short, greedy)."""
    if llm is not None:
        return llm
    from agents.llm import make_chat_model

    return make_chat_model("embedded", temperature=0.0, max_tokens=16)


_BUILTIN = (
    RewardKind("programmatic", "the env's own check (achievement unlocked)", None),
    RewardKind(
        "judge", "an LLM judges the transition (RDLM)", _judge, frozenset({"llm", "words"})
    ),
    RewardKind("similarity", "caption vs subgoal, embedded (ELLM)", _similarity),
    RewardKind(
        "manual", "bonuses a game manual says help (Read and Reap)", _manual,
        frozenset({"llm", "manual"}),
    ),
    RewardKind(
        "clip", "CLIP reward of the rendered frame (VLM-RMs)", _clip,
        frozenset({"frame", "clip_weights"}), _check_clip,
    ),
)  # fmt: skip
"""mendako's own kinds; a module of this package with its own ``KIND`` replaces its entry."""


@functools.cache
def reward_kinds() -> dict[str, RewardKind]:
    """Every verifier mode by name: the built-ins, this package's modules that declare a
    ``KIND``, then entry points ``mendako.rewards`` (read once per process)."""
    kinds = {k.name: k for k in _BUILTIN}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        try:
            declared = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
        except ImportError:  # an optional dependency missing: its built-in entry stays
            continue
        if isinstance(declared, RewardKind):
            kinds[declared.name] = declared
    for ep in entry_points(group="mendako.rewards"):
        declared = ep.load()
        if isinstance(declared, RewardKind):
            kinds[declared.name] = declared
    return kinds


MODES = tuple(k.name for k in _BUILTIN)
"""mendako's own verifier modes (``reward_kinds()`` has them all, plugins included)."""
LANGUAGE_MODES = MODES[1:]


def check_options(mode: str, **options: Any) -> RewardKind:
    """The kind of ``mode`` after its own check of ``options``; ValueError (one line) for an
    unknown mode or bad options."""
    kinds = reward_kinds()
    if mode not in kinds:
        raise ValueError(f"unknown reward mode {mode!r}: expected one of {', '.join(kinds)}")
    kind = kinds[mode]
    if kind.check is not None:
        kind.check(options)
    return kind


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
    kind = reward_kinds().get(mode)
    if kind is None or kind.make is None:
        known = ", ".join(k for k, v in reward_kinds().items() if v.make is not None)
        raise ValueError(f"unknown reward mode {mode!r}: expected one of {known}")
    return kind.make(llm=llm, behaviour=behaviour, manual=manual, clip_weights=clip_weights)


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
    language = tuple(k for k, v in reward_kinds().items() if v.make is not None)
    if kind not in language:
        raise ValueError(f"unknown language reward {kind!r}: expected one of {language}")
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
