"""Spec reading: how often a compound, counted, state or duration goal is read as the exact spec.

Run from any folder: ``python /path/to/benchmarks/spec_reading.py [--llm embedded,none]``.

Phrasings: ``benchmarks/data/spec_reading_<env>.yaml`` (Crafter: English and Japanese, with
the spec each must be read as, or the part a reading must refuse naming it), split per
(language, kind) group alternately into a tune half and a held-out half, fixed. Per backend
(``--llm``, comma-separated, one after another in one process; ``none`` is the no-knowledge
baseline: no model call, the words alone) and per reading:

- ``model``: the model's own spec under the env's schema (``agents.spec_reader.model_spec``);
- ``words``: the word reader alone (what a run reads with no model);
- ``reader``: what ``mendako run`` reads (``spec_for_run``: model and words by the stated
  rule; a goal the words read as one achievement once goes to ``agents.goal_reader``);

it prints exact-spec accuracy on the held-out half (the figure), the tune half, the Japanese
phrasings and the refusals, and the model's seconds per goal. ``--grid`` prints the tune-half
accuracy of the reader for each ``choose`` and ``unread`` policy (how ``spec_reader.CHOOSE``
and ``spec_reader.UNREAD`` were chosen).
A reading is exact when its conditions (amounts included) are the expected ones: in order
for an ordered goal ("then"), as a set otherwise, with the order flag right.
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

from agents import goal_reader, spec_reader  # noqa: E402
from agents.goal_spec import Achieve, GoalSpec, condition_text  # noqa: E402
from envs import goal_vocab  # noqa: E402
from envs.registry import adapter  # noqa: E402
from graphs.driver import shared_parts  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
_STATS = ("health", "food", "drink", "energy")


@dataclass(frozen=True)
class Phrasing:
    """One benchmark goal and the spec it must be read as."""

    goal: str
    expected: str
    """``a and b`` (any order), ``a then b`` (in order), or ``refuse: <part>``."""
    lang: str
    kind: str
    """compound, counted, state, duration, near or refuse."""
    split: str
    """``tune`` or ``held``."""


def _kind(expected: str) -> str:
    if expected.startswith("refuse:"):
        return "refuse"
    if "next to" in expected:
        return "near"
    if "survive" in expected:
        return "duration"
    if any(expected.startswith(s + " ") for s in _STATS):
        return "state"
    if " and " in expected or " then " in expected:
        return "compound"
    return "counted"


def load_phrasings(env: str) -> list[Phrasing]:
    """The env's phrasings with their fixed split."""
    data = yaml.safe_load((DATA / f"spec_reading_{env}.yaml").read_text(encoding="utf-8"))
    seen: dict[tuple[str, str], int] = {}
    out = []
    for goal, expected, lang in data["phrasings"]:
        kind = _kind(expected)
        i = seen.get((lang, kind), 0)
        seen[(lang, kind)] = i + 1
        out.append(Phrasing(goal, expected, lang, kind, "tune" if i % 2 == 0 else "held"))
    return out


def right(spec: GoalSpec | None, p: Phrasing) -> bool:
    """Whether a reading is the expected spec (or refuses naming the expected part)."""
    if p.kind == "refuse":
        part = p.expected.split(":", 1)[1].strip()
        return spec is None or (spec.refused and any(part in u for u in spec.unread))
    if spec is None or spec.refused:
        return False
    ordered = " then " in p.expected
    want = p.expected.split(" then " if ordered else " and ")
    got = [condition_text(c) for c in spec.conditions]
    if ordered:
        return spec.ordered and got == want
    return not spec.ordered and sorted(got) == sorted(want)


def run_reading(goal: str, env: str, rules: Any, llm: Any, scorer: Any) -> GoalSpec | None:
    """What ``mendako run`` reads (None: refused by the single-target reader)."""
    vocab = goal_vocab.load(env)
    assert vocab is not None
    got = spec_reader.spec_for_run(goal, env, rules, llm, scorer)
    if got is not None:
        return got.spec
    one = goal_reader.read_goal(goal, vocab, scorer)
    return (
        GoalSpec(conditions=[Achieve(name=one.target)], method=one.method) if one.target else None
    )


def _rate(rows: list[tuple[Phrasing, GoalSpec | None]], keep: Any) -> str:
    sel = [(p, s) for p, s in rows if keep(p)]
    if not sel:
        return "-"
    ok = sum(right(s, p) for p, s in sel)
    return f"{100 * ok / len(sel):5.1f}% ({ok}/{len(sel)})"


