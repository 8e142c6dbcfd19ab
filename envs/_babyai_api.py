"""``BabyAIAPI``: the primitive API that BabyAI code skills call.

Six primitive actions (turn left/right, forward, pick up, drop, toggle) go through the real
env and count against a budget; ``go_to``/``pick_up``/``open``/``put_next_to`` compose them
with breadth-first search over the agent's memory of seen cells (``env.memory``), exploring
the nearest unknown cells when the object has not been seen. No privileged grid access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from envs._babyai_nav import Pos, bfs, neighbours
from envs._budget import StepBudget

if TYPE_CHECKING:
    from envs.babyai import BabyAIEnv

__all__ = ["BabyAIAPI"]

_VEC = {(1, 0): 0, (0, 1): 1, (-1, 0): 2, (0, -1): 3}
_LEFT, _RIGHT, _FORWARD, _PICKUP, _DROP, _TOGGLE, _DONE = range(7)


class BabyAIAPI(StepBudget):
    """Primitive actions and navigation over a :class:`~envs.babyai.BabyAIEnv`.

    ``budget`` env steps at most (then :class:`BudgetExhausted`); :class:`EpisodeOver` when
    the episode ends. :meth:`target` says what the mission's current clause asks for.
    """

    def __init__(self, env: BabyAIEnv, budget: int, need: dict[str, int] | None = None) -> None:
        super().__init__(env, budget, need)

    # ------------------------------------------------------------------ state
    @property
    def carrying(self) -> str | None:
        """What the agent holds, e.g. ``"red_ball"``, or None."""
        inv = self.env.info["inventory"]
        return next(iter(inv), None)

    @property
    def position(self) -> tuple[int, int]:
        """The agent's cell ``(x, y)`` (its own pose: x rightward, y downward)."""
        return self.env.memory.pos

    def target(self) -> dict[str, Any]:
        """The mission's first clause not yet done: ``{"verb": "pick_up", "color": "red",
        "type": "ball", ...}`` (``fixed_color``/``fixed_type`` for ``put_next``)."""
        return self.env.active_clause()

    # ------------------------------------------------------------------ primitives
    def act(self, action: int) -> None:
        """Take one primitive action (0 left, 1 right, 2 forward, 3 pickup, 4 drop,
        5 toggle, 6 done)."""
        self._spend()
        self.env.step(int(action))

    def left(self) -> None:
        """Turn left."""
        self.act(_LEFT)

    def right(self) -> None:
        """Turn right."""
        self.act(_RIGHT)

    def forward(self) -> None:
        """Move one cell forward (no move if blocked)."""
        self.act(_FORWARD)

    def pickup(self) -> None:
        """Pick up the object in front."""
        self.act(_PICKUP)

    def drop(self) -> None:
        """Drop the carried object in front."""
        self.act(_DROP)

    def toggle(self) -> None:
        """Open/close the door in front (or open a box)."""
        self.act(_TOGGLE)

    # ------------------------------------------------------------------ navigation
    def _front(self) -> Pos:
        x, y = self.env.memory.pos
        d = self.env.memory.direction
        dx, dy = [(1, 0), (0, 1), (-1, 0), (0, -1)][d]
        return x + dx, y + dy

    def face(self, cell: Pos) -> None:
        """Turn to face a neighbouring ``cell``."""
        x, y = self.env.memory.pos
        want = _VEC[(cell[0] - x, cell[1] - y)]
        turns = (want - self.env.memory.direction) % 4
        if turns == 3:
            self.left()
        else:
            for _ in range(turns):
                self.right()

    def _walk(self, path: list[Pos]) -> bool:
        """Take the first step of ``path``; False if it turned out blocked (replan)."""
        nxt = path[0]
        self.face(nxt)
        cell = self.env.memory.cells.get(nxt)
        if cell is not None and cell[0] == "door" and cell[2] == 1:
            self.toggle()  # a closed door opens when toggled
            return True
        before = self.env.memory.pos
        self.forward()
        return self.env.memory.pos != before

    def _reach(self, goal_cells: set[Pos]) -> None:
        """Walk (exploring when needed) until standing on one of ``goal_cells`` (recomputed
        from memory each step by the callers)."""
        path = bfs(self.env.memory.pos, goal_cells.__contains__, self.env.memory.passable)
        if path:
            self._walk(path)

    def explore(self) -> None:
        """One step toward the nearest unexplored place; raises LookupError when the known
        map has no unexplored edge left."""
        mem = self.env.memory
        frontier = mem.frontier()
        if mem.pos in frontier:
            unknown = [n for n in neighbours(mem.pos) if n not in mem.cells]
            if self._front() not in unknown:
                self.face(unknown[0])
                return
            frontier.discard(mem.pos)  # facing the unknown already revealed what it can
            mem.cells.setdefault(self._front(), ("wall", "grey", 0))
        if not frontier:
            raise LookupError("explored every reachable cell")
        path = bfs(mem.pos, frontier.__contains__, mem.passable)
        self._walk(path)

    def _matches(self, color: str | None, kind: str | None) -> set[Pos]:
        return set(self.env.memory.find(color, kind))

    def go_to(self, color: str | None, kind: str | None) -> Pos:
        """Walk next to the nearest seen ``color kind`` (None = any) and face it, exploring
        until one is seen; returns its cell."""
        mem = self.env.memory
        while True:
            if self.env.success:  # BabyAI's verifier already saw the agent face it
                return self._front()
            objs = self._matches(color, kind)
            stands = {n for o in objs for n in neighbours(o) if mem.passable(n)}
            try:
                path = bfs(mem.pos, stands.__contains__, mem.passable) if stands else None
            except LookupError:
                path = None
            if path is None:
                self.explore()
                continue
            if path:
                self._walk(path)
                continue
            obj = min(objs & set(neighbours(mem.pos)))
            if self._front() == obj:
                self.act(_DONE)  # a no-op step so BabyAI's verifier sees the agent facing it
            else:
                self.face(obj)
            return obj

    def pick_up(self, color: str | None, kind: str | None) -> None:
        """Go to the nearest ``color kind`` and pick it up (dropping what is held first)."""
        if self.carrying is not None:
            self.drop_here()
        self.go_to(color, kind)
        self.pickup()

    def drop_here(self) -> None:
        """Drop the carried object on a free cell next to the agent."""
        mem = self.env.memory
        for _ in range(4):
            cell = mem.cells.get(self._front())
            if cell is not None and cell[0] in ("empty", "floor"):
                self.drop()
                return
            self.right()
        raise RuntimeError("no free cell around the agent to drop on")

    def open(self, color: str | None) -> None:
        """Go to the nearest ``color`` door and open it (toggle twice if it was open)."""
        door = self.go_to(color, "door")
        if self.env.memory.cells[door][2] == 0:
            self.toggle()  # an open door: close it, so the next toggle is an 'open'
        self.toggle()

    def put_next_to(
        self, color: str | None, kind: str | None, fixed_color: str | None, fixed_kind: str | None
    ) -> None:
        """Pick up ``color kind`` and drop it on a free cell next to ``fixed_color
        fixed_kind``."""
        mem = self.env.memory
        held = self.carrying
        if held is None or not _fits(held, color, kind):
            self.pick_up(color, kind)
        while True:
            fixed = self._matches(fixed_color, fixed_kind)
            drops = {
                n
                for f in fixed
                for n in neighbours(f)
                if mem.cells.get(n, ("",))[0] in ("empty", "floor")
            }
            stands = {s for d in drops for s in neighbours(d) if mem.passable(s)} - drops
            try:
                path = bfs(mem.pos, stands.__contains__, mem.passable) if stands else None
            except LookupError:
                path = None
            if path is None:
                self.explore()
                continue
            if path:
                self._walk(path)
                continue
            self.face(min(d for d in drops if d in neighbours(mem.pos)))
            self.drop()
            return


def _fits(held: str, color: str | None, kind: str | None) -> bool:
    c, t = held.split("_", 1)
    return (color is None or c == color) and (kind is None or t == kind)
