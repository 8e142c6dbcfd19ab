"""`mendako bench crafter`: explorer episodes in parallel processes, scored as the field does.

The Crafter score is crafter's own analysis (`analysis/common.py` in the crafter repo, not in
the pip package): an achievement's success rate is the percentage of episodes in which it
was unlocked at least once, and the score is exp(nanmean(ln(1 + rates))) - 1, rates in %.

The protocol (what a figure measures) is part of the result:

- **Episodes are independent.** The skills' success history is read once, in the driver,
  from the shared store under `$MENDAKO_HOME/skills/` (the snapshot); every episode starts
  from that snapshot, keeps what it learns in memory, and never writes the store. With
  ``learn_across`` each arm's episodes run in seed order and each starts from the history
  the previous one ended with (still never written to the store); the report says so.
- **The lift, side by side.** The chosen LLM and the comparison backend (``none`` by
  default: no knowledge) run on the same seeds; the difference of the Crafter scores gets
  a paired bootstrap interval (the same resampled seeds for both arms).
- **Intervals.** 95% bootstrap intervals resample episodes (crafter's score is not a mean,
  so the interval is the percentile interval of the score over resampled episode sets).
- **BALROG's metric** beside crafter's: the mean share of the 22 achievements unlocked per
  episode within its first 2,000 steps (BALROG caps Crafter episodes at 2,000 steps),
  which BALROG publishes for LLM agents.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from graphs.context import RunSettings

# Published Crafter scores (%), as the issue and the papers give them.
BASELINES: dict[str, float] = {
    "Random": 1.6,
    "PPO": 4.6,
    "DreamerV3 (1M steps)": 14.5,
    "SPRING (GPT-4)": 27.3,
    "Human experts": 50.5,
}
# BALROG (Paglieri et al. 2024), Crafter progression (%): mean share of the 22 achievements
# unlocked per episode, episodes capped at 2,000 steps; LLM agents, zero-shot.
BALROG_BASELINES: dict[str, float] = {
    "GPT-4o": 33.1,
    "Llama-3.1-70B": 31.2,
    "Llama-3.1-8B": 25.5,
    "Llama-3.2-1B": 12.7,
}
BALROG_STEPS = 2000
"""BALROG's step cap for a Crafter episode."""
TUNED_SEEDS = range(0, 100)
"""Seeds the agent was tuned on (project rule: tune on 0-99, report on 1000+)."""
BOOTSTRAP = 2000
"""Bootstrap resamples for every interval."""


# --------------------------------------------------------------------------- scoring
def success_rates(episodes: list[dict[str, int]], achievements: list[str]) -> dict[str, float]:
    """Percent of episodes in which each achievement was unlocked at least once."""
    n = len(episodes)
    return {a: 100.0 * sum(1 for e in episodes if e.get(a, 0) >= 1) / n for a in achievements}


def crafter_score(rates: dict[str, float]) -> float:
    """Crafter score (%) from per-achievement success rates in percent."""
    r = np.array(list(rates.values()), dtype=np.float64)
    return float(np.exp(np.nanmean(np.log(1 + r))) - 1)


def unlock_matrix(episodes: list[dict[str, int]], achievements: list[str]) -> np.ndarray:
    """Episodes x achievements, True where the episode unlocked the achievement."""
    return np.array(
        [[e.get(a, 0) >= 1 for a in achievements] for e in episodes], dtype=bool
    ).reshape(len(episodes), len(achievements))


