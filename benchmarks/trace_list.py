"""How long `mendako trace list` takes over 1,000 stored runs (target: under a second).

Creates 1,000 synthetic run folders with realistic meta.json files (and a small trace.jsonl
each) in a temporary MENDAKO_HOME, then times the listing in-process (`list_runs` + the rich
table, as the CLI renders it) and as a subprocess (`mendako trace list`, start-up included).

    python benchmarks/trace_list.py [--runs 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = ["collect wood", "make a wood pickaxe", "make a stone pickaxe", "place a table", "eat cow"]
OUTCOMES = ["achieved", "failed", "not_achievable", "episode_over"]


def make_runs(home: Path, n: int) -> None:
    """Write `n` run folders like the runner does (meta.json, trace.jsonl)."""
    rng = random.Random(0)
    root = home / "runs"
    root.mkdir(parents=True)
    t0 = int(time.time() * 1000) - n * 60_000
    for i in range(n):
        goal = rng.choice(GOALS)
        slug = goal.replace(" ", "-")
        seed = rng.randrange(100)
        run = root / f"crafter__{slug}__{seed}__{t0 + i * 60_000}"
        run.mkdir()
        settings = {"env_id": "crafter", "seed": seed, "llm": "embedded", "max_replans": 3}
        meta = {
            "goal": goal,
            "env": "crafter",
            "seed": seed,
            "llm": "embedded",
            "settings": settings,
            "mendako_version": "0.1.0",
            "record": False,
            "outcome": rng.choice(OUTCOMES),
            "message": "done",
            "target": slug.replace("-", "_"),
            "env_steps": rng.randrange(1, 600),
            "wall_s": rng.uniform(1, 90),
            "achievements": {"collect_wood": 2},
            "started": (t0 + i * 60_000) / 1000,
        }
        (run / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        (run / "trace.jsonl").write_text(json.dumps({"kind": "start", "goal": goal}) + "\n")


def time_in_process(repeat: int) -> float:
    """Best wall time of `list_runs` + rendering the table (all rows)."""
    from rich.console import Console

    from agents import _render as render
    from graphs.trace import list_runs

    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        console = Console(file=io.StringIO(), width=160)
        runs = list_runs()
        render.runs_table(console, runs)
        best = min(best, time.perf_counter() - t)
    return best


def time_subprocess(repeat: int, limit: int) -> float:
    """Best wall time of `mendako trace list --limit N` as a fresh process."""
    exe = shutil.which("mendako") or str(Path(sys.executable).parent / "mendako")
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(
            [exe, "trace", "list", "--limit", str(limit)],
            check=True,
            stdout=subprocess.DEVNULL,
            env=os.environ | {"COLUMNS": "160"},
        )
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MENDAKO_HOME"] = tmp
        make_runs(Path(tmp), args.runs)
        inproc = time_in_process(args.repeat)
        sub50 = time_subprocess(args.repeat, 50)
        sub_all = time_subprocess(args.repeat, args.runs)
    print(f"runs stored:                          {args.runs}")
    print(f"in-process, list + render all rows:   {inproc:.3f} s")
    print(f"`mendako trace list` (50 rows, default): {sub50:.3f} s")
    print(f"`mendako trace list --limit {args.runs}`:     {sub_all:.3f} s")


if __name__ == "__main__":
    main()
