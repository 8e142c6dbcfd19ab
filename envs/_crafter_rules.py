"""Crafter's tech tree as data, read from crafter's own ``data.yaml``.

Nothing here retypes a rule that ``data.yaml`` states: requirements of the ``collect_*``,
``place_*`` and ``make_*`` achievements are derived from its ``collect``, ``place`` and
``make`` tables. The handful of achievements that ``data.yaml`` has no entry for (eating,
fighting, waking up) are stated once in ``_NOT_IN_DATA`` below, taken from crafter's
``objects.py``.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["CrafterRules", "Requirement", "load_rules"]


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """What one achievement needs and gives, in crafter's terms."""

    achievement: str
    """The achievement name, e.g. ``"make_stone_pickaxe"``."""
    consumes: dict[str, int] = field(default_factory=dict)
    """Inventory items used up (``place.uses`` / ``make.uses``)."""
    tools: dict[str, int] = field(default_factory=dict)
    """Inventory items that must be held but are kept (``collect.require``)."""
    nearby: list[str] = field(default_factory=list)
    """Materials that must be in the 3x3 area around the player (``make.nearby``)."""
    face: list[str] = field(default_factory=list)
    """Material(s) or creature the player must face when acting (collect source, place
    ``where``, or the creature to hit)."""
    gives: dict[str, int] = field(default_factory=dict)
    """Inventory items received (``collect.receive`` / ``make.gives``)."""
    action: str = "do"
    """The crafter action that triggers it (``do``, ``place_table``, ``make_wood_pickaxe``...)."""
    probability: float = 1.0
    """Chance that one action succeeds (``collect.probability``; saplings 0.1)."""
    after: list[str] = field(default_factory=list)
    """Achievements that must have happened first and leave no inventory trace (only
    ``eat_plant`` -> ``place_plant``: crafter's world generator places no plants)."""
    wait: int = 0
    """Steps the faced object must have stood first: a plant is ripe, and can be eaten,
    once it has grown for more than 300 steps (``Plant.ripe``); before, hitting it does
    nothing."""


# data.yaml has no entry for these: they are coded in crafter/objects.py (Player.update,
# Player._do_object). Cow health 3, zombie 5, skeleton 3; damage 1 without a sword, so
# several hits are needed. wake_up happens when energy reaches its max while asleep, and
# sleep only starts when energy is below max. A plant ripens once it has grown for more
# than 300 steps (Plant.ripe).
_NOT_IN_DATA: dict[str, dict[str, Any]] = {
    "eat_cow": {"face": ["cow"], "gives": {"food": 6}},
    "eat_plant": {"face": ["plant"], "gives": {"food": 4}, "after": ["place_plant"], "wait": 300},
    "defeat_zombie": {"face": ["zombie"]},
    "defeat_skeleton": {"face": ["skeleton"]},
    "wake_up": {"action": "sleep", "gives": {"energy": 1}},
}