def _scores(unlocked: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Crafter score of each resampled episode set (`idx`: resamples x episodes)."""
    rates = 100.0 * unlocked[idx].mean(axis=1)  # resamples x achievements
    return np.exp(np.log1p(rates).mean(axis=1)) - 1


def _resamples(n: int, seed: int, b: int = BOOTSTRAP) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(b, n))


def bootstrap_score(unlocked: np.ndarray, *, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the Crafter score, resampling episodes with replacement."""
    s = _scores(unlocked, _resamples(len(unlocked), seed))
    return float(np.percentile(s, 2.5)), float(np.percentile(s, 97.5))


def bootstrap_mean(values: list[float], *, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of `values`, resampling them with replacement."""
    v = np.asarray(values, dtype=np.float64)
    m = v[_resamples(len(v), seed)].mean(axis=1)
    return float(np.percentile(m, 2.5)), float(np.percentile(m, 97.5))


def paired_lift(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> dict[str, float]:
    """Score(a) - score(b) and its paired 95% bootstrap interval (row i of both = one seed)."""
    if a.shape != b.shape:
        raise ValueError("paired arms need the same episodes")
    idx = _resamples(len(a), seed)
    d = _scores(a, idx) - _scores(b, idx)
    whole = np.arange(len(a))[None, :]
    return {
        "lift": float(_scores(a, whole)[0] - _scores(b, whole)[0]),
        "lo": float(np.percentile(d, 2.5)),
        "hi": float(np.percentile(d, 97.5)),
    }


def balrog_progress(unlocked_at: dict[str, int], achievements: list[str]) -> float:
    """BALROG's per-episode figure (%): share of the achievements unlocked by step 2,000."""
    got = sum(1 for a in achievements if 0 < unlocked_at.get(a, 0) <= BALROG_STEPS)
    return 100.0 * got / len(achievements)


# --------------------------------------------------------------------------- the snapshot
def read_stats_snapshot(env: str = "crafter") -> dict[str, Any]:
    """The skills' success history as the shared store holds it now (the episodes' start)."""
    from skills.library import SkillLibrary

    return SkillLibrary(env, stats="frozen").stats_snapshot()


def snapshot_library(env: str, snapshot: dict[str, Any]) -> Any:
    """A skill library whose success history starts from `snapshot` and is never written:
    `record` counts in memory only (an episode learns within itself), and
    `stats_snapshot()` gives the history as it stands."""
    from skills.library import SkillLibrary

    return SkillLibrary(env, stats=snapshot)


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- episodes
def _episode(job: dict[str, Any]) -> dict[str, Any]:
    """One explorer episode from the snapshot it is given (a worker process runs this)."""
    if job.get("home"):
        os.environ["MENDAKO_HOME"] = job["home"]
    os.environ.setdefault("MENDAKO_LLM_THREADS", "1")
    from envs.registry import base_id
    from graphs.explore import explore

    settings = RunSettings(**job["settings"])
    library = snapshot_library(base_id(settings.env_id), job["stats"])
    s = explore(settings, library=library)
    achievements = _achievements(settings.env_id)
    return {
        "arm": job["arm"],
        "llm": settings.llm,
        "seed": settings.seed,
        "run_id": s.run_id,
        "achievements": s.achievements,
        "unlocked_at": s.unlocked_at,
        "balrog_progress": balrog_progress(s.unlocked_at, achievements),
        "env_steps": s.env_steps,
        "goals": s.goals,
        "ended": s.ended,
        "wall_s": round(s.wall_s, 1),
        "stats_start": _digest(job["stats"]),
        "stats_end": library.stats_snapshot(),
    }


def _achievements(env_id: str) -> list[str]:
    """The env's achievements, from its rules (a bench scores achievements)."""
    from envs.registry import adapter

    rules = adapter(env_id).load_rules()
    if rules is None:
        raise ValueError(f"{env_id} has no rules with achievements: nothing to score")
    return list(rules.achievements)


def _chain(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One arm's episodes in seed order, each starting from the history the last ended with."""
    out = []
    stats = jobs[0]["stats"]
    for job in jobs:
        r = _episode({**job, "stats": stats})
        stats = r["stats_end"]
        out.append(r)
    return out


# --------------------------------------------------------------------------- on Ray workers
_WORKER_HOMES: dict[str, Path] = {}
"""Per worker process: the home its skills bundle was unpacked into."""
_SKIP = ("stats.sqlite", "stats.sqlite-wal", "stats.sqlite-shm", "stats.json")


def _skills_bundle() -> bytes:
    """The driver's user skills (not their statistics: the snapshot travels in each job)."""
    from skills import cluster as _ray
    from skills import mendako_home

    root = mendako_home() / "skills"
    return _ray.pack_folder(root, skip=_SKIP) if root.is_dir() else b""


def _worker_home(bundle: bytes) -> Path:
    """The home episodes on this node run in: one per skills bundle and node, shared by the
    node's workers (an assembled embedded model, the LLM cache and the skills are set up
    once per node; each episode's run folder is packed and removed). It stays in the node's
    temp folder as a cache."""
    import tempfile

    from skills import cluster as _ray

    key = hashlib.sha256(bundle).hexdigest()[:16]
    if key not in _WORKER_HOMES:
        home = Path(tempfile.gettempdir()) / f"mendako-ray-{key}"
        if not (home / "skills").is_dir():
            home.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=home, prefix=".skills-"))
            if bundle:
                _ray.unpack_folder(bundle, tmp)
            try:
                os.rename(tmp, home / "skills")  # atomic: another worker may have won
            except OSError:
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)
        _WORKER_HOMES[key] = home
    return _WORKER_HOMES[key]


