"""BabyAI (Minigrid) wrapped with a text face, mission subgoals and fair perception.

A run's goal becomes the env's mission: :func:`make` with ``goal="put the red ball next to
the blue box"`` reads the goal into BabyAI's own instruction objects and builds a level
around it (:class:`~envs._babyai_mission.GoalLevel`), unless the native level's own mission
for that seed already says the same. Without a goal the native level (default
``BabyAI-GoToObj-v0``; pick another with ``env_id="babyai:BabyAI-PickupLoc-v0"`` or
``level=``) runs with its own mission. Success is BabyAI's verifier (``instr.verify``).

The plan of a mission is its clauses and, before the next one, the preconditions the object
rules (``envs/data/babyai_rules.yaml``) give over what the agent has seen
(``envs._babyai_rules``): the key of a locked door on the way, an object to move out of a
doorway, a box to open when a needed key is nowhere in sight. Each such step is checked by
the env (a pick up of that kind, that door or box opened) like a clause.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import gymnasium
import numpy as np
from minigrid.core.constants import DIR_TO_VEC

from envs._babyai_api import BabyAIAPI
from envs._babyai_mission import (
    GoalLevel,
    Leaf,
    MissionError,
    descs,
    leaves,
    mission_name,
    parse_goal,
)
from envs._babyai_nav import VIEW, Pos, ViewMemory, neighbours, view_to_world
from envs._babyai_rules import Step, preconditions
from envs._errors import BudgetExhausted, EpisodeOver, SkillStop
from envs.contract import EnvAdapter

__all__ = [
    "ADAPTER",
    "ACTION_TEXTS",
    "BabyAIAPI",
    "BabyAIEnv",
    "BabyAIRules",
    "BudgetExhausted",
    "EpisodeOver",
    "MissionError",
    "SkillStop",
    "describe",
    "load_rules",
    "make",
    "make_api",
]

DEFAULT_LEVEL = "BabyAI-GoToObj-v0"
COLORS = ("red", "green", "blue", "purple", "yellow", "grey")
TYPES = ("ball", "box", "key", "door")
KINDS: tuple[str, ...] = tuple(f"{c}_{t}" for t in TYPES for c in COLORS)
ACTION_TEXTS = ("turn left", "turn right", "go forward", "pick up", "drop", "toggle")
"""The six actions that matter, in minigrid's order (``done``, 6, is left out)."""
VERBS = ("go_to", "pick_up", "open", "put_next")
"""Skill achievements: the clause kinds of BabyAI's language."""
_STATES = {0: "open", 1: "closed", 2: "locked"}


def _import_minigrid() -> Any:
    try:
        import minigrid
    except ImportError as exc:  # pragma: no cover - minigrid is a core dependency
        raise ImportError("BabyAI needs Minigrid: pip install minigrid==3.2.0") from exc
    return minigrid


