"""LLM as policy (GLAM) vs plain RL on a small BabyAI task, at the same number of env steps.

Prints the success rate (BabyAI's verifier, held-out seeds) of each policy before and after
PPO, the env steps and the wall time. Default budget runs in under ~10 min on 2 CPU cores:

    python benchmarks/babyai_policy.py --steps 128 --eval-episodes 10
"""

from __future__ import annotations

import argparse
import json
import logging

import torch

from agents.llm import embedded_model_path
from skills.rl.llm_policy import LLMPolicyArgs, train, train_mlp


def main(argv: list[str] | None = None) -> None:
    """Run both policies and print one line each plus a JSON summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--level", default="BabyAI-GoToObjS6-v1")
    p.add_argument("--steps", type=int, default=128)
    p.add_argument("--horizon", type=int, default=10)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--skip-llm", action="store_true")
    p.add_argument("--skip-mlp", action="store_true")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(a.threads)
    args = LLMPolicyArgs(
        level=a.level,
        total_steps=a.steps,
        n_steps=min(64, a.steps),
        horizon=a.horizon,
        eval_episodes=a.eval_episodes,
        seed=a.seed,
        model_path=None if a.skip_llm else str(embedded_model_path()),
    )
    print(f"{'policy':6} {'level':22} {'steps':>5} {'before':>6} {'after':>6} {'wall_s':>7}")
    rows = []
    runs = ([] if a.skip_mlp else [train_mlp]) + ([] if a.skip_llm else [train])
    for run in runs:
        r = run(args)
        rows.append(r)
        print(  # each row as soon as it is measured (a long run that is cut keeps the first)
            f"{r['policy']:6} {r['level']:22} {r['env_steps']:5d} {r['success_before']:6.2f} "
            f"{r['success_after']:6.2f} {r['wall_s']:7.1f}",
            flush=True,
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
