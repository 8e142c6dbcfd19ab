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
    read_stats_snapshot,
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


def _stats() -> dict:
    # a history that the episodes would change if they wrote it
    from skills.library import SkillLibrary

    live = SkillLibrary("crafter", stats="live")
    for ok in (True, False, False):
        live.record("collect_wood", ok)
    return live.stats_snapshot()


@pytest.mark.slow
def test_bench_episodes_start_from_one_snapshot_and_never_write_it(
    mendako_home: Path, tmp_path: Path
) -> None:
    snapshot = _stats()
    store = mendako_home / "skills" / "stats.sqlite"
    before = store.read_bytes()
    settings = RunSettings(seed=1000, max_env_steps=60)
    report = run_bench(settings, 2, workers=2, out_dir=tmp_path / "out", compare="none")
    assert store.read_bytes() == before and read_stats_snapshot() == snapshot  # never written
    eps = report["per_episode"]
    assert [e["seed"] for e in eps] == [1000, 1001]
    assert {e["stats_start"] for e in eps} == {_digest(snapshot)}
    assert report["protocol"]["stats"].startswith("independent episodes")
    assert "none of these seeds were tuned on" in report["protocol"]["tuned_seeds"]
    lo, hi = report["score_ci95"]
    assert lo <= report["score"] <= hi
    # the side-by-side arm: the same seeds with --llm none, and the paired lift
    assert list(report["arms"]) == ["embedded", "none"]
    none = report["arms"]["none"]
    assert [e["seed"] for e in none["per_episode"]] == [1000, 1001]
    assert {e["llm"] for e in none["per_episode"]} == {"none"}
    lift = report["lift"]["score"]
    assert lift["lift"] == pytest.approx(report["score"] - none["score"])
    assert lift["lo"] <= lift["lift"] <= lift["hi"]
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
    assert store.read_bytes() == before and read_stats_snapshot() == snapshot
    first = json.loads((tmp_path / "across/episodes/embedded/seed_1000.json").read_text())
    second = across["per_episode"][1]
    assert first["stats_start"] == _digest(snapshot) and first["stats_end"] != snapshot
    assert second["stats_start"] == _digest(first["stats_end"])
    assert "learned across episodes" in across["protocol"]["stats"]


@pytest.mark.slow
def test_a_bench_stopped_by_the_user_reports_the_seeds_finished_in_every_arm(
    tmp_path: Path,
) -> None:
    seen: list[dict] = []

    def stop_at_third(r: dict) -> None:
        seen.append(r)
        if len(seen) == 3:
            raise KeyboardInterrupt

    settings = RunSettings(seed=1000, max_env_steps=20)
    report = run_bench(
        settings, 2, workers=2, out_dir=tmp_path, compare="none", on_episode=stop_at_third
    )
    # 3 of the 4 (seed, arm) episodes finished: exactly one seed has both arms
    assert report["episodes"] == 1 and report["episodes_asked"] == 2
    (seed,) = {e["seed"] for e in report["per_episode"]}
    assert [e["seed"] for e in report["arms"]["none"]["per_episode"]] == [seed]
    assert report["stopped"].startswith("stopped by the user after 1 of 2 seeds")
    assert f"seeds [{2001 - seed}]" in report["stopped"]
    assert report["protocol"]["seeds"] == f"{seed}..{seed}"
