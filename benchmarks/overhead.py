"""Graph overhead per node transition, and env steps/s inside skill execution vs the raw env.

    python -m benchmarks.overhead [--goal "make a stone pickaxe"] [--seeds 0-4]

One process, same runs: the graph runs with a scripted (zero-cost) planner and scorer so
that no LLM time is in it. Every node function and every skill's `run` is wrapped with a
timer: graph overhead per transition = (graph wall time - time inside node functions) /
transitions, i.e. what LangGraph, the SQLite checkpointer and the trace writer cost; skill
step rate = env steps / time inside `skill.run`, against the time the same steps spent inside
`env.step` (the raw env rate on exactly those steps). Torch is imported before timing (RL skills
load it on first use). The raw env is timed on the same seeds with random moves and `do`.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import graphs.build as build_mod
from envs.crafter import make
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


def _raw_rate(seed: int, steps: int = 2000) -> float:
    env = make("crafter", seed=seed)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    moves = [1, 2, 3, 4, 5]  # moves and do: the actions skills mostly take
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(int(rng.choice(moves)))
        if term or trunc:
            env.reset(seed=seed)
    return steps / (time.perf_counter() - t0)


def _timed_run(run, timers):  # noqa: ANN001, ANN202
    def wrapper(session, *, budget, need):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        result = run(session, budget=budget, need=need)
        timers["skill_s"] += time.perf_counter() - t0
        timers["skill_steps"] += result.steps
        return result

    return wrapper


def _timed_run(run, timers):  # noqa: ANN001, ANN202
    def wrapper(session, *, budget, need):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        result = run(session, budget=budget, need=need)
        timers["skill_s"] += time.perf_counter() - t0
        timers["skill_steps"] += result.steps
        return result

    return wrapper


def main() -> None:
    """Print per-transition overhead and the skill/raw step-rate ratio."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--goal", default="make a stone pickaxe")
    p.add_argument("--target", default="make_stone_pickaxe")
    p.add_argument("--seeds", default="0-4")
    args = p.parse_args()
    lo, hi = (int(x) for x in args.seeds.split("-"))
    import torch  # noqa: F401  (RL skills import it on first use; keep that out of the timing)

    timers: dict[str, float] = {"nodes": 0.0, "transitions": 0, "skill_s": 0.0, "skill_steps": 0}

    def timed_node(fn):  # noqa: ANN001, ANN202
        def wrapper(state, runtime):  # noqa: ANN001, ANN202
            t0 = time.perf_counter()
            try:
                return fn(state, runtime)
            finally:
                timers["nodes"] += time.perf_counter() - t0
                timers["transitions"] += 1

        return wrapper

    for name in ("plan", "score_affordances", "execute_skill", "verify"):
        setattr(build_mod, name, timed_node(getattr(build_mod, name)))
    from envs.registry import EnvSession

    opener = EnvSession.open.__func__

    def timed_open(cls, *a, **kw):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        try:
            return opener(cls, *a, **kw)
        finally:
            timers["reset_s"] += time.perf_counter() - t0

    timers["reset_s"] = 0.0
    EnvSession.open = classmethod(timed_open)
    from envs.crafter import CrafterEnv

    raw_step = CrafterEnv.step
    timers["env_s"] = 0.0
    timers["env_steps"] = 0

    def timed_step(self, action):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        try:
            return raw_step(self, action)
        finally:
            timers["env_s"] += time.perf_counter() - t0
            timers["env_steps"] += 1

    CrafterEnv.step = timed_step
    library = SkillLibrary("crafter")
    for skill in library:
        skill.run = _timed_run(skill.run, timers)
    graph_s = 0.0
    raw_rates = []
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
        raw_rates.append(_raw_rate(seed))
    n = timers["transitions"]
    overhead_ms = 1000 * (graph_s - timers["nodes"] - timers["reset_s"]) / n
    skill_rate = timers["skill_steps"] / timers["skill_s"]
    raw = statistics.median(raw_rates)
    print(f"runs: {hi - lo + 1}, node transitions: {n}, goal {args.goal!r}")
    print(
        f"graph overhead per node transition: {overhead_ms:.2f} ms (run wall time outside "
        "node functions and env reset: LangGraph, SQLite checkpoints, trace lines)"
    )
    print(f"env steps/s inside skills: {skill_rate:.0f} ({timers['skill_steps']:.0f} steps)")
    env_rate = timers["env_steps"] / timers["env_s"]
    print(
        f"the same steps in the env alone (time inside env.step, same runs): {env_rate:.0f}/s "
        f"-> skills run at {100 * skill_rate / env_rate:.0f}% of the raw step rate"
    )
    print(f"raw env steps/s, random moves on the same seeds (resets on death included): {raw:.0f}")


if __name__ == "__main__":
    main()
