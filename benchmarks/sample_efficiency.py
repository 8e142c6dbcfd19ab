"""Sample efficiency of verifier-shaped rewards against Crafter's own sparse reward.

(Run from the repository root with ``python -m benchmarks.sample_efficiency``.)

For each subgoal and seed, PPO is trained once per reward kind (``--rewards``) with
identical settings, episodes, seeds and budget; only the reward differs:

- ``shaped``: the verifier's 1 when the subgoal's achievement unlocks, plus potential-based
  shaping by the verifier's progress measure (``skills.rl.rewards.shaped_reward``);
- ``verifier``: the verifier's 1 alone (ELLM);
- ``sparse``: Crafter's reward, +1 per new achievement and health change / 10.

The figure is the number of training env steps (``global_step``) at the first periodic
evaluation whose success rate (``charts/eval_success``) reaches ``--target``: every
``--eval-every`` PPO iterations (8 envs x ``--num-steps`` steps, 1,024 by default) the
current policy, sampling its actions, plays ``--eval-episodes`` subgoal episodes, one from
the spawn point of each of a fixed set of worlds (the same for every evaluation and every
reward kind of a seed; see ``skills.rl.ppo.PeriodicEval``). The figure is thus a multiple of
``eval_every * 8 * num_steps`` steps; evaluation steps are not counted. A run stops at the target.

``--measure window`` gives the older figure instead: the success rate over the last 50
*training* episodes started at a spawn point (``charts/success_rate_fresh``). Only a quarter of
episodes start there, so that window spans ~10k steps and lags the policy by about as much,
adding a near-constant to every run and pulling ratios towards 1.

Runs that never reach the target are censored at the steps they ran (shown as ``>N``): a
median or a ratio involving them is a bound, and printed as one. The ratios printed are
sparse's median over each other kind's.

    python -m benchmarks.sample_efficiency --achievements collect_wood --steps 245760 --seeds 1,2,3

``--jobs N`` trains N runs at once in separate processes; wall times then include the
contention, step counts do not change.
"""

from __future__ import annotations

import argparse
import functools
import logging
import statistics
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from skills.rl.ppo import PPOArgs, train
from skills.rl.rewards import KINDS


@dataclass
class Result:
    """One training run's outcome."""

    achievement: str
    reward: str
    seed: int
    steps_to_target: int | None
    final_success: float
    steps_run: int
    wall_s: float
    eval_s: float = 0.0


def run_one(
    achievement: str,
    reward: str,
    seed: int,
    steps: int,
    target: float,
    *,
    eval_every: int = 4,
    eval_episodes: int = 20,
    lr: float | None = None,
    num_steps: int | None = None,
    shaping_scale: float | None = None,
) -> Result:
    """Train one PPO run (stopping at ``target``) and report when it got there.

    ``eval_every > 0`` measures success by periodic evaluation, ``0`` by the training
    window of fresh starts (see the module docstring). ``lr`` and ``num_steps`` (default:
    PPOArgs') are the same for every reward kind.
    """
    reached: list[int] = []
    last: dict[str, float] = {}
    key = "charts/eval_success" if eval_every > 0 else "charts/success_rate_fresh"

    def progress(m: dict[str, float]) -> None:
        last.update(m)
        if eval_every > 0:
            ready = key in m
        else:
            ready = m["charts/fresh_episodes_in_window"] >= 50
        if not reached and ready and m[key] >= target:
            reached.append(int(m["global_step"]))

    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        args = PPOArgs(
            achievement=achievement,
            seed=seed,
            total_steps=steps,
            reward=reward,  # type: ignore[arg-type]
            stop_at_success=target,
            eval_episodes=0,
            eval_every=eval_every,
            eval_episodes_periodic=eval_episodes,
            out_dir=str(Path(tmp) / "skill"),
            log_every=10,
            **({} if lr is None else {"lr": lr}),
            **({} if num_steps is None else {"num_steps": num_steps}),
            **({} if shaping_scale is None else {"shaping_scale": shaping_scale}),
        )
        train(args, progress=progress)
    return Result(
        achievement,
        reward,
        seed,
        reached[0] if reached else None,
        last.get(key, 0.0),
        int(last.get("global_step", 0)),
        time.time() - start,
        last.get("charts/eval_s", 0.0),
    )


def _fmt(steps: int | None, budget: int) -> str:
    return f">{budget}" if steps is None else str(steps)


def _ratio_text(num: str, den: str, med: dict[str, float], censored: dict[str, bool]) -> str:
    ratio = med[num] / med[den]
    if censored[num] and not censored[den]:
        return f">= {ratio:.2f} ({num} runs censored)"
    if censored[den] and not censored[num]:
        return f"<= {ratio:.2f} ({den} runs censored)"
    if censored[num] and censored[den]:
        return f"~{ratio:.2f} (both censored: not meaningful)"
    return f"{ratio:.2f}"


