"""Success rate and wall time of `mendako run GOAL` over seeds, with the real embedded model.

    python -m benchmarks.goals "make a stone pickaxe" --seeds 0-9 [--llm embedded]

Each seed is one full run through the graph (plan, SayCan, skills, verifier) in a fresh
Crafter world; the trace of every run is kept in $MENDAKO_HOME/runs as usual.
"""

from __future__ import annotations

import argparse
import statistics
import time

from agents.llm import make_chat_model, make_scorer
from graphs.context import RunSettings
from graphs.runner import run_goal


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    """Run the goal on each seed and print one line per run, then the totals."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("goal")
    p.add_argument("--seeds", default="0-9")
    p.add_argument("--llm", default="embedded")
    p.add_argument("--skill-budget", type=int, default=400)
    args = p.parse_args()
    llm = make_chat_model(args.llm)
    scorer = make_scorer(llm)
    rows = []
    for seed in _seeds(args.seeds):
        settings = RunSettings(seed=seed, llm=args.llm, skill_budget=args.skill_budget)
        t0 = time.perf_counter()
        s = run_goal(args.goal, settings, llm=llm, scorer=scorer)
        wall = time.perf_counter() - t0
        rows.append((seed, s.outcome, s.env_steps, wall))
        print(
            f"seed {seed}: {s.outcome:<14} env steps {s.env_steps:>5}  wall {wall:6.1f}s  "
            f"{s.run_id}",
            flush=True,
        )
    ok = [r for r in rows if r[1] == "achieved"]
    walls = [r[3] for r in rows]
    print(
        f"\ngoal {args.goal!r} llm={args.llm}: achieved {len(ok)}/{len(rows)} "
        f"({100 * len(ok) / len(rows):.0f}%); wall per run median {statistics.median(walls):.1f}s "
        f"(min {min(walls):.1f}, max {max(walls):.1f})"
    )
    if ok:
        print(f"env steps when achieved: median {statistics.median(r[2] for r in ok):.0f}")


if __name__ == "__main__":
    main()
