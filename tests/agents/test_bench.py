"""`mendako bench crafter`: the scoring, the intervals, and the protocol (independent episodes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.bench import (
    BALROG_STEPS,
    _digest,
    balrog_progress,
    bootstrap_mean,
    bootstrap_score,
    crafter_score,
    paired_lift,
    run_bench,
    success_rates,
    unlock_matrix,
)
from graphs.context import RunSettings

ACH = ["a", "b", "c", "d"]


def test_crafter_score_matches_crafters_formula() -> None:
    rates = {"a": 100.0, "b": 0.0, "c": 50.0, "d": 10.0}
    expected = np.exp(np.mean(np.log([101, 1, 51, 11]))) - 1
    assert crafter_score(rates) == pytest.approx(expected)


def test_bootstrap_interval_brackets_the_score_and_shrinks_with_more_episodes() -> None:
    rng = np.random.default_rng(3)
    small = rng.random((10, 4)) < [0.8, 0.6, 0.4, 0.3]
    big = rng.random((200, 4)) < [0.8, 0.6, 0.4, 0.3]
    for u in (small, big):
        rates = {a: 100.0 * u[:, i].mean() for i, a in enumerate(ACH)}
        lo, hi = bootstrap_score(u)
        assert lo <= crafter_score(rates) <= hi
    (slo, shi), (blo, bhi) = bootstrap_score(small), bootstrap_score(big)
    assert bhi - blo < shi - slo
    # all episodes alike: nothing to resample, the interval is the point
    same = np.ones((5, 4), dtype=bool)
    assert bootstrap_score(same) == pytest.approx((100.0, 100.0))
    assert bootstrap_mean([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_paired_lift_is_zero_for_the_same_arm_and_positive_for_a_better_one() -> None:
    rng = np.random.default_rng(0)
    base = rng.random((20, 4)) < 0.3
    same = paired_lift(base, base)
    assert same == {"lift": 0.0, "lo": 0.0, "hi": 0.0}
    better = base | (rng.random((20, 4)) < 0.5)
    lift = paired_lift(better, base)
    assert lift["lift"] > 0 and lift["lo"] > 0
    assert lift["lo"] <= lift["lift"] <= lift["hi"]
    with pytest.raises(ValueError):
        paired_lift(base, base[:10])


def test_balrog_progress_counts_only_unlocks_within_2000_steps() -> None:
    at = {"a": 1, "b": BALROG_STEPS, "c": BALROG_STEPS + 1}
    assert balrog_progress(at, ACH) == pytest.approx(50.0)
    assert balrog_progress({}, ACH) == 0.0


def test_unlock_matrix_and_rates_agree() -> None:
    eps = [{"a": 2, "b": 0}, {"a": 1, "c": 1}]
    u = unlock_matrix(eps, ACH)
    assert u.tolist() == [[True, False, False, False], [True, False, True, False]]
    assert success_rates(eps, ACH) == {"a": 100.0, "b": 0.0, "c": 50.0, "d": 0.0}


def _stats(home: Path) -> Path:
    path = home / "skills" / "stats.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    # a history that the episodes would change if they wrote it
    path.write_text(json.dumps({"crafter/collect_wood": {"successes": 1, "attempts": 9}}))
    return path


@pytest.mark.slow
def test_bench_episodes_start_from_one_snapshot_and_never_write_it(
    mendako_home: Path, tmp_path: Path
) -> None:
    path = _stats(mendako_home)
    before = path.read_bytes()
    snapshot = json.loads(before)
    settings = RunSettings(seed=1000, max_env_steps=60)
    report = run_bench(settings, 2, workers=2, out_dir=tmp_path / "out", compare=None)
    assert path.read_bytes() == before  # never written
    eps = report["per_episode"]
    assert [e["seed"] for e in eps] == [1000, 1001]
    assert {e["stats_start"] for e in eps} == {_digest(snapshot)}
    assert report["protocol"]["stats"].startswith("independent episodes")
    assert "none of these seeds were tuned on" in report["protocol"]["tuned_seeds"]
    lo, hi = report["score_ci95"]
    assert lo <= report["score"] <= hi
    # per-episode JSON and each episode's run folder in the driver's home
    for e in eps:
        saved = json.loads(
            (tmp_path / "out/episodes/embedded" / f"seed_{e['seed']}.json").read_text()
        )
        assert saved["run_id"] == e["run_id"]
        assert saved["stats_end"] != snapshot  # the episode recorded attempts, in memory only
        assert (mendako_home / "runs" / e["run_id"] / "trace.jsonl").is_file()
        assert e["balrog_progress"] == balrog_progress(
            e["unlocked_at"], list(report["success_rates"])
        )
        assert set(e["unlocked_at"]) == set(e["achievements"])

    # --learn-across: episode 2 starts from what episode 1 ended with, the file still untouched
    across = run_bench(
        settings, 2, workers=2, out_dir=tmp_path / "across", compare=None, learn_across=True
    )
    assert path.read_bytes() == before
    first = json.loads((tmp_path / "across/episodes/embedded/seed_1000.json").read_text())
    second = across["per_episode"][1]
    assert first["stats_start"] == _digest(snapshot) and first["stats_end"] != snapshot
    assert second["stats_start"] == _digest(first["stats_end"])
    assert "learned across episodes" in across["protocol"]["stats"]