def _llama_loaded() -> int:
    import sys

    mod = sys.modules.get("agents._llm_llama")
    return len(getattr(mod, "_POOL", {})) if mod is not None else 0


def _ray_episode(job: dict[str, Any], bundle: bytes) -> dict[str, Any]:
    """One episode on a Ray worker: in the worker's own home, its run folder packed up for
    the driver (and removed here)."""
    import shutil

    from skills import cluster as _ray

    home = _worker_home(bundle)
    before = _llama_loaded()
    r = _episode({**job, "home": str(home)})
    run = home / "runs" / r["run_id"]
    r["run_tar"] = _ray.pack_folder(run)
    shutil.rmtree(run, ignore_errors=True)
    r["worker"] = {"pid": os.getpid(), "model_loads": _llama_loaded() - before}
    return r


def _ray_chain(jobs: list[dict[str, Any]], bundle: bytes) -> list[dict[str, Any]]:
    """:func:`_chain` on a Ray worker."""
    out = []
    stats = jobs[0]["stats"]
    for job in jobs:
        r = _ray_episode({**job, "stats": stats}, bundle)
        stats = r["stats_end"]
        out.append(r)
    return out


def _unpack_run(data: bytes, run_id: str) -> None:
    from skills import cluster as _ray
    from skills import mendako_home

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", run_id) or run_id.startswith("."):
        raise ValueError(f"a worker sent back a bad run id {run_id!r}")
    _ray.unpack_folder(data, mendako_home() / "runs" / run_id)


def _task_label(task: Any, chain: bool) -> dict[str, Any]:
    first = task[0] if chain else task
    return {"arm": first["arm"], "seed": first["settings"]["seed"]}


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") or "arm"


def _library_facts(env: str) -> dict[str, Any]:
    """What knowledge the skills bring: hand-written code, and RL skills' training steps."""
    from skills.library import SkillLibrary

    lib = SkillLibrary(env)
    code = [s.meta.name for s in lib if s.meta.kind == "code"]
    rl = {
        s.meta.name: int((s.meta.extra or {}).get("total_steps", 0))
        for s in lib
        if s.meta.kind != "code"
    }
    return {
        "code_skills": len(code),
        "user_skills": sum(1 for s in lib if not lib.is_shipped(s.meta.name)),
        "rl_skills": len(rl),
        "rl_pretrain_steps": sum(rl.values()),
    }


def protocol(
    settings: RunSettings, seeds: list[int], *, learn_across: bool, stats: dict[str, Any]
) -> dict[str, Any]:
    """The protocol a bench over `seeds` follows, in words and numbers (printed beside the
    baselines)."""
    from envs.registry import base_id

    facts = _library_facts(base_id(settings.env_id))
    tuned = [s for s in seeds if s in TUNED_SEEDS]
    contiguous = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    pre = facts["rl_pretrain_steps"]
    knowledge = f"{facts['code_skills']} hand-written code skills"
    if facts["rl_skills"]:
        knowledge += (
            f", {facts['rl_skills']} RL skills pre-trained for {pre:,} env steps in all "
            "(outside the bench)"
        )
    if facts["user_skills"]:
        knowledge += f", {facts['user_skills']} of them the user's"
    world = {
        "rules": "rules from data.yaml",
        "learned": "world model learned from experience (LLM hypothesis + corrections)",
        "off": "no world model",
    }[settings.world_model]
    return {
        "category": "external knowledge (Crafter scoreboard): hand-written skills and rules, "
        "no training steps during the bench",
        "knowledge": f"{knowledge}; {world}",
        "training_steps": 0,
        "seeds": f"{seeds[0]}..{seeds[-1]}" if contiguous else ", ".join(map(str, seeds)),
        "tuned_seeds": f"{len(tuned)} of these seeds are in 0..99, which the agent was tuned on"
        if tuned
        else "none of these seeds were tuned on (tuning used 0..99)",
        "max_env_steps": settings.max_env_steps,
        "stats": (
            "learned across episodes (--learn-across): each arm's episodes run in seed order, "
            "each starting from the success history the previous one ended with"
            if learn_across
            else "independent episodes: success history read from one snapshot, never written"
        ),
        "stats_snapshot": {"entries": len(stats), "sha256_16": _digest(stats)},
        "bootstrap": f"{BOOTSTRAP} resamples of episodes, 95% percentile intervals",
        "balrog": f"achievements unlocked within the first {BALROG_STEPS} steps of each episode"
        + (
            f" (episodes here end at {settings.max_env_steps} steps)"
            if settings.max_env_steps < BALROG_STEPS
            else ""
        ),
    }


