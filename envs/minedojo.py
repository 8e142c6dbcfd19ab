"""MineDojo (Fan et al. 2022) behind mendako's env interface: task prompts as goals, its
documented observation as text, its ``MultiDiscrete(8)`` action as named primitives.

MineDojo cannot start on an offline machine: its only release pins ``gym==0.21.0`` and its
first launch builds Minecraft with Gradle, downloading Forge and the game, under JDK 8.
:func:`make` therefore fails with :class:`MineDojoUnavailable` (a ValueError: the CLI shows
its one line) when ``minedojo`` cannot be imported. The translation code (observation ->
text, primitive -> action vector) needs no simulator and is tested against hand-made dicts
shaped like the documented spaces (docs.minedojo.org, "Observation Space", "Action Space").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs._errors import BudgetExhausted, EpisodeOver, SkillStop
from envs.contract import EnvAdapter

__all__ = [
    "ADAPTER",
    "ACTION_NVEC",
    "FUNCTIONAL",
    "INSTALL_HINT",
    "MineDojoAPI",
    "MineDojoEnv",
    "MineDojoUnavailable",
    "describe",
    "load_rules",
    "make",
    "make_api",
    "primitive",
]

INSTALL_HINT = (
    "MineDojo is not installed: it needs JDK 8 (e.g. `apt install openjdk-8-jdk`, "
    "JAVA_HOME set) and `pip install minedojo` (which pins gym==0.21.0: use a separate "
    "Python 3.9 env), and its first launch downloads and builds Minecraft (network needed)"
)
ACTION_NVEC = (3, 3, 4, 25, 25, 8, 244, 36)
"""MineDojo's ``MultiDiscrete`` action: forward/back, left/right, jump/sneak/sprint, camera
pitch (25 bins of 15 degrees, 12 = no change), camera yaw (same), functional action,
craft argument (item index), inventory-slot argument (equip/place/destroy)."""
FUNCTIONAL = ("noop", "use", "drop", "attack", "craft", "equip", "place", "destroy")
CAMERA_NOOP = 12
KINDS: tuple[str, ...] = ()
"""Minecraft has hundreds of block kinds; seen ones come from the voxels at run time."""


class MineDojoUnavailable(ValueError):
    """MineDojo (or its Minecraft build) is not available on this machine."""


# ---------------------------------------------------------------------- actions
def primitive(name: str, arg: int = 0) -> np.ndarray:
    """The action vector of a named primitive.

    Movement: ``noop``, ``forward``, ``back``, ``strafe_left``, ``strafe_right``, ``jump``,
    ``sneak``, ``sprint``, ``forward_jump``; camera: ``look_up``, ``look_down``,
    ``turn_left``, ``turn_right`` (one 15-degree bin; ``arg`` bins if given); functional:
    ``use``, ``drop``, ``attack``, ``craft`` (``arg`` = craft item index), ``equip``,
    ``place``, ``destroy`` (``arg`` = inventory slot).
    """
    a = np.array([0, 0, 0, CAMERA_NOOP, CAMERA_NOOP, 0, 0, 0], dtype=np.int64)
    moves = {
        "noop": {},
        "forward": {0: 1},
        "back": {0: 2},
        "strafe_left": {1: 1},
        "strafe_right": {1: 2},
        "jump": {2: 1},
        "sneak": {2: 2},
        "sprint": {2: 3},
        "forward_jump": {0: 1, 2: 1},
    }
    camera = {"look_up": (3, -1), "look_down": (3, 1), "turn_left": (4, -1), "turn_right": (4, 1)}
    if name in moves:
        for i, v in moves[name].items():
            a[i] = v
    elif name in camera:
        i, sign = camera[name]
        a[i] = int(np.clip(CAMERA_NOOP + sign * max(1, arg), 0, ACTION_NVEC[i] - 1))
    elif name in FUNCTIONAL:
        a[5] = FUNCTIONAL.index(name)
        if name == "craft":
            a[6] = _check(arg, 6)
        elif name in ("equip", "place", "destroy"):
            a[7] = _check(arg, 7)
    else:
        raise ValueError(f"unknown MineDojo primitive {name!r}")
    return a


def _check(arg: int, i: int) -> int:
    if not 0 <= int(arg) < ACTION_NVEC[i]:
        raise ValueError(
            f"argument {arg} out of range for action slot {i} (0..{ACTION_NVEC[i] - 1})"
        )
    return int(arg)


# ---------------------------------------------------------------------- observation -> text
def _name(x: Any) -> str:
    return str(x).replace(" ", "_").lower()


def inventory(obs: dict[str, Any]) -> dict[str, int]:
    """Item name -> total quantity from ``obs["inventory"]`` (36 slots; ``air`` = empty)."""
    inv = obs.get("inventory") or {}
    out: dict[str, int] = {}
    for name, qty in zip(inv.get("name", []), inv.get("quantity", []), strict=False):
        key = _name(name)
        if key != "air" and int(qty) > 0:
            out[key] = out.get(key, 0) + int(qty)
    return out


_LAYERS = ("below", "level", "above")


def voxel_text(block_name: Any) -> str:
    """The 3x3x3 blocks around the agent (``voxels.block_name``, indexed ``[x, y, z]`` with
    ``y`` up and the agent at the centre) as a short list: what is below, level and above."""
    v = np.asarray(block_name)
    parts = []
    for y, layer in enumerate(_LAYERS):
        kinds: dict[str, int] = {}
        for x in range(v.shape[0]):
            for z in range(v.shape[2]):
                if (x, y, z) == (1, 1, 1):
                    continue
                k = _name(v[x, y, z])
                if k != "air":
                    kinds[k] = kinds.get(k, 0) + 1
        if kinds:
            items = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in sorted(kinds.items()))
            parts.append(f"{layer}: {items}")
    return "; ".join(parts) if parts else "only air around you"


def describe(obs: Any, info: dict[str, Any] | None = None, memory: Any = None) -> str:
    """MineDojo's observation as text: vitals, position, nearby blocks, inventory, tools."""
    del memory
    o = obs if obs is not None else (info or {}).get("obs", {})
    parts = []
    life = o.get("life_stats") or {}
    if life:
        vit = [
            f"{k} {float(np.asarray(life[k]).ravel()[0]):g}"
            for k in ("life", "food", "oxygen")
            if k in life
        ]
        parts.append("Vitals: " + ", ".join(vit) + ".")
    loc = o.get("location_stats") or {}
    if "pos" in loc:
        x, y, z = (float(v) for v in np.asarray(loc["pos"]).ravel()[:3])
        facing = ""
        if "yaw" in loc:
            facing = f", yaw {float(np.asarray(loc['yaw']).ravel()[0]):.0f}"
            facing += f" pitch {float(np.asarray(loc.get('pitch', 0)).ravel()[0]):.0f}"
        parts.append(f"You are at x={x:.0f} y={y:.0f} z={z:.0f}{facing}.")
        if "biome_id" in loc:
            parts.append(f"Biome {int(np.asarray(loc['biome_id']).ravel()[0])}.")
    vox = o.get("voxels") or {}
    if "block_name" in vox:
        parts.append("Blocks around you: " + voxel_text(vox["block_name"]) + ".")
    inv = inventory(o)
    parts.append(
        "Inventory: " + (", ".join(f"{k} {n}" for k, n in inv.items()) if inv else "nothing") + "."
    )
    tools = o.get("nearby_tools") or {}
    near = [k for k, v in tools.items() if bool(np.asarray(v).any())]
    if near:
        parts.append("Nearby: " + ", ".join(near) + ".")
    return " ".join(parts)


