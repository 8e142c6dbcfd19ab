"""``CrafterAPI``: the primitive API that Crafter code skills (built-in or LLM-written) call.

Every action goes through the real env (``env.step``) and is counted against a budget.
Navigation reads only ``env.memory`` (cells the player has seen), never the world map.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from envs._budget import StepBudget
from envs._crafter_guard import defend_action
from envs._crafter_nav import (
    DIRECTIONS,
    MOVE_ACTIONS,
    VIEW,
    explore_target,
    plan_path,
    within_one,
)
from envs._errors import BudgetExhausted, EpisodeOver

if TYPE_CHECKING:
    from envs.crafter import CrafterEnv

__all__ = ["CrafterAPI"]

logger = logging.getLogger(__name__)

_DIRECTION_NAMES = {"left": 0, "right": 1, "up": 2, "down": 3}
_CREATURES = {"cow", "zombie", "skeleton", "arrow", "plant", "player"}
_DEFEAT = {"cow": "eat_cow", "zombie": "defeat_zombie", "skeleton": "defeat_skeleton"}


class CrafterAPI(StepBudget):
    """Primitive actions and queries over a :class:`~envs.crafter.CrafterEnv`.

    ``budget`` is the number of env steps this API may take; past it every action raises
    :class:`BudgetExhausted`. When the episode ends an action raises :class:`EpisodeOver`.
    ``need`` tells a skill how many of each item the planner wants (e.g. ``{"wood": 4}``).
    """

    def __init__(self, env: CrafterEnv, budget: int, need: dict[str, int] | None = None) -> None:
        super().__init__(env, budget, need)
        self.auto_defend = True
        """Before every action, fight a zombie or skeleton that stands next to the player
        (it follows and hits back otherwise)."""
        self.reflex: Callable[[], None] | None = None
        """Called before every action (not re-entered): the explorer's survival reflexes,
        which may run whole skills (drink, eat, shelter) in the middle of this one."""
        self.interrupts = 0
        """How many times the reflex or the guard took env steps inside this API's actions;
        a skill following a plan re-plans when it changes."""
        self._guarding = False
        self.rules = env.rules
        self._actions = {name: i for i, name in enumerate(env.action_names)}

    # ------------------------------------------------------------------ state
    @property
    def info(self) -> dict[str, Any]:
        """The env's latest info (local view, inventory, ...)."""
        return self.env.info

    @property
    def inventory(self) -> dict[str, int]:
        """Current inventory, e.g. ``{"wood": 2, "health": 9, ...}`` (a copy)."""
        return dict(self.env.info["inventory"])

    @property
    def achievements(self) -> dict[str, int]:
        """How many times each achievement was unlocked this episode (a copy)."""
        return dict(self.env.info["achievements"])

    @property
    def position(self) -> tuple[int, int]:
        """The player's world cell ``(x, y)``; x grows rightward, y downward."""
        return tuple(self.env.info["player_pos"])

    @property
    def facing(self) -> tuple[int, int]:
        """The direction the player faces, ``(dx, dy)``, e.g. ``(0, 1)`` = down."""
        return tuple(self.env.info["facing"])

    # ------------------------------------------------------------------ perception
    def see(self, kind: str) -> bool:
        """Whether a cell or creature of ``kind`` (e.g. ``"tree"``, ``"cow"``) is in view now."""
        info = self.env.info
        return bool((info["local_view"] == kind).any() or (info["local_materials"] == kind).any())

    def known(self, kind: str) -> bool:
        """Whether ``kind`` is in the agent's memory of seen cells (in view or remembered)."""
        return self.env.memory.known(kind)

    def near(self, kind: str) -> bool:
        """Whether ``kind`` is in the 3x3 area around the player (what ``make_*`` checks)."""
        info = self.env.info
        cx, cy = VIEW[0] // 2, VIEW[1] // 2
        for grid in (info["local_materials"], info["local_view"]):
            if (grid[cx - 1 : cx + 2, cy - 1 : cy + 2] == kind).any():
                return True
        return False

    def facing_kind(self) -> str:
        """What the faced cell holds: a creature name if one is there, else its material."""
        info = self.env.info
        fx, fy = info["facing"]
        return str(info["local_view"][VIEW[0] // 2 + fx, VIEW[1] // 2 + fy])

    def facing_material(self) -> str:
        """The material of the faced cell (ignores a creature standing on it)."""
        info = self.env.info
        fx, fy = info["facing"]
        return str(info["local_materials"][VIEW[0] // 2 + fx, VIEW[1] // 2 + fy])

    # ------------------------------------------------------------------ raw actions
    def act(self, action_name: str) -> dict[str, Any]:
        """Take one raw crafter action by name (e.g. ``"move_left"``); returns the new info.

        First the guard fights an adjacent zombie or skeleton and the reflex (if any) runs;
        when they moved the player, the requested action, now stale, is not taken. A move
        onto lava (certain death) is replaced by ``noop``."""
        if action_name not in self._actions:
            raise ValueError(f"unknown action {action_name!r}; known: {list(self._actions)}")
        if not self._guarding:
            before = self.position
            if self._guard() and self.position != before:
                self._spend()  # counted all the same: a skill's loop ends with its budget
                return self.env.info
        self._spend()
        if action_name in MOVE_ACTIONS and self._into_lava(MOVE_ACTIONS.index(action_name)):
            logger.info("refused %s into lava (the player would die); waiting instead", action_name)
            action_name = "noop"
        _, _, terminated, truncated, info = self.env.step(self._actions[action_name])
        if terminated or truncated:
            raise EpisodeOver("the player died" if terminated else "episode length reached")
        return info

    def _into_lava(self, d: int) -> bool:
        x, y = self.position
        dx, dy = DIRECTIONS[d]
        return self.env.memory.material_at((x + dx, y + dy)) == "lava"

    def noop(self) -> None:
        """Wait one step."""
        self.act("noop")

    def do(self) -> None:
        """Interact with the faced cell: collect, hit a creature, drink, eat."""
        self.act("do")

    def sleep(self) -> None:
        """Sleep one step (only starts when energy is below max)."""
        self.act("sleep")

    def face(self, direction_or_kind: str) -> bool:
        """Face ``"left"``/``"right"``/``"up"``/``"down"`` (a move that may step if the cell
        is free), or walk to and face the nearest ``kind``. True when done."""
        if direction_or_kind in _DIRECTION_NAMES:
            self.act(MOVE_ACTIONS[_DIRECTION_NAMES[direction_or_kind]])
            return True
        return self.move_toward(direction_or_kind)

    # ------------------------------------------------------------------ navigation
    def _goal_facing(self, kinds: set[str]) -> Any:
        memory = self.env.memory
        mask = memory.mask(kinds)
        free_needed = not (kinds & _CREATURES)
        blocked = np.zeros_like(mask)
        if free_needed:  # a material target must not have a creature on it
            for p in memory.visible_objects:
                blocked[p] = True
        w, h = mask.shape
        ok = (mask & ~blocked).tolist()

        def goal(x: int, y: int, dx: int, dy: int) -> bool:
            tx, ty = x + dx, y + dy
            return 0 <= tx < w and 0 <= ty < h and ok[tx][ty]

        return goal

    def _step_along(self, moves: list[int], limit: int) -> int:
        """Take up to ``limit`` planned moves, stopping when the result differs from the
        plan (a creature in the way, a newly seen obstacle); returns moves taken."""
        taken = 0
        interrupts = self.interrupts
        for d in moves[:limit]:
            if self.interrupts != interrupts:
                break
            pos = self.position
            dx, dy = DIRECTIONS[d]
            target = (pos[0] + dx, pos[1] + dy)
            inside = self._inside(target)
            expect_move = inside and bool(self.env.memory.passable()[target])
            if inside and not expect_move and self._diggable()[target]:
                # Dig through: turn to it, mine it (it leaves a path), then step in.
                self.act(MOVE_ACTIONS[d])
                if self.facing_material() != self.env.memory.material_at(target):
                    break
                self.do()
                taken += 2
                expect_move = self.env.memory.material_at(target) in self.rules.walkable
            self.act(MOVE_ACTIONS[d])
            taken += 1
            moved = self.position != pos
            if moved != expect_move:
                break
        return taken

    def _guard(self) -> bool:
        """Fight hostile creatures next to the player, then run the reflex; True if either
        took env steps."""
        steps0 = len(self.env.action_log)
        self._guarding = True
        try:
            for _ in range(12):  # a zombie dies in at most 5 hits, plus turning
                action = defend_action(self.env.info) if self.auto_defend else None
                if action is None:
                    break
                self.act(action)
            if self.reflex is not None:
                self.reflex()
        finally:
            self._guarding = False
        acted = len(self.env.action_log) != steps0
        self.interrupts += acted
        return acted

    def _diggable(self) -> np.ndarray:
        """Seen cells the player can mine into a walkable cell with the tools held."""
        inv = self.inventory
        kinds = [
            source
            for source, info in self.rules.collect.items()
            if info["leaves"] in self.rules.walkable
            and all(inv.get(k, 0) >= v for k, v in info["require"].items())
        ]
        return self.env.memory.mask(kinds)

    def _plan(self, goal: Any) -> list[int] | None:
        memory = self.env.memory
        return plan_path(memory.passable(), self.position, self.facing, goal, self._diggable())

    def _inside(self, p: tuple[int, int]) -> bool:
        w, h = self.env.memory.area
        return 0 <= p[0] < w and 0 <= p[1] < h

    def move_toward(self, kind: str | Iterable[str], max_steps: int | None = None) -> bool:
        """Walk until adjacent to and facing a cell or creature of ``kind`` (one name or a
        list of names); explores first if none is known. Plans over seen cells only, never
        through lava or water. Returns True when facing it."""
        kinds = {kind} if isinstance(kind, str) else set(kind)
        limit = self.steps_left if max_steps is None else min(max_steps, self.steps_left)
        start = self._steps
        creature = bool(kinds & _CREATURES)
        while True:
            if self._facing_any(kinds):
                return True
            left = limit - (self._steps - start)
            if left <= 0:
                if self.steps_left <= 0:
                    raise BudgetExhausted(f"step budget of {self.budget} spent")
                return False
            path = None
            if any(self.known(k) for k in kinds):
                path = self._plan(self._goal_facing(kinds))
            if path is None:
                self._explore_once(min(left, 8))
                continue
            # Creatures move: replan after every step; materials: follow longer.
            self._step_along(path, 1 if creature else min(left, 12))

    def move_near(self, kinds: str | Iterable[str], max_steps: int | None = None) -> bool:
        """Walk until every one of ``kinds`` (e.g. ``["table", "furnace"]``) is in the 3x3
        area around the player, as ``make_*`` requires. Returns True when there."""
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        limit = self.steps_left if max_steps is None else min(max_steps, self.steps_left)
        start = self._steps
        while True:
            if all(self.near(k) for k in kinds):
                return True
            left = limit - (self._steps - start)
            if left <= 0:
                return False
            if not all(self.known(k) for k in kinds):
                self._explore_once(min(left, 8))
                continue
            there = np.logical_and.reduce([within_one(self.env.memory.mask([k])) for k in kinds])
            grid = there.tolist()

            def goal(x: int, y: int, dx: int, dy: int, grid: list = grid) -> bool:
                return grid[x][y]

            path = self._plan(goal)
            if path is None:
                self._explore_once(min(left, 8))
                continue
            self._step_along(path, min(left, 12))

    def explore(self, steps: int) -> None:
        """Walk for ``steps`` steps toward the nearest places with the most unseen cells."""
        start = self._steps
        while self._steps - start < steps:
            self._explore_once(steps - (self._steps - start))

    def _explore_once(self, steps: int) -> None:
        memory = self.env.memory
        passable = memory.passable()
        diggable = self._diggable()
        target = explore_target(memory, passable, self.position, diggable)
        path = None
        if target is not None and target != self.position:
            tx, ty = target
            path = plan_path(
                passable,
                self.position,
                self.facing,
                lambda x, y, dx, dy: (x, y) == (tx, ty),
                diggable,
            )
        if not path:
            # Nothing left to discover from here: a random safe move keeps things going.
            x, y = self.position
            safe = [
                d
                for d, (dx, dy) in enumerate(DIRECTIONS)
                if self._inside((x + dx, y + dy))
                and memory.material_at((x + dx, y + dy)) in self.rules.walkable
            ]
            if not safe:
                self.noop()
                return
            # Drawn from (seed, step), not a running generator, so a run rebuilt by
            # replaying its actions makes the same moves afterwards (resume).
            rng = np.random.default_rng([self.env.seed, len(self.env.action_log)])
            self.act(MOVE_ACTIONS[safe[int(rng.integers(len(safe)))]])
            return
        self._step_along(path, max(1, steps))

    def _facing_any(self, kinds: set[str]) -> bool:
        return self.facing_kind() in kinds or (
            self.facing_material() in kinds and self.facing_kind() not in _CREATURES
        )

    # ------------------------------------------------------------------ composite actions
    def collect(self, kind: str, until: int | None = None) -> bool:
        """Collect from ``kind`` (a source like ``"tree"`` or an item like ``"wood"``) until
        the item count reaches ``until`` (default: one more than now). Returns True on
        success, False when a needed tool is missing or no source can be reached."""
        item, source = self._item_and_source(kind)
        req = self.rules.requirement(f"collect_{item}")
        if self.rules.missing(req.achievement, self.inventory):
            return False
        have = self.inventory.get(item, 0)
        gain = 1 if until is None else until - have
        if gain <= 0:
            return True
        maximum = self.rules.items.get(item, {}).get("max", 9)
        counter0 = self.achievements.get(req.achievement, 0)
        misses = 0
        while True:
            got = self.achievements.get(req.achievement, 0) - counter0
            if got >= gain or (until is not None and self.inventory.get(item, 0) >= until):
                return True
            if item != "drink" and self.inventory.get(item, 0) >= maximum:
                return got > 0
            if not self.move_toward(source):
                return False
            before = self.achievements.get(req.achievement, 0)
            self.do()
            if self.achievements.get(req.achievement, 0) == before:
                misses += 1
                if req.probability >= 1.0 and misses > 20:
                    return False

    def attack(self, kind: str, max_steps: int | None = None) -> bool:
        """Hit a creature (``"cow"``, ``"zombie"``, ``"skeleton"``) until it dies; True when
        its achievement counter (eat_cow, defeat_zombie, defeat_skeleton) increased."""
        name = _DEFEAT.get(kind)
        if name is None:
            raise ValueError(f"cannot attack {kind!r}; one of {sorted(_DEFEAT)}")
        limit = self.steps_left if max_steps is None else min(max_steps, self.steps_left)
        start, counter0 = self._steps, self.achievements[name]
        while self.achievements[name] == counter0:
            left = limit - (self._steps - start)
            if left <= 0:
                return False
            if self.facing_kind() == kind:
                self.do()
            elif not self.move_toward(kind, max_steps=left):
                return False
        return True

    def place(self, item: str, next_to: str | None = None) -> bool:
        """Place ``item`` (``"table"``, ``"furnace"``, ``"stone"``, ``"plant"``) on a free
        faced cell of an allowed material, walking to one if needed; with ``next_to`` (a
        kind, e.g. ``"table"``), on such a cell with one of the remembered ``next_to`` among
        its 8 neighbours. True on success."""
        name = f"place_{item}"
        req = self.rules.requirement(name)
        if self.rules.missing(name, self.inventory):
            return False
        counter0 = self.achievements[name]
        for _ in range(5):
            if next_to is not None:
                if not self._face_free_beside(req.face, next_to):
                    return False
            elif not self._facing_free(req.face) and not self.move_toward(req.face, max_steps=30):
                return False
            self.act(name)
            if self.achievements[name] > counter0:
                return True
        return False

    def _face_free_beside(self, materials: list[str], kind: str, max_steps: int = 60) -> bool:
        """Walk until facing a free cell of ``materials`` that has a remembered ``kind``
        among its 8 neighbours. True when facing one."""
        memory = self.env.memory
        if not memory.known(kind):
            return False
        ok = within_one(memory.mask([kind])) & memory.mask(materials)
        for p in memory.visible_objects:
            ok[p] = False
        grid = ok.tolist()
        w, h = ok.shape

        def goal(x: int, y: int, dx: int, dy: int) -> bool:
            tx, ty = x + dx, y + dy
            return 0 <= tx < w and 0 <= ty < h and grid[tx][ty]

        limit = min(max_steps, self.steps_left)
        start = self._steps
        while self._steps - start < limit:
            if goal(*self.position, *self.facing) and self._facing_free(materials):
                return True
            path = self._plan(goal)
            if path is None:
                return False
            if not path:  # there, but a creature stands on the cell: wait for it to go
                self.noop()
                continue
            self._step_along(path, min(limit - (self._steps - start), 12))
        return False

    def shelter(self, max_steps: int | None = None) -> bool:
        """Dig a two-cell tunnel into rock and seal its mouth with a stone, so that no zombie
        can reach the player (they walk on grass, sand and path only). Needs a pickaxe for
        the rock and a seen spot where the tunnel's walls are solid. True when sealed in."""
        if self.sheltered():
            return True
        memory = self.env.memory
        walkable = set(self.rules.walkable)
        diggable = self._diggable()
        w, h = memory.area

        def solid(p: tuple[int, int]) -> bool:
            # Unseen cells count: next to seen rock they are almost always more rock, and a
            # strict test finds no spot in most worlds.
            if not (0 <= p[0] < w and 0 <= p[1] < h):
                return False
            return memory.material_at(p) not in walkable

        def dig(p: tuple[int, int]) -> bool:
            return 0 <= p[0] < w and 0 <= p[1] < h and bool(diggable[p])

        def goal(x: int, y: int, dx: int, dy: int) -> bool:
            s1, s2, s3 = (x + dx, y + dy), (x + 2 * dx, y + 2 * dy), (x + 3 * dx, y + 3 * dy)
            if not (dig(s1) and dig(s2) and solid(s3)):
                return False
            sides = [(c[0] + dy, c[1] + dx) for c in (s1, s2)] + [
                (c[0] - dy, c[1] - dx) for c in (s1, s2)
            ]
            return all(solid(c) for c in sides)

        limit = self.steps_left if max_steps is None else min(max_steps, self.steps_left)
        start = self._steps
        while self._steps - start < limit:
            x, y = self.position
            if goal(x, y, *self.facing):
                break
            path = self._plan(goal)
            if path is None:
                return False
            self._step_along(path, min(limit - (self._steps - start), 12))
        else:
            return False
        d = DIRECTIONS.index(tuple(self.facing))
        back = DIRECTIONS.index((-self.facing[0], -self.facing[1]))
        for _ in range(2):  # mine a cell, step into it
            self.do()
            self.act(MOVE_ACTIONS[d])
        self.act(MOVE_ACTIONS[back])  # back into the first cell, now facing the mouth
        for _ in range(4):  # a creature in the mouth blocks the stone: hit it, try again
            if self.inventory.get("stone", 0) < 1:
                return False
            before = self.achievements.get("place_stone", 0)
            self.act("place_stone")
            if self.achievements.get("place_stone", 0) > before:
                return True
            self.do()
        return False

    def sheltered(self, room: int = 4) -> bool:
        """Whether the player is sealed in: the walkable cells it can reach (where zombies
        walk) are at most ``room``, all seen, with no creature on them."""
        memory = self.env.memory
        walkable = set(self.rules.walkable)
        start = self.position
        seen, todo = {start}, [start]
        while todo:
            x, y = todo.pop()
            for dx, dy in DIRECTIONS:
                p = (x + dx, y + dy)
                if p in seen or not self._inside(p):
                    continue
                material = memory.material_at(p)
                if material == "unknown":
                    return False
                if material in walkable or p in memory.visible_objects:
                    if p in memory.visible_objects or len(seen) >= room:
                        return False
                    seen.add(p)
                    todo.append(p)
        return True

    def _facing_free(self, materials: list[str]) -> bool:
        return self.facing_material() in materials and self.facing_kind() not in _CREATURES

    def make(self, item: str) -> bool:
        """Make ``item`` (e.g. ``"wood_pickaxe"``), walking next to a remembered table (and
        furnace) first if needed. False if the inventory lacks materials or none is known."""
        name = f"make_{item}"
        req = self.rules.requirement(name)
        if self.rules.missing(name, self.inventory, self.rules.materials):
            return False
        if not all(self.near(k) for k in req.nearby):
            if not all(self.known(k) for k in req.nearby):
                return False
            if not self.move_near(req.nearby):
                return False
        counter0 = self.achievements[name]
        self.act(name)
        return self.achievements[name] > counter0

    # ------------------------------------------------------------------ helpers
    def _item_and_source(self, kind: str) -> tuple[str, str]:
        for source, info in self.rules.collect.items():
            (item,) = info["receive"]
            if kind in (source, item):
                return item, source
        raise ValueError(f"nothing to collect from {kind!r}")

    def missing(self, achievement: str) -> list[str]:
        """Unmet preconditions of ``achievement`` here and now ([] = feasible)."""
        info = self.env.info
        cx, cy = VIEW[0] // 2, VIEW[1] // 2
        nearby = set(info["local_materials"][cx - 1 : cx + 2, cy - 1 : cy + 2].ravel().tolist())
        return self.rules.missing(achievement, self.inventory, nearby)