class CrafterRules:
    """Crafter's rules loaded from ``data.yaml``; use :func:`load_rules` to get the cached one."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = dict(data)
        self.actions: list[str] = list(data["actions"])
        self.materials: list[str] = list(data["materials"])
        self.walkable: list[str] = list(data["walkable"])
        self.items: dict[str, dict[str, int]] = dict(data["items"])
        self.achievements: list[str] = list(data["achievements"])
        self.collect: dict[str, dict[str, Any]] = dict(data["collect"])
        self.place: dict[str, dict[str, Any]] = dict(data["place"])
        self.make: dict[str, dict[str, Any]] = dict(data["make"])
        self.vitals: tuple[str, ...] = tuple(
            k for k, v in self.items.items() if v.get("initial", 0) > 0
        )
        """The stats a player starts with (health, food, drink, energy); no recipe uses them."""
        self._reqs = {name: self._derive(name) for name in self.achievements}
        # item -> achievement that produces it (collect_* or make_*), for backward chaining.
        self._producer: dict[str, str] = {}
        for req in self._reqs.values():
            if req.achievement.startswith(("collect_", "make_")):
                for item in req.gives:
                    self._producer.setdefault(item, req.achievement)

    # ------------------------------------------------------------------ derivation
    def _derive(self, name: str) -> Requirement:
        verb, _, obj = name.partition("_")
        if verb == "collect":
            for source, info in self.collect.items():
                if obj in info["receive"]:
                    return Requirement(
                        achievement=name,
                        tools=dict(info["require"]),
                        face=[source],
                        gives=dict(info["receive"]),
                        probability=float(info.get("probability", 1.0)),
                    )
        if verb == "place" and obj in self.place:
            info = self.place[obj]
            # crafter's Player._place checks only `where`, `uses` and a free target cell: it
            # does not check for a nearby table (so a furnace needs no table, whatever the
            # paper's tech-tree figure suggests).
            return Requirement(
                achievement=name,
                consumes=dict(info["uses"]),
                face=list(info["where"]),
                action=name,
            )
        if verb == "make" and obj in self.make:
            info = self.make[obj]
            return Requirement(
                achievement=name,
                consumes=dict(info["uses"]),
                nearby=list(info["nearby"]),
                gives={obj: int(info["gives"])},
                action=name,
            )
        extra = _NOT_IN_DATA.get(name)
        if extra is None:  # e.g. collect_diamond is covered above; anything else is unknown
            return Requirement(achievement=name)
        return Requirement(achievement=name, **extra)

    # ------------------------------------------------------------------ queries
    def requirement(self, achievement: str) -> Requirement:
        """The requirement of one achievement; ``KeyError`` for an unknown name."""
        try:
            return self._reqs[achievement]
        except KeyError:
            raise KeyError(f"unknown Crafter achievement {achievement!r}") from None

    def producer(self, item: str) -> str | None:
        """The achievement whose action yields ``item`` (``wood`` -> ``collect_wood``)."""
        return self._producer.get(item)

    def missing(
        self, achievement: str, inventory: Mapping[str, int], nearby: Iterable[str] = ()
    ) -> list[str]:
        """Unmet preconditions as short English phrases; ``[]`` means feasible now.

        ``nearby`` is the set of materials in the 3x3 area around the player (crafter's
        ``world.nearby(pos, 1)``). What to face (a tree, grass...) is not checked here: skills
        walk to it.
        """
        req = self.requirement(achievement)
        near = set(nearby)
        out: list[str] = []
        for item, amount in req.tools.items():
            if inventory.get(item, 0) < amount:
                out.append(f"needs a {item} (has none)")
        for item, amount in req.consumes.items():
            have = inventory.get(item, 0)
            if have < amount:
                out.append(f"needs {amount} {item} (has {have})")
        for thing in req.nearby:
            if thing not in near:
                out.append(f"needs a nearby {thing}")
        if achievement == "wake_up":
            maximum = self.items["energy"]["max"]
            if inventory.get("energy", maximum) >= maximum:
                out.append("energy is full: cannot fall asleep yet")
        return out

    def prerequisites(
        self,
        target: str,
        inventory: Mapping[str, int],
        nearby: Iterable[str] = (),
    ) -> list[tuple[str, dict[str, int]]]:
        """Backward-chained subgoal chain that reaches ``target`` from ``inventory``.

        Each entry is ``(achievement, need)``; for ``collect_*`` entries ``need`` is the
        inventory count to reach (all collection of one item is merged into its first
        entry, the cumulative amount). Tools already held are skipped; ``nearby`` lists
        materials or objects assumed reachable already (e.g. a remembered ``table`` or
        ``plant``), whose ``place_*`` step is then skipped. The last entry is ``target``
        itself.
        """
        inv: dict[str, int] = {k: int(v) for k, v in inventory.items()}
        have_near = set(nearby)
        chain: list[tuple[str, dict[str, int]]] = []

        def ensure_item(item: str, amount: int, depth: int) -> None:
            if inv.get(item, 0) >= amount:
                return
            producer = self.producer(item)
            if producer is None:
                raise ValueError(f"no achievement in data.yaml yields {item!r}")
            if producer.startswith("collect_"):
                achieve(producer, depth + 1, want=amount)
            else:
                while inv.get(item, 0) < amount:
                    achieve(producer, depth + 1)

        def achieve(name: str, depth: int, want: int | None = None) -> None:
            if depth > 40:
                raise RecursionError(f"rule cycle while planning {target!r}")
            req = self.requirement(name)
            for before in req.after:
                # What a `place_*` leaves behind counts once seen, as a remembered table does:
                # a plant placed earlier (and still there) need not be placed again.
                if before.startswith("place_") and before.removeprefix("place_") in have_near:
                    continue
                achieve(before, depth + 1)
            for thing in req.nearby:
                if thing not in have_near:
                    achieve(f"place_{thing}", depth + 1)
                    have_near.add(thing)
            for item, amount in req.tools.items():
                ensure_item(item, amount, depth)
            # Getting one consumable may spend another (stone needs a pickaxe, which costs
            # wood), so loop until all hold at once.
            for _ in range(8):
                for item, amount in req.consumes.items():
                    ensure_item(item, amount, depth)
                if all(inv.get(k, 0) >= v for k, v in req.consumes.items()):
                    break
            for item, amount in req.consumes.items():
                inv[item] = inv.get(item, 0) - amount
            need: dict[str, int] = {}
            if name.startswith("collect_") and depth == 0:
                # The goal itself is the unlock (its counter rising), not a stock level: an
                # inventory target could sit above the item's max (drink at 9 asks for 10).
                for item, amount in req.gives.items():
                    inv[item] = inv.get(item, 0) + amount
            elif name.startswith("collect_"):
                (item,) = req.gives
                need = {item: max(want or 0, inv.get(item, 0) + 1)}
                inv[item] = need[item]
            else:
                for item, amount in req.gives.items():
                    inv[item] = inv.get(item, 0) + amount
            chain.append((name, need))

        achieve(target, 0)
        return self._merge_collects(chain, inventory)

    def _merge_collects(
        self, chain: list[tuple[str, dict[str, int]]], inventory: Mapping[str, int]
    ) -> list[tuple[str, dict[str, int]]]:
        """Fold later collects of an item into its first collect (tools only accumulate,
        so the first collect is already feasible), respecting the item's max."""
        inv = {k: int(v) for k, v in inventory.items()}
        out: list[tuple[str, dict[str, int]]] = []
        open_entry: dict[str, int] = {}  # item -> index in out of the collect to grow
        for name, need in chain:
            if name.startswith("collect_") and need:
                (item,) = need
                gained = need[item] - inv.get(item, 0)
                inv[item] = need[item]
                idx = open_entry.get(item)
                maximum = self.items.get(item, {}).get("max", 9)
                if idx is not None and out[idx][1][item] + gained <= maximum:
                    out[idx][1][item] += gained
                    continue
                open_entry[item] = len(out)
                out.append((name, dict(need)))
                continue
            req = self.requirement(name)
            for item, amount in req.consumes.items():
                inv[item] = inv.get(item, 0) - amount
            for item, amount in req.gives.items():
                inv[item] = inv.get(item, 0) + amount
            out.append((name, dict(need)))
        return out

    @staticmethod
    def achieved(name: str, before_info: Mapping[str, Any], after_info: Mapping[str, Any]) -> bool:
        """True when the achievement counter ``name`` increased between two infos."""
        before = before_info.get("achievements", {}).get(name, 0)
        after = after_info.get("achievements", {}).get(name, 0)
        return after > before


@functools.cache
def load_rules() -> CrafterRules:
    """Crafter's rules from the installed package's ``data.yaml`` (cached)."""
    text = (importlib.resources.files("crafter") / "data.yaml").read_text()
    return CrafterRules(yaml.safe_load(text))
