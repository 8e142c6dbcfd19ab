"""The environments mendako knows, found as plugins, and a session that gives the graph one
face over each.

Environments are :class:`~envs.contract.EnvAdapter` objects registered under the entry-point
group ``mendako.envs`` (``[project.entry-points."mendako.envs"]`` in a package's
``pyproject.toml``: ``taxi = "mendako_taxi:ADAPTER"``). mendako's own (crafter, babyai,
minedojo) are registered the same way, and are also known when mendako runs from a source
tree that was never installed. The graph never touches an env module directly: it holds an
:class:`EnvSession` (in the run context), which knows the env's adapter, rules, text face,
primitive API and what the player has achieved.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from envs.contract import EnvAdapter, MendakoEnv, Rules

log = logging.getLogger(__name__)

GROUP = "mendako.envs"
"""The entry-point group environments register under."""
_IN_TREE = {
    "crafter": "envs.crafter:ADAPTER",
    "babyai": "envs.babyai:ADAPTER",
    "minedojo": "envs.minedojo:ADAPTER",
}
"""mendako's own adapters, as its pyproject registers them (for an uninstalled source tree)."""


class UnknownEnvError(ValueError):
    """The env id is not one mendako knows."""


def base_id(env_id: str) -> str:
    """The adapter an env id names: `babyai:BabyAI-PickupLoc-v0` -> `babyai`."""
    return env_id.split(":", 1)[0].split("-", 1)[0].lower()


@functools.cache
def _targets() -> dict[str, str]:
    """Env name -> ``module:attribute`` of its adapter, from the entry points (read once)."""
    found = dict(_IN_TREE)
    for ep in entry_points(group=GROUP):
        found[ep.name.lower()] = ep.value
    return found


def env_names() -> tuple[str, ...]:
    """The names of every registered environment, mendako's own first."""
    names = _targets()
    return (*_IN_TREE, *sorted(n for n in names if n not in _IN_TREE))


@functools.cache
def _load(name: str) -> EnvAdapter:
    module_name, _, attr = _targets()[name].partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    if isinstance(obj, type):
        obj = obj()
    if not isinstance(obj, EnvAdapter):
        raise TypeError(f"env {name!r} ({_targets()[name]}) is not an envs.contract.EnvAdapter")
    return obj


def adapter(env_id: str) -> EnvAdapter:
    """The adapter of an env id (``crafter``, ``babyai:BabyAI-PickupLoc-v0``, ...); raises
    UnknownEnvError naming the registered envs."""
    base = base_id(env_id)
    if base not in _targets():
        raise UnknownEnvError(f"unknown env {env_id!r}; choose one of: {', '.join(env_names())}")
    return _load(base)


def adapters() -> dict[str, EnvAdapter]:
    """Every registered adapter that loads, by name (one that fails to import is logged)."""
    loaded = {}
    for name in env_names():
        try:
            loaded[name] = _load(name)
        except Exception as exc:  # a broken plugin must not hide the others
            log.warning("env plugin %r failed to load: %s", name, exc)
    return loaded


@dataclass
class EnvSession:
    """A live env plus what the graph asks of it: description, rules, API, progress."""

    env_id: str
    seed: int
    adapter: EnvAdapter
    env: MendakoEnv
    reflex: Callable[[], None] | None = None
    """Run before every action a skill takes through :meth:`api` (envs whose API has a
    ``reflex`` hook): the driver's urgent survival check."""

    @classmethod
    def open(cls, env_id: str, seed: int, *, goal: str | None = None) -> EnvSession:
        """Make the env and reset it with `seed`. Envs that take a goal (BabyAI) turn the
        run's goal into their mission; the others leave it to the planner."""
        spec = adapter(env_id)
        env = spec.make(env_id, seed=seed, goal=goal if spec.takes_goal else None)
        env.reset(seed=seed)
        return cls(env_id=env_id, seed=seed, adapter=spec, env=env)

    @property
    def info(self) -> dict[str, Any]:
        """The env's latest info dict (fair perception only)."""
        return self.env.info

    @property
    def rules(self) -> Rules | Any:
        """The env's rules (preconditions, prerequisites, checks) for this episode."""
        return self.adapter.rules(self.env)

    @property
    def mission(self) -> str | None:
        """The env's own mission in words (BabyAI), or None when it has none (Crafter)."""
        mission = getattr(self.env, "mission", None)
        return str(mission) if mission else None

    def describe(self) -> str:
        """A short English description of what the player perceives now."""
        return self.adapter.describe(self.env)

    def api(self, budget: int, need: dict[str, int]) -> Any:
        """A primitive API for one skill execution, limited to `budget` env steps."""
        api = self.adapter.make_api(self.env, budget=budget, need=need)
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
        memory = getattr(self.env, "memory", None)
        if memory is None:
            return set()
        return {k for k in self.adapter.kinds if memory.known(k)}

    def sees(self, kind: str) -> bool:
        """Whether `kind` is in the player's current view (the adapter's reading of it)."""
        return self.adapter.sees(self.env.info, kind)

    @property
    def steps(self) -> int:
        """Env steps taken since reset."""
        return len(self.env.action_log)

    @property
    def episode_over(self) -> bool:
        """Whether the episode has ended (death or time limit)."""
        return bool(self.env.episode_over)

    def vitals(self) -> dict[str, int]:
        """The body stats the env has (for the trace; empty when it has none)."""
        return self.adapter.vitals(self.inventory)

    def replay(self, actions: list[Any]) -> None:
        """Step the recorded actions again (to rebuild a run after a crash)."""
        for a in actions:
            self.env.step(a)
