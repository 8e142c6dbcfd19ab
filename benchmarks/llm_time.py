"""Time spent in language-model calls per explorer episode (the bench's unit of work).

Wraps the run's chat model and scorer in timers and runs `graphs.explore.explore` on a few
seeds with a short step cap, then prints, per seed and in total, the seconds spent inside
model calls (structured generation, plain generation, log-likelihood scoring), the number
of calls and the episode's wall time. Run it before and after a change to see what the
change did to LLM time:

    python -m benchmarks.llm_time --seeds 0 1 2 --max-steps 500

Each episode gets a fresh ``MENDAKO_HOME`` (cold LLM cache, fresh skill statistics) so the
figure does not depend on what ran before; ``--shared-home`` runs the seeds one after the
other in one fresh home, as ``bench crafter`` runs its episodes in the user's home (the LLM
cache then answers prompts seen in an earlier episode).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

from langchain_core.runnables import RunnableLambda


class Clock:
    """Seconds (wall and this process's CPU) and calls per kind of model call.

    CPU seconds are the steadier figure on a shared machine: llama.cpp's threads count in
    them, other processes do not."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def timed(self, kind: str, fn: Any, *args: Any, **kw: Any) -> Any:
        """Call `fn` and count its time under `kind`."""
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kw)
        finally:
            self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - t0
            self.cpu[kind] = self.cpu.get(kind, 0.0) + time.process_time() - c0
            self.calls[kind] = self.calls.get(kind, 0) + 1

    @property
    def total(self) -> float:
        """All wall seconds spent in model calls."""
        return sum(self.seconds.values())

    @property
    def total_cpu(self) -> float:
        """All CPU seconds spent in model calls."""
        return sum(self.cpu.values())


class TimedChat:
    """A chat model whose structured and plain calls are timed (everything else delegated)."""

    def __init__(self, inner: Any, clock: Clock) -> None:
        self._inner = inner
        self._clock = clock

    def with_structured_output(self, schema: Any, **kw: Any) -> Any:
        """The inner model's structured runnable, timed."""
        runnable = self._inner.with_structured_output(schema, **kw)
        name = getattr(schema, "__name__", "structured")

        def call(value: Any) -> Any:
            return self._clock.timed(f"structured:{name}", runnable.invoke, value)

        return RunnableLambda(call)

    def invoke(self, value: Any, *args: Any, **kw: Any) -> Any:
        """The inner model's plain call, timed."""
        return self._clock.timed("invoke", self._inner.invoke, value, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TimedScorer:
    """A scorer whose `score`/`distribution` calls are timed."""

    def __init__(self, inner: Any, clock: Clock) -> None:
        self._inner = inner
        self._clock = clock

    def _timed(self, method: str, *args: Any, **kw: Any) -> Any:
        return self._clock.timed(f"score:{method}", getattr(self._inner, method), *args, **kw)

    def distribution(self, *args: Any, **kw: Any) -> Any:
        """The inner scorer's distribution, timed."""
        return self._timed("distribution", *args, **kw)

    def score(self, *args: Any, **kw: Any) -> Any:
        """The inner scorer's scores, timed."""
        return self._timed("score", *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def measure(seed: int, llm_spec: str, max_steps: int, *, fresh: bool = True) -> dict[str, Any]:
    """One explorer episode of `seed` with timed model calls (in a fresh MENDAKO_HOME)."""
    from agents.llm import make_chat_model, make_scorer
    from graphs.context import RunSettings
    from graphs.explore import explore

    if fresh:
        os.environ["MENDAKO_HOME"] = tempfile.mkdtemp(prefix="mendako-llmtime-")
    clock = Clock()
    settings = RunSettings(seed=seed, llm=llm_spec, max_env_steps=max_steps)
    kw = {"run_seed": seed} if llm_spec.startswith("none") else {}
    chat = make_chat_model(llm_spec, **kw)
    scorer = make_scorer(chat)
    t0 = time.perf_counter()
    summary = explore(settings, llm=TimedChat(chat, clock), scorer=TimedScorer(scorer, clock))
    wall = time.perf_counter() - t0
    return {
        "seed": seed,
        "llm_s": clock.total,
        "llm_cpu_s": clock.total_cpu,
        "wall_s": wall,
        "env_steps": summary.env_steps,
        "goals": summary.goals,
        "achievements": len(summary.achievements),
        "seconds": clock.seconds,
        "cpu": clock.cpu,
        "calls": clock.calls,
        "run_id": summary.run_id,
    }


def main(argv: list[str] | None = None) -> None:
    """Print LLM seconds per explorer episode for each seed and in total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--llm", default="embedded")
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--shared-home", action="store_true", help="one home for all seeds")
    args = parser.parse_args(argv)
    if args.shared_home:
        os.environ["MENDAKO_HOME"] = tempfile.mkdtemp(prefix="mendako-llmtime-")
    rows = []
    for seed in args.seeds:
        r = measure(seed, args.llm, args.max_steps, fresh=not args.shared_home)
        rows.append(r)
        kinds = ", ".join(
            f"{k} {r['calls'][k]}x {r['cpu'][k]:.1f} cpu-s" for k in sorted(r["calls"])
        )
        print(
            f"seed {seed}: llm {r['llm_s']:.1f}s ({r['llm_cpu_s']:.1f} cpu-s) of wall "
            f"{r['wall_s']:.1f}s, "
            f"{r['env_steps']} env steps, {r['goals']} goals, {r['achievements']} achievements"
            f" | {kinds}",
            flush=True,
        )
    llm_s = sum(r["llm_s"] for r in rows)
    cpu = sum(r["llm_cpu_s"] for r in rows)
    wall = sum(r["wall_s"] for r in rows)
    calls = sum(sum(r["calls"].values()) for r in rows)
    goals = sum(r["goals"] for r in rows)
    steps = sum(r["env_steps"] for r in rows)
    print(
        f"total over {len(rows)} episodes (llm={args.llm}, max {args.max_steps} env steps, "
        f"{'one shared home' if args.shared_home else 'a fresh home each'}): "
        f"llm {llm_s:.1f}s wall, {cpu:.1f} cpu-s ({cpu / len(rows):.1f} cpu-s per episode, "
        f"{cpu / max(goals, 1):.2f} per goal, {100 * cpu / max(steps, 1):.2f} per 100 env steps; "
        f"{calls} calls, {goals} goals, {steps} env steps), wall {wall:.1f}s"
    )


if __name__ == "__main__":
    main()
