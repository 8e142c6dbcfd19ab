"""What an environment must provide to mendako: the typed contract behind ``envs.registry``.

Everything mendako knows about an environment lives behind one :class:`EnvAdapter`: how to
make it, its text face, the primitive API code skills act through, its rules and success
checks, its goal vocabulary, its survival needs and the reflexes that meet them, the chains
shaped rewards follow, the words that describe its skills, the vocabulary of the learned
world model, and where its built-in skills live. Nothing in ``agents/``, ``graphs/`` or
``skills/`` names an environment; they ask its adapter.

An adapter is found through the entry-point group ``mendako.envs`` (see
:mod:`envs.registry`), so a package outside mendako can add one (``examples/taxi_plugin``).

## What an adapter must provide (abstract)

- :meth:`EnvAdapter.make` -> a :class:`MendakoEnv`: a ``gymnasium.Env`` with ``info`` (the
  last step's info, fair perception only: what the player perceives), ``action_log``
  (actions since reset; resume replays them), ``episode_over``. ``info["achievements"]`` counts
  how often each achievement was unlocked this episode: the programmatic verifier compares it
  before and after a skill. ``info["inventory"]`` is what the player holds.
- :meth:`EnvAdapter.describe`: a short English text of what the player perceives now.
- :meth:`EnvAdapter.make_api`: the primitive API of one skill execution, limited to a step
  budget; it raises ``envs._errors.BudgetExhausted``/``EpisodeOver`` (subclasses of
  :class:`SkillStop`) when the budget is spent or the episode ended, and counts
  ``steps_used``.
- :meth:`EnvAdapter.rules`: a :class:`Rules` (achievements, why a skill cannot act now, the
  chain of subgoals up to a target).

## What it may provide (defaults: none)

Survival (:meth:`EnvAdapter.survival`), goal vocabulary, the world model's vocabulary, skill
descriptions, built-in skills (:meth:`EnvAdapter.skills_dir`), a check of fair perception.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from envs import goal_vocab
from envs._errors import BudgetExhausted, EpisodeOver, NewPrecondition, SkillStop
from envs.goal_vocab import GoalVocabulary

__all__ = [
    "BudgetExhausted",
    "EnvAdapter",
    "EpisodeOver",
    "MendakoEnv",
    "NewPrecondition",
    "PrimitiveAPI",
    "Reflex",
    "Rules",
    "SkillStop",
    "Survival",
    "SurvivalView",
    "Vocabulary",
]


# ---------------------------------------------------------------------- value types
@dataclass(frozen=True)
class Vocabulary:
    """The names a learned world model may use: the env's items, kinds, achievements."""

    items: tuple[str, ...] = ()
    """Inventory items."""
    vitals: tuple[str, ...] = ()
    """Items that are body stats (start above zero): never needs, never tools."""
    kinds: tuple[str, ...] = ()
    """Kinds of things in the world that can be near the player (materials, creatures)."""
    achievements: tuple[str, ...] = ()
    """Achievement names; every subgoal is one."""

    @property
    def needables(self) -> tuple[str, ...]:
        """Items that can be consumed or held as tools."""
        return tuple(i for i in self.items if i not in self.vitals)


@dataclass(frozen=True)
class Reflex:
    """A survival need and the skill that meets it: run `skill` until `stat` is `level`."""

    need: str
    """The need's name, as traced (``collect_drink``, ``recover``, ...)."""
    skill: str
    """The library skill that meets it."""
    stat: str
    """The inventory stat it restores."""
    level: int
    """The level to restore the stat to (the skill's ``need``)."""
    budget: int | None = None
    """Env steps the reflex may take; None: the run's skill budget."""


# ---------------------------------------------------------------------- protocols
@runtime_checkable
class Rules(Protocol):
    """An env's rules, as the planner, SayCan and the curriculum read them."""

    @property
    def achievements(self) -> list[str]:
        """What a goal can be read as (every subgoal name the planner may use)."""
        ...

    def missing(self, name: str, inventory: dict[str, int], known_kinds: set[str]) -> list[str]:
        """Why a skill for achievement `name` cannot act now (empty: it can)."""
        ...

    def prerequisites(
        self, target: str, inventory: dict[str, int], known: Any = frozenset()
    ) -> list[tuple[str, dict[str, int]]]:
        """The subgoals still to do, in order, up to and including `target`, each with the
        inventory it should leave (``{}``: just unlock it). Shaped rewards follow this chain."""
        ...


@runtime_checkable
class PrimitiveAPI(Protocol):
    """The API one skill execution acts through (its public methods are the primitives)."""

    steps_used: int
    """Env steps this API has taken."""


@runtime_checkable
class MendakoEnv(Protocol):
    """A gymnasium env as mendako drives it (see the module docstring)."""

    action_log: list[Any]
    """Actions taken since reset; resume replays them."""

    @property
    def info(self) -> dict[str, Any]:
        """The last reset/step's info: fair perception, ``inventory``, ``achievements``."""
        ...

    @property
    def episode_over(self) -> bool:
        """Whether the episode has ended (terminated or truncated)."""
        ...

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """gymnasium's reset."""
        ...

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """gymnasium's step."""
        ...

    def render(self) -> Any:
        """gymnasium's render: the current frame (for GIFs, and reward kinds that need it)."""
        ...