def evaluate(
    spec: str, env: str, items: list[Phrasing], grid: bool, show: bool = False
) -> list[str]:
    """Table rows for one backend."""
    vocab = goal_vocab.load(env)
    assert vocab is not None
    rules = adapter(env).load_rules()
    llm, scorer = shared_parts(spec)
    model_rows, words_rows, reader_rows = [], [], []
    t_model = t_reader = 0.0
    for p in items:
        words = spec_reader.read_spec_words(p.goal, vocab, rules)
        if not words.conditions and not words.unread:
            words = None
        alone: GoalSpec | None = None
        if llm is not None:
            t = time.perf_counter()
            got = spec_reader.model_spec(llm, p.goal, vocab, rules)
            t_model += time.perf_counter() - t
            alone = None if isinstance(got, str) else got
        t = time.perf_counter()
        read = run_reading(p.goal, env, rules, llm, scorer)
        t_reader += time.perf_counter() - t
        model_rows.append((p, alone))
        words_rows.append((p, run_reading(p.goal, env, rules, None, None)))
        reader_rows.append((p, read))
        if show:
            print(
                f"  [{p.split} {p.lang}] {p.goal!r}: want {p.expected}; "
                f"reader {read.message() if read else 'refused'}"
                f"{'' if right(read, p) else '  <- wrong'}",
                flush=True,
            )
    n = max(1, len(items))
    methods = {"model": (model_rows, t_model / n), "words": (words_rows, 0.0)}
    methods["reader"] = (reader_rows, t_reader / n)
    if llm is None:
        methods.pop("model")
    lines = []
    for method, (rows, per_goal) in methods.items():
        lines.append(
            f"{spec:<28} {method:<7} {_rate(rows, lambda p: p.split == 'held'):>16} "
            f"{_rate(rows, lambda p: p.split == 'tune'):>16} "
            f"{_rate(rows, lambda p: p.lang == 'ja'):>16} "
            f"{_rate(rows, lambda p: p.kind == 'refuse'):>16} "
            f"{per_goal:8.2f}"
        )
    by = [s.method if s is not None else "refused" for _, s in reader_rows]
    lines.append(f"{'':<28} reader: " + ", ".join(f"{by.count(m)} by {m}" for m in sorted(set(by))))
    if grid and llm is not None:
        tune = [p for p in items if p.split == "tune"]
        for choose in ("specific", "any"):
            for unread in ("refuse", "scores"):
                ok = 0
                for p in tune:
                    got = spec_reader.read_spec(
                        llm, p.goal, vocab, rules, scorer, choose=choose, unread=unread
                    )
                    ok += right(got.spec, p)
                lines.append(
                    f"  grid (tune half) choose={choose} unread={unread}: {ok}/{len(tune)}"
                )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print the spec-reading table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--llm", default="embedded,none", help="backends, comma-separated")
    ap.add_argument("--env", default="crafter")
    ap.add_argument("--split", choices=("all", "tune", "held"), default="all")
    ap.add_argument("--sample", type=int, default=0, help="every k-th phrasing only (slow models)")
    ap.add_argument("--grid", action="store_true", help="tune-half accuracy per choose policy")
    ap.add_argument("--show", action="store_true", help="print each phrasing's reading")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if goal_vocab.load(a.env) is None:
        raise SystemExit(f"env {a.env!r} has no goal vocabulary (envs/data/{a.env}_goals.yaml)")
    items = load_phrasings(a.env)
    if a.split != "all":
        items = [p for p in items if p.split == a.split]
    if a.sample:
        items = items[:: a.sample]
    kinds = {k: sum(p.kind == k for p in items) for k in dict.fromkeys(p.kind for p in items)}
    print(
        f"spec reading, {a.env}: {len(items)} phrasings ({sum(p.lang == 'ja' for p in items)} "
        f"Japanese; {', '.join(f'{v} {k}' for k, v in kinds.items())}; held-out "
        f"{sum(p.split == 'held' for p in items)}), choose={spec_reader.CHOOSE}"
    )
    from agents._llm_cache import default_cache

    if default_cache() is not None:
        print("(LLM cache on: s/goal counts only calls not cached; MENDAKO_LLM_CACHE=0 to time)")
    head = f"{'backend':<28} {'method':<7} {'held-out':>16} {'tune':>16} {'Japanese':>16} "
    print(head + f"{'refusals':>16} {'s/goal':>8}")
    for spec in [s.strip() for s in a.llm.split(",") if s.strip()]:
        for line in evaluate(spec, a.env, items, a.grid, a.show):
            print(line, flush=True)


if __name__ == "__main__":
    main()
