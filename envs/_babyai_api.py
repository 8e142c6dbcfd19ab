"""``BabyAIAPI``: the primitive API that BabyAI code skills call.

Six primitive actions (turn left/right, forward, pick up, drop, toggle) go through the real
env and count against a budget; ``go_to``/``pick_up``/``open``/``put_next_to`` compose them
with breadth-first search over the agent's memory of seen cells (``env.memory``), exploring
the nearest unknown cells when the object has not been seen. No privileged grid access.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from envs._babyai_nav import Pos, bfs, neighbours
from envs._budget import StepBudget
from envs._errors import NewPrecondition

if TYPE_CHECKING:
    from envs.babyai import BabyAIEnv

__all__ = ["BabyAIAPI"]

_VEC = {(1, 0): 0, (0, 1): 1, (-1, 0): 2, (0, -1): 3}
_LEFT, _RIGHT, _FORWARD, _PICKUP, _DROP, _TOGGLE, _DONE = range(7)


class BabyAIAPI(StepBudget):
    """Primitive actions and navigation over a :class:`~envs.babyai.BabyAIEnv`.

    ``budget`` env steps at most (then :class:`BudgetExhausted`); :class:`EpisodeOver` when
    the episode ends. :meth:`target` says what the plan's next step asks for (a mission
    clause, or a precondition of one). When what the agent sees puts a new step before the
    one this execution began on (a locked door found on the way), the next action raises
    :class:`~envs._errors.NewPrecondition` (a SkillStop) naming it, so the run replans with it.
    """

    def __init__(self, env: BabyAIEnv, budget: int, need: dict[str, int] | None = None) -> None:
        super().__init__(env, budget, need)
        self._watch = env.active_clause().get("name")
        self._watch_start = env.info["achievements"].get(self._watch, 0) if self._watch else 0

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
        """The plan's next step: the mission's first clause not yet done, or a precondition of
        it (``why`` says which rule): ``{"name": "pick_up_red_ball", "verb": "pick_up",
        "color": "red", "type": "ball", "loc": None, "why": "", ...}`` (``fixed_color``/
        ``fixed_type``/``fixed_loc`` for ``put_next``)."""
        return self.env.active_clause()

    # ------------------------------------------------------------------ primitives
    def act(self, action: int) -> None:
        """Take one primitive action (0 left, 1 right, 2 forward, 3 pickup, 4 drop,
        5 toggle, 6 done)."""
        self._spend()
        self.env.step(int(action))
        self._check_plan()

    def _check_plan(self) -> None:
        """Stop when a new step now stands before the one this execution began on (still in
        the plan, not done): the rules found something that must come first."""
        if self._watch is None or self.env.episode_over:
            return
        steps = [s.name for s in self.env.plan_steps()]
        if not steps or steps[0] == self._watch or self._watch not in steps:
            return  # still next; or no longer in the plan (done, or not needed just now)
        if self.env.info["achievements"].get(self._watch, 0) > self._watch_start:
            return  # done: the plan moved on
        now = self.env.active_clause()
        watch, self._watch = self._watch, None  # say it once
        raise NewPrecondition(f"{now['name']} must come before {watch}: {now.get('why', '')}")

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

    def _matches(self, color: str | None, kind: str | None, loc: str | None = None) -> set[Pos]:
        return self.env.matching(color, kind, loc)

    def go_to(
        self,
        color: str | None,
        kind: str | None,
        loc: str | None = None,
        at: tuple[int, int] | None = None,
    ) -> Pos:
        """Walk next to the nearest seen ``color kind`` (None = any; ``loc``: BabyAI's
        ``front``/``behind``/``left``/``right`` of the starting pose; ``at``: that one cell,
        while memory shows such an object there) and face it, exploring until one is seen;
        returns its cell."""
        mem = self.env.memory
        while True:
            if self.env.success:  # BabyAI's verifier already saw the agent face it
                return self._front()
            objs = self._matches(color, kind, loc)
            if at is not None and tuple(at) in objs:
                objs = {(int(at[0]), int(at[1]))}
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

    def pick_up(
        self,
        color: str | None,
        kind: str | None,
        loc: str | None = None,
        at: tuple[int, int] | None = None,
    ) -> None:
        """Go to the nearest ``color kind`` (or the one ``at`` a cell) and pick it up
        (dropping what is held first: the agent carries one object)."""
        if self.carrying is not None:
            self.drop_here()
        self.go_to(color, kind, loc, at)
        self.pickup()

    def drop_here(self) -> None:
        """Drop the carried object on a free cell next to the agent where it will not stand
        in the plan's way (judged from memory), preferring one not next to a door; walk to
        the nearest such place when there is none around."""
        mem = self.env.memory

        def free(p: Pos) -> bool:
            return mem.cells.get(p, ("",))[0] in ("empty", "floor")

        def by_door(p: Pos) -> bool:
            return any(mem.cells.get(n, ("",))[0] == "door" for n in neighbours(p))

        def good(p: Pos) -> bool:
            return free(p) and p != mem.pos and not self.env.blocks_way(p)

        for _ in range(self.steps_left + 1):
            here = [n for n in neighbours(mem.pos) if good(n)]
            if here:
                self.face(min(here, key=lambda n: (by_door(n), self._turns(n))))
                self.drop()
                return
            path = self._path_to_drop(good)
            if not path:
                break
            self._walk(path)
        spare = [n for n in neighbours(mem.pos) if free(n)]
        if not spare:
            raise RuntimeError("no free cell around the agent to drop on")
        self.face(min(spare, key=lambda n: (by_door(n), self._turns(n))))
        self.drop()

    def _path_to_drop(self, good: Callable[[Pos], bool]) -> list[Pos]:
        """The way to the nearest cell next to a ``good`` drop cell (``[]``: none known)."""
        mem = self.env.memory
        checked: dict[Pos, bool] = {}

        def spot(p: Pos) -> bool:
            if len(checked) > 60:
                return True  # looked far enough: any free place will do
            if p not in checked:
                checked[p] = any(good(n) for n in neighbours(p))
            return checked[p]

        try:
            return bfs(mem.pos, spot, mem.passable)
        except LookupError:
            return []

    def _turns(self, cell: Pos) -> int:
        x, y = self.env.memory.pos
        return min((_VEC[(cell[0] - x, cell[1] - y)] - self.env.memory.direction) % 4, 2)

    def open(
        self,
        color: str | None,
        kind: str = "door",
        loc: str | None = None,
        at: tuple[int, int] | None = None,
    ) -> None:
        """Go to the nearest ``color`` door (or the one ``at`` a cell) and open it (toggle
        twice if it was open), or to a ``color`` box and open it (the box gives way to what
        it holds)."""
        obj = self.go_to(color, kind, loc, at)
        if kind == "door" and self.env.memory.cells[obj][2] == 0:
            self.toggle()  # an open door: close it, so the next toggle is an 'open'
        self.toggle()

    def put_next_to(
        self,
        color: str | None,
        kind: str | None,
        fixed_color: str | None,
        fixed_kind: str | None,
        loc: str | None = None,
        fixed_loc: str | None = None,
    ) -> None:
        """Pick up ``color kind`` and drop it on a free cell next to ``fixed_color
        fixed_kind``."""
        mem = self.env.memory
        held = self.carrying
        if held is None or not _fits(held, color, kind):
            self.pick_up(color, kind, loc)
        while True:
            fixed = self._matches(fixed_color, fixed_kind, fixed_loc)
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