def summarise(
    results: list[Result], budget: int, target: float, measure: str = "eval_success"
) -> str:
    """The table of runs and, per subgoal, each kind's median steps and sparse/kind ratios."""
    width = max([len("achievement"), *(len(r.achievement) for r in results)]) + 2
    lines = [
        f"target: {measure} >= {target:.2f}; budget {budget} env steps per run",
        "",
        f"{'achievement':<{width}}{'reward':<10}{'seed':>5}{'steps to target':>18}"
        f"{'last success':>14}{'steps run':>11}{'wall s':>8}{'eval s':>8}",
    ]
    for r in results:
        reached = _fmt(r.steps_to_target, r.steps_run)
        lines.append(
            f"{r.achievement:<{width}}{r.reward:<10}{r.seed:>5}{reached:>18}"
            f"{r.final_success:>14.2f}{r.steps_run:>11}{r.wall_s:>8.0f}{r.eval_s:>8.0f}"
        )
    lines.append("")
    for ach in dict.fromkeys(r.achievement for r in results):
        med: dict[str, float] = {}
        censored: dict[str, bool] = {}
        for kind in dict.fromkeys(r.reward for r in results if r.achievement == ach):
            runs = [r for r in results if r.achievement == ach and r.reward == kind]
            # A censored run counts as the steps it ran: its true figure is at least that.
            vals = [
                r.steps_to_target if r.steps_to_target is not None else r.steps_run for r in runs
            ]
            med[kind] = statistics.median(vals)
            censored[kind] = any(r.steps_to_target is None for r in runs)
            hit = sum(r.steps_to_target is not None for r in runs)
            bound = ">=" if censored[kind] else ""
            lines.append(
                f"{ach} {kind:<8}: median steps to target {bound}{med[kind]:.0f} "
                f"({hit}/{len(runs)} runs reached it)"
            )
        for kind in med:
            if kind != "sparse" and "sparse" in med:
                text = _ratio_text("sparse", kind, med, censored)
                lines.append(f"{ach} ratio sparse/{kind} (median steps): {text}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, run every (subgoal, reward, seed), print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--achievements", default="collect_wood", help="comma-separated")
    parser.add_argument("--steps", type=int, default=122_880, help="env-step budget per run")
    parser.add_argument(
        "--rewards", default="shaped,sparse", help=f"comma-separated, of {', '.join(KINDS)}"
    )
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--target", type=float, default=0.8, help="success rate to reach")
    parser.add_argument(
        "--measure",
        choices=("eval", "window"),
        default="eval",
        help="success by periodic evaluation (default) or by the training window of fresh starts",
    )
    parser.add_argument("--eval-every", type=int, default=4, help="PPO iterations between evals")
    parser.add_argument("--eval-episodes", type=int, default=20, help="episodes per evaluation")
    parser.add_argument(
        "--lr", type=float, default=None, help="PPO learning rate for every kind (default 2.5e-4)"
    )
    parser.add_argument(
        "--num-steps",
        type=int,
        default=None,
        help="steps per env per PPO rollout, for every kind (default 128; 8 envs)",
    )
    parser.add_argument(
        "--shaping-scale",
        type=float,
        default=None,
        help="range of the shaped reward's potential (default 0.5; only the shaped kind)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs trained at once, one process each (each uses one torch thread)",
    )
    parser.add_argument("--verbose", action="store_true", help="log PPO progress")
    ns = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if ns.verbose else logging.WARNING)
    seeds = [int(s) for s in ns.seeds.split(",") if s]
    kinds = [k for k in ns.rewards.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown reward kind(s) {unknown}: choose from {', '.join(KINDS)}")
    runs = [
        (ach, kind, seed)
        for ach in [a for a in ns.achievements.split(",") if a]
        for seed in seeds
        for kind in kinds
    ]
    one = functools.partial(
        run_one,
        steps=ns.steps,
        target=ns.target,
        eval_every=ns.eval_every if ns.measure == "eval" else 0,
        eval_episodes=ns.eval_episodes,
        lr=ns.lr,
        num_steps=ns.num_steps,
        shaping_scale=ns.shaping_scale,
    )
    results: list[Result] = []
    with ProcessPoolExecutor(max_workers=max(1, ns.jobs)) as pool:
        futures = [pool.submit(one, *run) for run in runs]
        for future in as_completed(futures):
            r = future.result()
            reached = _fmt(r.steps_to_target, r.steps_run)
            print(
                f"{r.achievement} {r.reward} seed {r.seed}: steps to target {reached}"
                f", last success {r.final_success:.2f} ({r.wall_s:.0f} s)",
                flush=True,
            )
            results.append(r)
    order = {run: i for i, run in enumerate(runs)}
    results.sort(key=lambda r: order[(r.achievement, r.reward, r.seed)])
    print()
    measure = "eval_success" if ns.measure == "eval" else "success_rate_fresh"
    print(summarise(results, ns.steps, ns.target, measure))


if __name__ == "__main__":
    main()