def _arm_report(results: list[dict[str, Any]], achievements: list[str]) -> dict[str, Any]:
    unlocked = unlock_matrix([r["achievements"] for r in results], achievements)
    rates = success_rates([r["achievements"] for r in results], achievements)
    progress = [r["balrog_progress"] for r in results]
    lo, hi = bootstrap_score(unlocked)
    blo, bhi = bootstrap_mean(progress)
    return {
        "llm": results[0]["llm"],
        "score": crafter_score(rates),
        "score_ci95": [lo, hi],
        "balrog": float(np.mean(progress)),
        "balrog_ci95": [blo, bhi],
        "success_rates": rates,
        "env_steps": int(sum(r["env_steps"] for r in results)),
        "episode_wall_s": round(sum(r["wall_s"] for r in results), 1),
        "per_episode": [{k: v for k, v in r.items() if k != "stats_end"} for r in results],
    }


def run_bench(
    settings: RunSettings,
    episodes: int,
    *,
    workers: int | None = None,
    out_dir: Path,
    on_episode: Callable[[dict[str, Any]], None] | None = None,
    compare: str | None = "none",
    learn_across: bool = False,
    ray: str | None = None,
) -> dict[str, Any]:
    """Run `episodes` explorer episodes (seeds settings.seed, +1, ...) per arm and score them.

    Arms: ``settings.llm`` and, unless ``compare`` is None or the same spec, ``compare`` on
    the same seeds. Writes `crafter_bench.json`, a PNG and one JSON per episode
    (`episodes/<arm>/seed_<n>.json`) under `out_dir`. ``ray``: run each episode as a Ray
    task, on the cluster at that address, or on a local instance for ``"local"``/``""``;
    every episode's run folder comes back to this process's `$MENDAKO_HOME/runs/`."""
    from envs.registry import base_id

    if episodes < 1:
        raise ValueError("episodes must be at least 1")
    achievements = _achievements(settings.env_id)
    arms = [settings.llm] + ([compare] if compare and compare != settings.llm else [])
    stats = read_stats_snapshot(base_id(settings.env_id))
    home = os.environ.get("MENDAKO_HOME")
    jobs = {
        arm: [
            {
                "arm": arm,
                "settings": asdict(replace(settings, seed=settings.seed + i, llm=arm)),
                "home": home,
                "stats": stats,
            }
            for i in range(episodes)
        ]
        for arm in arms
    }
    out_dir.mkdir(parents=True, exist_ok=True)

    def done(r: dict[str, Any]) -> None:
        folder = out_dir / "episodes" / _safe(r["arm"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"seed_{r['seed']}.json").write_text(json.dumps(r, indent=2))
        if on_episode is not None:
            on_episode(r)

    # Interleave the arms so both advance together (a cut-short run stays paired).
    tasks: list[Any] = (
        list(jobs.values())
        if learn_across
        else [jobs[arm][i] for i in range(episodes) for arm in arms]
    )
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []

    def collect(out: Any) -> None:
        for r in out if learn_across else [out]:
            if "run_tar" in r:  # from a Ray worker: its run folder comes home
                _unpack_run(r.pop("run_tar"), r["run_id"])
            results.append(r)
            done(r)

    retried: list[Any] = []  # skills._ray.Retry, with --ray
    stopped = False
    try:
        if ray is None:
            workers = max(1, min(len(tasks), workers or (os.cpu_count() or 1)))
            with mp.get_context("spawn").Pool(workers) as pool:
                for out in pool.imap_unordered(_chain if learn_across else _episode, tasks):
                    collect(out)
        else:
            from skills import cluster as _ray

            _ray.init(ray or None, num_cpus=workers or None)
            workers = max(1, min(len(tasks), workers or _ray.cluster_cpus()))
            fn = _ray_chain if learn_across else _ray_episode
            for _, out in _ray.map_tasks(
                fn, tasks, parallel=workers, shared=(_skills_bundle(),), retried=retried
            ):
                collect(out)
    except KeyboardInterrupt:  # Ctrl-C: report the episodes that finished
        stopped = True
    ray_info = None
    if ray is not None:
        ray_info = {
            "address": ray or "local instance",
            "retried": [
                {**asdict(x), **_task_label(tasks[x.index], learn_across)} for x in retried
            ],
        }
    wall = time.perf_counter() - t0
    # Only seeds that every arm finished count (the lift stays paired).
    by_arm = {arm: {r["seed"]: r for r in results if r["arm"] == arm} for arm in arms}
    seeds = sorted(set.intersection(*(set(d) for d in by_arm.values())))
    if not seeds:
        raise KeyboardInterrupt("stopped before any seed finished in every arm")
    dropped = sorted({r["seed"] for r in results} - set(seeds))
    per_arm = {arm: _arm_report([by_arm[arm][s] for s in seeds], achievements) for arm in arms}
    report: dict[str, Any] = {
        "env": settings.env_id,
        "llm": settings.llm,
        "compare": arms[1] if len(arms) > 1 else None,
        "episodes": len(seeds),
        "episodes_asked": episodes,
        "stopped": (
            f"stopped by the user after {len(seeds)} of {episodes} seeds finished in every arm"
            + (f" (seeds {dropped} finished in only some arms: left out)" if dropped else "")
            if stopped
            else None
        ),
        "workers": workers,
        "max_env_steps": settings.max_env_steps,
        "protocol": protocol(settings, seeds, learn_across=learn_across, stats=stats),
        "arms": per_arm,
        # the chosen LLM's figures at the top level, as before
        "score": per_arm[settings.llm]["score"],
        "score_ci95": per_arm[settings.llm]["score_ci95"],
        "balrog": per_arm[settings.llm]["balrog"],
        "success_rates": per_arm[settings.llm]["success_rates"],
        "baselines": BASELINES,
        "balrog_baselines": BALROG_BASELINES,
        "wall_s": round(wall, 1),
        "per_episode": per_arm[settings.llm]["per_episode"],
        "ray": ray_info,
    }
    if len(arms) > 1:
        a, b = (
            unlock_matrix([r["achievements"] for r in per_arm[arm]["per_episode"]], achievements)
            for arm in arms
        )
        pa, pb = (
            np.array([r["balrog_progress"] for r in per_arm[arm]["per_episode"]]) for arm in arms
        )
        d = pa - pb
        dl, dh = bootstrap_mean(list(d))
        report["lift"] = {
            "score": paired_lift(a, b),
            "balrog": {"lift": float(d.mean()), "lo": dl, "hi": dh},
        }
    (out_dir / "crafter_bench.json").write_text(json.dumps(report, indent=2))
    _bar_chart(per_arm, out_dir / "crafter_bench.png")
    return report


def _bar_chart(per_arm: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    arms = list(per_arm)
    names = list(per_arm[arms[0]]["success_rates"])
    width = 0.8 / len(arms)
    for k, arm in enumerate(arms):
        rates = per_arm[arm]["success_rates"]
        ax.bar(
            [i + (k - (len(arms) - 1) / 2) * width for i in range(len(names))],
            [rates[n] for n in names],
            width=width,
            label=f"--llm {arm}: score {per_arm[arm]['score']:.1f}%",
        )
    ax.set_xticks(range(len(names)), names, rotation=70, ha="right", fontsize=8)
    ax.set_ylabel("success rate (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title("mendako on Crafter")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