class BabyAIRules:
    """The rules of one mission: its subgoals (clauses), their order, and which skill kind
    each clause needs. Derived from the mission's instruction tree, never retyped."""

    def __init__(self, env: BabyAIEnv) -> None:
        self._env = env

    @property
    def achievements(self) -> list[str]:
        """What a goal can be read as: the whole mission, only. A compound mission's clauses
        are not offered as targets (a goal "open the door, then pick up the key" read as
        ``open_door`` would stop half way); :meth:`prerequisites` expands the mission into
        its clauses, so the plan is BabyAI's own decomposition. ``env.info["achievements"]``
        counts every clause and the mission."""
        return [self._env.mission_name]

    @property
    def subgoals(self) -> list[str]:
        """Every clause name, then the mission's when it has several clauses."""
        names = [leaf.name for leaf in self._env.leaves()]
        return list(dict.fromkeys([*names, self._env.mission_name]))

    def missing(self, name: str, inventory: dict[str, int], known_kinds: set[str]) -> list[str]:
        """Why a skill for ``name`` (a clause kind such as ``pick_up``, or a subgoal name)
        cannot act now: the plan's next step (a mission clause, or a precondition of one such
        as fetching the key of a locked door) is of another kind, or the mission is done."""
        del inventory, known_kinds  # skills explore for what they have not seen
        active = self._env.active_clause()
        if not active:
            return ["the mission is complete"]
        if name in VERBS and name != active["verb"]:
            why = f": {active['why']}" if active.get("why") else ""
            return [f"the next step is {active['name']} ({active['verb']}){why}"]
        return []

    def prerequisites(
        self, target: str, inventory: dict[str, int], known: Any = frozenset()
    ) -> list[tuple[str, dict]]:
        """The steps still to do, in order, up to ``target`` (a clause or the mission): the
        mission's clauses, and before the next one the preconditions the object rules
        (``envs/data/babyai_rules.yaml``) give over what the agent has seen: the key of a
        locked door on the way, an object to move out of a doorway, a box that may hide a
        key (:func:`envs._babyai_rules.preconditions`). Later clauses get theirs when they
        come next (what they need is not seen yet)."""
        del inventory, known
        todo = [leaf.name for leaf in self._env.leaves() if not leaf.done]
        pre = [s.name for s in self._env.plan_steps()[:-1]]
        if target == self._env.mission_name and len(self._env.leaves()) > 1:
            chain = [*pre, *todo[:-1], target]
        elif target in todo:
            chain = [*pre, *todo[: todo.index(target) + 1]]
        else:
            chain = [target]
        return [(n, {}) for n in chain]


