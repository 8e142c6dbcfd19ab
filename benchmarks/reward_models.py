"""Which language reward teaches an RL skill fastest, and does the LLM judge agree with the env?

(Run from the repository root.) Two parts:

1. **Training.** PPO trains the same subgoal with each reward (``verifier`` = the
   programmatic check, ``judge``, ``similarity``, ``manual``, ``sparse`` = Crafter's own) on
   the same seeds, episodes and budget, and prints steps until the success rate over 50
   fresh-start episodes reaches ``--target`` (``>N`` = not reached) and the last success
   rate. Success is always the programmatic check: the rewards differ, the yardstick does not.
   LLM rewards are cached by prompt, so repeated transitions are free.
2. **Agreement.** Built-in code skills (collect wood, place table, make a wood pickaxe, ...)
   run in Crafter while every transition is recorded; ``--transitions`` of them (per goal,
   half with an achievement, half without, sampled) are judged by the LLM judge and by
   the similarity reward, against the programmatic check for the subgoal; precision/recall.

    python -m benchmarks.reward_models --steps 20000 --seeds 1 --transitions 200
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.sample_efficiency import Result, run_one

MODES = ("verifier", "judge", "similarity", "manual", "sparse")
SKILLS = ("collect_wood", "place_table", "make_wood_pickaxe", "collect_sapling", "collect_drink")


def record_transitions(seed: int, budget: int = 300) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(before, after) info pairs of every env step while built-in code skills run."""
    from envs.registry import EnvSession
    from skills.library import SkillLibrary

    session = EnvSession.open("crafter", seed)
    env = session.env
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    inner = env.step

    def step(action: int) -> Any:
        before = _fair(env.info)
        out = inner(action)
        pairs.append((before, _fair(env.info)))
        return out

    env.step = step  # type: ignore[method-assign]
    library = SkillLibrary("crafter")
    for rnd in range(3):
        for name in SKILLS:
            if session.episode_over:
                return pairs
            need = {"wood": 2 + 2 * rnd} if name == "collect_wood" else {}
            try:
                library.get(name).run(session, budget=budget, need=need)
            except Exception as e:  # a skill failing still leaves its transitions
                logging.info("skill %s failed: %s", name, e)
    return pairs


def _fair(info: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "inventory": dict(info.get("inventory", {})),
        "achievements": dict(info.get("achievements", {})),
    }


def agreement(
    n: int,
    seeds: Sequence[int],
    goals: Sequence[str] = ("collect_wood", "place_table"),
    llms: Sequence[str] = ("embedded", "none"),
) -> list[str]:
    """Precision/recall of the judge and similarity rewards against the programmatic check;
    the judge once per backend in ``llms`` (``none``: no knowledge, the lift's baseline)."""
    from agents.llm import make_chat_model
    from agents.rewards import make_reward_model
    from skills.rl.rewards import achieved

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    seed = seeds[0]
    while len(pairs) < 4 * n and seed < seeds[0] + 20:
        pairs += record_transitions(seed)
        seed += 1
    rng = random.Random(0)
    eventful = [p for p in pairs if p[0]["achievements"] != p[1]["achievements"]]
    quiet = [p for p in pairs if p not in eventful]
    per_goal = max(1, n // len(goals))
    lines = [
        f"recorded {len(pairs)} transitions ({len(eventful)} with an achievement) over seeds "
        f"{seeds[0]}..{seed - 1}; {per_goal} judged per goal (half with an achievement)",
        f"{'model':<18}{'goal':<14}{'n':>5}{'pos':>5}{'tp':>5}{'fp':>5}{'fn':>5}"
        f"{'precision':>11}{'recall':>8}{'s/call':>8}",
    ]
    samples = {}
    for goal in goals:
        half = min(len(eventful), per_goal // 2)
        samples[goal] = rng.sample(eventful, half)
        samples[goal] += rng.sample(quiet, min(len(quiet), per_goal - half))
    arms = [(f"judge/{spec}", "judge", spec) for spec in llms] + [("similarity", "similarity", "")]
    for label, mode, spec in arms:
        llm = make_chat_model(spec, temperature=0.0, max_tokens=16) if spec else None
        model = make_reward_model(mode, llm=llm)
        for goal in goals:
            chosen = samples[goal]
            tp = fp = fn = pos = 0
            start, calls0 = time.time(), getattr(model, "calls", 0)
            for before, after in chosen:
                truth = achieved(goal, before, after)
                said = model.assess(goal, before, after).success
                pos += truth
                tp += truth and said
                fp += said and not truth
                fn += truth and not said
            calls = max(getattr(model, "calls", calls0 + len(chosen)) - calls0, 1)
            prec = tp / (tp + fp) if tp + fp else float("nan")
            rec = tp / (tp + fn) if tp + fn else float("nan")
            lines.append(
                f"{label:<18}{goal:<14}{len(chosen):>5}{pos:>5}{tp:>5}{fp:>5}{fn:>5}"
                f"{prec:>11.2f}{rec:>8.2f}{(time.time() - start) / calls:>8.2f}"
            )
    return lines


def training(
    achievements: Sequence[str],
    modes: Sequence[str],
    seeds: Sequence[int],
    steps: int,
    target: float,
) -> list[str]:
    """Train every (achievement, mode, seed) and return the table's lines."""
    results: list[Result] = []
    for ach in achievements:
        for mode in modes:
            for seed in seeds:
                results.append(run_one(ach, mode, seed, steps, target))
                logging.info("%s", results[-1])
    lines = [
        f"target: success_rate_fresh >= {target:.2f} over 50 fresh episodes; budget {steps}",
        f"{'achievement':<16}{'reward':<12}{'seed':>5}{'steps to target':>17}"
        f"{'last success':>14}{'steps run':>11}{'wall s':>8}",
    ]
    for r in results:
        reached = f">{r.steps_run}" if r.steps_to_target is None else str(r.steps_to_target)
        lines.append(
            f"{r.achievement:<16}{r.reward:<12}{r.seed:>5}{reached:>17}"
            f"{r.final_success:>14.2f}{r.steps_run:>11}{r.wall_s:>8.0f}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the flags, run both parts, print the tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--achievements", default="collect_wood")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--seeds", default="1")
    p.add_argument("--steps", type=int, default=20_000, help="env steps per training run")
    p.add_argument("--target", type=float, default=0.8)
    p.add_argument("--transitions", type=int, default=200, help="0 skips the agreement part")
    p.add_argument("--skip-training", action="store_true")
    p.add_argument("--llm", default="embedded,none", help="judge backends, comma-separated")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    seeds = [int(s) for s in a.seeds.split(",")]
    if a.transitions:
        print("\n".join(agreement(a.transitions, seeds, llms=a.llm.split(","))), flush=True)
        print(flush=True)
    if not a.skip_training:
        lines = training(a.achievements.split(","), a.modes.split(","), seeds, a.steps, a.target)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
