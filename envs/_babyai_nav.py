"""What a BabyAI agent remembers of the cells it has seen, and paths over that memory.

Fair perception: memory is filled only from the agent's 7x7 egocentric view (minigrid's
``obs["image"]``, walls occlude) placed in the world by the agent's own pose. Paths never
use the true grid: unknown cells are unknown.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

import numpy as np
from minigrid.core.constants import DIR_TO_VEC, IDX_TO_COLOR, IDX_TO_OBJECT

__all__ = ["Cell", "ViewMemory", "bfs", "view_to_world"]

Pos = tuple[int, int]
Cell = tuple[str, str, int]
"""``(type, color, state)`` of a seen cell; state: 0 open, 1 closed, 2 locked (doors)."""
VIEW = 7
_PASSABLE = {"empty", "floor", "goal"}


def view_to_world(vx: int, vy: int, pos: Pos, direction: int) -> Pos:
    """World cell of view cell ``(vx, vy)`` (agent at ``(3, 6)`` looking up the view)."""
    forward, lateral = VIEW - 1 - vy, vx - VIEW // 2
    dx, dy = (int(v) for v in DIR_TO_VEC[direction])
    rx, ry = -dy, dx
    return pos[0] + forward * dx + lateral * rx, pos[1] + forward * dy + lateral * ry


class ViewMemory:
    """The agent's map of seen cells ``{(x, y): (type, color, state)}``, newest view wins."""

    def __init__(self) -> None:
        self.cells: dict[Pos, Cell] = {}
        self.pos: Pos = (0, 0)
        self.direction = 0
        self.through_closed_doors = True
        """Whether a walk may open a closed door on its way (not in a strict mission, where
        toggling any door but the named one fails it)."""

    def reset(self) -> None:
        """Forget everything (a new episode)."""
        self.cells.clear()

    def update(self, image: np.ndarray, pos: Pos, direction: int) -> None:
        """Write the cells of one egocentric view (``(7, 7, 3)`` minigrid encoding)."""
        self.pos, self.direction = (int(pos[0]), int(pos[1])), int(direction)
        for vx in range(VIEW):
            for vy in range(VIEW):
                obj, color, state = (int(v) for v in image[vx, vy])
                kind = IDX_TO_OBJECT[obj]
                if kind == "unseen":
                    continue
                if kind == "agent":  # minigrid draws no agent in the view; be safe
                    kind = "empty"
                cell = view_to_world(vx, vy, self.pos, self.direction)
                self.cells[cell] = (kind, IDX_TO_COLOR[color], state)
        self.cells[self.pos] = ("empty", "black", 0)  # the agent stands on a free cell

    def known(self, kind: str) -> bool:
        """Whether a cell of ``kind`` (``"red_ball"`` or a type such as ``"ball"``) was seen."""
        return any(True for _ in self.find(*_split(kind)))

    def find(self, color: str | None, kind: str | None) -> Iterable[Pos]:
        """Seen cells holding an object that matches ``color``/``kind`` (None = any)."""
        for p, (t, c, _s) in self.cells.items():
            if t in ("empty", "floor", "wall", "unseen", "goal", "lava"):
                continue
            if (kind is None or t == kind) and (color is None or c == color):
                yield p

    def passable(self, p: Pos, *, doors: bool = True) -> bool:
        """Whether the agent may walk into ``p``: free floor, or an unlocked door."""
        cell = self.cells.get(p)
        if cell is None:
            return False
        if cell[0] == "door":
            return doors and (cell[2] == 0 or (cell[2] == 1 and self.through_closed_doors))
        return cell[0] in _PASSABLE

    def frontier(self) -> set[Pos]:
        """Known passable cells next to an unknown one: where exploring reveals new cells."""
        out = set()
        for p in self.cells:
            if self.passable(p) and any(n not in self.cells for n in neighbours(p)):
                out.add(p)
        return out


def _split(kind: str) -> tuple[str | None, str | None]:
    if "_" in kind:
        color, t = kind.split("_", 1)
        return color, t
    return None, kind


def neighbours(p: Pos) -> list[Pos]:
    """The four cells next to ``p``."""
    x, y = p
    return [(x + 1, y), (x, y + 1), (x - 1, y), (x, y - 1)]


def bfs(start: Pos, goal: Callable[[Pos], bool], passable: Callable[[Pos], bool]) -> list[Pos]:
    """Shortest path of cells from ``start`` (excluded) to the first cell where ``goal``
    holds; ``[]`` if ``start`` is a goal; raises LookupError when none is reachable."""
    if goal(start):
        return []
    prev: dict[Pos, Pos] = {start: start}
    queue = deque([start])
    while queue:
        p = queue.popleft()
        for n in neighbours(p):
            if n in prev or not passable(n):
                continue
            prev[n] = p
            if goal(n):
                path = [n]
                while prev[path[-1]] != start:
                    path.append(prev[path[-1]])
                return path[::-1]
            queue.append(n)
    raise LookupError("no known path")
