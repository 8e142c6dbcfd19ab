"""Observation encoding for RL skills, and a fast fair Crafter base env for training.

## Observation (the choice)

A policy sees only what the player could see: the **fair semantic local view** (the 9x7
cells around the player that the 64x64 image shows, as crafter's semantic ids: 0 = outside
the world, 1-12 materials, 13-18 player/cow/zombie/skeleton/arrow/plant), one-hot encoded
into 19 planes, plus the **inventory** (16 items, each divided by its max of 9) and the
**facing** direction (one-hot over 4; the image shows it through the player's sprite, the
semantic ids do not). Flattened to one float32 vector of ``OBS_DIM = 19*9*7 + 16 + 4 = 1217``
values; :class:`skills.rl.policy.ActorCritic` reshapes the first part back into planes for
its convolution. Semantic ids rather than pixels because a small conv net learns from them in
minutes on a CPU; the information is the same as the image's (SPRING and ELLM compare on it).

``encode(info)`` works on any info dict that has ``local_view`` (shape 9x7, indexed ``[x, y]``,
of semantic ids or of cell names as ``envs.crafter`` writes them; a 7x9 ``[y, x]`` array is
transposed), ``inventory`` and ``facing`` — the fields of ``envs.crafter``'s info. Where
only ``semantic`` and ``player_pos`` are present (raw crafter), the local view is cropped
from them first.

## Base env for training (`FairCrafter`)

Crafter's ``reset()`` spends ~0.04 s in world generation (~0.7 s without numba), 40 steps'
worth, and subgoal episodes are short, so training would spend much of its time generating
worlds. ``FairCrafter`` is a thin adapter
over ``crafter.Env`` that (1) skips rendering the RGB frame (policies never read it) and
(2) keeps a small **pool of generated worlds**: a reset restores a deep copy of a pooled
world (~1 ms) with a fresh random state for the creatures, and only generates a new world
while the pool is filling or with probability ``fresh_world_prob``. Its info carries the same
fair fields as ``envs.crafter`` (``local_view``, ``inventory``, ``achievements``,
``player_pos``, ``facing``, ``step``); the full-map ``semantic`` is not exposed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import crafter
import gymnasium as gym
import numpy as np
from crafter import constants

VIEW = (9, 7)
"""Local view size (x, y) around the player: the cells the image shows."""
NUM_IDS = 1 + len(constants.materials) + 6
"""Semantic ids: 0 = outside, 12 materials, then player, cow, zombie, skeleton, arrow, plant."""
INVENTORY = tuple(constants.items)
"""Inventory keys in crafter's ``data.yaml`` order."""
INVENTORY_MAX = np.array([constants.items[k]["max"] for k in INVENTORY], np.float32)
FACINGS = ((-1, 0), (1, 0), (0, -1), (0, 1))
"""Facing directions, in the order of the one-hot (left, right, up, down)."""
GRID_DIM = NUM_IDS * VIEW[0] * VIEW[1]
OBS_DIM = GRID_DIM + len(INVENTORY) + len(FACINGS)
N_ACTIONS = len(constants.actions)

OBS_SPEC: dict[str, Any] = {
    "kind": "crafter_local_view_onehot_v1",
    "view": list(VIEW),
    "num_ids": NUM_IDS,
    "inventory": list(INVENTORY),
    "facings": [list(f) for f in FACINGS],
    "dim": OBS_DIM,
}
"""Saved with every policy so a loader can check it encodes observations the same way."""

_EYE = np.eye(NUM_IDS, dtype=np.float32)
_NAME_TO_ID: dict[str, int] = {
    "unknown": 0,
    **{m: i + 1 for i, m in enumerate(constants.materials)},
    **{
        o: 1 + len(constants.materials) + i
        for i, o in enumerate(("player", "cow", "zombie", "skeleton", "arrow", "plant"))
    },
}
"""``envs.crafter`` writes cell names; crafter's semantic map writes these ids."""


def crop_local_view(semantic: np.ndarray, pos: Any) -> np.ndarray:
    """The 9x7 ``[x, y]`` crop of a full semantic map around ``pos``; 0 outside the world."""
    out = np.zeros(VIEW, np.uint8)
    x0, y0 = int(pos[0]) - VIEW[0] // 2, int(pos[1]) - VIEW[1] // 2
    w, h = semantic.shape
    xs, ys = max(x0, 0), max(y0, 0)
    xe, ye = min(x0 + VIEW[0], w), min(y0 + VIEW[1], h)
    if xs < xe and ys < ye:
        out[xs - x0 : xe - x0, ys - y0 : ye - y0] = semantic[xs:xe, ys:ye]
    return out


