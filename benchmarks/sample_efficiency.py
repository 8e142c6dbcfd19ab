"""Sample efficiency of the verifier's reward (ELLM) against Crafter's own sparse reward.

(Run from the repository root; ``python benchmarks/sample_efficiency.py`` works once
mendako is installed.)

For each subgoal and seed, PPO is trained twice with identical settings, episodes, seeds
and budget; only the reward differs (``reward="verifier"``: 1 when the subgoal's
achievement unlocks; ``reward="sparse"``: Crafter's reward, +1 per new achievement and
health change / 10). The figure is the number of env steps until the success rate over
the last 50 subgoal episodes started at a world's spawn point (``charts/success_rate_fresh``)
first reaches ``--target``. Runs that never reach it are censored at the budget (shown as
``>N``), so a ratio involving them is a bound, and printed as one.

    python -m benchmarks.sample_efficiency --achievements collect_wood --steps 60000 --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from skills.rl.ppo import PPOArgs, train


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


def run_one(achievement: str, reward: str, seed: int, steps: int, target: float) -> Result:
    """Train one PPO run (stopping at ``target``) and report when it got there."""
    reached: list[int] = []
    last: dict[str, float] = {}

    def progress(m: dict[str, float]) -> None:
        last.update(m)
        full = m["charts/fresh_episodes_in_window"] >= 50
        if not reached and full and m["charts/success_rate_fresh"] >= target:
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
            out_dir=str(Path(tmp) / "skill"),
            log_every=10,
        )
        train(args, progress=progress)
    return Result(
        achievement,
        reward,
        seed,
        reached[0] if reached else None,
        last.get("charts/success_rate_fresh", 0.0),
        int(last.get("global_step", 0)),
        time.time() - start,
    )


def _fmt(steps: int | None, budget: int) -> str:
    return f">{budget}" if steps is None else str(steps)


def summarise(results: list[Result], budget: int, target: float) -> str:
    """The table of runs and, per subgoal, the median steps and the sparse/verifier ratio."""
    lines = [
        f"target: success_rate_fresh >= {target:.2f}; budget {budget} env steps per run",
        "",
        f"{'achievement':<16}{'reward':<10}{'seed':>5}{'steps to target':>18}"
        f"{'last success':>14}{'steps run':>11}{'wall s':>8}",
    ]
    for r in results:
        reached = _fmt(r.steps_to_target, r.steps_run)
        lines.append(
            f"{r.achievement:<16}{r.reward:<10}{r.seed:>5}{reached:>18}"
            f"{r.final_success:>14.2f}{r.steps_run:>11}{r.wall_s:>8.0f}"
        )
    lines.append("")
    for ach in dict.fromkeys(r.achievement for r in results):
        med: dict[str, float] = {}
        censored: dict[str, bool] = {}
        for kind in ("verifier", "sparse"):
            runs = [r for r in results if r.achievement == ach and r.reward == kind]
            if not runs:
                continue
            vals = [r.steps_to_target if r.steps_to_target is not None else budget for r in runs]
            med[kind] = statistics.median(vals)
            censored[kind] = any(r.steps_to_target is None for r in runs)
            hit = sum(r.steps_to_target is not None for r in runs)
            bound = ">=" if censored[kind] else ""
            lines.append(
                f"{ach} {kind:<8}: median steps to target {bound}{med[kind]:.0f} "
                f"({hit}/{len(runs)} runs reached it)"
            )
        if "verifier" in med and "sparse" in med:
            ratio = med["sparse"] / med["verifier"]
            if censored["sparse"] and not censored["verifier"]:
                text = f">= {ratio:.2f} (sparse runs censored at the budget)"
            elif censored["verifier"] and not censored["sparse"]:
                text = f"<= {ratio:.2f} (verifier runs censored at the budget)"
            elif censored["verifier"] and censored["sparse"]:
                text = f"~{ratio:.2f} (both censored: not meaningful)"
            else:
                text = f"{ratio:.2f}"
            lines.append(f"{ach} ratio sparse/verifier (median steps): {text}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, run every (subgoal, reward, seed), print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--achievements", default="collect_wood", help="comma-separated")
    parser.add_argument("--steps", type=int, default=60_000, help="env-step budget per run")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--target", type=float, default=0.8, help="success rate to reach")
    parser.add_argument("--verbose", action="store_true", help="log PPO progress")
    ns = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if ns.verbose else logging.WARNING)
    seeds = [int(s) for s in ns.seeds.split(",") if s]
    results: list[Result] = []
    for ach in [a for a in ns.achievements.split(",") if a]:
        for seed in seeds:
            for kind in ("verifier", "sparse"):
                r = run_one(ach, kind, seed, ns.steps, ns.target)
                reached = _fmt(r.steps_to_target, r.steps_run)
                print(
                    f"{ach} {kind} seed {seed}: steps to target {reached}"
                    f", last success {r.final_success:.2f} ({r.wall_s:.0f} s)",
                    flush=True,
                )
                results.append(r)
    print()
    print(summarise(results, ns.steps, ns.target))


if __name__ == "__main__":
    main()
