"""Time spent in language-model calls per explorer episode (the bench's unit of work).

Wraps the run's chat model and scorer in timers and runs `graphs.explore.explore` on a few
seeds with a short step cap, then prints, per seed and in total, the seconds spent inside
model calls (structured generation, plain generation, log-likelihood scoring), the number
of calls and the episode's wall time. Run it before and after a change to see what the
change did to LLM time:

    python -m benchmarks.llm_time --seeds 0 1 2 --max-steps 500

Each episode gets a fresh ``MENDAKO_HOME`` (cold LLM cache, fresh skill statistics) so the
figure does not depend on what ran before.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

from langchain_core.runnables import RunnableLambda


class Clock:
    """Seconds and calls per kind of model call."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def add(self, kind: str, seconds: float) -> None:
        """Count one call of `kind` that took `seconds`."""
        self.seconds[kind] = self.seconds.get(kind, 0.0) + seconds
        self.calls[kind] = self.calls.get(kind, 0) + 1

    @property
    def total(self) -> float:
        """All seconds spent in model calls."""
        return sum(self.seconds.values())


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
            t0 = time.perf_counter()
            try:
                return runnable.invoke(value)
            finally:
                self._clock.add(f"structured:{name}", time.perf_counter() - t0)

        return RunnableLambda(call)

    def invoke(self, value: Any, *args: Any, **kw: Any) -> Any:
        """The inner model's plain call, timed."""
        t0 = time.perf_counter()
        try:
            return self._inner.invoke(value, *args, **kw)
        finally:
            self._clock.add("invoke", time.perf_counter() - t0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TimedScorer:
    """A scorer whose `score`/`distribution` calls are timed."""

    def __init__(self, inner: Any, clock: Clock) -> None:
        self._inner = inner
        self._clock = clock

    def _timed(self, method: str, *args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return getattr(self._inner, method)(*args, **kw)
        finally:
            self._clock.add(f"score:{method}", time.perf_counter() - t0)

    def distribution(self, *args: Any, **kw: Any) -> Any:
        """The inner scorer's distribution, timed."""
        return self._timed("distribution", *args, **kw)

    def score(self, *args: Any, **kw: Any) -> Any:
        """The inner scorer's scores, timed."""
        return self._timed("score", *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def measure(seed: int, llm_spec: str, max_steps: int) -> dict[str, Any]:
    """One explorer episode of `seed` with timed model calls, in a fresh MENDAKO_HOME."""
    from agents.llm import make_chat_model, make_scorer
    from graphs.context import RunSettings
    from graphs.explore import explore

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
        "wall_s": wall,
        "env_steps": summary.env_steps,
        "goals": summary.goals,
        "achievements": len(summary.achievements),
        "seconds": clock.seconds,
        "calls": clock.calls,
        "run_id": summary.run_id,
    }


def main(argv: list[str] | None = None) -> None:
    """Print LLM seconds per explorer episode for each seed and in total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--llm", default="embedded")
    parser.add_argument("--max-steps", type=int, default=500)
    args = parser.parse_args(argv)
    rows = []
    for seed in args.seeds:
        r = measure(seed, args.llm, args.max_steps)
        rows.append(r)
        calls = ", ".join(
            f"{k} {r['calls'][k]}x {r['seconds'][k]:.1f}s" for k in sorted(r["calls"])
        )
        print(
            f"seed {seed}: llm {r['llm_s']:.1f}s of wall {r['wall_s']:.1f}s, "
            f"{r['env_steps']} env steps, {r['goals']} goals, {r['achievements']} achievements"
            f" | {calls}",
            flush=True,
        )
    llm_s = sum(r["llm_s"] for r in rows)
    wall = sum(r["wall_s"] for r in rows)
    calls = sum(sum(r["calls"].values()) for r in rows)
    print(
        f"total over {len(rows)} episodes (llm={args.llm}, max {args.max_steps} env steps): "
        f"llm {llm_s:.1f}s ({llm_s / len(rows):.1f}s per episode, {calls} calls), "
        f"wall {wall:.1f}s"
    )


if __name__ == "__main__":
    main()
