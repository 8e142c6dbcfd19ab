"""`mendako bench crafter`: explorer episodes in parallel processes, scored as the field does.

The Crafter score is crafter's own analysis (`analysis/common.py` in the crafter repo, not in
the pip package): an achievement's success rate is the percentage of episodes in which it
was unlocked at least once, and the score is exp(nanmean(ln(1 + rates))) - 1, rates in %.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from graphs.context import RunSettings

# Published scores (%), as the issue and the papers give them.
BASELINES: dict[str, float] = {
    "Random": 1.6,
    "PPO": 4.6,
    "DreamerV3 (1M steps)": 14.5,
    "SPRING (GPT-4)": 27.3,
    "Human experts": 50.5,
}


def success_rates(episodes: list[dict[str, int]], achievements: list[str]) -> dict[str, float]:
    """Percent of episodes in which each achievement was unlocked at least once."""
    n = len(episodes)
    return {a: 100.0 * sum(1 for e in episodes if e.get(a, 0) >= 1) / n for a in achievements}


def crafter_score(rates: dict[str, float]) -> float:
    """Crafter score (%) from per-achievement success rates in percent."""
    r = np.array(list(rates.values()), dtype=np.float64)
    return float(np.exp(np.nanmean(np.log(1 + r))) - 1)


def _episode(args: tuple[dict[str, Any], str | None]) -> dict[str, Any]:
    settings_d, home = args
    if home:
        os.environ["MENDAKO_HOME"] = home
    os.environ.setdefault("MENDAKO_LLM_THREADS", "1")
    from graphs.explore import explore

    s = explore(RunSettings(**settings_d))
    return {
        "seed": settings_d["seed"],
        "run_id": s.run_id,
        "achievements": s.achievements,
        "env_steps": s.env_steps,
        "goals": s.goals,
        "ended": s.ended,
        "wall_s": round(s.wall_s, 1),
    }


def run_bench(
    settings: RunSettings,
    episodes: int,
    *,
    workers: int | None = None,
    out_dir: Path,
    on_episode: Any = None,
) -> dict[str, Any]:
    """Run `episodes` explorer episodes (seeds settings.seed, +1, ...) and score them."""
    from envs.registry import adapter

    rules = adapter(settings.env_id).load_rules()
    workers = max(1, min(episodes, workers or (os.cpu_count() or 1)))
    jobs = [
        (asdict(replace(settings, seed=settings.seed + i)), os.environ.get("MENDAKO_HOME"))
        for i in range(episodes)
    ]
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    with mp.get_context("spawn").Pool(workers) as pool:
        for r in pool.imap_unordered(_episode, jobs):
            results.append(r)
            if on_episode is not None:
                on_episode(r)
    wall = time.perf_counter() - t0
    results.sort(key=lambda r: r["seed"])
    rates = success_rates([r["achievements"] for r in results], list(rules.achievements))
    report = {
        "env": settings.env_id,
        "llm": settings.llm,
        "episodes": episodes,
        "workers": workers,
        "max_env_steps": settings.max_env_steps,
        "score": crafter_score(rates),
        "success_rates": rates,
        "baselines": BASELINES,
        "wall_s": round(wall, 1),
        "per_episode": results,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "crafter_bench.json").write_text(json.dumps(report, indent=2))
    _bar_chart(rates, report["score"], out_dir / "crafter_bench.png")
    return report


def _bar_chart(rates: dict[str, float], score: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    names = list(rates)
    ax.bar(range(len(names)), [rates[n] for n in names], color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=70, ha="right", fontsize=8)
    ax.set_ylabel("success rate (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"mendako on Crafter: score {score:.1f}%")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
