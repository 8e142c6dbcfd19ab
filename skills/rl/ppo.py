"""PPO for one subgoal, trained on the verifier's reward (ELLM), cleanrl-style in one file.

``train(PPOArgs(achievement="collect_wood"))`` trains an :class:`~skills.rl.policy.ActorCritic`
and writes a skill folder (``policy.pt``, ``meta.json``, ``curve.csv``) whose path it returns.

## Episodes

A *subgoal episode* starts from the current state, gets reward 1 on the step the verifier
sees the subgoal's achievement unlocked (``reward="verifier"``; ``"sparse"`` gives Crafter's
own reward instead, the baseline) and ends there, or after ``max_episode_steps``, or when the
player dies. Crafter's world generation costs ~0.04 s with numba (~0.7 s without), still
40 times a 1 ms step, so two things keep resets rare:

- **the world continues between subgoal episodes**: after a success or a timeout the next
  subgoal episode starts where the player stands, in the same world (the verifier compares
  consecutive infos, so the achievement baseline moves with it). This also gives varied
  start states (warm starts) for free;
- with probability ``restart_prob`` (and always after death or the world's length), the
  next episode starts at the spawn point of a world from a small per-env **pool** of
  generated worlds, restored by deep copy in ~1 ms (:class:`skills.rl._obs.FairCrafter`);
  a new world joins the pool with probability ``fresh_world_prob``. Only these "fresh"
  starts count in ``charts/success_rate_fresh``, the honest figure: continued episodes can
  be trivially easy (the player still faces the tree it just cut).

Time-outs are treated as terminal (no bootstrapping, as cleanrl does), which is what makes
``V(s)`` read as the (discounted) probability of success within the horizon.

Final evaluation: ``eval_episodes`` episodes, each in a newly generated world from seeds the
training never used, starting at the spawn point.

Periodic evaluation (``eval_every > 0``): every ``eval_every`` iterations and after the last
one, the current policy, sampling its actions as the skill does at run time, plays
``eval_episodes_periodic`` subgoal episodes, each from the spawn point of its own world (seeds
``seed + 200_000 + k``, generated once; every evaluation replays the same starts, creature
randomness and action-sampling seed included, whatever the reward kind), capped at
``max_episode_steps``. The metrics of that iteration then carry ``charts/eval_success``,
``charts/eval_length`` and ``charts/eval_env_steps``. Unlike ``charts/success_rate_fresh`` it
measures the policy of now, not of the last ~10k steps. Evaluation steps are *not* counted in
``global_step``, which counts training samples only (the usual convention: cleanrl, SB3's
``EvalCallback``).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import shlex
import shutil
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
from torch import nn, optim

from envs.registry import UnknownEnvError, adapter
from skills.rl import _obs
from skills.rl.policy import ActorCritic, load
from skills.rl.rewards import LanguageReward, Shaping, achieved, make_reward

log = logging.getLogger(__name__)

__all__ = ["PPOArgs", "SubgoalEnv", "evaluate", "main", "train", "update_from_experience"]

VERSION = 1

@dataclass(frozen=True, kw_only=True)
class PPOArgs:
    """Settings of one PPO run (cleanrl's ``Args``)."""

    achievement: str = "collect_wood"
    """The subgoal: the achievement whose unlocking the verifier rewards."""
    env_id: str = "crafter"
    """``"crafter"`` (the fast fair adapter), or any registered gymnasium id whose info has
    Crafter's fields (``achievements``, ``inventory``, ``local_view``, ``facing``)."""
    seed: int = 1
    """Seeds torch, numpy and the envs (env i gets ``seed + i``)."""
    total_steps: int = 300_000
    """Environment steps over all envs."""
    num_envs: int = 8
    """Parallel environments."""
    num_steps: int = 128
    """Steps per env per rollout."""
    lr: float = 2.5e-4
    """Adam learning rate (annealed linearly to 0 if ``anneal_lr``)."""
    anneal_lr: bool = True
    """Anneal the learning rate over the run."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip: float = 0.2
    """PPO surrogate clipping coefficient."""
    ent_coef: float = 0.01
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient clipping norm."""
    epochs: int = 4
    """Optimisation epochs per rollout."""
    minibatches: int = 4
    """Minibatches per epoch."""
    reward: str = "verifier"
    """``"verifier"``: 1 when the subgoal is verified (ELLM); ``"shaped"``: that plus
    potential-based shaping by the verifier's progress measure; ``"sparse"``: Crafter's
    reward; the language kinds (``rewards.LANGUAGE_KINDS``) come from ``agents.rewards``."""
    reward_options: tuple[tuple[str, str], ...] = ()
    """For the language kinds: ``(name, value)`` options of their reward model (``llm``: a
    backend spec, ``behaviour``: the words of good behaviour, ``manual``: a manual file,
    ``clip_weights``: a local CLIP folder); see ``agents.rewards.make_reward_model``."""
    language_reward: LanguageReward | None = None
    """For the language kinds: the function that builds their reward
    (``agents.rewards.transition_reward``, which ``mendako skills learn`` passes; a module-level
    function, so it reaches Ray actors by name). Recorded in meta.json by its dotted name."""
    shaping_scale: float = Shaping.scale
    """For ``reward="shaped"``: the potential's range ``[0, scale]`` (``rewards.Shaping``)."""
    max_episode_steps: int = 200
    """Step budget of one subgoal attempt."""
    restart_prob: float = 0.25
    """Chance that a subgoal episode starts at the spawn of a pooled world, not where the
    last one ended."""
    world_pool: int = 4
    """Generated worlds kept per env for cheap restarts."""
    fresh_world_prob: float = 0.02
    """Chance that a restart generates a new world (~0.04 s) instead of restoring one (~1 ms)."""
    vector: Literal["sync", "async"] = "sync"
    """``gymnasium.vector`` backend. Measured on 2 shared cores, 8 envs, random actions:
    sync 1,430-1,450 env steps/s, async 1,190-1,685: no reliable gain, so sync."""
    torch_threads: int = 1
    """torch intra-op threads (the machine is shared)."""
    eval_episodes: int = 20
    """Final evaluation episodes, each in a new world (0 to skip)."""
    eval_every: int = 0
    """Evaluate the current policy every this many iterations (0: never; see module doc)."""
    eval_episodes_periodic: int = 20
    """Episodes per periodic evaluation, one per fixed evaluation world."""
    stop_at_success: float | None = None
    """Stop early once the success measure reaches this: ``charts/eval_success`` if
    ``eval_every > 0``, else ``charts/success_rate_fresh`` over a full window."""
    out_dir: str | None = None
    """Skill folder to write; default ``$MENDAKO_HOME/runs/<run_name>``."""
    log_every: int = 1
    """Log metrics every this many iterations."""
    ray: str | None = None
    """Step the envs on Ray actors (`skills.rl.ray_rollouts`): ``""`` for a local Ray
    instance, else the cluster's address; None: in this process."""
    ray_workers: int = 2
    """With ``ray``: actors (worker processes), each holding ``num_envs / ray_workers`` envs."""

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.minibatches

    @property
    def run_name(self) -> str:
        return f"{self.env_id}__{self.achievement}__{self.reward}__{self.seed}"


# ----------------------------------------------------------------------------- environment
class SubgoalEnv(gym.Env):
    """One subgoal as an episodic task over a Crafter-like base env (see module docstring).

    Observations are :func:`skills.rl._obs.encode` vectors. The info of an episode's last
    step carries ``ep_return``, ``ep_length``, ``ep_success`` and ``ep_fresh``.
    """

    def __init__(
        self,
        base: gym.Env,
        achievement: str,
        *,
        reward: str = "verifier",
        max_episode_steps: int = 200,
        restart_prob: float = 0.25,
        seed: int = 0,
        shaping: Shaping | None = None,
        reward_options: tuple[tuple[str, str], ...] = (),
        language_reward: LanguageReward | None = None,
    ) -> None:
        self.base = base
        self.achievement = achievement
        self.reward_fn = make_reward(
            reward, achievement, shaping=shaping, language=language_reward, **dict(reward_options)
        )
        # the clip reward reads the frame, which the fast base env does not render per step
        self._frames = reward == "clip"
        self.max_episode_steps = max_episode_steps
        self.restart_prob = restart_prob
        self.observation_space = _obs.observation_space()
        self.action_space = base.action_space
        self._rng = np.random.default_rng(seed)
        self._info: dict[str, Any] | None = None
        self._base_over = True
        self._t = 0
        self._ret = 0.0
        self._fresh = True

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        fresh = (
            seed is not None
            or self._base_over
            or self._info is None
            or bool(options and options.get("fresh"))
            or self._rng.random() < self.restart_prob
        )
        if fresh:
            _, self._info = self.base.reset(seed=seed)
            self._base_over = False
        assert self._info is not None
        self.reward_fn.reset(self._info)
        self._t, self._ret, self._fresh = 0, 0.0, fresh
        return _obs.encode(self._info), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        assert self._info is not None, "call reset() first"
        _, _, dead, over, info = self.base.step(int(action))
        if self._frames:
            # the Crafter-like base's own crafter.Env draws it (not part of gymnasium's Env)
            info = {**info, "frame": self.base.unwrapped._env.render()}  # type: ignore[attr-defined]
        success = achieved(self.achievement, self._info, info)
        reward = self.reward_fn(self._info, info)
        self._info = info
        self._t += 1
        self._ret += reward
        self._base_over = bool(dead or over)
        terminated = bool(success or dead)
        truncated = not terminated and (self._t >= self.max_episode_steps or bool(over))
        out: dict[str, Any] = {}
        if terminated or truncated:
            out = {
                "ep_return": self._ret,
                "ep_length": self._t,
                "ep_success": float(success),
                "ep_fresh": float(self._fresh),
            }
        return _obs.encode(info), reward, terminated, truncated, out

    @property
    def info(self) -> dict[str, Any] | None:
        """The base env's last info."""
        return self._info


def make_base(env_id: str, seed: int, args: PPOArgs | None = None) -> gym.Env:
    """The base env: the fast fair Crafter adapter for ``"crafter"``, else ``gym.make``."""
    if env_id == "crafter":
        a = args or PPOArgs()
        return _obs.FairCrafter(
            seed=seed, world_pool=a.world_pool, fresh_world_prob=a.fresh_world_prob
        )
    return gym.make(env_id)


def _env_thunk(args: PPOArgs, idx: int) -> Callable[[], gym.Env]:
    def thunk() -> gym.Env:
        base = make_base(args.env_id, args.seed + idx, args)
        return SubgoalEnv(
            base,
            args.achievement,
            reward=args.reward,
            max_episode_steps=args.max_episode_steps,
            restart_prob=args.restart_prob,
            seed=args.seed + idx,
            shaping=Shaping(scale=args.shaping_scale),
            reward_options=args.reward_options,
            language_reward=args.language_reward,
        )

    return thunk


def make_vector_env(args: PPOArgs) -> gym.vector.VectorEnv:
    """``num_envs`` subgoal envs, autoreset in the same step (cleanrl's convention)."""
    if args.ray is not None:  # the same envs on Ray actors; the learner stays here
        from skills.rl.ray_rollouts import RayVectorEnv

        return RayVectorEnv(args, args.ray_workers, args.ray)
    thunks = [_env_thunk(args, i) for i in range(args.num_envs)]
    mode = gym.vector.AutoresetMode.SAME_STEP
    if args.vector == "async":
        return gym.vector.AsyncVectorEnv(thunks, autoreset_mode=mode, shared_memory=False)
    return gym.vector.SyncVectorEnv(thunks, autoreset_mode=mode)


class PeriodicEval:
    """Subgoal episodes from the spawns of fixed worlds, replayed identically at each call.

    The worlds are generated once (seeds ``args.seed + 200_000 + k``); a call restores each
    world's start, runs all episodes side by side with one batched forward pass per step and
    samples actions from a generator reseeded every call, so two calls differ only by policy.
    """

    def __init__(self, args: PPOArgs) -> None:
        self.args = args
        self.seeds = [args.seed + 200_000 + k for k in range(args.eval_episodes_periodic)]
        one_world = dataclasses.replace(args, world_pool=1, fresh_world_prob=0.0)
        self.bases = [make_base(args.env_id, s, one_world) for s in self.seeds]
        for base, s in zip(self.bases, self.seeds, strict=True):
            base.reset(seed=s)  # generates the world; later resets restore it

    @torch.no_grad()
    def __call__(self, agent: ActorCritic) -> dict[str, float]:
        args, n = self.args, len(self.bases)
        infos = [
            b.reset(seed=s, options={"keep_pool": True})[1]
            for b, s in zip(self.bases, self.seeds, strict=True)
        ]
        gen = torch.Generator().manual_seed(args.seed + 200_000)
        active, wins, steps = list(range(n)), 0, 0
        lengths = [float(args.max_episode_steps)] * n
        for t in range(args.max_episode_steps):
            if not active:
                break
            x = torch.as_tensor(np.stack([_obs.encode(infos[i]) for i in active]))
            acts = torch.multinomial(agent.action_probs(x), 1, generator=gen)[:, 0].tolist()
            still = []
            for i, a in zip(active, acts, strict=True):
                _, _, dead, over, info = self.bases[i].step(int(a))
                steps += 1
                success = achieved(args.achievement, infos[i], info)
                infos[i] = info
                if success or dead or over:
                    wins += int(success)
                    lengths[i] = float(t + 1)
                else:
                    still.append(i)
            active = still
        return {
            "charts/eval_success": wins / max(n, 1),
            "charts/eval_length": float(np.mean(lengths)) if lengths else float("nan"),
            "charts/eval_env_steps": float(steps),
        }

    def close(self) -> None:
        for base in self.bases:
            base.close()


# ----------------------------------------------------------------------------- training
def _ppo_update(
    agent: ActorCritic,
    optimizer: optim.Optimizer,
    args: PPOArgs,
    b_obs: torch.Tensor,
    b_actions: torch.Tensor,
    b_logprobs: torch.Tensor,
    b_advantages: torch.Tensor,
    b_returns: torch.Tensor,
    b_values: torch.Tensor,
    minibatch_size: int,
) -> dict[str, float]:
    n = b_obs.shape[0]
    b_inds = np.arange(n)
    clipfracs: list[float] = []
    stats: dict[str, float] = {}
    for _ in range(args.epochs):
        np.random.shuffle(b_inds)
        for start in range(0, n, minibatch_size):
            mb = b_inds[start : start + minibatch_size]
            _, newlogprob, entropy, newvalue = agent.get_action_and_value(
                b_obs[mb], b_actions.long()[mb]
            )
            logratio = newlogprob - b_logprobs[mb]
            ratio = logratio.exp()
            with torch.no_grad():
                old_approx_kl = (-logratio).mean()
                approx_kl = ((ratio - 1) - logratio).mean()
                clipfracs.append(((ratio - 1.0).abs() > args.clip).float().mean().item())
            mb_adv = b_advantages[mb]
            if len(mb) > 1:
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
            pg_loss = torch.max(
                -mb_adv * ratio, -mb_adv * torch.clamp(ratio, 1 - args.clip, 1 + args.clip)
            ).mean()
            newvalue = newvalue.view(-1)
            v_unclipped = (newvalue - b_returns[mb]) ** 2
            v_clipped = b_values[mb] + torch.clamp(newvalue - b_values[mb], -args.clip, args.clip)
            v_loss = 0.5 * torch.max(v_unclipped, (v_clipped - b_returns[mb]) ** 2).mean()
            entropy_loss = entropy.mean()
            loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
            optimizer.step()
            stats = {
                "losses/value_loss": v_loss.item(),
                "losses/policy_loss": pg_loss.item(),
                "losses/entropy": entropy_loss.item(),
                "losses/old_approx_kl": old_approx_kl.item(),
                "losses/approx_kl": approx_kl.item(),
            }
    y_pred, y_true = b_values.numpy(), b_returns.numpy()
    var_y = np.var(y_true)
    stats["losses/clipfrac"] = float(np.mean(clipfracs)) if clipfracs else 0.0
    stats["losses/explained_variance"] = (
        float("nan") if var_y == 0 else float(1 - np.var(y_true - y_pred) / var_y)
    )
    return stats


def _gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    next_value: torch.Tensor,
    next_done: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """cleanrl's GAE; ``dones[t]`` marks that the state at ``t`` starts a new episode."""
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    lastgaelam = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        if t == steps - 1:
            nextnonterminal, nextvalues = 1.0 - next_done, next_value
        else:
            nextnonterminal, nextvalues = 1.0 - dones[t + 1], values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        lastgaelam = delta + gamma * lam * nextnonterminal * lastgaelam
        advantages[t] = lastgaelam
    return advantages, advantages + values


def train(args: PPOArgs, progress: Callable[[dict[str, float]], None] | None = None) -> Path:
    """Train a policy for ``args.achievement``; returns the skill folder it wrote.

    ``progress`` receives each iteration's metrics (``charts/*``, ``losses/*``; the
    ``charts/eval_*`` ones only on periodic-evaluation iterations). Ctrl-C stops training
    and still saves a usable checkpoint.
    """
    out = Path(args.out_dir) if args.out_dir else _default_out(args)
    torch.set_num_threads(args.torch_threads)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = True

    envs = make_vector_env(args)
    periodic = PeriodicEval(args) if args.eval_every > 0 else None
    agent = ActorCritic()
    optimizer = optim.Adam(agent.parameters(), lr=args.lr, eps=1e-5)
    n_iter = max(1, args.total_steps // args.batch_size)

    obs = torch.zeros((args.num_steps, args.num_envs, _obs.OBS_DIM))
    actions = torch.zeros((args.num_steps, args.num_envs))
    logprobs = torch.zeros((args.num_steps, args.num_envs))
    rewards = torch.zeros((args.num_steps, args.num_envs))
    dones = torch.zeros((args.num_steps, args.num_envs))
    values = torch.zeros((args.num_steps, args.num_envs))

    successes: deque[float] = deque(maxlen=100)
    fresh_successes: deque[float] = deque(maxlen=50)
    returns_window: deque[float] = deque(maxlen=100)
    curve: list[dict[str, float]] = []
    steps_to: dict[str, int | None] = {"0.5": None, "0.8": None}
    global_step = 0
    start = time.time()
    interrupted = False
    t_env = t_eval = 0.0

    next_obs_np, _ = envs.reset(seed=args.seed)
    next_obs = torch.as_tensor(next_obs_np, dtype=torch.float32)
    next_done = torch.zeros(args.num_envs)
    log.info("ppo %s: %d iterations of %d steps", args.run_name, n_iter, args.batch_size)
    try:
        for iteration in range(1, n_iter + 1):
            if args.anneal_lr:
                optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / n_iter) * args.lr
            ep_returns: list[float] = []
            ep_lengths: list[float] = []
            for step in range(args.num_steps):
                global_step += args.num_envs
                obs[step] = next_obs
                dones[step] = next_done
                with torch.no_grad():
                    action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
                actions[step] = action
                logprobs[step] = logprob
                t0 = time.time()
                next_obs_np, reward, term, trunc, infos = envs.step(action.numpy())
                t_env += time.time() - t0
                rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
                next_obs = torch.as_tensor(next_obs_np, dtype=torch.float32)
                next_done = torch.as_tensor(np.logical_or(term, trunc), dtype=torch.float32)
                final = infos.get("final_info")
                if final is not None and "ep_success" in final:
                    for i in np.flatnonzero(final["_ep_success"]):
                        s = float(final["ep_success"][i])
                        successes.append(s)
                        if final["ep_fresh"][i]:
                            fresh_successes.append(s)
                        ep_returns.append(float(final["ep_return"][i]))
                        ep_lengths.append(float(final["ep_length"][i]))
                        returns_window.append(float(final["ep_return"][i]))

            with torch.no_grad():
                next_value = agent.value(next_obs).reshape(1, -1)[0]
            advantages, returns = _gae(
                rewards, values, dones, next_value, next_done, args.gamma, args.gae_lambda
            )
            stats = _ppo_update(
                agent,
                optimizer,
                args,
                obs.reshape(-1, _obs.OBS_DIM),
                actions.reshape(-1),
                logprobs.reshape(-1),
                advantages.reshape(-1),
                returns.reshape(-1),
                values.reshape(-1),
                args.minibatch_size,
            )
            elapsed = time.time() - start
            fresh_rate = float(np.mean(fresh_successes)) if fresh_successes else 0.0
            full = len(fresh_successes) == fresh_successes.maxlen
            for key in steps_to:
                if steps_to[key] is None and full and fresh_rate >= float(key):
                    steps_to[key] = global_step
            metrics: dict[str, float] = {
                "global_step": float(global_step),
                "charts/episodic_return": _mean(ep_returns),
                "charts/episodic_length": _mean(ep_lengths),
                "charts/episodes": float(len(ep_returns)),
                "charts/success_rate": float(np.mean(successes)) if successes else 0.0,
                "charts/success_rate_fresh": fresh_rate,
                "charts/fresh_episodes_in_window": float(len(fresh_successes)),
                "charts/learning_rate": float(optimizer.param_groups[0]["lr"]),
                "charts/SPS": global_step / elapsed,
                "charts/env_SPS": global_step / max(t_env, 1e-9),
                **stats,
            }
            if periodic is not None and (iteration % args.eval_every == 0 or iteration == n_iter):
                t0 = time.time()
                metrics.update(periodic(agent))
                t_eval += time.time() - t0
                metrics["charts/eval_s"] = t_eval
                log.info(
                    "step %d  eval success %.2f  (%.0f s evaluating so far)",
                    global_step,
                    metrics["charts/eval_success"],
                    t_eval,
                )
            curve.append(metrics)
            if progress is not None:
                progress(metrics)
            if iteration % args.log_every == 0 or iteration == n_iter:
                log.info(
                    "step %d  success %.2f  fresh %.2f  return %.3f  kl %.4f  SPS %.0f",
                    global_step,
                    metrics["charts/success_rate"],
                    fresh_rate,
                    metrics["charts/episodic_return"],
                    metrics["losses/approx_kl"],
                    metrics["charts/SPS"],
                )
            if periodic is not None:
                ready, rate = "charts/eval_success" in metrics, metrics.get("charts/eval_success")
            else:
                ready, rate = full, fresh_rate
            stop = args.stop_at_success
            if stop is not None and ready and rate is not None and rate >= stop:
                log.info("success %.2f >= %.2f: stopping", rate, args.stop_at_success)
                break
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted at step %d: saving a checkpoint", global_step)
    finally:
        envs.close()
        if periodic is not None:
            periodic.close()

    wall = time.time() - start
    evaluation: dict[str, Any] = {}
    if args.eval_episodes > 0 and not interrupted:
        evaluation = evaluate(agent, args)
        log.info(
            "eval: success %.2f over %d new worlds",
            evaluation["success_rate"],
            evaluation["episodes"],
        )
    meta = _meta(args, global_step, wall, curve, steps_to, evaluation, interrupted)
    if args.ray is not None:  # what the Ray workers went through (skills.rl.ray_rollouts)
        meta["extra"]["ray"] = {
            "workers": args.ray_workers,
            "restarts": getattr(envs, "restarts", []),
            "lost_steps": getattr(envs, "lost_steps", 0),
        }
    agent.save(out, meta)
    _write_curve(out, curve)
    log.info("saved %s (%.0f s, %.0f steps/s)", out, wall, global_step / max(wall, 1e-9))
    return out


def _mean(xs: list[float]) -> float:
    return float(np.mean(xs)) if xs else float("nan")


def evaluate(
    agent: ActorCritic, args: PPOArgs, *, episodes: int | None = None, greedy: bool = False
) -> dict[str, Any]:
    """Success rate over episodes in new worlds (seeds ``args.seed + 100_000 + k``)."""
    episodes = args.eval_episodes if episodes is None else episodes
    wins, lengths, probs = 0, [], []
    for k in range(episodes):
        seed = args.seed + 100_000 + k
        base = make_base(args.env_id, seed, dataclasses.replace(args, world_pool=1))
        env = SubgoalEnv(
            base,
            args.achievement,
            reward="verifier",
            max_episode_steps=args.max_episode_steps,
            restart_prob=1.0,
            seed=seed,
        )
        o, _ = env.reset(seed=seed)
        probs.append(agent.success_probability(o))
        for t in range(args.max_episode_steps):
            a, _, _ = agent.act(o, greedy=greedy)
            o, _, term, trunc, info = env.step(a)
            if term or trunc:
                wins += int(info["ep_success"])
                lengths.append(t + 1)
                break
    return {
        "success_rate": wins / max(episodes, 1),
        "successes": wins,
        "episodes": episodes,
        "mean_length": float(np.mean(lengths)) if lengths else None,
        "mean_start_success_probability": float(np.mean(probs)) if probs else None,
        "max_episode_steps": args.max_episode_steps,
        "seeds": f"{args.seed + 100_000}..{args.seed + 100_000 + episodes - 1}",
        "policy": "greedy" if greedy else "sampled",
    }


# ----------------------------------------------------------------------------- online update
def update_from_experience(
    skill_dir: str | Path,
    transitions: Sequence[Mapping[str, Any]],
    args: PPOArgs | None = None,
    *,
    out_dir: str | Path | None = None,
) -> Path:
    """One PPO update from an agent run's transitions; saves a new version of the skill.

    Each transition has ``obs`` (encoded vector or a raw Crafter info), ``action``,
    ``logprob``, ``value``, ``reward`` (the verifier's) and ``done``. The previous policy is
    kept as ``policy.v<N>.pt`` and ``meta.json``'s ``version`` goes up by one. ``out_dir``
    copies the skill there first (shipped skills are read-only package data).
    """
    args = args or PPOArgs()
    src = Path(skill_dir)
    dst = Path(out_dir) if out_dir is not None else src
    if dst != src:
        shutil.copytree(src, dst, dirs_exist_ok=True)
    if not transitions:
        return dst
    agent = load(dst)
    agent.train()
    torch.set_num_threads(args.torch_threads)
    enc = [
        t["obs"] if not isinstance(t["obs"], Mapping) else _obs.encode(t["obs"])
        for t in transitions
    ]
    b_obs = torch.as_tensor(np.stack([np.asarray(o, np.float32) for o in enc]))
    col = {
        k: torch.as_tensor([float(t[k]) for t in transitions]).reshape(-1, 1)
        for k in ("action", "logprob", "value", "reward", "done")
    }
    # dones[t] marks that state t starts an episode: shift the "episode ended here" flags.
    starts = torch.cat([torch.zeros(1, 1), col["done"][:-1]])
    last_done = col["done"][-1]
    next_value = torch.zeros(1) if last_done.item() else col["value"][-1]
    advantages, returns = _gae(
        col["reward"], col["value"], starts, next_value, last_done, args.gamma, args.gae_lambda
    )
    optimizer = optim.Adam(agent.parameters(), lr=args.lr, eps=1e-5)
    n = b_obs.shape[0]
    stats = _ppo_update(
        agent,
        optimizer,
        args,
        b_obs,
        col["action"].view(-1),
        col["logprob"].view(-1),
        advantages.view(-1),
        returns.view(-1),
        col["value"].view(-1),
        max(1, n // args.minibatches),
    )
    meta_path = dst / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    version = int(meta.get("version", 1))
    shutil.copy2(dst / "policy.pt", dst / f"policy.v{version}.pt")
    extra = dict(meta.get("extra", {}))
    updates = list(extra.get("online_updates", []))
    updates.append(
        {
            "from_version": version,
            "transitions": n,
            "reward_sum": float(col["reward"].sum()),
            "episodes_succeeded": int((col["reward"] > 0).sum()),
            "approx_kl": stats.get("losses/approx_kl"),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    extra["online_updates"] = updates
    agent.eval()
    agent.save(dst, {"version": version + 1, "extra": extra})
    log.info("online update of %s: v%d -> v%d from %d transitions", dst, version, version + 1, n)
    return dst


# ----------------------------------------------------------------------------- outputs
def _default_out(args: PPOArgs) -> Path:
    from skills._home import mendako_home

    return mendako_home() / "runs" / f"{args.run_name}__{int(time.time())}"


def _dotted(fn: Callable[..., Any] | None) -> str | None:
    """``module.name`` of a function (how meta.json records one), None for None."""
    return None if fn is None else f"{fn.__module__}.{fn.__qualname__}"


def command_for(args: PPOArgs) -> str:
    """The shell command that reproduces a run with ``args`` (the identifying fields always,
    the others where they differ from their defaults)."""
    always = {"achievement", "env_id", "seed", "total_steps", "reward"}
    parts = ["python", "-m", "skills.rl.ppo"]
    for f in dataclasses.fields(args):
        value = getattr(args, f.name)
        skip = f.name in ("out_dir", "language_reward")
        if skip or (value == f.default and f.name not in always):
            continue
        parts += [f"--{f.name.replace('_', '-')}", str(value)]
    return shlex.join(parts)


_REWARD_NAMES = {
    "verifier": "verifier's reward",
    "shaped": "verifier's reward with progress shaping",
    "sparse": "Crafter's sparse reward",
    "judge": "LLM judge's reward (RDLM)",
    "similarity": "caption-similarity reward (ELLM)",
    "manual": "game-manual reward (Read and Reap)",
    "clip": "CLIP frame reward (VLM-RMs)",
}


def _description(env_id: str, achievement: str) -> str:
    """The env adapter's words for a skill that unlocks `achievement` (``envs.contract``)."""
    try:
        return adapter(env_id).skill_description(achievement)
    except UnknownEnvError:  # a gymnasium id with Crafter's info fields
        return adapter("crafter").skill_description(achievement)


def _meta(
    args: PPOArgs,
    global_step: int,
    wall: float,
    curve: list[dict[str, float]],
    steps_to: dict[str, int | None],
    evaluation: dict[str, Any],
    interrupted: bool,
) -> dict[str, Any]:
    last = curve[-1] if curve else {}
    name = f"rl_{args.achievement}"
    description = _description(args.env_id, args.achievement)
    reward_name = _REWARD_NAMES.get(args.reward, f"{args.reward} reward")
    return {
        "name": name,
        "description": f"{description} (RL policy, PPO on the {reward_name})",
        "kind": "rl",
        "env": "crafter" if args.env_id == "crafter" else args.env_id,
        "achievement": args.achievement,
        "version": VERSION,
        "successes": int(evaluation.get("successes", 0)),
        "attempts": int(evaluation.get("episodes", 0)),
        "extra": {
            "seed": args.seed,
            "total_steps": global_step,
            "reward": args.reward,
            "command": command_for(args),
            "args": {**dataclasses.asdict(args), "language_reward": _dotted(args.language_reward)},
            "observation": _obs.OBS_SPEC["kind"],
            "max_episode_steps": args.max_episode_steps,
            "wall_s": round(wall, 1),
            "steps_per_s": round(global_step / max(wall, 1e-9), 1),
            "interrupted": interrupted,
            "train": {
                "success_rate_last100": last.get("charts/success_rate"),
                "success_rate_fresh_last50": last.get("charts/success_rate_fresh"),
                "steps_to_success": steps_to,
                "eval_history": [
                    {"step": int(m["global_step"]), "eval_success": m["charts/eval_success"]}
                    for m in curve
                    if "charts/eval_success" in m
                ],
                "history": [
                    {
                        "step": int(m["global_step"]),
                        "success_rate_fresh": round(m["charts/success_rate_fresh"], 3),
                    }
                    for m in curve[:: max(1, len(curve) // 10)]
                ],
            },
            "eval": evaluation,
        },
    }


def _write_curve(out: Path, curve: list[dict[str, float]]) -> None:
    if not curve:
        return
    keys = list(dict.fromkeys(k for m in curve for k in m))  # eval keys appear on some rows
    with open(out / "curve.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys, restval="")
        writer.writeheader()
        writer.writerows(curve)
    plot_curve(out, curve)


def plot_curve(out: Path, curve: list[dict[str, float]]) -> None:
    """Draw ``out/curve.png``: success rates over env steps (rows as in ``curve.csv``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed: skipping curve.png (curve.csv has the data)")
        return
    steps = [m["global_step"] for m in curve]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [m["charts/success_rate_fresh"] for m in curve], label="success (fresh starts)")
    ax.plot(steps, [m["charts/success_rate"] for m in curve], label="success (all)")
    evals = [m for m in curve if "charts/eval_success" in m]
    if evals:
        ax.plot(
            [m["global_step"] for m in evals],
            [m["charts/eval_success"] for m in evals],
            marker=".",
            label="success (periodic eval)",
        )
    ax.set_xlabel("env steps")
    ax.set_ylabel("success rate")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "curve.png", dpi=100)
    plt.close(fig)


# ----------------------------------------------------------------------------- CLI
def parse_args(argv: Sequence[str] | None = None) -> PPOArgs:
    """``--field-name value`` for every :class:`PPOArgs` field."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in dataclasses.fields(PPOArgs):
        if f.name == "language_reward":  # a function, not a command-line value
            continue
        kind = type(f.default) if f.default is not None else str
        if kind is bool:
            parser.add_argument(
                f"--{f.name.replace('_', '-')}",
                type=lambda s: s.lower() in ("1", "true", "yes"),
                default=f.default,
            )
        elif f.name == "stop_at_success":
            parser.add_argument("--stop-at-success", type=float, default=None)
        else:
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=f.default)
    return PPOArgs(**vars(parser.parse_args(argv)))


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry: parse :class:`PPOArgs`, train, print the skill folder."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    print(train(parse_args(argv)))


if __name__ == "__main__":
    main()
