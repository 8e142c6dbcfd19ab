"""benchmarks/babyai_levels.py: families from the registry, Wilson intervals, and a real run
from another folder that prints mendako's and the bot's row for a level."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import babyai_levels as bench

ROOT = Path(__file__).resolve().parents[2]


def test_families_cover_every_registered_level() -> None:
    import gymnasium

    fams = bench.families()
    ids = [k for k in gymnasium.registry if k.startswith("BabyAI-")]
    assert sorted(i for v in fams.values() for i in v) == sorted(ids)
    assert "BabyAI-UnlockPickup-v0" in fams["UnlockPickup"]
    assert bench.resolve_levels("KeyCorridor,BabyAI-GoToObj-v0") == [
        fams["KeyCorridor"][0],
        "BabyAI-GoToObj-v0",
    ]
    with pytest.raises(SystemExit):
        bench.resolve_levels("BabyAI-Nope-v0")


def test_wilson_interval() -> None:
    lo, hi = bench.wilson(10, 10)
    assert round(lo, 2) == 0.72 and hi == 1.0
    lo, hi = bench.wilson(0, 10)
    assert lo == 0.0 and round(hi, 2) == 0.28
    lo, hi = bench.wilson(5, 10)
    assert lo < 0.5 < hi


@pytest.mark.slow
def test_runs_from_any_folder_and_prints_both_agents(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "babyai_levels.py")]
        + ["--levels", "UnlockPickup", "--seeds", "0-1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    row = next(line for line in out.stdout.splitlines() if line.startswith("UnlockPickup-v0"))
    assert row.count("2/2") == 2, row  # mendako (--llm none) and BabyAI's bot
    assert "all levels" in out.stdout
