"""Several real processes share one $MENDAKO_HOME: no version and no statistic is lost."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from pathlib import Path

import pytest

from skills.base import SkillMeta
from skills.library import SkillLibrary

WORKERS = 2
EACH = 25


def _rewrite_and_record(home: str, worker: int, start: mp.Event) -> None:  # type: ignore[valid-type]
    os.environ["MENDAKO_HOME"] = home
    lib = SkillLibrary("crafter")
    start.wait(30)
    for i in range(EACH):
        src = f'"""Worker {worker}, rewrite {i}."""\n\n\ndef run(api):\n    api.collect("wood")\n'
        meta = SkillMeta(
            name="chop_wood", description=f"w{worker} r{i}", achievement="collect_wood"
        )
        lib.add(src, meta)
        # Statistics of a shipped skill (one version, shared by all) and of the user's skill.
        lib.record("collect_wood", success=i % 2 == 0)
        lib.record("place_table", success=True)


def _run_workers(home: Path, target) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=target, args=(str(home), w, start)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(240)
        assert p.exitcode == 0, f"worker exited with {p.exitcode}"


def test_concurrent_rewrites_and_stats_lose_nothing(mendako_home: Path) -> None:
    _run_workers(mendako_home, _rewrite_and_record)
    lib = SkillLibrary("crafter")
    info = lib.show("chop_wood")
    assert info.versions == list(range(1, WORKERS * EACH + 1))
    # Every rewrite is on disk whole, under its own number, with its own description.
    descriptions = {v.meta.description for v in info.history}
    assert descriptions == {f"w{w} r{i}" for w in range(WORKERS) for i in range(EACH)}
    folder = mendako_home / "skills" / "chop_wood"
    for v in info.history[:-1]:
        assert v.folder == folder / "versions" / f"v{v.version}"
        assert json.loads((v.folder / "meta.json").read_text())["version"] == v.version
    assert info.history[-1].active and info.meta.version == WORKERS * EACH
    # All statistic increments are there, on the version that was active.
    shipped = SkillMeta.model_validate_json(
        (Path(__file__).parents[2] / "skills/builtin/crafter/collect_wood/meta.json").read_text()
    )
    wood = lib.get("collect_wood").meta
    assert wood.attempts - shipped.attempts == WORKERS * EACH
    assert wood.successes - shipped.successes == WORKERS * ((EACH + 1) // 2)
    snap = lib.stats_snapshot()
    assert snap[f"crafter/place_table@{lib.get('place_table').meta.version}"] == {
        "successes": WORKERS * EACH,
        "attempts": WORKERS * EACH,
    }


def test_stats_are_per_version_and_frozen_libraries_never_write(mendako_home: Path) -> None:
    lib = SkillLibrary("crafter")
    src = '"""Chop."""\n\n\ndef run(api):\n    api.collect("wood", until=1)\n'
    meta = SkillMeta(name="chop_wood", description="chop", achievement="collect_wood")
    lib.add(src, meta)
    lib.record("chop_wood", True)
    lib.record("chop_wood", False)
    lib.add(src.replace("until=1", "until=2"), meta)
    assert (lib.get("chop_wood").meta.successes, lib.get("chop_wood").meta.attempts) == (0, 0)
    lib.record("chop_wood", True)
    figures = {
        v.version: (v.meta.successes, v.meta.attempts) for v in lib.show("chop_wood").history
    }
    assert figures == {1: (1, 2), 2: (1, 1)}

    frozen = SkillLibrary("crafter", stats="frozen")
    snap = frozen.stats_snapshot()
    lib.record("chop_wood", True)  # another process goes on recording: the snapshot stays
    for _ in range(3):
        frozen.record("chop_wood", False)  # counted in memory (the episode learns within itself)
    assert frozen.get("chop_wood").meta.attempts == 4
    assert frozen.unsaved == [("chop_wood", 2, False)] * 3
    assert frozen.stats_snapshot()["crafter/chop_wood@2"] == {"successes": 1, "attempts": 4}
    assert SkillLibrary("crafter").get("chop_wood").meta.attempts == 2  # 1 + lib's, not frozen's
    again = SkillLibrary("crafter", stats=snap)  # a second episode from the same snapshot
    assert again.get("chop_wood").meta.attempts == 1 and again.frozen
    assert snap["crafter/chop_wood@2"] == {"successes": 1, "attempts": 1}  # not aliased


def test_frozen_by_environment_variable(
    mendako_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENDAKO_SKILL_STATS", "frozen")
    lib = SkillLibrary("crafter")
    lib.record("place_table", True)
    monkeypatch.delenv("MENDAKO_SKILL_STATS")
    assert SkillLibrary("crafter").stats_snapshot() == {}


def test_old_stats_json_is_imported_into_the_active_version(mendako_home: Path) -> None:
    root = mendako_home / "skills"
    root.mkdir(parents=True)
    # The old store held totals (meta.json's own + use) per skill name.
    (root / "stats.json").write_text(
        json.dumps({"crafter/rl_collect_wood": {"successes": 31, "attempts": 31}})
    )
    lib = SkillLibrary("crafter")
    assert (
        lib.get("rl_collect_wood").meta.successes,
        lib.get("rl_collect_wood").meta.attempts,
    ) == (31, 31)
    assert lib.stats_snapshot() == {"crafter/rl_collect_wood@1": {"successes": 1, "attempts": 1}}
    assert not (root / "stats.json").exists() and (root / "stats.json.imported").exists()


def test_a_keyed_attempt_counts_once(mendako_home: Path) -> None:
    # A run killed after counting an attempt, resumed to make it again: the key (run id and
    # attempt index, stored in the same transaction as the count) keeps it to one.
    lib = SkillLibrary("crafter")
    assert lib.record("place_table", True, key="run-a#3")
    assert not lib.record("place_table", True, key="run-a#3")
    assert SkillLibrary("crafter").record("place_table", False, key="run-b#3")
    snap = SkillLibrary("crafter").stats_snapshot()
    assert snap["crafter/place_table@1"] == {"successes": 1, "attempts": 2}
    frozen = SkillLibrary("crafter", stats="frozen")
    assert frozen.record("place_table", True, key="x#0")
    assert not frozen.record("place_table", True, key="x#0")
    assert frozen.stats_snapshot()["crafter/place_table@1"] == {"successes": 2, "attempts": 3}
