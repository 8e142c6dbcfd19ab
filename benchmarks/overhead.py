"""Graph overhead per node transition, and env steps/s inside skill execution vs the raw env.

    python -m benchmarks.overhead [--goal "make a stone pickaxe"] [--seeds 0-9] [--rounds 3]

One process, same runs: the graph runs with a scripted (zero-cost) planner and scorer so
that no LLM time is in it. Every node function and every skill's `run` is wrapped with a
timer.

- Graph overhead per transition = (time the graph streamed - time inside node functions) /
  transitions: what LangGraph, the SQLite checkpointer and the trace writer cost while the
  graph runs (loading the last checkpoint when the stream starts and waiting for the last
  save when it ends are in it too). The run's setup and close (run folder, meta.json,
  opening the checkpointer, reading the final state, the last trace line; once per run) is
  printed apart, and also spread over the transitions.
- Skill step rate = env steps / time inside `skill.run` (planning, the primitive API, RL
  policies, perception and the env step itself). The raw env is crafter's own `crafter.Env`
  stepping exactly the same actions on the same seeds, as the package ships it (it draws a
  64x64 frame and builds the whole-world semantic map every step), and also with both
  switched off, which is what mendako's `CrafterEnv` runs underneath (frames are drawn only
  when a run is recorded; the semantic map is privileged and never built).

One untimed run on another seed comes first, so that lazy imports and caches are not timed.
The timed runs are repeated `--rounds` times (the same seeds each round); each round's figures
are printed and the median round's overhead is the headline, since one round on a shared
machine can be off by a fifth.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from typing import Any

import graphs.build as build_mod
import graphs.nodes
from graphs.context import RunSettings
from graphs.runner import run_goal
from skills.library import SkillLibrary


class _Planner:
    """A zero-cost planner: reads nothing, lets the rules repair build the plan."""

    def __init__(self, target: str) -> None:
        self.target = target

    def with_structured_output(self, schema):  # noqa: ANN001, ANN201
        from langchain_core.runnables import RunnableLambda

        return RunnableLambda(
            lambda _: schema.model_validate({"target": self.target, "subgoals": [self.target]})
        )


class _Scorer:
    """A zero-cost scorer: the instruction's own skill gets the mass."""

    def distribution(self, prompt: str, options: list[str], **_: object) -> list[float]:
        instruction = prompt.split("Instruction:")[-1].split("\n")[0].strip()
        raw = [10.0 if o.strip() == instruction else 1.0 for o in options]
        return [r / sum(raw) for r in raw]