def local_view_of(info: Mapping[str, Any]) -> np.ndarray:
    """The info's 9x7 ``[x, y]`` local view, from ``local_view`` or cropped from ``semantic``."""
    if "local_view" in info:
        view = np.asarray(info["local_view"])
        if view.shape == VIEW[::-1]:
            view = view.T
        if view.shape != VIEW:
            raise ValueError(f"local_view has shape {view.shape}, expected {VIEW}")
        if view.dtype.kind in "UO":  # cell names, as envs.crafter gives them
            view = np.array([_NAME_TO_ID.get(str(c), 0) for c in view.flat], np.uint8)
            view = view.reshape(VIEW)
        return view
    if "semantic" in info and "player_pos" in info:
        return crop_local_view(np.asarray(info["semantic"]), info["player_pos"])
    raise KeyError("info has neither 'local_view' nor 'semantic' + 'player_pos'")


def encode(info: Mapping[str, Any]) -> np.ndarray:
    """Encode one Crafter info dict into the policy's flat float32 observation vector."""
    view = np.clip(local_view_of(info).astype(np.int64), 0, NUM_IDS - 1)
    grid = _EYE[view].transpose(2, 0, 1).reshape(-1)  # planes-first, like a conv input
    inventory = info.get("inventory", {})
    inv = np.array([inventory.get(k, 0) for k in INVENTORY], np.float32) / INVENTORY_MAX
    facing = np.zeros(len(FACINGS), np.float32)
    f = info.get("facing")
    if f is not None:
        key = (int(f[0]), int(f[1]))
        if key in FACINGS:
            facing[FACINGS.index(key)] = 1.0
    return np.concatenate([grid, inv, facing])


def observation_space() -> gym.spaces.Box:
    """The gymnasium space of :func:`encode`'s output."""
    return gym.spaces.Box(0.0, 1.0, (OBS_DIM,), np.float32)


class FairCrafter(gym.Env):
    """Crafter without rendering and with a world pool; info has only the fair fields.

    ``step`` returns an empty observation (the frame is not rendered): read ``info``.
    Rewards are crafter's own. ``terminated`` on death, ``truncated`` at ``length`` steps.
    A seed reproduces a run. ``reset(seed=s, options={"keep_pool": True})`` reseeds only the
    restore randomness and keeps the pool: with a full pool it replays the same start
    (same world, same creature randomness) every time, as periodic evaluation needs.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        seed: int = 0,
        length: int = 10000,
        world_pool: int = 4,
        fresh_world_prob: float = 0.02,
    ) -> None:
        self._env = crafter.Env(seed=seed, length=length, reward=True)
        self._env._obs = lambda: _EMPTY  # skip the 64x64 render: ~3/4 of a step
        # crafter balances each chunk's objects in the order of a Python set, which depends
        # on memory addresses: same seed, different run. Sorting by cell (one object per
        # cell) makes a seed reproduce a run, as envs.crafter.CrafterEnv does.
        balance = self._env._balance_chunk
        self._env._balance_chunk = lambda chunk, objs: balance(
            chunk, sorted(objs, key=lambda o: (int(o.pos[0]), int(o.pos[1])))
        )
        self._rng = np.random.default_rng(seed)
        self._pool: list[Any] = []
        self.world_pool = world_pool
        self.fresh_world_prob = fresh_world_prob
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self.observation_space = gym.spaces.Box(0, 255, (0,), np.uint8)
        self.worlds_generated = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            if not (options and options.get("keep_pool")):
                self._env._seed = int(seed)
                self._pool.clear()
        env = self._env
        fresh = len(self._pool) < self.world_pool or self._rng.random() < self.fresh_world_prob
        if fresh:
            env.reset()
            self.worlds_generated += 1
            snap = copy.deepcopy((env._world, env._player))
            if len(self._pool) < self.world_pool:
                self._pool.append(snap)
            else:
                self._pool[int(self._rng.integers(len(self._pool)))] = snap
        else:
            world, player = copy.deepcopy(self._pool[int(self._rng.integers(len(self._pool)))])
            world.random = np.random.RandomState(int(self._rng.integers(2**31 - 1)))
            env._world, env._player = world, player
            env._step = 0
            env._episode += 1
            env._unlocked = set()
            env._last_health = player.health
            env._update_time()
            # crafter's views hold a reference to the world they draw
            env._local_view._world = world
            env._sem_view._world = world
        return _EMPTY, self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        _, reward, done, _ = self._env.step(int(action))
        dead = self._env._player.health <= 0
        return _EMPTY, float(reward), bool(dead), bool(done and not dead), self._info()

    def _info(self) -> dict[str, Any]:
        env, player = self._env, self._env._player
        return {
            "inventory": dict(player.inventory),
            "achievements": dict(player.achievements),
            "local_view": crop_local_view(_semantic(env), player.pos),
            "player_pos": tuple(int(v) for v in player.pos),
            "facing": tuple(int(v) for v in player.facing),
            "step": int(env._step),
        }


_EMPTY = np.zeros((0,), np.uint8)


def _semantic(env: crafter.Env) -> np.ndarray:
    # Only the 9x7 crop is used, but crafter only offers the whole map: build it once per step.
    return env._sem_view()
