"""Success rate and env steps of `mendako run GOAL` per goal over seeds, each backend side by side.

    python -m benchmarks.goals "make a stone pickaxe" --seeds 1000-1009
    python -m benchmarks.goals --file benchmarks/data/goals_crafter.txt --seeds 1000-1002 \\
        [--llm embedded,none] [--skill-budget 400] [--max-env-steps 10000]

A goal is given in words, as a user would type it: one on the command line, or a file with
one goal per line (``#`` starts a comment; blank lines are skipped), English or Japanese,
compound ("... and ...") or counted ("collect 5 wood"). Each (goal, backend, seed) is one full
run through the graph (plan, SayCan, skills, verifier) in a fresh env; its trace is kept in
``$MENDAKO_HOME/runs`` as usual. ``--llm`` takes a comma list (default ``embedded,none``):
``none`` is the backend with no knowledge, so the difference is what the model adds.
Runs are independent: the skill statistics are frozen (``MENDAKO_SKILL_STATS=frozen``: each
run starts from the stored history and writes nothing back), so no run's luck changes the
next run's skill choices; ``--learn-across`` lets the history grow from run to run instead.

Prints one line per run, then per goal and backend: runs achieved (share), the median env
steps of the achieved runs and of all runs, and the lift (model minus ``none``) in success;
over all goals, each backend's Wilson 95% interval and the lift's paired bootstrap interval
(over the (goal, seed) pairs both backends ran).
Tune on seeds 0-99, report on 1000+.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphs.context import RunSettings
from graphs.driver import shared_parts
from graphs.runner import run_goal
from skills.intervals import paired_bootstrap, wilson
from skills.library import STATS_ENV


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def read_goals(path: str | Path) -> list[str]:
    """The goals of a file: one a line, ``#`` comments and blank lines left out."""
    goals = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            goals.append(text)
    return goals


@dataclass
class Row:
    """One run."""

    goal: str
    spec: str
    seed: int
    outcome: str
    env_steps: int
    wall: float


def run_all(goals: Iterable[str], specs: list[str], seeds: list[int], args: Any) -> list[Row]:
    """Every (goal, seed, backend) run, printed as it ends; the backends take turns on each
    (goal, seed), so a run cut short still compares them on the same goals and seeds."""
    rows = []
    parts = {spec: shared_parts(spec) for spec in specs}
    for goal in goals:
        for seed in seeds:
            for spec in specs:
                llm, scorer = parts[spec]
                settings = RunSettings(
                    env_id=args.env,
                    seed=seed,
                    llm=spec,
                    skill_budget=args.skill_budget,
                    max_env_steps=args.max_env_steps,
                )
                t0 = time.perf_counter()
                try:
                    s = run_goal(goal, settings, llm=llm, scorer=scorer)
                    outcome, steps, run_id = s.outcome, s.env_steps, s.run_id
                except ValueError as e:  # a goal the run refuses to start: counted, not hidden
                    outcome, steps, run_id = "refused", 0, str(e).splitlines()[0][:60]
                wall = time.perf_counter() - t0
                rows.append(Row(goal, spec, seed, outcome, steps, wall))
                print(
                    f"{spec:<10} seed {seed}: {outcome:<14} env steps {steps:>5}  "
                    f"wall {wall:6.1f}s  {goal!r}  {run_id}",
                    flush=True,
                )
    return rows


def _median(xs: list[int]) -> str:
    return f"{statistics.median(xs):.0f}" if xs else "-"