class SurvivalView(Protocol):
    """What a survival check reads of a live session (``envs.registry.EnvSession``)."""

    @property
    def inventory(self) -> dict[str, int]: ...

    @property
    def info(self) -> dict[str, Any]: ...

    def sees(self, kind: str) -> bool: ...


class Survival(ABC):
    """An env's survival needs over one episode: which reflex the player's state calls for.

    One instance per episode (it may remember, e.g., whether daylight is falling). The
    driver asks between goals and, with ``urgent=True``, before every action a skill takes
    (through the API's ``reflex`` hook, where the env's API has one).
    """

    @abstractmethod
    def need(self, view: SurvivalView, *, urgent: bool = False) -> Reflex | None:
        """The reflex to run now, or None."""

    pause: int = 30
    """Env steps a reflex that did not restore its stat waits before it is tried again."""


# ---------------------------------------------------------------------- the adapter
class EnvAdapter(ABC):
    """One environment, as mendako sees it. Subclass it, then register an instance under the
    entry-point group ``mendako.envs`` (name = :attr:`name`)."""

    name: ClassVar[str]
    """The env's id in the CLI (``--env NAME``); ``NAME:variant`` ids are passed to make."""
    summary: ClassVar[str] = ""
    """One line for ``--help``."""
    title: ClassVar[str] = ""
    """The env's name in prose (the planner's prompt); empty: :attr:`name`."""
    goal_words: ClassVar[tuple[str, str]] = ("achievement", "achievements")
    """What the env calls the things a goal is read as (:meth:`Rules.achievements`),
    singular and plural: BabyAI's are missions."""
    kinds: tuple[str, ...] = ()
    """Kinds of things the player can perceive or remember (``EnvSession.known_kinds``)."""
    view_cells: int | None = None
    """Fair perception: the most cells any array in ``info`` may have (the player's local
    view); None when the env is fully observed by design (nothing privileged to hide)."""
    takes_goal: bool = False
    """Whether :meth:`make` turns the run's goal into the env's own mission (BabyAI)."""

    # --- required
    @abstractmethod
    def make(self, env_id: str, *, seed: int = 0, goal: str | None = None) -> MendakoEnv:
        """Build the env for `env_id` (``name`` or ``name:variant``); the caller resets it."""

    @abstractmethod
    def describe(self, env: Any) -> str:
        """A short English description of what the player perceives now."""

    @abstractmethod
    def make_api(self, env: Any, *, budget: int, need: dict[str, int] | None = None) -> Any:
        """The primitive API of one skill execution of at most `budget` env steps."""

    @abstractmethod
    def rules(self, env: Any | None = None) -> Rules | None:
        """The rules of `env` (some envs' rules belong to each episode: BabyAI's mission);
        with no env, the rules every episode shares, or None when there are none."""

    # --- optional
    @property
    def api_class(self) -> type | None:
        """The class :meth:`make_api` returns (the coder documents its methods)."""
        return None

    def load_rules(self) -> Rules | None:
        """The rules every episode shares (``rules(None)``)."""
        return self.rules(None)

    def survival(self) -> Survival | None:
        """A fresh survival check for one episode, or None when the env has no needs."""
        return None

    def goal_vocabulary(self) -> GoalVocabulary | None:
        """The words of the env's goals in every language it supports (per achievement: a
        line for the model, English and Japanese match keys; examples), which the goal reader
        reads goals with. Default: ``envs/data/<name>_goals.yaml`` when mendako ships one
        (``envs.goal_vocab``); None: the planner reads goals alone. A plugin returns its own
        (``envs.goal_vocab.parse``)."""
        return goal_vocab.load(self.name)

    def goal_facts(self) -> Mapping[str, str]:
        """Achievement -> what a player of the game would tell a newcomer about it (stated to
        the model when it ranks goals; facts inform, they decide nothing). Empty: none."""
        return {}

    def vocabulary(self) -> Vocabulary:
        """The learned world model's vocabulary (empty: the env has no items to learn)."""
        return Vocabulary()

    def skill_description(self, achievement: str) -> str:
        """What a skill that unlocks `achievement` does, in words (SayCan scores it)."""
        return f"Unlock {achievement.replace('_', ' ')}."

    def skills_dir(self) -> Path | None:
        """The folder of the env's built-in skills (``<name>/{skill.py|policy.pt, meta.json}``)."""
        return None

    def check_perception(self, info: dict[str, Any]) -> list[str]:
        """What in `info` breaks fair perception (empty: nothing). The default checks that
        no array holds more than :attr:`view_cells` cells."""
        if self.view_cells is None:
            return []
        import numpy as np

        return [
            f"info[{k!r}] has {np.asarray(v).size} cells (> {self.view_cells})"
            for k, v in info.items()
            if isinstance(v, np.ndarray) and v.size > self.view_cells
        ]

    def sees(self, info: dict[str, Any], kind: str) -> bool:
        """Whether `kind` is in the player's current view (False for envs without one)."""
        return False

    def vitals(self, inventory: dict[str, int]) -> dict[str, int]:
        """The body stats of `inventory`, for the trace (why an episode ended)."""
        return {k: inventory.get(k, 0) for k in self.vocabulary().vitals}


ReflexHook = Callable[[], None]
"""Run before every action a skill takes (the driver's urgent survival check)."""
