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
- :func:`shaped_reward` — *verifier-shaped*: the verifier's 1.0 plus potential-based shaping
  (Ng, Harada & Russell 1999) ``F = gamma * Phi(s') - Phi(s)``, which leaves the optimal
  policy unchanged. ``Phi`` (:func:`progress`) is the verifier's measure of progress toward
  the subgoal, derived from the rules data (``CrafterRules.requirement``: items to hold,
  materials to stand near, the cell to face) along the rules' chain of steps toward it
  (``CrafterRules.prerequisites``: wood, then a table, then...) and read only from what the
  player perceives (``local_view``, ``inventory``, ``facing``; DESIGN.md "Fair perception").

A reward function is an object with ``reset(info)`` (called at the start of each subgoal
episode) and ``__call__(before, after) -> float`` over two consecutive info dicts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from envs.crafter import Requirement

__all__ = [
    "KINDS",
    "LANGUAGE_KINDS",
    "LanguageReward",
    "RewardFn",
    "Shaping",
    "achieved",
    "make_reward",
    "progress",
    "shaped_reward",
    "sparse_reward",
    "verifier_reward",
]


class RewardFn(Protocol):
    """Reward over consecutive info dicts; ``reset`` marks the start of a subgoal episode."""

    def reset(self, info: Mapping[str, Any]) -> None: ...

    def __call__(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> float: ...


@functools.cache
def _rules_achieved() -> Callable[[str, Mapping[str, Any], Mapping[str, Any]], bool]:
    try:
        from envs.crafter import load_rules
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


# ----------------------------------------------------------------------------- shaping
@dataclass(frozen=True, kw_only=True)
class Shaping:
    """Settings of the verifier-shaped reward (:func:`shaped_reward`)."""

    scale: float = 0.5
    """``Phi`` ranges over ``[0, scale]``. Below 1 so that the success step keeps a positive
    reward (``1 - Phi(s)``: the terminal state's potential is 0) and a time-out next to the
    target never pays as much as succeeding."""
    facing_bonus: float = 1.0
    """Weight of "facing the cell to act on" relative to the weight 1 of getting close to it,
    of holding the items and of standing near each required station."""
    gamma: float = 0.99
    """Discount of the shaping term; must be PPO's ``gamma`` (``PPOArgs.gamma``'s default)
    for the shaping to leave the optimal policy unchanged."""


_PLAYER = (4, 3)  # the player's cell in the 9x7 [x, y] local view
_VIEW_CELLS = np.indices((9, 7)).reshape(2, -1).T
_MANHATTAN = np.abs(_VIEW_CELLS - _PLAYER).sum(axis=1).reshape(9, 7)
_CHEBYSHEV = np.abs(_VIEW_CELLS - _PLAYER).max(axis=1).reshape(9, 7)
_FAR = int(_MANHATTAN.max()) + 1  # the distance a target out of view counts as


def _closeness(view: np.ndarray, ids: np.ndarray, dist: np.ndarray, reach: int) -> float:
    """1 when a cell with one of ``ids`` is within ``reach`` of the player (by ``dist``),
    falling linearly to 0 for one just beyond the view (the cap when none is in view)."""
    mask = np.isin(view, ids)
    if not mask.any():
        return 0.0
    d = int(dist[mask].min())
    return 1.0 if d <= reach else (_FAR - d) / (_FAR - reach)


@dataclass(frozen=True)
class _Targets:
    """One achievement's requirement as semantic ids and item counts, ready for ``Phi``."""

    items: dict[str, int]
    nearby: tuple[np.ndarray, ...]
    face: np.ndarray

    @staticmethod
    def of(req: Requirement) -> _Targets:
        items = dict(req.tools)
        for item, n in req.consumes.items():
            items[item] = items.get(item, 0) + n
        return _Targets(items, tuple(_ids([m]) for m in req.nearby), _ids(req.face))


def _ids(names: list[str]) -> np.ndarray:
    from skills.rl._obs import _NAME_TO_ID  # names -> the local view's semantic ids

    return np.array([_NAME_TO_ID[n] for n in names if n in _NAME_TO_ID], np.int64)


@functools.cache
def _targets(achievement: str) -> _Targets:
    from envs.crafter import load_rules

    return _Targets.of(load_rules().requirement(achievement))


@functools.cache
def _stations() -> tuple[tuple[str, np.ndarray], ...]:
    """The materials some recipe must stand near (table, furnace), with their ids."""
    from envs.crafter import load_rules

    names = dict.fromkeys(m for info in load_rules().make.values() for m in info["nearby"])
    return tuple((name, _ids([name])) for name in names)


@functools.lru_cache(maxsize=4096)
def _chain(subgoal: str, items: tuple[tuple[str, int], ...], near: frozenset[str]) -> tuple:
    """The rules' chain of steps still to take (``CrafterRules.prerequisites``)."""
    from envs.crafter import load_rules

    return tuple(load_rules().prerequisites(subgoal, dict(items), near))


@functools.cache
def _chain_length(subgoal: str) -> int:
    """Steps from nothing: an empty inventory, no station in view."""
    return len(_chain(subgoal, (), frozenset()))


def _approach(view: np.ndarray, ids: np.ndarray, facing: Any, facing_bonus: float) -> float:
    """In ``[0, 1]``: closeness to the nearest cell with one of ``ids`` (1 when adjacent)
    and, with weight ``facing_bonus`` against closeness's 1, facing such a cell."""
    fx, fy = (int(v) for v in facing)
    x, y = _PLAYER[0] + fx, _PLAYER[1] + fy
    faced = 0 <= x < 9 and 0 <= y < 7 and bool(np.isin(view[x, y], ids))
    near = _closeness(view, ids, _MANHATTAN, 1)
    return (near + facing_bonus * float(faced)) / (1.0 + facing_bonus)


_NEXT_UNIT = 0.5
"""How much of one item to collect walking up to its source and facing it is worth."""


def _step_progress(
    name: str,
    need: Mapping[str, int],
    inv: Mapping[str, Any],
    view: np.ndarray,
    facing: Any,
    facing_bonus: float,
) -> float:
    """In ``[0, 1]``: how far one step of the chain is. A collect step with an amount to reach
    (``need``): the fraction held, plus up to half an item for approaching and facing the
    source. Any other step: a weighted mean of the fraction of its items held (weight 1), the
    closeness to each station to stand near (1 each; 1 inside crafter's 3x3 ``nearby`` area)
    and the approach to the cell to act on (``1 + facing_bonus``)."""
    t = _targets(name)
    if need:
        ((item, n),) = need.items()
        held = min(int(inv.get(item, 0)), n)
        source = _approach(view, t.face, facing, facing_bonus) if t.face.size else 0.0
        return min(1.0, (held + _NEXT_UNIT * source) / n)
    weights: list[float] = []
    values: list[float] = []
    if t.items:
        held = sum(min(int(inv.get(k, 0)), n) for k, n in t.items.items())
        weights.append(1.0)
        values.append(held / sum(t.items.values()))
    for ids in t.nearby:
        weights.append(1.0)
        values.append(_closeness(view, ids, _CHEBYSHEV, 1))
    if t.face.size:
        weights.append(1.0 + facing_bonus)
        values.append(_approach(view, t.face, facing, facing_bonus))
    total = sum(weights)
    return sum(w * v for w, v in zip(weights, values, strict=True)) / total if total else 0.0


def progress(subgoal: str, info: Mapping[str, Any], facing_bonus: float = 1.0) -> float:
    """``Phi`` in ``[0, 1]``: how far the perceived state is toward unlocking ``subgoal``.

    The rules' own chain of steps (``CrafterRules.prerequisites``: collect so much wood,
    place a table, make a pickaxe...) from the inventory and the stations in view, against
    the chain from nothing: ``(steps done + progress of the next step) / steps from
    nothing``, the next step's progress by :func:`_step_progress`. One step when the
    subgoal needs nothing first (collect wood: the approach to a tree); 0 when the rules
    ask for nothing that can be seen (``wake_up``). Reads only ``local_view``,
    ``inventory`` and ``facing``.
    """
    from envs.crafter import load_rules
    from skills.rl._obs import local_view_of

    inv = info.get("inventory", {})
    view = local_view_of(info)
    near = frozenset(name for name, ids in _stations() if np.isin(view, ids).any())
    vitals = load_rules().vitals
    items = tuple(sorted((k, int(v)) for k, v in inv.items() if k not in vitals and v))
    chain = _chain(subgoal, items, near)
    total = _chain_length(subgoal)
    name, need = chain[0]
    step = _step_progress(name, need, inv, view, info.get("facing", (0, 1)), facing_bonus)
    return min(1.0, max(0.0, (total - len(chain) + step) / total))


class _Shaped:
    def __init__(self, subgoal: str, shaping: Shaping) -> None:
        self.subgoal = subgoal
        self.shaping = shaping
        self._check = _rules_achieved()
        self._last: tuple[Mapping[str, Any] | None, float] = (None, 0.0)

    def phi(self, info: Mapping[str, Any]) -> float:
        """The potential of a (non-terminal) state: ``scale * progress``."""
        s = self.shaping
        return s.scale * progress(self.subgoal, info, s.facing_bonus)

    def reset(self, info: Mapping[str, Any]) -> None:
        # A new subgoal episode may start where the last one ended: the same info is then a
        # start state with its own potential, not the terminal state (potential 0) it was.
        self._last = (info, self.phi(info))

    def __call__(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> float:
        last_info, last_phi = self._last
        phi_before = last_phi if before is last_info else self.phi(before)
        success = self._check(self.subgoal, before, after)
        dead = after.get("inventory", {}).get("health", 1) <= 0
        # Terminal states have potential 0 (Ng et al.): success and death end the episode.
        phi_after = 0.0 if success or dead else self.phi(after)
        self._last = (after, phi_after)
        return float(success) + self.shaping.gamma * phi_after - phi_before


def shaped_reward(subgoal: str, shaping: Shaping | None = None) -> RewardFn:
    """Verifier-shaped: 1.0 on success plus ``gamma * Phi(s') - Phi(s)`` with
    ``Phi = scale * progress`` (:func:`progress`), 0 in terminal states (success, death)."""
    return _Shaped(subgoal, shaping or Shaping())


KINDS = ("verifier", "shaped", "sparse")
"""The reward kinds computed from the env's own info (no model)."""

LANGUAGE_KINDS = ("judge", "similarity", "manual", "clip")
"""Reward kinds from ``agents.rewards`` (LLM judge, ELLM similarity, Read-and-Reap manual,
VLM-RMs CLIP); ``clip`` needs frames, which the fast training env does not render."""

LanguageReward = Callable[..., RewardFn]
"""Builds a language reward: ``(kind, subgoal, **options) -> RewardFn``. The caller passes
``agents.rewards.transition_reward`` (skills import nothing from agents: the layers)."""


def make_reward(
    kind: str,
    subgoal: str,
    *,
    shaping: Shaping | None = None,
    language: LanguageReward | None = None,
    **options: str,
) -> RewardFn:
    """``"verifier"`` -> :func:`verifier_reward`, ``"shaped"`` -> :func:`shaped_reward`,
    ``"sparse"`` -> :func:`sparse_reward`, a language kind (:data:`LANGUAGE_KINDS`) ->
    ``language(kind, subgoal, **options)`` (``agents.rewards.transition_reward``; options:
    ``llm`` spec, ``behaviour``, ``manual`` path, ``clip_weights`` folder). ``shaping`` sets
    the shaped kind (default ``Shaping()``)."""
    if kind == "verifier":
        return verifier_reward(subgoal)
    if kind == "shaped":
        return shaped_reward(subgoal, shaping)
    if kind == "sparse":
        return sparse_reward()
    if kind in LANGUAGE_KINDS:
        if language is None:
            raise ValueError(
                f"reward {kind!r} is a language reward: pass language= (the function that"
                " builds it, agents.rewards.transition_reward)"
            )
        return language(kind, subgoal, **{k: v for k, v in options.items() if v})
    raise ValueError(f"unknown reward {kind!r}: expected one of {KINDS} or {LANGUAGE_KINDS}")