def report(rows: list[Row], goals: list[str], specs: list[str]) -> None:
    """Per goal, per backend: achieved share and median env steps; the lift over ``none``."""
    base = next((s for s in specs if s.split(":", 1)[0] == "none"), None)
    col = 30
    print()
    print(
        f"{'goal':<44}" + "".join(f"{s[:col]:>{col}}" for s in specs) + ("   lift" if base else "")
    )
    print(f"{'':<44}" + "".join(f"{'achieved  steps ok/all':>{col}}" for _ in specs))
    totals: dict[str, list[bool]] = {s: [] for s in specs}
    for goal in goals:
        cells, share = "", {}
        for spec in specs:
            mine = [r for r in rows if r.goal == goal and r.spec == spec]
            ok = [r for r in mine if r.outcome == "achieved"]
            share[spec] = len(ok) / len(mine) if mine else 0.0
            totals[spec] += [r.outcome == "achieved" for r in mine]
            cell = (
                f"{len(ok)}/{len(mine)} ({100 * share[spec]:3.0f}%)  "
                f"{_median([r.env_steps for r in ok])}/{_median([r.env_steps for r in mine])}"
            )
            cells += f"{cell:>{col}}"
        lift = ""
        if base:
            lift = "".join(f" {100 * (share[s] - share[base]):+4.0f}%" for s in specs if s != base)
        name = goal if len(goal) <= 42 else goal[:41] + "…"
        print(f"{name:<44}{cells}{lift}")
    cells = "".join(
        f"{f'{sum(v)}/{len(v)} ({100 * sum(v) / max(1, len(v)):3.0f}%)':>{col}}"
        for v in totals.values()
    )
    print(f"{'all goals':<44}{cells}")
    cells = "".join(
        f"{'[{:.2f}, {:.2f}]'.format(*wilson(sum(v), len(v))):>{col}}" for v in totals.values()
    )
    print(f"{'  95% Wilson interval':<44}{cells}")
    if base:
        for spec in specs:
            if spec != base:
                print(lift_line(rows, spec, base))


def lift_line(rows: list[Row], spec: str, base: str) -> str:
    """The lift of ``spec`` over ``base`` in success over the (goal, seed) pairs both ran, with
    its paired 95% bootstrap interval."""
    got = {(r.goal, r.seed, r.spec): r.outcome == "achieved" for r in rows}
    pairs = [(got[(g, s, base)], got[(g, s, spec)]) for g, s, x in got if x == spec
             and (g, s, base) in got]  # fmt: skip
    if not pairs:
        return f"lift {spec} - {base}: no pairs"
    before, after = [float(b) for b, _ in pairs], [float(a) for _, a in pairs]
    lo, hi = paired_bootstrap(before, after)
    mean = sum(after) / len(after) - sum(before) / len(before)
    return (
        f"lift {spec} - {base}: {100 * mean:+.1f} points over {len(pairs)} paired runs "
        f"(paired bootstrap 95% CI {100 * lo:+.1f} to {100 * hi:+.1f})"
    )


def main() -> None:
    """Run each goal on each seed with each backend; print the runs, then the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("goal", nargs="?", help="one goal in words (or --file)")
    p.add_argument("--file", help="goals in words, one a line, # comments")
    p.add_argument("--seeds", default="1000-1009")
    p.add_argument("--llm", default="embedded,none", help="comma list of backends")
    p.add_argument("--env", default="crafter")
    p.add_argument("--skill-budget", type=int, default=400)
    p.add_argument("--max-env-steps", type=int, default=10_000)
    p.add_argument(
        "--learn-across",
        action="store_true",
        help="let skill statistics carry over from run to run (default: frozen, runs independent)",
    )
    args = p.parse_args()
    if not args.learn_across:
        os.environ[STATS_ENV] = "frozen"
    if args.file and not Path(args.file).is_file():
        p.error(f"no such file of goals: {args.file}")
    goals = ([args.goal] if args.goal else []) + (read_goals(args.file) if args.file else [])
    if not goals:
        p.error("give a goal or --file")
    specs = [s.strip() for s in args.llm.split(",") if s.strip()]
    seeds = _seeds(args.seeds)
    t0 = time.perf_counter()
    rows = run_all(goals, specs, seeds, args)
    report(rows, goals, specs)
    print(
        f"\n({len(rows)} runs, seeds {args.seeds}, skill budget {args.skill_budget}, "
        f"max env steps {args.max_env_steps}, skill stats "
        f"{'learned across runs' if args.learn_across else 'frozen (runs independent)'}; "
        f"total {time.perf_counter() - t0:.0f}s)"
    )


if __name__ == "__main__":
    main()
