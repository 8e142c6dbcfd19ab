"""Success rate per BabyAI level: `mendako run --mission` beside BabyAI's own bot, same seeds.

    python benchmarks/babyai_levels.py                      # one level per family, seeds 1000-1009
    python benchmarks/babyai_levels.py --levels BabyAI-UnlockPickup-v0,KeyCorridor --seeds 0-9
    python benchmarks/babyai_levels.py --list               # the families and their level ids
    python benchmarks/babyai_levels.py --llm none,embedded  # the model beside `none`

A level's mission for a seed is the goal (what `mendako run --env babyai:<level> --seed S
--mission` pursues): one full run through the graph (plan, SayCan, skills, verifier) in a
fresh env, judged by BabyAI's own verifier (the env's success, not the run's word). The
agent sees only its 7x7 view and its memory of it. The reference is minigrid's
``BabyAIBot`` on the same level and seed; it reads the whole grid (that is what it was made
for), so it is a reference, not a fair rival.

Families are minigrid's level classes (``GoToLocal`` holds ``BabyAI-GoToLocalS5N2-v0`` ...);
``--levels`` takes level ids or family names (a family name stands for its first level).
Episodes are independent: each run gets a fresh ``MENDAKO_HOME`` (no skill history or
library carried over). Prints one line per episode, then per level: successes/episodes with
a 95% Wilson interval and mean env steps (of all episodes and of the successful ones), for
each ``--llm`` backend and the bot. Tune on seeds 0-99, report on 1000+.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file from any folder: the repo root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skills.intervals import wilson  # noqa: E402  (after the path is set)


@dataclass
class Episode:
    """One episode of one agent on one level and seed."""

    level: str
    agent: str
    seed: int
    success: bool
    steps: int
    wall: float
    note: str = ""


def families() -> dict[str, list[str]]:
    """BabyAI level ids registered by the installed minigrid, by level class (family)."""
    import gymnasium
    import minigrid  # noqa: F401  (registers the levels)

    out: dict[str, list[str]] = {}
    for env_id, spec in gymnasium.registry.items():
        if env_id.startswith("BabyAI-"):
            family = str(spec.entry_point).rsplit(":", 1)[-1]
            out.setdefault(family, []).append(env_id)
    return out


def resolve_levels(text: str | None) -> list[str]:
    """Level ids from a comma list of ids or family names; default: one level per family."""
    fams = families()
    if not text:
        return [ids[0] for ids in fams.values()]
    out = []
    for part in (p.strip() for p in text.split(",")):
        if part in fams:
            out.append(fams[part][0])
        elif any(part in ids for ids in fams.values()):
            out.append(part)
        else:
            raise SystemExit(f"unknown BabyAI level or family {part!r} (see --list)")
    return out


def seeds_of(text: str) -> list[int]:
    """``1000-1009`` or ``1,2,3``."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


class _BotTimeout(Exception):
    """The bot's own planning did not return in time (it can loop forever on some levels)."""


def _alarm(signum: int, frame: Any) -> None:
    raise _BotTimeout()


def run_bot(level: str, seed: int, timeout: int = 10) -> Episode:
    """BabyAI's own bot (minigrid's ``BabyAIBot``, full grid) on ``level`` and ``seed``; an
    episode whose planning takes longer than ``timeout`` seconds counts as a failure."""
    import gymnasium
    from minigrid.utils.baby_ai_bot import BabyAIBot

    t0 = time.perf_counter()
    env = gymnasium.make(level)
    with contextlib.redirect_stdout(io.StringIO()):
        env.reset(seed=seed)
    bot = BabyAIBot(env)
    success, steps, note = False, 0, ""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        while True:
            action = bot.replan()
            _, reward, terminated, truncated, _ = env.step(action)
            steps += 1
            if terminated or truncated:
                success = bool(terminated and float(reward) > 0)
                break
    except _BotTimeout:
        note = f"the bot's planning ran past {timeout}s (after {steps} steps)"
    except Exception as e:  # the bot's own failures are its result, not ours
        note = f"{type(e).__name__}: {str(e)[:60]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    env.close()
    return Episode(level, "bot", seed, success, steps, time.perf_counter() - t0, note)


