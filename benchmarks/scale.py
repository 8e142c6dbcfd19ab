"""Past one machine: bench episodes per minute and PPO env steps per second, local vs Ray.

Run from the repository root: ``python -m benchmarks.scale [--episodes 4] [--max-steps 300]
[--ppo-steps 4096] [--llm none]`` (needs ``pip install -e '.[ray]'``).

Four ways, one Ray instance (``num_cpus=2``, started before any timing):

- episodes: ``run_bench`` on seeds 1000.. in 1 local process, on 1 Ray worker, on 2 Ray
  workers; episodes/min is episodes over the bench's wall time (Ray's included: packing
  each run folder, shipping it home);
- PPO: ``train`` on crafter, ``collect_wood``, 8 envs x 128 steps per rollout, stepped in
  this process, on 1 Ray actor (8 envs), on 2 Ray actors (4 + 4); env steps/s is env steps
  over training wall time (the learner's updates included: they run on the driver).

Ray's overhead = local rate / Ray-1-worker rate - 1 (target: within 10%); the scaling is
Ray-2 / Ray-1 (target: >= 1.7x where two cores are free). The default ``--llm none`` times
the distribution, not a language model; pass ``--llm embedded`` to time episodes with it.
The figures are only as free of noise as the machine is: say how busy it was.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def bench_rate(episodes: int, max_steps: int, llm: str, ray: str | None, workers: int) -> float:
    """Episodes per minute of `run_bench` (seeds 1000..), locally or on Ray workers."""
    from agents.bench import run_bench
    from graphs.context import RunSettings

    settings = RunSettings(seed=1000, llm=llm, max_env_steps=max_steps)
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        report = run_bench(
            settings, episodes, workers=workers, out_dir=Path(out), compare=None, ray=ray
        )
        wall = time.perf_counter() - t
    assert len(report["per_episode"]) == episodes
    return 60.0 * episodes / wall


def ppo_rate(total_steps: int, ray: str | None, workers: int) -> float:
    """Env steps per second of PPO training (the learner's updates included)."""
    from skills.rl.ppo import PPOArgs, train

    with tempfile.TemporaryDirectory() as out:
        args = PPOArgs(
            total_steps=total_steps,
            eval_episodes=0,
            out_dir=str(Path(out) / "rl"),
            ray=ray,
            ray_workers=workers,
        )
        t = time.perf_counter()
        path = train(args)
        wall = time.perf_counter() - t
        steps = int(json.loads((path / "meta.json").read_text())["extra"]["total_steps"])
    return steps / wall


def main(argv: list[str] | None = None) -> None:
    """Print the table (see module doc)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=4)
    p.add_argument("--max-steps", type=int, default=300)
    p.add_argument("--llm", default="none")
    p.add_argument("--ppo-steps", type=int, default=4096)
    a = p.parse_args(argv)
    os.environ.setdefault("MENDAKO_HOME", tempfile.mkdtemp(prefix="mendako-scale-"))
    from skills import _ray

    _ray.init(num_cpus=2)
    load0 = os.getloadavg()[0]
    rows = []
    for label, ray, workers in (
        ("local (1 process)", None, 1),
        ("Ray, 1 worker", "", 1),
        ("Ray, 2 workers", "", 2),
    ):
        eps = bench_rate(a.episodes, a.max_steps, a.llm, ray, workers)
        sps = ppo_rate(a.ppo_steps, ray, workers)
        rows.append((label, eps, sps))
        print(f"{label:<18} {eps:8.2f} episodes/min  {sps:8.0f} PPO env steps/s", flush=True)
    (_, le, ls), (_, r1e, r1s), (_, r2e, r2s) = rows
    print(
        f"\nbench: {a.episodes} episodes of at most {a.max_steps} steps, --llm {a.llm}; "
        f"PPO: {a.ppo_steps} env steps, 8 envs x 128 steps per rollout; "
        f"{os.cpu_count()} cores here, load average {load0:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"Ray overhead vs local (1 worker): episodes {le / r1e - 1:+.1%}, PPO {ls / r1s - 1:+.1%}"
    )
    print(f"Ray 2 workers / 1 worker: episodes {r2e / r1e:.2f}x, PPO {r2s / r1s:.2f}x")


if __name__ == "__main__":
    main()