class BabyAIEnv(gymnasium.Env):
    """A BabyAI level with a text face and clause-level progress.

    ## Mission Space
    BabyAI's language: ``go to X``, ``pick up X``, ``open the D door``, ``put X next to Y``,
    joined by ``and``, ``, then`` or ``after you`` (X: ``[the|a] [colour] ball|box|key``).

    ## Action Space
    ``Discrete(7)``: 0 turn left, 1 turn right, 2 forward, 3 pick up, 4 drop, 5 toggle,
    6 done (a no-op here).

    ## Observation
    Minigrid's dict: ``image`` (7x7x3 egocentric view, walls occlude), ``direction``,
    ``mission``. ``info``: ``inventory`` (``{"red_ball": 1}`` while carried),
    ``achievements`` (count per subgoal: each clause and the whole mission, from BabyAI's
    verifier; and per event a precondition step is checked by: ``pick_up_<color>_<type>``,
    ``open_<color>_door``, ``open_<color>_box``), ``image``, ``position``/``direction``
    (the agent's own pose), ``mission``, ``step``. The full grid is never exposed.

    ## Rewards
    BabyAI's: ``1 - 0.9 * step / max_steps`` when the mission succeeds (then terminated);
    truncated at the level's ``max_steps``.
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, inner: Any) -> None:
        self._env = inner
        self.action_space = gymnasium.spaces.Discrete(7)
        self.observation_space = inner.observation_space
        self.render_mode = "rgb_array"
        self.memory = ViewMemory()
        self.action_log: list[int] = []
        self.episode_over = False
        self.success = False
        self._obs: dict[str, Any] | None = None
        self._info: dict[str, Any] = {}
        self._achievements: dict[str, int] = {}
        self._start: tuple[Pos, int] | None = None
        self._plan_cache: tuple[Any, list[Step]] = (None, [])
        self.rules = BabyAIRules(self)

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode; the same seed gives the same level and mission."""
        super().reset(seed=seed)
        with contextlib.redirect_stdout(io.StringIO()):  # BabyAI prints its re-samplings
            obs, _ = self._env.reset(seed=seed)
        self._obs = obs
        self.action_log = []
        self.episode_over = False
        self.success = False
        self.memory.reset()
        # BabyAI's strict missions fail when any door but the named one is toggled
        self.memory.through_closed_doors = not any(
            getattr(leaf.instr, "strict", False) for leaf in self.leaves()
        )
        self._plan_cache = (None, [])
        self._achievements = dict.fromkeys(self.rules.subgoals, 0)
        self._info = self._make_info()
        self._start = (self.memory.pos, self.memory.direction)
        return obs, dict(self._info)

    def step(self, action: int) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """One primitive action; ``terminated`` when BabyAI's verifier says success."""
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        action = int(action)
        before = {leaf.name for leaf in self.leaves() if leaf.done}
        held, front = self._env.carrying, self._env.grid.get(*self._env.front_pos)
        state = front.encode()[2] if front is not None else None
        obs, reward, terminated, truncated, _ = self._env.step(action)
        self.action_log.append(action)
        self._obs = obs
        won = not self.success and terminated and reward > 0
        self.success = self.success or won
        # Each name counts once per step, whether an event, a clause or the mission says it.
        names = set(self._events(action, held, front, state))
        names |= {leaf.name for leaf in self.leaves() if leaf.done and leaf.name not in before}
        if won:
            names.add(self.mission_name)
        for name in names:
            self._achievements[name] = self._achievements.get(name, 0) + 1
        self.episode_over = bool(terminated or truncated)
        self._info = self._make_info()
        return obs, float(reward), bool(terminated), bool(truncated), dict(self._info)

    def render(self) -> np.ndarray:
        """An RGB frame of the level (for GIFs; not given to skills)."""
        return self._env.get_frame(highlight=True)

    # ------------------------------------------------------------------ mission progress
    @property
    def mission(self) -> str:
        """The mission in words."""
        return str(self._env.mission)

    @property
    def instrs(self) -> Any:
        """BabyAI's instruction object of the mission (its verifier)."""
        return self._env.instrs

    @property
    def mission_name(self) -> str:
        """The subgoal name of the whole mission."""
        return mission_name(self._env.instrs)

    @property
    def info(self) -> dict[str, Any]:
        """The info of the last reset/step (a shallow copy)."""
        return dict(self._info)

    def leaves(self) -> list[Leaf]:
        """The mission's clauses in order, each marked done by BabyAI's verifier state."""
        return leaves(self._env.instrs, done=self.success)

    def clause_step(self) -> Step | None:
        """The first clause not yet done, as a plan step (None when the mission is complete)."""
        from minigrid.envs.babyai.core.verifier import (
            GoToInstr,
            OpenInstr,
            PickupInstr,
            PutNextInstr,
        )

        for leaf in self.leaves():
            if leaf.done:
                continue
            i = leaf.instr
            if isinstance(i, PutNextInstr):
                m, f = i.desc_move, i.desc_fixed
                return Step(
                    name=leaf.name,
                    verb="put_next",
                    color=m.color,
                    type=m.type,
                    loc=m.loc,
                    fixed_color=f.color,
                    fixed_type=f.type,
                    fixed_loc=f.loc,
                )
            verb = {GoToInstr: "go_to", PickupInstr: "pick_up", OpenInstr: "open"}[type(i)]
            d = i.desc
            return Step(name=leaf.name, verb=verb, color=d.color, type=d.type, loc=d.loc)
        return None

    def plan_steps(self) -> list[Step]:
        """The next clause and, before it, the preconditions the object rules give over what
        the agent has seen and holds (``envs._babyai_rules``); empty when the mission is done."""
        clause = self.clause_step()
        if clause is None:
            return []
        key = (self.step_count, len(self.memory.cells), clause.name)
        if self._plan_cache[0] != key:
            held = next(iter(self._info.get("inventory") or {}), None)
            keep = {(d.color, d.type) for d in descs(self.instrs)}
            pre = preconditions(self.memory, held, clause, self.matching, keep)
            self._plan_cache = (key, [*pre, clause])
        return list(self._plan_cache[1])

    def blocks_way(self, cell: Pos) -> bool:
        """Whether an object put down on ``cell`` would stand in the way of the plan (the
        next clause's preconditions would then include moving it), judged from memory."""
        clause = self.clause_step()
        if clause is None:
            return False
        mem = ViewMemory()
        mem.cells, mem.pos, mem.direction = (
            dict(self.memory.cells),
            self.memory.pos,
            self.memory.direction,
        )
        mem.through_closed_doors = self.memory.through_closed_doors
        mem.cells[cell] = ("ball", "grey", 0)
        keep = {(d.color, d.type) for d in descs(self.instrs)}
        held: list[str | None] = [None]
        if clause.verb == "put_next":  # the way there with the object to move in hand, too
            held.append(f"{clause.color or 'grey'}_{clause.type or 'ball'}")
        for h in held:  # more steps with it there than without: it is in the way
            now = preconditions(self.memory, h, clause, self.matching, keep)
            then = preconditions(mem, h, clause, self.matching, keep)
            if len(then) > len(now) or any(s.pos == cell for s in then):
                return True
        return False

    def active_clause(self) -> dict[str, Any]:
        """The plan's next step as a dict (``name``, ``verb``, ``color``, ``type``, ``why``,
        ``fixed_color``/``fixed_type`` for ``put_next`` ...): the first clause not yet done,
        or a precondition of it; empty when the mission is complete."""
        steps = self.plan_steps()
        return steps[0].as_dict() if steps else {}

    @property
    def step_count(self) -> int:
        """Env steps taken in this episode."""
        return len(self.action_log)

    def matching(self, color: str | None, kind: str | None, loc: str | None = None) -> set[Pos]:
        """Seen cells holding a ``color kind`` (None = any); with ``loc`` (``front``,
        ``behind``, ``left``, ``right``) only those BabyAI's description would mean: in the
        room the agent started in, on that side of its starting pose (from memory)."""
        cells = set(self.memory.find(color, kind))
        if not loc or self._start is None:
            return cells
        (sx, sy), d = self._start
        dx, dy = (int(v) for v in DIR_TO_VEC[d])
        room = self._start_room()
        side = {
            "front": lambda vx, vy: vx * dx + vy * dy > 0,
            "behind": lambda vx, vy: vx * dx + vy * dy < 0,
            "left": lambda vx, vy: vx * -dy + vy * dx < 0,
            "right": lambda vx, vy: vx * -dy + vy * dx > 0,
        }[loc]
        return {p for p in cells if p in room and side(p[0] - sx, p[1] - sy)}

    def _start_room(self) -> set[Pos]:
        """Seen cells joined to the start cell without crossing a wall or a door, and the
        doors in its walls (BabyAI counts a room's walls as part of it)."""
        assert self._start is not None
        start = self._start[0]
        room, todo, doors = {start}, [start], set()
        while todo:
            p = todo.pop()
            for n in neighbours(p):
                cell = self.memory.cells.get(n)
                if n in room or cell is None or cell[0] == "wall":
                    continue
                if cell[0] == "door":
                    doors.add(n)
                    continue
                room.add(n)
                todo.append(n)
        return room | doors

    def _events(self, action: int, held: Any, front: Any, state: Any) -> list[str]:
        """What one action did to the object rules' objects: a pick up (of a kind), a door
        or a box opened (the env's own check of a precondition step)."""
        env = self._env
        got = env.carrying
        names = []
        if action == 3 and held is None and got is not None:
            names.append(f"pick_up_{got.color}_{got.type}")
        if action == 5 and front is not None:
            now = env.grid.get(*env.front_pos)
            if front.type == "door" and state != 0 and now is front and now.is_open:
                names.append(f"open_{front.color}_door")
            if front.type == "box" and now is not front:
                names.append(f"open_{front.color}_box")
        return names

    def _make_info(self) -> dict[str, Any]:
        env = self._env
        pos = (int(env.agent_pos[0]), int(env.agent_pos[1]))
        image = np.asarray(self._obs["image"]) if self._obs is not None else None
        if image is not None:
            self.memory.update(image, pos, int(env.agent_dir))
        carrying = env.carrying
        inventory = {f"{carrying.color}_{carrying.type}": 1} if carrying is not None else {}
        return {
            "inventory": inventory,
            "achievements": dict(self._achievements),
            "image": image,
            "position": pos,
            "direction": int(env.agent_dir),
            "mission": self.mission,
            "step": int(env.step_count),
            "success": self.success,
        }


