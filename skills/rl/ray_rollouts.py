"""PPO rollouts from environments on Ray actors; the learner stays in `skills.rl.ppo.train`.

:class:`RayVectorEnv` is a `gymnasium.vector.VectorEnv` whose ``num_envs`` subgoal envs live
on N Ray actors (worker processes, each holding M = num_envs / N of them, env ``i`` built
exactly as the local path builds it: `ppo._env_thunk(args, i)`). Each ``step`` sends every
actor its slice of the actions and gathers the results; the infos are assembled with
gymnasium's own ``_add_info`` in env order, with ``SyncVectorEnv``'s same-step autoreset,
so `train()` sees what a local ``SyncVectorEnv`` would give and, on the same seeds, learns
the same policy (the policy, its sampling and the update stay on the driver).

Why Ray actors and not RLlib: mendako's learner is `train()` (cleanrl-style, its curves,
checkpoints and skill folders); RLlib would replace that loop with its own algorithm,
config and checkpoint format. Actors around the existing loop change only where the envs
step.

A lost worker (killed process, lost node) is replaced, up to ``RETRIES`` times in a run:
its envs restart on fresh worlds (new seeds), the step that was lost returns each of them
as truncated with reward 0 and no episode statistics, so no episode is counted twice or
scored from a half; `restarts` and `lost_steps` say what happened.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import gymnasium as gym
import numpy as np

log = logging.getLogger(__name__)

RETRIES = 2
"""Worker replacements allowed in one run before training stops with an error."""
RESEED = 1_000_003
"""Seed offset of a replaced worker's envs (new worlds, not a replay of the lost ones)."""


class _EnvWorker:
    """M subgoal envs in one Ray worker process."""

    def __init__(self, args: dict[str, Any], indices: list[int]) -> None:
        import torch

        from skills.rl.ppo import PPOArgs, _env_thunk

        torch.set_num_threads(1)
        a = PPOArgs(**args)
        self.envs = [_env_thunk(a, i)() for i in indices]

    def reset(self, seeds: list[int]) -> list[tuple[Any, dict[str, Any]]]:
        return [env.reset(seed=s) for env, s in zip(self.envs, seeds, strict=True)]

    def step(self, actions: list[int]) -> list[tuple[Any, ...]]:
        out = []
        for env, a in zip(self.envs, actions, strict=True):
            obs, reward, term, trunc, info = env.step(a)
            final = None
            if term or trunc:
                final = (obs, info)
                obs, info = env.reset()
            out.append((obs, float(reward), bool(term), bool(trunc), info, final))
        return out

    def close(self) -> None:
        for env in self.envs:
            env.close()


class RayVectorEnv(gym.vector.VectorEnv):
    """``args.num_envs`` subgoal envs on ``workers`` Ray actors (see module docstring)."""

    def __init__(self, args: Any, workers: int, address: str | None = None) -> None:
        from skills import _ray

        ray = _ray.init(address or None, num_cpus=None if address else workers)
        self._ray = ray
        self._lost = _ray._lost_errors(ray)
        self._args = asdict(args)
        self.num_envs = args.num_envs
        workers = max(1, min(workers, self.num_envs))
        bounds = np.linspace(0, self.num_envs, workers + 1).round().astype(int)
        self._slices = [list(range(bounds[k], bounds[k + 1])) for k in range(workers)]
        self._actor = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_EnvWorker)
        self._actors = [self._actor.remote(self._args, s) for s in self._slices]
        from skills.rl.ppo import PPOArgs, _env_thunk

        probe = _env_thunk(PPOArgs(**self._args), 0)()  # the spaces, from one env built here
        self.single_observation_space = probe.observation_space
        self.single_action_space = probe.action_space
        probe.close()
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, self.num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}
        self.restarts: list[dict[str, Any]] = []
        self.lost_steps = 0
        self._seed = int(args.seed)

    # ------------------------------------------------------------------ VectorEnv API
    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is None:
            seed = self._seed
        seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else seed
        refs = [
            a.reset.remote([seeds[i] for i in s])
            for a, s in zip(self._actors, self._slices, strict=True)
        ]
        results = [r for part in self._ray.get(refs) for r in part]
        infos: dict[str, Any] = {}
        for i, (_, info) in enumerate(results):
            infos = self._add_info(infos, info, i)
        return np.stack([obs for obs, _ in results]), infos

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        acts = [int(a) for a in np.asarray(actions).reshape(-1)]
        refs = [
            a.step.remote([acts[i] for i in s])
            for a, s in zip(self._actors, self._slices, strict=True)
        ]
        results: list[tuple[Any, ...]] = []
        for k, ref in enumerate(refs):
            try:
                results.extend(self._ray.get(ref))
            except self._lost as e:
                results.extend(self._replace(k, e))
        obs = np.stack([r[0] for r in results])
        rewards = np.array([r[1] for r in results], dtype=np.float64)
        terms = np.array([r[2] for r in results], dtype=np.bool_)
        truncs = np.array([r[3] for r in results], dtype=np.bool_)
        infos: dict[str, Any] = {}
        for i, (_, _, _, _, info, final) in enumerate(results):
            if final is not None:
                infos = self._add_info(infos, {"final_obs": final[0], "final_info": final[1]}, i)
            infos = self._add_info(infos, info, i)
        return obs, rewards, terms, truncs, infos

    def close(self, **kwargs: Any) -> None:
        for a in self._actors:
            try:
                self._ray.kill(a)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self._actors = []

    # ------------------------------------------------------------------ lost workers
    def _replace(self, k: int, error: BaseException) -> list[tuple[Any, ...]]:
        """A new actor for slice `k` on fresh worlds; the lost step ends its envs' episodes."""
        from skills._ray import _one_line

        if len(self.restarts) >= RETRIES:
            raise RuntimeError(
                f"ray rollout worker {k} lost {len(self.restarts) + 1} times "
                f"(last: {_one_line(error)}); stopping"
            ) from error
        self.restarts.append({"worker": k, "envs": self._slices[k], "error": _one_line(error)})
        log.warning("ray rollout worker %d lost (%s): replaced", k, _one_line(error))
        try:
            self._ray.kill(self._actors[k])
        except Exception:  # noqa: BLE001 - already gone
            pass
        self._actors[k] = self._actor.remote(self._args, self._slices[k])
        n = len(self.restarts)
        seeds = [self._seed + i + RESEED * n for i in self._slices[k]]
        fresh = self._ray.get(self._actors[k].reset.remote(seeds))
        self.lost_steps += len(fresh)
        return [(obs, 0.0, False, True, {}, None) for obs, _ in fresh]
