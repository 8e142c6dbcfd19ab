"""Crafter wrapped as a gymnasium environment with fair perception and a text face.

``crafter`` 1.8.3 keeps the old gym API (``reset() -> obs``, 4-tuple ``step``, ``info`` only
after a step, a live ``player_pos``); :class:`CrafterEnv` wraps it directly (no shimmy) and
replaces crafter's privileged whole-world ``info["semantic"]`` by the 9x7 local view the
image shows. :class:`~envs._crafter_nav.SeenMap` (``env.memory``) is the agent's memory of
what it has seen; code skills act through :class:`CrafterAPI`.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from envs._crafter_api import CrafterAPI
from envs._crafter_guard import defend_action
from envs._crafter_nav import VIEW, SeenMap
from envs._crafter_rules import CrafterRules, Requirement, load_rules
from envs._crafter_survival import CrafterSurvival
from envs._errors import BudgetExhausted, EpisodeOver, SkillStop
from envs.contract import EnvAdapter, Vocabulary

__all__ = [
    "ADAPTER",
    "BudgetExhausted",
    "CrafterAPI",
    "CrafterEnv",
    "CrafterRules",
    "EpisodeOver",
    "Requirement",
    "SeenMap",
    "SkillStop",
    "defend_action",
    "describe",
    "load_rules",
    "make",
    "make_api",
]

ENV_IDS = ("crafter",)
OBJECT_NAMES = ("player", "cow", "zombie", "skeleton", "arrow", "plant")
# Everything the player can see: materials from crafter's data.yaml, then creatures.
KINDS: tuple[str, ...] = (*load_rules().materials, *OBJECT_NAMES)
_BORING = {"grass", "sand", "path", "unknown", "player"}


def _import_crafter() -> Any:
    try:
        import crafter
    except ImportError as exc:  # pragma: no cover - crafter is a core dependency
        raise ImportError("Crafter is not installed: pip install crafter==1.8.3") from exc
    return crafter


class CrafterEnv(gymnasium.Env):
    """Crafter (Hafner 2021): a 2-D survival world with 22 achievements.

    ## Mission Space
    No text mission: the implicit goal is to unlock as many of the 22 achievements of
    crafter's ``data.yaml`` as possible (``collect_wood`` ... ``collect_diamond``).

    ## Action Space
    ``Discrete(17)``: noop, move_left, move_right, move_up, move_down, do, sleep,
    place_stone, place_table, place_furnace, place_plant, make_wood_pickaxe,
    make_stone_pickaxe, make_iron_pickaxe, make_wood_sword, make_stone_sword,
    make_iron_sword (see :attr:`action_names`). A move toward a blocked cell only turns
    the player; ``do``, ``place_*`` act on the faced cell.

    ## Observation
    An RGB image ``(size, size, 3)`` uint8: the 9x7 local view above a 9x2 inventory strip.
    With ``frames=False`` the image is blank and ``render()`` draws the frame on request:
    drawing is about three quarters of crafter's step, and agents here read ``info``.
    ``info`` (after reset and every step) holds ``inventory`` and ``achievements`` (dict
    copies), ``player_pos`` and ``facing`` (tuples, world ``(x, y)``), ``step``,
    ``sleeping``, ``daylight``, ``discount`` and ``local_view``: a ``(9, 7)`` numpy array of
    names (``str`` objects, dtype ``object``) indexed ``[x, y]`` with ``x`` in
    ``pos[0]-4..pos[0]+4`` and ``y`` in ``pos[1]-3..pos[1]+3`` (the cells drawn in the image;
    the player is at ``[4, 3]``). A cell holds the creature on it (player, cow, zombie,
    skeleton, arrow, plant) or else its material (water, grass, stone, path, sand, tree, lava,
    coal, iron, diamond, table, furnace); cells outside the world are ``"unknown"``.
    ``local_materials`` is the same crop with materials only (visible under creatures in the
    image). Crafter's whole-world ``semantic`` map is privileged and never returned.

    ## Rewards
    +1 the first time each achievement is unlocked in an episode; +/-0.1 per health point
    gained or lost. ``terminated`` when the player dies, ``truncated`` when ``length``
    steps are reached.
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(
        self, *, seed: int = 0, length: int = 10000, size: int = 64, frames: bool = True
    ) -> None:
        crafter = _import_crafter()
        self._env = crafter.Env(size=(size, size), length=length, seed=seed)
        # The whole-world semantic map is privileged and costs time every step: never build it.
        self._env._sem_view = lambda: None
        self._frame: np.ndarray | None = None
        # A new blank image per step (calloc'd: no cost worth naming): observations must not
        # share memory between calls (gymnasium's check_env).
        self._env._obs = self._draw if frames else lambda: np.zeros((size, size, 3), np.uint8)
        # crafter draws night noise from the world's random state, so whether a frame is
        # drawn would change the world; frames get their own noise, and drawing is optional.
        view = self._env._local_view
        noise, frame_rng = view._noise, np.random.RandomState(seed)

        def own_noise(canvas: np.ndarray, amount: float, stddev: float) -> np.ndarray:
            world = view._world
            world_rng, world.random = world.random, frame_rng
            try:
                return noise(canvas, amount, stddev)
            finally:
                world.random = world_rng

        view._noise = own_noise
        # crafter balances creatures per chunk iterating a *set* of objects, so which one
        # despawns depends on memory addresses: same seed, different episode. Sorting by
        # cell (one object per cell) makes episodes, and so resume-by-replay, reproducible.
        balance = self._env._balance_chunk
        self._env._balance_chunk = lambda chunk, objs: balance(
            chunk, sorted(objs, key=lambda o: (int(o.pos[0]), int(o.pos[1])))
        )
        self._seed = seed
        self.length = length
        self.rules: CrafterRules = load_rules()
        self.action_names: list[str] = list(self.rules.actions)
        self.action_space = gymnasium.spaces.Discrete(len(self.action_names))
        self.observation_space = gymnasium.spaces.Box(0, 255, (size, size, 3), np.uint8)
        self.render_mode = "rgb_array"
        self.memory = SeenMap(tuple(self._env._area))
        self._mat_lut = np.array([], "<U8")
        self.action_log: list[int] = []
        self._obs: np.ndarray | None = None
        self._info: dict[str, Any] = {}

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode. The same ``seed`` always gives the same world; without a seed
        the next world of this env's seed sequence is generated."""
        super().reset(seed=seed)
        if seed is not None:
            # crafter seeds each world with hash((seed, episode)): restart the sequence.
            self._seed = seed
            self._env._seed = seed
            self._env._episode = 0
        self._frame = None
        self._obs = self._env.reset()
        self.action_log = []
        self.memory.reset()
        self._info = self._make_info()
        return self._obs, dict(self._info)

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Advance one step; ``terminated`` = the player died, ``truncated`` = length reached."""
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        action = int(action)
        self._frame = None
        obs, reward, _done, raw = self._env.step(action)
        self.action_log.append(action)
        self._obs = obs
        self._info = self._make_info(discount=float(raw["discount"]))
        terminated = self._env._player.health <= 0
        truncated = bool(self.length) and self._env._step >= self.length and not terminated
        return obs, float(reward), bool(terminated), bool(truncated), dict(self._info)

    def render(self) -> np.ndarray:
        """The RGB frame of the current state, drawn on first request (drawing never changes
        the episode: frames have their own noise)."""
        if self._obs is None:
            raise RuntimeError("call reset() before render()")
        return self._draw() if self._frame is None else self._frame

    def _draw(self) -> np.ndarray:
        self._frame = self._env.render()
        return self._frame

    # ------------------------------------------------------------------ helpers
    @property
    def episode_over(self) -> bool:
        """Whether the episode has ended: the player died or the length limit was reached."""
        player = self._env._player
        return player is not None and (
            player.health <= 0 or (bool(self.length) and self._env._step >= self.length)
        )

    @property
    def info(self) -> dict[str, Any]:
        """The info of the last reset/step (a shallow copy)."""
        return dict(self._info)

    @property
    def seed(self) -> int:
        """The seed of the current world sequence."""
        return self._seed

    def replay(self, actions: list[int], *, seed: int | None = None) -> dict[str, Any]:
        """Reset with ``seed`` (default: this env's) and step ``actions``; returns the last
        info. Used to resume a run after a crash."""
        self.reset(seed=self._seed if seed is None else seed)
        for a in actions:
            _, _, term, trunc, _ = self.step(a)
            if term or trunc:
                break
        return self.info

    def daylight_at(self, step: int) -> float:
        """The daylight crafter gives at env step ``step`` (its own ``_update_time``, run on
        that step and undone: the world is left as it was)."""
        env, world = self._env, self._env._world
        saved = env._step, world.daylight
        try:
            env._step = step
            env._update_time()
            return float(world.daylight)
        finally:
            env._step, world.daylight = saved

    def _local(self) -> tuple[np.ndarray, np.ndarray]:
        world = self._env._world
        px, py = (int(v) for v in self._env._player.pos)
        w, h = VIEW
        ox, oy = px - w // 2, py - h // 2
        mats = np.full(VIEW, "unknown", dtype="<U8")
        objs = np.full(VIEW, "", dtype="<U8")
        ax, ay = world.area
        x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + w, ax), min(oy + h, ay)
        if len(self._mat_lut) != len(world._mat_names):  # crafter adds ids as it meets names
            self._mat_lut = np.array(
                [world._mat_names[i] or "unknown" for i in range(len(world._mat_names))], "<U8"
            )
        mats[x0 - ox : x1 - ox, y0 - oy : y1 - oy] = self._mat_lut[world._mat_map[x0:x1, y0:y1]]
        obj_ids = world._obj_map[x0:x1, y0:y1]
        for i, j in zip(*np.nonzero(obj_ids), strict=True):
            obj = world._objects[int(obj_ids[i, j])]
            if obj is not None:
                objs[x0 - ox + i, y0 - oy + j] = type(obj).__name__.lower()
        return mats, objs

    def _make_info(self, discount: float = 1.0) -> dict[str, Any]:
        player = self._env._player
        mats, objs = self._local()
        view = np.where(objs != "", objs, mats)
        pos = (int(player.pos[0]), int(player.pos[1]))
        step = int(self._env._step)
        self.memory.update(mats, objs, pos, step)
        # Object arrays of names: gymnasium's check_env compares info arrays with
        # np.allclose, which raises on str dtypes and compares object arrays cell by cell.
        return {
            "inventory": dict(player.inventory),
            "achievements": dict(player.achievements),
            "player_pos": pos,
            "facing": (int(player.facing[0]), int(player.facing[1])),
            "local_view": view.astype(object),
            "local_materials": mats.astype(object),
            "step": step,
            "sleeping": bool(player.sleeping),
            "daylight": float(self._env._world.daylight),
            "discount": discount,
        }


def make(
    env_id: str = "crafter",
    *,
    seed: int = 0,
    length: int = 10000,
    size: int = 64,
    frames: bool = True,
) -> CrafterEnv:
    """Build a :class:`CrafterEnv` (call ``reset()`` before stepping). ``frames=False``:
    ``reset``/``step`` return a blank image and ``render()`` draws on request."""
    if env_id.lower() not in ENV_IDS:
        raise ValueError(f"unknown Crafter env id {env_id!r}; known: {', '.join(ENV_IDS)}")
    return CrafterEnv(seed=seed, length=length, size=size, frames=frames)


# ---------------------------------------------------------------------- text face
def _where(dx: int, dy: int) -> str:
    parts = []
    if dx:
        parts.append(f"{abs(dx)} {'right' if dx > 0 else 'left'}")
    if dy:
        parts.append(f"{abs(dy)} {'down' if dy > 0 else 'up'}")
    if not parts:
        return "here"
    steps = abs(dx) + abs(dy)
    return f"{' and '.join(parts)} ({steps} step{'s' if steps != 1 else ''})"


def describe(obs: np.ndarray | None, info: dict[str, Any], memory: SeenMap | None = None) -> str:
    """A short English description of what the player sees, holds and remembers.

    Uses only ``info`` (the local view, inventory) and the agent's own ``memory``.
    """
    del obs  # the text face reads the same cells from info["local_view"]
    view = np.asarray(info["local_view"])
    px, py = info["player_pos"]
    cx, cy = VIEW[0] // 2, VIEW[1] // 2
    fx, fy = info.get("facing", (0, 1))
    inside = 0 <= cx + fx < VIEW[0] and 0 <= cy + fy < VIEW[1]
    facing = str(view[cx + fx, cy + fy]) if inside else ""
    nearest: dict[str, tuple[int, int]] = {}
    for i in range(VIEW[0]):
        for j in range(VIEW[1]):
            name = str(view[i, j])
            if name in _BORING:
                continue
            dx, dy = i - cx, j - cy
            best = nearest.get(name)
            if best is None or abs(dx) + abs(dy) < abs(best[0]) + abs(best[1]):
                nearest[name] = (dx, dy)
    parts = [f"You face {facing}." if facing else ""]
    if info.get("sleeping"):
        parts.append("You are asleep.")
    if nearest:
        near = sorted(nearest.items(), key=lambda kv: abs(kv[1][0]) + abs(kv[1][1]))
        parts.append("You see: " + "; ".join(f"{n} {_where(*d)}" for n, d in near[:6]) + ".")
    inv = info.get("inventory", {})
    vitals = ("health", "food", "drink", "energy")
    items = [f"{k} {v}" for k, v in inv.items() if v and k not in vitals]
    parts.append("Inventory: " + (", ".join(items) if items else "nothing") + ".")
    parts.append(", ".join(f"{k.capitalize()} {inv.get(k, 0)}" for k in vitals) + ".")
    if memory is not None:
        remembered = []
        for kind in (
            "table",
            "furnace",
            "water",
            "tree",
            "stone",
            "coal",
            "iron",
            "diamond",
            "cow",
            "plant",
        ):
            if kind in nearest:
                continue
            cell = memory.nearest(kind, (px, py))
            if cell is not None:
                remembered.append(f"{kind} {_where(cell[0] - px, cell[1] - py)}")
        if remembered:
            parts.append("You remember: " + "; ".join(remembered[:5]) + ".")
    if info.get("daylight", 1.0) < 0.3:
        parts.append("It is night.")
    return " ".join(p for p in parts if p)


def make_api(env: CrafterEnv, *, budget: int, need: dict[str, int] | None = None) -> CrafterAPI:
    """The primitive API a code skill gets for one execution of at most `budget` steps."""
    return CrafterAPI(env, budget, need)


# ---------------------------------------------------------------------- the adapter
SKILL_DESCRIPTIONS: dict[str, str] = {
    "collect_wood": "Walk to a tree and collect wood from it.",
    "place_table": "Collect wood as needed and place a crafting table.",
    "collect_sapling": "Collect a sapling by interacting with grass.",
    "eat_cow": "Find a cow, hit it until it is eaten.",
    "collect_drink": "Walk to water and drink.",
    "place_plant": "Place a sapling on grass.",
    "wake_up": "Sleep until rested and wake up.",
}
"""What a skill for each achievement does, in words (RL skills' meta.json descriptions)."""


GOAL_FACTS: dict[str, str] = {
    "make_wood_sword": "a sword doubles the damage dealt to zombies, which come at night",
    "defeat_zombie": "zombies hit hard, 7 damage to a sleeper",
    "defeat_skeleton": "skeletons shoot arrows in dark caves",
    "collect_diamond": "diamonds lie next to lava, which kills",
    "wake_up": "sleeping in the open draws zombies",
}
"""Facts a player of Crafter would tell a newcomer (the curriculum's prompt states them)."""


class CrafterAdapter(EnvAdapter):
    """Crafter behind mendako's env contract (see :mod:`envs.contract`)."""

    name = "crafter"
    summary = "Crafter: 2-D survival world, 22 achievements (default)"
    title = "Crafter"
    kinds = KINDS
    view_cells = VIEW[0] * VIEW[1]

    def make(
        self, env_id: str = "crafter", *, seed: int = 0, goal: str | None = None
    ) -> CrafterEnv:
        """A :class:`CrafterEnv` that skips drawing frames (``render()`` draws on request);
        the goal is read by the planner alone."""
        del goal
        return make(env_id, seed=seed, frames=False)

    def describe(self, env: CrafterEnv) -> str:
        """See :func:`describe`."""
        return describe(None, env.info, env.memory)

    def make_api(
        self, env: CrafterEnv, *, budget: int, need: dict[str, int] | None = None
    ) -> CrafterAPI:
        """See :func:`make_api`."""
        return make_api(env, budget=budget, need=need)

    @property
    def api_class(self) -> type:
        """:class:`CrafterAPI`."""
        return CrafterAPI

    def rules(self, env: CrafterEnv | None = None) -> CrafterRules:
        """Crafter's rules from its ``data.yaml`` (the same for every episode)."""
        return load_rules()

    def survival(self) -> CrafterSurvival:
        """Drink, food, energy, health and the night (``envs._crafter_survival``)."""
        return CrafterSurvival()

    def vocabulary(self) -> Vocabulary:
        """Item names, vitals, kinds and achievements from ``data.yaml``; never its
        requirement tables (those are the learned world model's answer key)."""
        rules = load_rules()
        return Vocabulary(
            items=tuple(rules.items),
            vitals=rules.vitals,
            kinds=tuple(k for k in KINDS if k not in ("player", "arrow", "unknown")),
            achievements=tuple(rules.achievements),
        )

    def goal_facts(self) -> dict[str, str]:
        """:data:`GOAL_FACTS`."""
        return GOAL_FACTS

    def skill_description(self, achievement: str) -> str:
        """From :data:`SKILL_DESCRIPTIONS`, else "Unlock <achievement> in Crafter."."""
        return SKILL_DESCRIPTIONS.get(achievement, f"Unlock {achievement} in Crafter.")

    def sees(self, info: dict[str, Any], kind: str) -> bool:
        """Whether `kind` is in the 9x7 local view."""
        view = info.get("local_view")
        return view is not None and bool((np.asarray(view) == kind).any())

    def next_to(
        self, env: CrafterEnv, target: str, placed: str | None = None
    ) -> list[tuple[int, int]]:
        """What stands next to a ``target`` (one of the 8 cells around: crafter's own
        'nearby' for tables and furnaces), read from the 9x7 local view only: the world cells
        of the ``placed`` kind in view with a ``target`` beside them, or (``placed`` None) the
        player's own cell when a ``target`` is beside it."""
        info = env.info
        view = np.asarray(info["local_view"])
        mats = np.asarray(info["local_materials"])
        px, py = info["player_pos"]
        cx, cy = VIEW[0] // 2, VIEW[1] // 2
        is_target = (view == target) | (mats == target)
        if placed is None:
            cells = [(cx, cy)]
        else:
            cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(mats == placed), strict=True)]
        out = []
        for i, j in cells:
            x0, y0 = max(i - 1, 0), max(j - 1, 0)
            around = is_target[x0 : i + 2, y0 : j + 2].copy()
            around[i - x0, j - y0] = False  # beside it, not the cell itself
            if around.any():
                out.append((px + i - cx, py + j - cy))
        return out

    def known_cells(self, env: CrafterEnv, kind: str) -> list[tuple[int, int]]:
        """The world cells of ``kind`` the player has seen (its memory, not the world map)."""
        return env.memory.positions(kind)

    def check_perception(self, info: dict[str, Any]) -> list[str]:
        """Only the 9x7 local view: no whole-world ``semantic``, no array past the view."""
        problems = super().check_perception(info)
        if "semantic" in info:
            problems.append("info['semantic'] is crafter's whole world (privileged)")
        view = info.get("local_view")
        if view is None or np.asarray(view).shape != VIEW:
            problems.append(f"info['local_view'] is not the {VIEW} local view")
        return problems


ADAPTER = CrafterAdapter()
"""Registered under the entry-point group ``mendako.envs`` as ``crafter``."""
