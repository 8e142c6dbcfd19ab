"""The agent's own memory of Crafter cells it has seen, and planning over that memory.

Navigation may use only what the player has seen (fair perception): ``SeenMap`` is filled
from the 9x7 local view after every reset and step, never from the full world map.
Planning is breadth-first search over (position, facing) states, because in Crafter a move
toward a blocked cell only turns the player, and what an action acts on is the faced cell.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

import numpy as np

from envs._crafter_rules import load_rules

__all__ = [
    "DIRECTIONS",
    "MOVE_ACTIONS",
    "SeenMap",
    "VIEW",
    "explore_target",
    "plan_path",
    "within_one",
]

VIEW = (9, 7)
"""Width and height of the local view in cells (crafter's LocalView grid)."""
DIRECTIONS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
"""Unit vectors for left, right, up, down: the order of crafter's move actions."""
MOVE_ACTIONS = ("move_left", "move_right", "move_up", "move_down")
UNKNOWN = "unknown"


class SeenMap:
    """What the agent has seen: the material of every world cell seen, and where each
    creature or plant was last seen (with the step).

    ``materials`` is an int8 array indexed ``[x, y]`` into :attr:`names` (-1 = never seen).
    """

    def __init__(self, area: tuple[int, int] = (64, 64)) -> None:
        self.area = area
        self.names: list[str] = list(load_rules().materials)
        self._ids = {n: i for i, n in enumerate(self.names)}
        self.walkable_ids = np.array([self._ids[n] for n in load_rules().walkable], np.int8)
        self.reset()

    def reset(self) -> None:
        """Forget everything (called on env reset)."""
        self.materials = np.full(self.area, -1, np.int8)
        self.last_seen = np.full(self.area, -1, np.int32)
        self.objects: dict[tuple[int, int], tuple[str, int]] = {}
        self.since: dict[tuple[int, int], int] = {}
        """For each remembered object's cell, the step since which it has been seen there
        (a placed plant's age, as far as the agent knows)."""
        self.visible_objects: dict[tuple[int, int], str] = {}
        self.step = 0

    def update(
        self, materials: np.ndarray, objects: np.ndarray, pos: tuple[int, int], step: int
    ) -> None:
        """Record one local view: ``materials`` and ``objects`` are (9, 7) string arrays
        indexed ``[x, y]`` centred on ``pos`` (``""`` in ``objects`` = no object)."""
        self.step = step
        ox, oy = pos[0] - VIEW[0] // 2, pos[1] - VIEW[1] // 2
        x0, y0 = max(ox, 0), max(oy, 0)
        x1, y1 = min(ox + VIEW[0], self.area[0]), min(oy + VIEW[1], self.area[1])
        sub = materials[x0 - ox : x1 - ox, y0 - oy : y1 - oy]
        names, where = np.unique(sub, return_inverse=True)
        ids = np.array([self._ids.get(n, -1) for n in names.tolist()], np.int8)[where]
        ids = ids.reshape(sub.shape)
        self.materials[x0:x1, y0:y1] = ids
        self.last_seen[x0:x1, y0:y1] = step
        before = {}
        for p in [p for p in self.objects if x0 <= p[0] < x1 and y0 <= p[1] < y1]:
            before[p] = (self.objects.pop(p)[0], self.since.pop(p))
        self.visible_objects = {}
        for i, j in zip(*np.nonzero(objects != ""), strict=True):
            name = str(objects[i, j])
            if name == "player":
                continue
            p = (int(ox + i), int(oy + j))
            self.objects[p] = (name, step)
            was, since = before.get(p, ("", step))
            self.since[p] = since if was == name else step
            self.visible_objects[p] = name

    # ------------------------------------------------------------------ queries
    def material_at(self, pos: tuple[int, int]) -> str:
        """The remembered material of a cell, ``"unknown"`` if never seen or outside."""
        x, y = pos
        if not (0 <= x < self.area[0] and 0 <= y < self.area[1]):
            return UNKNOWN
        i = int(self.materials[x, y])
        return self.names[i] if i >= 0 else UNKNOWN

    def mask(self, kinds: Iterable[str]) -> np.ndarray:
        """Bool array of cells remembered to hold any of ``kinds`` (materials or objects)."""
        kinds = set(kinds)
        ids = [self._ids[k] for k in kinds if k in self._ids]
        out = np.isin(self.materials, ids) if ids else np.zeros(self.area, bool)
        for p, (name, _) in self.objects.items():
            if name in kinds:
                out[p] = True
        return out

    def positions(self, kind: str) -> list[tuple[int, int]]:
        """All remembered cells holding ``kind`` (a material, or last sightings of a creature)."""
        xs, ys = np.nonzero(self.mask([kind]))
        return [(int(x), int(y)) for x, y in zip(xs, ys, strict=True)]

    def known(self, kind: str) -> bool:
        """Whether ``kind`` has been seen somewhere (and not seen gone since)."""
        if kind in self._ids:
            return bool((self.materials == self._ids[kind]).any())
        return any(name == kind for name, _ in self.objects.values())

    def age(self, kind: str) -> int | None:
        """Steps the longest-seen remembered ``kind`` object has stood where it is (None if
        none is remembered): a lower bound of a plant's age."""
        ages = [self.step - self.since[p] for p, (name, _) in self.objects.items() if name == kind]
        return max(ages) if ages else None

    def nearest(self, kind: str, pos: tuple[int, int]) -> tuple[int, int] | None:
        """The remembered cell of ``kind`` closest to ``pos`` (Manhattan), or None."""
        cells = self.positions(kind)
        if not cells:
            return None
        return min(cells, key=lambda c: abs(c[0] - pos[0]) + abs(c[1] - pos[1]))

    def passable(self, avoid_objects: bool = True) -> np.ndarray:
        """Cells the planner may walk on: seen walkable cells and, optimistically, unseen
        cells. Lava, water, trees etc. are never passable; cells with a creature in view
        are blocked."""
        out = np.isin(self.materials, self.walkable_ids) | (self.materials < 0)
        if avoid_objects:
            for p in self.visible_objects:
                out[p] = False
        return out

    def unknown_in_view(self) -> np.ndarray:
        """For each cell, how many never-seen in-world cells a 9x7 view from it would show."""
        unk = (self.materials < 0).astype(np.int32)
        hx, hy = VIEW[0] // 2, VIEW[1] // 2
        pad = np.pad(unk, ((hx + 1, hx), (hy + 1, hy)))
        c = pad.cumsum(0).cumsum(1)
        w, h = VIEW
        return c[w:, h:] - c[:-w, h:] - c[w:, :-h] + c[:-w, :-h]


def within_one(mask: np.ndarray) -> np.ndarray:
    """Cells whose 3x3 neighbourhood (what ``make_*`` calls nearby) holds a cell of ``mask``."""
    pad = np.pad(mask, 1)
    w, h = mask.shape
    out = np.zeros_like(mask)
    for dx in range(3):
        for dy in range(3):
            out |= pad[dx : dx + w, dy : dy + h]
    return out


def plan_path(
    passable: np.ndarray,
    start: tuple[int, int],
    facing: tuple[int, int],
    goal: Callable[[int, int, int, int], bool],
    diggable: np.ndarray | None = None,
    max_nodes: int = 40000,
) -> list[int] | None:
    """Cheapest list of move directions (indices into :data:`DIRECTIONS`) after which
    ``goal(x, y, dx, dy)`` holds for the player's position and facing, or None.

    A move into a blocked cell only turns the player (crafter's ``Player._move``). Cells in
    ``diggable`` (e.g. stone with a pickaxe held) can be entered at the cost of three steps:
    turn, ``do`` (which leaves a path), move.

    Dijkstra over (cell, facing) states with a bucket queue (costs are 1 or 3) and states
    as flat ints: skills plan often, so this loop is kept tight.
    """
    w, h = passable.shape
    if goal(start[0], start[1], *facing):
        return []
    # state = (x * h + y) * 4 + d; a neighbour cell index is cell + step[d].
    pas = passable.ravel().tolist()
    dig = diggable.ravel().tolist() if diggable is not None else None
    steps = [-h, h, -1, 1]
    s0 = (start[0] * h + start[1]) * 4 + DIRECTIONS.index(tuple(facing))
    best = {s0: 0}
    parent: dict[int, tuple[int, int]] = {}
    buckets: list[list[int]] = [[s0]]
    cost = 0
    expanded = 0
    directions = DIRECTIONS
    while cost < len(buckets) and expanded < max_nodes:
        bucket = buckets[cost]
        i = 0
        while i < len(bucket):
            state = bucket[i]
            i += 1
            if best[state] != cost:
                continue  # reached more cheaply since it was queued
            expanded += 1
            cell, f = divmod(state, 4)
            x, y = divmod(cell, h)
            if state != s0:
                dx, dy = directions[f]
                if goal(x, y, dx, dy):
                    moves: list[int] = []
                    cur = state
                    while cur != s0:
                        cur, move = parent[cur]
                        moves.append(move)
                    return moves[::-1]
            for d in range(4):
                dx, dy = directions[d]
                nx, ny = x + dx, y + dy
                turn = (cell * 4 + d, cost + 1)  # a blocked move turns the player in place
                if 0 <= nx < w and 0 <= ny < h:
                    ncell = cell + steps[d]
                    if pas[ncell]:
                        options: tuple[tuple[int, int], ...] = ((ncell * 4 + d, cost + 1),)
                    elif dig is not None and dig[ncell]:
                        options = (turn, (ncell * 4 + d, cost + 3))
                    else:
                        options = (turn,)
                else:
                    options = (turn,)
                for nxt, c in options:
                    if c < best.get(nxt, 1 << 30):
                        best[nxt] = c
                        parent[nxt] = (state, d)
                        while len(buckets) <= c:
                            buckets.append([])
                        buckets[c].append(nxt)
        cost += 1
    return None


def explore_target(
    memory: SeenMap,
    passable: np.ndarray,
    start: tuple[int, int],
    diggable: np.ndarray | None = None,
) -> tuple[int, int] | None:
    """A frontier cell worth walking to: many unseen cells in view from it, not too far.

    Distances are shortest paths over passable cells from ``start`` (diggable cells cost 3).
    """
    gain = memory.unknown_in_view()
    w, h = passable.shape
    pas = passable.tolist()
    dig = diggable.tolist() if diggable is not None else None
    dist = {start: 0}
    heap = [(0, start)]
    best, best_score = None, 0.0
    while heap:
        d, (x, y) = heapq.heappop(heap)
        if d > dist[(x, y)]:
            continue
        g = int(gain[x, y])
        if g > 0:
            score = g / (d + 4.0)
            if score > best_score:
                best, best_score = (x, y), score
        for dx, dy in DIRECTIONS:
            nx, ny = x + dx, y + dy
            if not (0 <= nx < w and 0 <= ny < h):
                continue
            if pas[nx][ny]:
                nd = d + 1
            elif dig is not None and dig[nx][ny]:
                nd = d + 3
            else:
                continue
            if nd < dist.get((nx, ny), 1 << 30):
                dist[(nx, ny)] = nd
                heapq.heappush(heap, (nd, (nx, ny)))
    return best