# ---------------------------------------------------------------------- env + api
class MineDojoEnv:
    """A live MineDojo task wrapped to mendako's interface (needs ``minedojo``).

    ## Mission Space
    The task's prompt (``env.task_prompt``), e.g. "harvest milk with an empty bucket".

    ## Action Space
    ``MultiDiscrete([3, 3, 4, 25, 25, 8, 244, 36])`` (see :data:`ACTION_NVEC`); skills use
    :func:`primitive` names.

    ## Rewards
    The task's own (programmatic tasks: success check built into MineDojo).
    """

    def __init__(self, inner: Any) -> None:
        self._env = inner
        self.action_log: list[Any] = []
        self.episode_over = False
        self.memory = None
        self.rules = None
        self._info: dict[str, Any] = {}

    @property
    def mission(self) -> str:
        """The task prompt."""
        return str(getattr(self._env, "task_prompt", ""))

    @property
    def info(self) -> dict[str, Any]:
        """Latest observation (as ``obs``), inventory and task success (``achievements``)."""
        return dict(self._info)

    def reset(self, *, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        """Start an episode (MineDojo seeds the world at ``make``)."""
        obs = self._env.reset()
        self.action_log, self.episode_over = [], False
        self._info = {"obs": obs, "inventory": inventory(obs), "achievements": {"task": 0}}
        return obs, self.info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """One action vector; gym 0.21's 4-tuple is mapped to gymnasium's 5-tuple."""
        obs, reward, done, raw = self._env.step(np.asarray(action))
        self.action_log.append(np.asarray(action).tolist())
        self.episode_over = bool(done)
        success = bool(raw.get("success", False)) if isinstance(raw, dict) else False
        self._info = {
            "obs": obs,
            "inventory": inventory(obs),
            "achievements": {"task": int(success)},
        }
        return obs, float(reward), success, bool(done and not success), self.info


class MineDojoAPI:
    """Named primitives for code skills, each one env step against a budget."""

    def __init__(self, env: MineDojoEnv, budget: int, need: dict[str, int] | None = None) -> None:
        self.env, self.budget, self.need, self.steps_used = env, int(budget), dict(need or {}), 0

    def act(self, name: str, arg: int = 0) -> None:
        """Take primitive ``name`` (see :func:`primitive`)."""
        if self.env.episode_over:
            raise EpisodeOver("the episode is over")
        if self.steps_used >= self.budget:
            raise BudgetExhausted(f"spent the budget of {self.budget} steps")
        self.steps_used += 1
        self.env.step(primitive(name, arg))


def make(
    env_id: str = "minedojo",
    *,
    seed: int = 0,
    task_id: str = "harvest_milk",
    image_size: tuple[int, int] = (160, 256),
    goal: str | None = None,
) -> MineDojoEnv:
    """``minedojo.make(task_id=..., image_size=..., seed=...)`` wrapped; ``env_id`` may name
    the task (``minedojo:harvest_wool_with_shears_and_sheep``). Raises
    :class:`MineDojoUnavailable` with what to install when MineDojo is missing."""
    del goal  # MineDojo's goal is its task prompt; the planner reads the run's goal
    _, _, suffix = env_id.partition(":")
    try:
        import minedojo
    except ImportError:
        raise MineDojoUnavailable(INSTALL_HINT) from None
    try:
        inner = minedojo.make(task_id=suffix or task_id, image_size=image_size, seed=seed)
    except Exception as exc:  # Java/Gradle failures surface as assorted errors
        raise MineDojoUnavailable(f"MineDojo failed to start: {exc}. {INSTALL_HINT}") from None
    return MineDojoEnv(inner)


def load_rules() -> None:
    """MineDojo tasks carry their own success checks; there is no rules table here."""
    return None


def make_api(env: MineDojoEnv, *, budget: int, need: dict[str, int] | None = None) -> MineDojoAPI:
    """The primitive API a code skill gets for one execution."""
    return MineDojoAPI(env, budget, need)


__all__ += ["BudgetExhausted", "EpisodeOver", "SkillStop"]


# ---------------------------------------------------------------------- the adapter
class MineDojoAdapter(EnvAdapter):
    """MineDojo behind mendako's env contract; :meth:`make` raises
    :class:`MineDojoUnavailable` where MineDojo cannot start (offline machines)."""

    name = "minedojo"
    summary = "MineDojo (Minecraft); needs JDK 8 and a network at first start"
    title = "MineDojo"

    def make(self, env_id: str = "minedojo", *, seed: int = 0, goal: str | None = None) -> Any:
        """See :func:`make`."""
        return make(env_id, seed=seed, goal=goal)

    def describe(self, env: MineDojoEnv) -> str:
        """See :func:`describe`."""
        return describe(None, env.info, env.memory)

    def make_api(
        self, env: MineDojoEnv, *, budget: int, need: dict[str, int] | None = None
    ) -> MineDojoAPI:
        """See :func:`make_api`."""
        return make_api(env, budget=budget, need=need)

    @property
    def api_class(self) -> type:
        """:class:`MineDojoAPI`."""
        return MineDojoAPI

    def rules(self, env: MineDojoEnv | None = None) -> None:
        """MineDojo tasks carry their own success checks: no rules table."""
        return None


ADAPTER = MineDojoAdapter()
"""Registered under the entry-point group ``mendako.envs`` as ``minedojo``."""
