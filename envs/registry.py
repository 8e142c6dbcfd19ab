"""The environments mendako knows, and a session object that gives the graph one face over each.

The graph never touches an env module directly: it holds an `EnvSession` (in the run
context), which knows the env's rules, its text description, its primitive API for skills,
and what the player has achieved.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

ENV_IDS = ("crafter", "babyai", "minedojo")


class UnknownEnvError(ValueError):
    """The env id is not one mendako knows."""


def base_id(env_id: str) -> str:
    """The adapter an env id names: `babyai:BabyAI-PickupLoc-v0` -> `babyai`."""
    return env_id.split(":", 1)[0].split("-", 1)[0].lower()


def adapter(env_id: str) -> ModuleType:
    """The module of an env adapter (`envs.crafter`, ...); raises UnknownEnvError."""
    base = base_id(env_id)
    if base not in ENV_IDS:
        raise UnknownEnvError(f"unknown env {env_id!r}; choose one of: {', '.join(ENV_IDS)}")
    return importlib.import_module(f"envs.{base}")


@dataclass
class EnvSession:
    """A live env plus what the graph asks of it: description, rules, API, progress."""

    env_id: str
    seed: int
    module: ModuleType
    env: Any
    reflex: Callable[[], None] | None = None
    """Run before every action a skill takes through :meth:`api` (envs whose API supports
    it): the explorer's survival reflexes."""

    @classmethod
    def open(cls, env_id: str, seed: int, *, goal: str | None = None, **kw: Any) -> EnvSession:
        """Make the env and reset it with `seed`.

        Envs whose `make()` takes a `goal` (BabyAI) turn the run's goal into their mission;
        the others ignore it (their goal is read by the planner alone). Envs that can skip
        drawing frames (Crafter) skip them: `env.render()` draws one when asked.
        """
        module = adapter(env_id)
        params = inspect.signature(module.make).parameters
        if goal is not None and "goal" in params:
            kw["goal"] = goal
        if "frames" in params:  # the graph reads info; a recorder asks render() for frames
            kw.setdefault("frames", False)
        env = module.make(env_id, seed=seed, **kw)
        env.reset(seed=seed)
        return cls(env_id=env_id, seed=seed, module=module, env=env)

    @property
    def info(self) -> dict[str, Any]:
        """The env's latest info dict (fair perception only)."""
        return self.env.info

    @property
    def rules(self) -> Any:
        """The env's rules object (preconditions, prerequisites, checks): the env's own when
        it has one (BabyAI's rules belong to each mission), else the adapter's."""
        rules = getattr(self.env, "rules", None)
        return rules if rules is not None else self.module.load_rules()

    @property
    def mission(self) -> str | None:
        """The env's own mission in words (BabyAI), or None when it has none (Crafter)."""
        mission = getattr(self.env, "mission", None)
        return str(mission) if mission else None

    def describe(self) -> str:
        """A short English description of what the player perceives now."""
        return self.module.describe(None, self.env.info, self.env.memory)

    def api(self, budget: int, need: dict[str, int]) -> Any:
        """A primitive API for one skill execution, limited to `budget` env steps."""
        api = self.module.make_api(self.env, budget=budget, need=need)
        if self.reflex is not None and hasattr(api, "reflex"):
            api.reflex = self.reflex
        return api

    @property
    def inventory(self) -> dict[str, int]:
        """The player's inventory."""
        return dict(self.info.get("inventory", {}))

    @property
    def achievements(self) -> dict[str, int]:
        """How many times each achievement has been unlocked this episode."""
        return dict(self.info.get("achievements", {}))

    def known_kinds(self) -> set[str]:
        """Kinds of things the player has seen (in view or remembered)."""
        return {k for k in self.module.KINDS if self.env.memory.known(k)}

    def sees(self, kind: str) -> bool:
        """Whether `kind` is in the player's current view."""
        view = self.info.get("local_view")  # envs without one (BabyAI) see nothing here
        return view is not None and bool((np.asarray(view) == kind).any())

    @property
    def steps(self) -> int:
        """Env steps taken since reset."""
        return len(self.env.action_log)

    @property
    def episode_over(self) -> bool:
        """Whether the episode has ended (death or time limit)."""
        return bool(self.env.episode_over)

    def replay(self, actions: list[int]) -> None:
        """Step the recorded actions again (to rebuild a run after a crash)."""
        for a in actions:
            self.env.step(a)
