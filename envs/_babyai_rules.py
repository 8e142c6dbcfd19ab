"""Preconditions of a BabyAI clause, from the env's object rules and the agent's memory.

The rules are data (``envs/data/babyai_rules.yaml``, checked against minigrid's own objects
by the tests): a locked door opens only for a key of its colour, the agent carries one
object, an object in a cell blocks the way, a box is replaced by what it holds when toggled.
:func:`preconditions` reads them over what the agent has seen (:class:`ViewMemory`, filled
from the 7x7 view only) and says which steps must come before a clause: fetch a key and
unlock the door that stands between the agent and its target (or the last unexplored
place), move an object out of a doorway, open boxes when a needed key is nowhere to be seen.
Nothing here reads the true grid; what memory does not show is not planned for.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from envs._babyai_nav import Pos, ViewMemory, neighbours

__all__ = ["Blocker", "Step", "object_rules", "preconditions", "route"]

_BLOCKED_COST = 1000
"""Cost of a path through a cell that needs a step first (a locked door, an object): any
path without one is shorter than every path with one."""
_MAX_DEPTH = 4
"""How deep preconditions nest (a key behind a locked door whose key is in a box ...)."""

Find = Callable[[str | None, str | None, str | None], set[Pos]]
"""Seen cells matching ``(color, type, loc)``; None = any."""


@cache
def object_rules() -> dict[str, Any]:
    """The object rules of ``envs/data/babyai_rules.yaml``."""
    text = resources.files("envs.data").joinpath("babyai_rules.yaml").read_text("utf-8")
    rules: dict[str, Any] = yaml.safe_load(text)
    return rules


def _unlock_needs() -> tuple[str, bool]:
    """What the agent must carry to toggle a locked door open: (type, same colour?)."""
    locked = object_rules()["toggle"]["door"]["locked"]
    return str(locked["carrying"]), bool(locked.get("same_color"))


def _door_state(state: int) -> str:
    return str(object_rules()["door_states"][int(state)])


@dataclass(frozen=True)
class Step:
    """One step of a mission's plan: a clause of the mission or a precondition of one.

    ``verb`` is a clause kind (``go_to``, ``pick_up``, ``open``, ``put_next``); ``why`` says
    which rule put a precondition there (empty for the mission's own clauses)."""

    name: str
    verb: str
    color: str | None
    type: str | None
    why: str = ""
    pos: Pos | None = None
    loc: str | None = None
    fixed_color: str | None = None
    fixed_type: str | None = None
    fixed_loc: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The step as the dict skills read through ``api.target()``."""
        return asdict(self)


def _step(verb: str, color: str | None, kind: str | None, why: str, pos: Pos | None) -> Step:
    words = {"pick_up": ["pick", "up"], "open": ["open"], "go_to": ["go"]}[verb]
    name = "_".join([*words, *(w for w in (color, kind) if w)])
    return Step(name=name, verb=verb, color=color, type=kind, why=why, pos=pos)


@dataclass(frozen=True)
class Blocker:
    """A cell on the way that needs a step first: a locked door, or an object in the way."""

    kind: str  # "locked" | "object"
    pos: Pos
    color: str
    type: str


def _enter(
    memory: ViewMemory, p: Pos, avoid: frozenset[Pos], held: str | None
) -> tuple[int, Blocker | None]:
    """Cost of walking into ``p`` and what must be done first (None: nothing); -1: never.
    A locked door the held key opens is cheap (one toggle), though still a step."""
    cell = memory.cells.get(p)
    if cell is None or p in avoid:
        return -1, None
    kind, color, state = cell
    rules = object_rules()
    if kind == "door":
        if _door_state(state) in rules["walk"]["door"]:
            return 1, None
        if _door_state(state) == "closed":
            return (2, None) if memory.through_closed_doors else (-1, None)  # toggle, walk
        key_type, same = _unlock_needs()
        opens = (
            held is not None
            and held.split("_", 1) == [color, key_type]
            or (held is not None and not same and held.endswith(f"_{key_type}"))
        )
        return (3 if opens else _BLOCKED_COST), Blocker("locked", p, color, kind)
    if kind in rules["block"]:
        return _BLOCKED_COST, Blocker("object", p, color, kind)
    if memory.passable(p, doors=False):
        return 1, None
    return -1, None


def route(
    memory: ViewMemory,
    goal: Callable[[Pos], bool],
    avoid: frozenset[Pos] = frozenset(),
    held: str | None = None,
) -> list[Blocker] | None:
    """The cheapest way from the agent to a cell where ``goal`` holds, over seen cells: the
    blockers on it in order (``[]``: a free way), or None when no way is known at all."""
    start = memory.pos
    if goal(start):
        return []
    best = {start: 0}
    heap: list[tuple[int, int, Pos, tuple[Blocker, ...]]] = [(0, 0, start, ())]
    tie = 0
    while heap:
        cost, _, p, blockers = heapq.heappop(heap)
        if cost > best.get(p, cost):
            continue
        if p != start and goal(p):
            return list(blockers)
        for n in neighbours(p):
            step, blocker = _enter(memory, n, avoid, held)
            if step < 0:
                continue
            c = cost + step
            if c < best.get(n, 1 << 60):
                best[n] = c
                tie += 1
                heapq.heappush(heap, (c, tie, n, blockers + ((blocker,) if blocker else ())))
    return None


def _frontier(memory: ViewMemory) -> Callable[[Pos], bool]:
    """Cells next to an unseen one: walking there reveals more of the level."""
    return lambda p: any(n not in memory.cells for n in neighbours(p))


def _next_to(cells: set[Pos]) -> Callable[[Pos], bool]:
    return lambda p: p not in cells and any(n in cells for n in neighbours(p))


class _Planner:
    """One computation of preconditions over a fixed memory (see :func:`preconditions`)."""

    def __init__(self, memory: ViewMemory, carrying: str | None, find: Find, keep: set) -> None:
        self.memory, self.carrying, self.find, self.keep = memory, carrying, find, keep

    def reach(
        self, targets: set[Pos], avoid: frozenset[Pos], what: str, depth: int
    ) -> list[Step] | None:
        """Steps before the agent can stand next to one of ``targets`` (unknown targets: before
        it can explore further); None when memory shows no way at all."""
        mem = self.memory
        held = self.carrying
        if targets and route(mem, _next_to(targets), avoid, held) == []:
            return []
        if route(mem, _frontier(mem), avoid, held) == []:
            return []  # somewhere is still unexplored without any step first: look there
        ways = [route(mem, _next_to(targets), avoid, held)] if targets else []
        ways.append(route(mem, _frontier(mem), avoid, held))
        blockers = next((w for w in ways if w), None)
        if blockers is None:
            return self.reveal(what, avoid, depth)
        steps: list[Step] = []
        for b in blockers:  # in the order the way meets them
            got = self.clear(b, avoid, depth)
            if got is None:
                return steps or None
            steps += [s for s in got if s not in steps]
        return steps

    def clear(self, b: Blocker, avoid: frozenset[Pos], depth: int) -> list[Step] | None:
        """Steps that make the blocker's cell walkable."""
        if b.kind == "object":
            why = f"the {b.color} {b.type} blocks the way (an object in a cell blocks it)"
            if self._opens(b):  # a box gives way to what it holds: cheaper than carrying
                return [_step("open", b.color, b.type, f"{why}; opened, it gives way", b.pos)]
            return [_step("pick_up", b.color, b.type, why, b.pos)]
        key_type, same = _unlock_needs()
        color = b.color if same else None
        door = f"the {b.color} door"
        steps: list[Step] = []
        if not self._holds(color, key_type):
            got = self.fetch(color, key_type, avoid | {b.pos}, depth + 1, door)
            if got is None:
                return None
            steps += got
        why = f"{door} is locked and on the way: a {b.color} {key_type} opens it"
        steps.append(_step("open", b.color, "door", why, b.pos))
        return steps

    def fetch(
        self, color: str | None, kind: str, avoid: frozenset[Pos], depth: int, purpose: str
    ) -> list[Step] | None:
        """Steps to pick up a ``color kind`` (exploring for it, or clearing the way to it)."""
        if depth > _MAX_DEPTH:
            return None
        what = f"the {color or 'a'} {kind}"
        before = self.reach(set(self.find(color, kind, None)), avoid, what, depth)
        if before is None:
            return None
        why = f"{purpose} needs {what} (the agent carries one object: a held one is dropped)"
        return [*before, _step("pick_up", color, kind, why, None)]

    def reveal(self, what: str, avoid: frozenset[Pos], depth: int) -> list[Step] | None:
        """Nothing left to explore and ``what`` unseen: a box may hide it (toggling a box
        replaces it by what it holds). The nearest box the mission does not name."""
        rules = object_rules()
        if rules["toggle"].get("box", {}).get("becomes") != "contents":
            return None
        boxes = {
            p
            for p in self.find(None, "box", None)
            if self._opens(Blocker("object", p, self.memory.cells[p][1], "box"))
        }
        for p in sorted(boxes, key=lambda q: _dist(self.memory.pos, q)):
            if route(self.memory, _next_to({p}), avoid) == []:
                color = self.memory.cells[p][1]
                why = f"{what} is nowhere in sight and a box may hold it"
                return [_step("open", color, "box", why, p)]
        return None

    def _opens(self, b: Blocker) -> bool:
        """Whether toggling the blocker replaces it by its contents and the mission does not
        name it (a box the mission wants is moved, never opened)."""
        if object_rules()["toggle"].get(b.type, {}).get("becomes") != "contents":
            return False
        return not any(c in (None, b.color) and t in (None, b.type) for c, t in self.keep)

    def _holds(self, color: str | None, kind: str) -> bool:
        if self.carrying is None:
            return False
        c, t = self.carrying.split("_", 1)
        return t == kind and (color is None or c == color)


def _dist(a: Pos, b: Pos) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def preconditions(
    memory: ViewMemory,
    carrying: str | None,
    clause: Step,
    find: Find,
    keep: set[tuple[str | None, str | None]] = frozenset(),  # type: ignore[assignment]
) -> list[Step]:
    """The steps that must come before ``clause`` given what the agent has seen and holds,
    in order (``[]``: the clause's skill can go ahead: its target is within reach, or there
    is still somewhere to look without any step first).

    ``find(color, type, loc)`` gives the seen cells matching a description; ``keep`` are
    ``(color, type)`` the mission names (never opened as possible hiding places)."""
    planner = _Planner(memory, carrying, find, set(keep))
    none: frozenset[Pos] = frozenset()
    if clause.verb == "open" and clause.type == "door":
        doors = find(clause.color, "door", clause.loc)
        locked = [p for p in doors if _door_state(memory.cells[p][2]) == "locked"]
        if doors and len(locked) == len(doors):
            door = min(locked, key=lambda p: _dist(memory.pos, p))
            color = memory.cells[door][1]
            before = planner.reach({door}, none, f"the {color} door", 0) or []
            key_type, same = _unlock_needs()
            if planner._holds(color if same else None, key_type):
                return before
            purpose = f"opening the {color} door (locked)"
            got = planner.fetch(color if same else None, key_type, frozenset({door}), 1, purpose)
            return [*before, *(got or [])]
    if clause.verb == "put_next":
        # the way to where the object goes first (a locked door there is opened before the
        # object is picked up: the key takes the agent's one hand), then the way to it
        fixed = find(clause.fixed_color, clause.fixed_type, clause.fixed_loc)
        there = planner.reach(fixed, none, f"where {clause.name} puts it", 0) or []
        if _fits(carrying, clause.color, clause.type):
            return there
        move = find(clause.color, clause.type, clause.loc)
        to_it = planner.reach(move, none, f"what {clause.name} moves", 0) or []
        return [*there, *(s for s in to_it if s not in there)]
    targets = find(clause.color, clause.type, clause.loc)
    got = planner.reach(targets, none, f"the target of {clause.name}", 0)
    return got or []


def _fits(held: str | None, color: str | None, kind: str | None) -> bool:
    if held is None:
        return False
    c, t = held.split("_", 1)
    return (color is None or c == color) and (kind is None or t == kind)