def make(
    env_id: str = "babyai",
    *,
    seed: int = 0,
    level: str | None = None,
    goal: str | None = None,
    num_dists: int = 3,
    max_steps: int | None = None,
) -> BabyAIEnv:
    """Build a :class:`BabyAIEnv` (call ``reset(seed=seed)`` before stepping).

    ``goal``: a mission in words; the env's mission becomes that goal (a native level whose
    own mission for ``seed`` reads the same is used as is, else a :class:`GoalLevel` is
    built around it). ``level``: a registered BabyAI level id, also given as
    ``env_id="babyai:<level>"``. Raises :class:`MissionError` for a goal BabyAI cannot say.
    """
    _import_minigrid()
    base, _, suffix = env_id.partition(":")
    if base.lower() != "babyai":
        raise ValueError(f"unknown BabyAI env id {env_id!r}; use 'babyai' or 'babyai:<level>'")
    level = level or suffix or DEFAULT_LEVEL
    kw: dict[str, Any] = {} if max_steps is None else {"max_steps": max_steps}
    try:
        native: Any = gymnasium.make(level, **kw).unwrapped  # a minigrid RoomGridLevel
    except gymnasium.error.Error as exc:
        raise ValueError(f"unknown BabyAI level {level!r}: {exc}") from None
    if goal is None:
        return BabyAIEnv(native)
    with contextlib.redirect_stdout(io.StringIO()):
        native.reset(seed=seed)
    if _same(native.mission, goal):
        return BabyAIEnv(native)
    instr = parse_goal(goal)
    return BabyAIEnv(GoalLevel(instr, num_dists=num_dists, **kw))


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(s.lower().replace(",", " ").replace(".", " ").split())

    return norm(a) == norm(b)


