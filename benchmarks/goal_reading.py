"""Goal reading: how often a goal in words is read as the right target, per backend and method.

Run from any folder: ``python /path/to/benchmarks/goal_reading.py [--llm embedded,none]``.

Phrasings: ``benchmarks/data/goal_reading_<env>.yaml`` (Crafter: 110, 34 of them Japanese,
18 that must be refused, most sharing no word with the achievement's name), split into a
tune half and a held-out half, fixed (within each group of language x refused-or-not, items
alternate tune, held, ...). Per backend (``--llm``, comma-separated, run one after another in
one process; ``none`` is the no-knowledge baseline) and per reading method:

- ``model``: the model alone (its top option, the refusal included);
- ``words``: the word match of the env's vocabulary alone (no model);
- ``reader``: ``agents.goal_reader.read_goal`` (the model where it is sure enough, else the
  words), what ``mendako run`` uses;

it prints accuracy on the held-out half (the figure), the tune half, the Japanese phrasings
and the refusals, and the model's seconds per goal. ``--grid`` also prints the tune-half
accuracy of the reader over thresholds and calibrations (how the defaults were chosen).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable from any folder
    sys.path.insert(0, str(ROOT))

from agents import goal_reader  # noqa: E402
from envs import goal_vocab  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Phrasing:
    """One benchmark goal and what counts as reading it right."""

    goal: str
    answers: tuple[str, ...]
    """Right targets; empty = must be refused."""
    lang: str
    split: str
    """``tune`` or ``held``."""


def load_phrasings(env: str) -> list[Phrasing]:
    """The env's phrasings with their fixed split."""
    data = yaml.safe_load((DATA / f"goal_reading_{env}.yaml").read_text(encoding="utf-8"))
    seen: dict[tuple[str, bool], int] = {}
    out = []
    for goal, answers, lang in data["phrasings"]:
        group = (lang, bool(answers))
        i = seen.get(group, 0)
        seen[group] = i + 1
        out.append(Phrasing(goal, tuple(answers), lang, "tune" if i % 2 == 0 else "held"))
    return out


class UniformScorer:
    """Stand-in for ``--llm none`` where agents.llm has no ``none`` backend: equal scores."""

    model_id = "uniform"

    def score(self, prompt: str, options: Any, *, baseline: str | None = None) -> list[float]:
        """Zero log-likelihood for every option."""
        return [0.0] * len(list(options))


def make_scorer(spec: str) -> Any:
    """The scorer a run with ``--llm spec`` uses (``none``: H3's backend, or the stand-in)."""
    from agents import llm

    if spec.split(":", 1)[0] == "none" and "none" not in llm.BACKENDS:
        return UniformScorer()
    return llm.make_scorer(spec)


def right(target: str | None, p: Phrasing) -> bool:
    """Whether a reading is right: one of the answers, or refused when there are none."""
    return target in p.answers if p.answers else target is None


def _rate(rows: list[tuple[Phrasing, str | None]], keep: Any) -> str:
    sel = [(p, t) for p, t in rows if keep(p)]
    if not sel:
        return "-"
    ok = sum(right(t, p) for p, t in sel)
    return f"{100 * ok / len(sel):5.1f}% ({ok}/{len(sel)})"


