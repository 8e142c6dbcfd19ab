"""benchmarks.goals: the goals file is read as written and each run is counted."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import goals as bench

ROOT = Path(__file__).resolve().parents[2]


def test_goals_file_keeps_every_goal_and_drops_comments(tmp_path: Path) -> None:
    shipped = bench.read_goals(ROOT / "benchmarks/data/goals_crafter.txt")
    assert "make a wood pickaxe and a wood sword" in shipped and "木のツルハシを作って" in shipped
    assert not any(g.startswith("#") or not g for g in shipped)
    f = tmp_path / "g.txt"
    f.write_text("# header\ncollect wood  # trailing\n\n石を3個集めて\n", encoding="utf-8")
    assert bench.read_goals(f) == ["collect wood", "石を3個集めて"]


def test_runs_are_real_and_reported_per_backend(capsys) -> None:  # type: ignore[no-untyped-def]
    args = argparse.Namespace(env="crafter", skill_budget=200, max_env_steps=600)
    rows = bench.run_all(["collect wood"], ["none"], [1000], args)
    assert len(rows) == 1 and rows[0].spec == "none" and rows[0].seed == 1000
    assert rows[0].outcome == "achieved" and 0 < rows[0].env_steps <= 600
    bench.report(rows, ["collect wood"], ["none"])
    assert "1/1 (100%)" in capsys.readouterr().out
