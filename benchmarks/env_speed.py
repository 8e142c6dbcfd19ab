"""Crafter speed: raw env vs the gymnasium wrapper vs CrafterAPI primitives (steps/s).

Run from the repository root: ``python -m benchmarks.env_speed [--steps 3000]``.
Reset time is reported apart: crafter's world generation took ~0.6 s in pure Python, ~0.04 s
with numba (a dependency; the first reset of a process loads the compiled noise, ~0.15 s).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from envs.crafter import CrafterAPI, SkillStop, make


def raw_steps_per_s(steps: int, seed: int = 0) -> tuple[float, float]:
    """Steps/s of crafter.Env itself (random actions) and its reset time in seconds."""
    import crafter

    env = crafter.Env(seed=seed)
    t = time.perf_counter()
    env.reset()
    reset_s = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 17, steps)
    t = time.perf_counter()
    for a in actions:
        _, _, done, _ = env.step(int(a))
        if done:
            env.reset()
    return steps / (time.perf_counter() - t), reset_s


def wrapper_steps_per_s(steps: int, seed: int = 0) -> tuple[float, float]:
    """Steps/s of CrafterEnv (local view, memory update, no semantic map) and reset time."""
    env = make(seed=seed)
    t = time.perf_counter()
    env.reset(seed=seed)
    reset_s = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 17, steps)
    t = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = env.step(int(a))
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - t), reset_s


def api_steps_per_s(steps: int, seed: int = 0) -> dict[str, float]:
    """Env steps/s through CrafterAPI: raw ``act`` calls, and planning primitives
    (``explore``, ``collect``) whose search runs between steps."""
    out: dict[str, float] = {}
    env = make(seed=seed)
    env.reset(seed=seed)
    api = CrafterAPI(env, budget=steps)
    names = ["move_left", "move_right", "move_up", "move_down", "noop"]
    t = time.perf_counter()
    try:
        for i in range(steps):
            api.act(names[i % len(names)])
    except SkillStop:
        pass
    out["act"] = api.steps_used / (time.perf_counter() - t)

    env.reset(seed=seed)
    api = CrafterAPI(env, budget=steps)
    t = time.perf_counter()
    try:
        api.explore(steps)
    except SkillStop:
        pass
    out["explore"] = api.steps_used / (time.perf_counter() - t)

    used, elapsed = 0, 0.0
    for s in range(seed, seed + 5):
        env.reset(seed=s)
        api = CrafterAPI(env, budget=300)
        t = time.perf_counter()
        try:
            api.collect("wood", until=5)
            api.collect("water")
        except SkillStop:
            pass
        elapsed += time.perf_counter() - t
        used += api.steps_used
    out["collect"] = used / elapsed
    return out


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    raw, raw_reset = raw_steps_per_s(args.steps)
    wrapped, wrapped_reset = wrapper_steps_per_s(args.steps)
    api = api_steps_per_s(args.steps)
    print(f"raw crafter.Env      {raw:8.0f} steps/s   reset {raw_reset:.2f} s")
    print(f"CrafterEnv wrapper   {wrapped:8.0f} steps/s   reset {wrapped_reset:.2f} s")
    for name, value in api.items():
        print(f"CrafterAPI {name:<9} {value:8.0f} steps/s")


if __name__ == "__main__":
    main()