def run_mendako(level: str, seed: int, spec: str, parts: Any, args: Any) -> Episode:
    """`mendako run --env babyai:<level> --seed <seed> --mission --llm <spec>`, judged by the
    env (BabyAI's verifier), in a fresh ``MENDAKO_HOME``."""
    from envs.registry import EnvSession
    from graphs.context import RunSettings
    from graphs.runner import run_goal

    env_id = f"babyai:{level}"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mendako-babyai-") as home:
        old = os.environ.get("MENDAKO_HOME")
        os.environ["MENDAKO_HOME"] = home
        try:
            own = EnvSession.open(env_id, seed)
            goal, mission = str(own.mission), str(getattr(own.env, "mission_name", ""))
            settings = RunSettings(
                env_id=env_id,
                seed=seed,
                llm=spec,
                max_replans=args.max_replans,
                skill_budget=args.skill_budget,
                max_env_steps=args.max_env_steps,
            )
            llm, scorer = parts
            s = run_goal(goal, settings, llm=llm, scorer=scorer)
            success = s.achievements.get(mission, 0) > 0
            note = "" if success else f"{s.outcome}: {s.message[:70]}"
            return Episode(level, spec, seed, success, s.env_steps, time.perf_counter() - t0, note)
        except Exception as e:  # a crash is a failed episode, counted and shown
            note = f"{type(e).__name__}: {str(e)[:70]}"
            return Episode(level, spec, seed, False, 0, time.perf_counter() - t0, note)
        finally:
            if old is None:
                os.environ.pop("MENDAKO_HOME", None)
            else:
                os.environ["MENDAKO_HOME"] = old


def report(episodes: list[Episode], levels: list[str], agents: list[str]) -> None:
    """Per level and agent: successes/episodes, 95% Wilson interval, mean env steps."""
    col = 34
    print()
    print(f"{'level':<34}" + "".join(f"{a:>{col}}" for a in agents))
    print(f"{'':<34}" + "".join(f"{'ok/n  [95% CI]  steps all/ok':>{col}}" for _ in agents))
    totals: dict[str, list[bool]] = {a: [] for a in agents}
    for level in levels:
        cells = ""
        for agent in agents:
            mine = [e for e in episodes if e.level == level and e.agent == agent]
            ok = [e for e in mine if e.success]
            totals[agent] += [e.success for e in mine]
            lo, hi = wilson(len(ok), len(mine))
            mean_all = sum(e.steps for e in mine) / max(1, len(mine))
            mean_ok = f"{sum(e.steps for e in ok) / len(ok):.0f}" if ok else "-"
            cell = f"{len(ok)}/{len(mine)} [{lo:.2f},{hi:.2f}] {mean_all:.0f}/{mean_ok}"
            cells += f"{cell:>{col}}"
        print(f"{level.removeprefix('BabyAI-'):<34}{cells}")
    cells = ""
    for flags in totals.values():
        lo, hi = wilson(sum(flags), len(flags))
        cells += f"{f'{sum(flags)}/{len(flags)} [{lo:.2f},{hi:.2f}]':>{col}}"
    print(f"{'all levels':<34}{cells}")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every (level, agent, seed), print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--levels", help="level ids or family names, comma list (default: a level per family)"
    )
    ap.add_argument("--seeds", default="1000-1009", help="seeds, e.g. 1000-1009 (default) or 0,1,2")
    ap.add_argument("--llm", default="none", help="comma list of backends (default: none)")
    ap.add_argument("--no-bot", action="store_true", help="leave BabyAI's bot out")
    ap.add_argument("--bot-timeout", type=int, default=10, help="seconds per bot episode")
    ap.add_argument("--max-replans", type=int, default=3)
    ap.add_argument("--skill-budget", type=int, default=400)
    ap.add_argument("--max-env-steps", type=int, default=10_000)
    ap.add_argument("--list", action="store_true", help="print the families and their levels")
    args = ap.parse_args(argv)
    if args.list:
        for family, ids in families().items():
            print(f"{family:<22} {' '.join(i.removeprefix('BabyAI-') for i in ids)}")
        return 0
    import logging

    logging.disable(logging.WARNING)  # the per-run warnings would drown the table
    levels = resolve_levels(args.levels)
    seeds = seeds_of(args.seeds)
    specs = [s.strip() for s in args.llm.split(",") if s.strip()]
    agents = [*specs, *([] if args.no_bot else ["bot"])]
    print(
        f"levels: {len(levels)}; seeds: {args.seeds} ({len(seeds)}); agents: {', '.join(agents)}; "
        f"max replans {args.max_replans}, skill budget {args.skill_budget}",
        flush=True,
    )
    from graphs.driver import shared_parts

    episodes: list[Episode] = []
    t0 = time.perf_counter()
    for spec in specs:
        parts = shared_parts(spec)
        for level in levels:
            for seed in seeds:
                e = run_mendako(level, seed, spec, parts, args)
                episodes.append(e)
                _line(e)
    if not args.no_bot:
        for level in levels:
            for seed in seeds:
                e = run_bot(level, seed, args.bot_timeout)
                episodes.append(e)
                _line(e)
    report(episodes, levels, agents)
    print(f"wall {time.perf_counter() - t0:.0f}s")
    return 0


def _line(e: Episode) -> None:
    mark = "ok  " if e.success else "FAIL"
    print(
        f"{e.agent:<10} {e.level.removeprefix('BabyAI-'):<28} seed {e.seed:<5} {mark} "
        f"steps {e.steps:>4} wall {e.wall:5.1f}s {e.note}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
