"""Sample efficiency of verifier-shaped rewards against Crafter's own sparse reward.

(Run from the repository root with ``python -m benchmarks.sample_efficiency``.)

For each subgoal and seed, PPO is trained once per reward kind (``--rewards``) with
identical settings, episodes, seeds and budget; only the reward differs:

- ``shaped``: the verifier's 1 when the subgoal's achievement unlocks, plus potential-based
  shaping by the verifier's progress measure (``skills.rl.rewards.shaped_reward``);
- ``verifier``: the verifier's 1 alone (ELLM);
- ``sparse``: Crafter's reward, +1 per new achievement and health change / 10.

The figure is the number of env steps until the success rate over the last 50 subgoal
episodes started at a world's spawn point (``charts/success_rate_fresh``) first reaches
``--target``; it is read after each PPO iteration, so it is a multiple of the batch size
(1,024 steps). Runs that never reach it are censored at the steps they ran (shown as
``>N``): a median or a ratio involving them is a bound, and printed as one. The ratios
printed are sparse's median over each other kind's.

    python -m benchmarks.sample_efficiency --achievements collect_wood --steps 122880 --seeds 1,2,3
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


def _ratio_text(num: str, den: str, med: dict[str, float], censored: dict[str, bool]) -> str:
    ratio = med[num] / med[den]
    if censored[num] and not censored[den]:
        return f">= {ratio:.2f} ({num} runs censored)"
    if censored[den] and not censored[num]:
        return f"<= {ratio:.2f} ({den} runs censored)"
    if censored[num] and censored[den]:
        return f"~{ratio:.2f} (both censored: not meaningful)"
    return f"{ratio:.2f}"


def summarise(results: list[Result], budget: int, target: float) -> str:
    """The table of runs and, per subgoal, each kind's median steps and sparse/kind ratios."""
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
    parser.add_argument("--verbose", action="store_true", help="log PPO progress")
    ns = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if ns.verbose else logging.WARNING)
    seeds = [int(s) for s in ns.seeds.split(",") if s]
    kinds = [k for k in ns.rewards.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown reward kind(s) {unknown}: choose from {', '.join(KINDS)}")
    results: list[Result] = []
    for ach in [a for a in ns.achievements.split(",") if a]:
        for seed in seeds:
            for kind in kinds:
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