def _timer(fn: Callable[..., Any], timers: dict[str, float], key: str) -> Callable[..., Any]:
    """`fn`, adding its wall time to `timers[key]` and its calls to `timers[key + "_n"]`."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timers[key] = timers.get(key, 0.0) + time.perf_counter() - t0
            timers[key + "_n"] = timers.get(key + "_n", 0) + 1

    return wrapper


def _node_timer(fn: Callable[..., Any], timers: dict[str, float]) -> Callable[..., Any]:
    # LangGraph passes `runtime` by parameter name: the wrapper keeps the node's signature.
    def wrapper(state: Any, runtime: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(state, runtime)
        finally:
            timers["nodes"] = timers.get("nodes", 0.0) + time.perf_counter() - t0
            timers["nodes_n"] = timers.get("nodes_n", 0) + 1

    return wrapper


def _skill_timer(run: Callable[..., Any], timers: dict[str, float]) -> Callable[..., Any]:
    def wrapper(session: Any, *, budget: int, need: dict[str, int]) -> Any:
        t0 = time.perf_counter()
        result = run(session, budget=budget, need=need)
        timers["skill_s"] += time.perf_counter() - t0
        timers["skill_steps"] += result.steps
        return result

    return wrapper


def raw_crafter_rate(seed: int, actions: list[int], *, stripped: bool) -> float:
    """Steps/s of `crafter.Env.step` replaying `actions` in world `seed` (time in step only).

    `stripped`: no frame, no whole-world semantic map (what `CrafterEnv` runs underneath)."""
    import crafter

    env = crafter.Env(seed=seed)
    if stripped:
        env._obs = lambda: None
        env._sem_view = lambda: None
    env.reset()
    spent = 0.0
    for a in actions:
        t0 = time.perf_counter()
        _, _, done, _ = env.step(a)
        spent += time.perf_counter() - t0
        if done:
            break
    return len(actions) / spent if spent else float("nan")


def main() -> None:
    """Print per-transition overhead and the skill/raw step-rate ratio."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--goal", default="make a stone pickaxe")
    p.add_argument("--target", default="make_stone_pickaxe")
    p.add_argument("--seeds", default="0-9")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds over the seeds")
    args = p.parse_args()
    lo, hi = (int(x) for x in args.seeds.split("-"))
    import torch  # noqa: F401  (RL skills import it on first use; keep that out of the timing)

    import graphs.driver as driver_mod
    from envs.registry import EnvSession

    timers: dict[str, float] = {"skill_s": 0.0, "skill_steps": 0}
    registry = graphs.nodes.nodes()
    for name in ("plan", "score_affordances", "execute_skill", "verify"):
        node = registry[name]
        registry[name] = dataclasses.replace(node, run=_node_timer(node.run, timers))
    build_mod._compiled.cache_clear()  # compile the graph with the timed nodes
    driver_mod.stream = _timer(driver_mod.stream, timers, "stream")
    sessions: list[Any] = []
    opener = EnvSession.open.__func__

    def timed_open(cls: type, *a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        session = opener(cls, *a, **kw)
        timers["reset"] = timers.get("reset", 0.0) + time.perf_counter() - t0
        sessions.append(session)
        return session

    EnvSession.open = classmethod(timed_open)  # type: ignore[method-assign]
    library = SkillLibrary("crafter")
    for skill in library:
        skill.run = _skill_timer(skill.run, timers)
    # One untimed run first: lazy imports (LangChain's tracers, torch's on first policy) and
    # caches (the compiled graph) are paid once per process, not per transition.
    run_goal(
        args.goal,
        RunSettings(seed=hi + 1),
        llm=_Planner(args.target),
        scorer=_Scorer(),
        library=library,
    )
    runs = hi - lo + 1
    rounds: list[dict[str, float]] = []
    for r in range(args.rounds):
        timers.clear()
        timers.update({"skill_s": 0.0, "skill_steps": 0})
        sessions.clear()
        graph_s = 0.0
        for seed in range(lo, hi + 1):
            t0 = time.perf_counter()
            run_goal(
                args.goal,
                RunSettings(seed=seed),
                llm=_Planner(args.target),
                scorer=_Scorer(),
                library=library,
            )
            graph_s += time.perf_counter() - t0
        n = timers["nodes_n"]
        rounds.append(
            {
                "n": n,
                "stream_ms": 1000 * (timers["stream"] - timers["nodes"]) / n,
                "setup_ms": 1000 * (graph_s - timers["stream"] - timers["reset"]) / runs,
                "spread_ms": 1000 * (graph_s - timers["nodes"] - timers["reset"]) / n,
                "skill_rate": timers["skill_steps"] / timers["skill_s"],
                "skill_steps": timers["skill_steps"],
            }
        )
        f = rounds[-1]
        print(
            f"round {r + 1}: {f['stream_ms']:.2f} ms per transition, setup {f['setup_ms']:.1f} ms"
            f" per run, skills {f['skill_rate']:.0f} steps/s",
            flush=True,
        )
    med = sorted(rounds, key=lambda f: f["stream_ms"])[len(rounds) // 2]
    steps = sum(len(s.env.action_log) for s in sessions)
    raw: dict[bool, float] = {}
    for stripped in (False, True):
        spent = sum(
            len(s.env.action_log) / raw_crafter_rate(s.seed, s.env.action_log, stripped=stripped)
            for s in sessions
            if s.env.action_log
        )
        raw[stripped] = steps / spent
    skill_rate = statistics.median(f["skill_rate"] for f in rounds)
    print(
        f"runs: {runs} x {args.rounds} rounds, node transitions per round: {med['n']:.0f}, "
        f"goal {args.goal!r} (median round below)"
    )
    print(
        f"graph overhead per node transition: {med['stream_ms']:.2f} ms (while the graph "
        "streams, time outside node functions: LangGraph, SQLite checkpoints, trace lines)"
    )
    print(
        f"run setup and close per run: {med['setup_ms']:.1f} ms (run folder, meta.json, opening "
        "the checkpointer, the final state and trace line; env reset excluded); with it spread "
        f"over the transitions: {med['spread_ms']:.2f} ms per transition"
    )
    print(f"env steps/s inside skills: {skill_rate:.0f} ({med['skill_steps']:.0f} steps a round)")
    print(
        f"raw crafter.Env.step on the same actions, as shipped (frame + semantic map every "
        f"step): {raw[False]:.0f}/s -> skills run at {100 * skill_rate / raw[False]:.0f}% of it"
    )
    print(
        f"raw crafter.Env.step without frame and semantic map (what mendako's env steps "
        f"underneath): {raw[True]:.0f}/s -> skills run at {100 * skill_rate / raw[True]:.0f}%"
    )


if __name__ == "__main__":
    main()