def load_rules() -> None:
    """BabyAI's rules belong to each mission: use ``env.rules`` (a :class:`BabyAIRules`)."""
    return None


def make_api(env: BabyAIEnv, *, budget: int, need: dict[str, int] | None = None) -> BabyAIAPI:
    """The primitive API a code skill gets for one execution of at most ``budget`` steps."""
    return BabyAIAPI(env, budget, need)


# ---------------------------------------------------------------------- text face
def _rel(forward: int, lateral: int) -> str:
    parts = []
    if forward:
        parts.append(
            f"{abs(forward)} step{'s' if abs(forward) != 1 else ''} "
            f"{'forward' if forward > 0 else 'back'}"
        )
    if lateral:
        parts.append(
            f"{abs(lateral)} step{'s' if abs(lateral) != 1 else ''} "
            f"{'right' if lateral > 0 else 'left'}"
        )
    return " and ".join(parts) or "here"


def _thing(cell: tuple[str, str, int]) -> str:
    kind, color, state = cell
    if kind == "door":
        return f"{_STATES.get(state, '')} {color} door".strip()
    if kind in ("ball", "box", "key"):
        return f"{color} {kind}"
    return kind


def describe(obs: Any, info: dict[str, Any], memory: ViewMemory | None = None) -> str:
    """What the agent perceives, BabyAI-Text style: the objects in its 7x7 view with steps
    forward/left/right, what it faces and carries, and objects it remembers out of view."""
    del obs  # the same view is in info["image"]
    image = info.get("image")
    parts: list[str] = []
    seen: set[tuple[int, int]] = set()
    if image is not None:
        img = np.asarray(image)
        front = (
            int(img[VIEW // 2, VIEW - 2, 0]),
            int(img[VIEW // 2, VIEW - 2, 1]),
            int(img[VIEW // 2, VIEW - 2, 2]),
        )
        from minigrid.core.constants import IDX_TO_COLOR, IDX_TO_OBJECT

        kind = IDX_TO_OBJECT[front[0]]
        facing = _thing((kind, IDX_TO_COLOR[front[1]], front[2]))
        parts.append(
            f"You face {'an ' if facing[0] in 'aeiou' else 'a '}{facing}."
            if kind not in ("empty", "unseen")
            else "You face an empty cell."
        )
        things: list[tuple[int, str]] = []
        walls: dict[str, int] = {}
        for vx in range(VIEW):
            for vy in range(VIEW):
                t = IDX_TO_OBJECT[int(img[vx, vy, 0])]
                fwd, lat = VIEW - 1 - vy, vx - VIEW // 2
                if (fwd, lat) == (0, 0) or t in ("unseen", "empty", "floor"):
                    continue
                if t == "wall":
                    for key, ok in (
                        ("forward", lat == 0 and fwd > 0),
                        ("left", fwd == 0 and lat < 0),
                        ("right", fwd == 0 and lat > 0),
                    ):
                        if ok:
                            walls[key] = min(walls.get(key, 99), abs(fwd) + abs(lat))
                    continue
                cell = (t, IDX_TO_COLOR[int(img[vx, vy, 1])], int(img[vx, vy, 2]))
                things.append((fwd + abs(lat), f"a {_thing(cell)} {_rel(fwd, lat)}"))
                if memory is not None:
                    seen.add(view_to_world(vx, vy, memory.pos, memory.direction))
        if things:
            parts.append("You see " + ", ".join(t for _, t in sorted(things)) + ".")
        else:
            parts.append("You see no objects.")
        if walls:
            parts.append(
                "Walls: "
                + ", ".join(f"{n} step{'s' if n != 1 else ''} {k}" for k, n in walls.items())
                + "."
            )
    inv = info.get("inventory") or {}
    held = next(iter(inv), None)
    parts.append(f"You carry a {held.replace('_', ' ')}." if held else "You carry nothing.")
    if memory is not None:
        remembered = []
        px, py = memory.pos
        d = memory.direction
        dx, dy = [(1, 0), (0, 1), (-1, 0), (0, -1)][d]
        for p, cell in memory.cells.items():
            if p in seen or cell[0] not in ("ball", "box", "key", "door"):
                continue
            vx, vy = p[0] - px, p[1] - py
            fwd, lat = vx * dx + vy * dy, vx * -dy + vy * dx
            remembered.append((abs(fwd) + abs(lat), f"a {_thing(cell)} {_rel(fwd, lat)}"))
        if remembered:
            parts.append("You remember " + ", ".join(t for _, t in sorted(remembered)[:4]) + ".")
    return " ".join(parts)


# ---------------------------------------------------------------------- the adapter
class BabyAIAdapter(EnvAdapter):
    """BabyAI behind mendako's env contract (see :mod:`envs.contract`): the run's goal becomes
    the level's mission; rules and success checks are each mission's own."""

    name = "babyai"
    summary = "BabyAI (Minigrid): language missions, BabyAI's own verifier"
    title = "BabyAI"
    goal_words = ("mission", "missions")
    kinds = KINDS
    view_cells = VIEW * VIEW * 3  # the 7x7x3 egocentric image
    takes_goal = True

    def make(self, env_id: str = "babyai", *, seed: int = 0, goal: str | None = None) -> BabyAIEnv:
        """See :func:`make`."""
        return make(env_id, seed=seed, goal=goal)

    def describe(self, env: BabyAIEnv) -> str:
        """See :func:`describe`."""
        return describe(None, env.info, env.memory)

    def make_api(
        self, env: BabyAIEnv, *, budget: int, need: dict[str, int] | None = None
    ) -> BabyAIAPI:
        """See :func:`make_api`."""
        return make_api(env, budget=budget, need=need)

    @property
    def api_class(self) -> type:
        """:class:`BabyAIAPI`."""
        return BabyAIAPI

    def rules(self, env: BabyAIEnv | None = None) -> BabyAIRules | None:
        """The mission's rules (``env.rules``); none shared by every episode."""
        return None if env is None else env.rules


ADAPTER = BabyAIAdapter()
"""Registered under the entry-point group ``mendako.envs`` as ``babyai``."""