def evaluate(
    spec: str, vocab: goal_vocab.GoalVocabulary, items: list[Phrasing], grid: bool
) -> list[str]:
    """Table rows for one backend (and the grid lines when asked)."""
    scorer = make_scorer(spec)
    readings, alone = [], []
    t_reader = t_model = 0.0
    for p in items:
        t = time.perf_counter()
        readings.append(goal_reader.read_goal(p.goal, vocab, scorer))
        t_reader += time.perf_counter() - t
        t = time.perf_counter()
        best = next(iter(goal_reader.model_scores(scorer, vocab, p.goal)))
        alone.append(None if best == vocab.refuse else best)
        t_model += time.perf_counter() - t
    n = max(1, len(items))
    # What `mendako run` reads: a goal that is a target's own name skips the model.
    exact = [goal_reader.exact_target(p.goal, vocab.achievements) for p in items]
    methods = {
        "model": ([(p, t) for p, t in zip(items, alone, strict=True)], t_model / n),
        "words": ([(p, r.words) for p, r in zip(items, readings, strict=True)], 0.0),
        "reader": (
            [(p, e or r.target) for p, r, e in zip(items, readings, exact, strict=True)],
            t_reader / n,
        ),
    }
    lines = []
    for method, (rows, per_goal) in methods.items():
        lines.append(
            f"{spec:<28} {method:<7} {_rate(rows, lambda p: p.split == 'held'):>16} "
            f"{_rate(rows, lambda p: p.split == 'tune'):>16} "
            f"{_rate(rows, lambda p: p.lang == 'ja'):>16} "
            f"{_rate(rows, lambda p: not p.answers):>16} "
            f"{per_goal:8.2f}"
        )
    by_model = sum(r.method == "model" and not e for r, e in zip(readings, exact, strict=True))
    lines.append(
        f"{'':<28} reader: {by_model} read by the model, {sum(map(bool, exact))} by exact "
        f"name, {len(items) - by_model - sum(map(bool, exact))} by words or refused"
    )
    if grid and not isinstance(scorer, UniformScorer):
        tune = [p for p in items if p.split == "tune"]
        for cal in (0.0, 0.5, 1.0):
            cells = []
            for thr in (0.0, 0.3, 0.5, 0.7, 0.9):
                ok = sum(
                    right(
                        goal_reader.read_goal(
                            p.goal, vocab, scorer, threshold=thr, calibration=cal
                        ).target,
                        p,
                    )
                    for p in tune
                )
                cells.append(f"thr {thr:.2f}: {ok}/{len(tune)}")
            lines.append(f"  grid (tune half) calibration {cal:.2f}: " + ", ".join(cells))
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print the goal-reading table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--llm", default="embedded,none", help="backends, comma-separated")
    ap.add_argument("--env", default="crafter")
    ap.add_argument("--limit", type=int, default=0, help="first N phrasings only (a smoke run)")
    ap.add_argument("--split", choices=("all", "tune", "held"), default="all")
    ap.add_argument("--sample", type=int, default=0, help="every k-th phrasing only (slow models)")
    ap.add_argument("--grid", action="store_true", help="tune-half grid of threshold x calibration")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    vocab = goal_vocab.load(a.env)
    if vocab is None:
        raise SystemExit(f"env {a.env!r} has no goal vocabulary (envs/data/{a.env}_goals.yaml)")
    items = load_phrasings(a.env)
    if a.split != "all":
        items = [p for p in items if p.split == a.split]
    if a.sample:
        items = items[:: a.sample]
    if a.limit:
        items = items[: a.limit]
    n_ja = sum(p.lang == "ja" for p in items)
    n_ref = sum(not p.answers for p in items)
    print(
        f"goal reading, {a.env}: {len(items)} phrasings ({n_ja} Japanese, {n_ref} to refuse; "
        f"held-out {sum(p.split == 'held' for p in items)}), threshold {goal_reader.THRESHOLD}, "
        f"calibration {goal_reader.CALIBRATION}"
    )
    from agents._llm_cache import default_cache

    if default_cache() is not None:
        print("(LLM cache on: s/goal counts only calls not cached; MENDAKO_LLM_CACHE=0 to time)")
    head = f"{'backend':<28} {'method':<7} {'held-out':>16} {'tune':>16} {'Japanese':>16} "
    print(head + f"{'refusals':>16} {'s/goal':>8}")
    for spec in [s.strip() for s in a.llm.split(",") if s.strip()]:
        for line in evaluate(spec, vocab, items, a.grid):
            print(line, flush=True)


if __name__ == "__main__":
    main()
