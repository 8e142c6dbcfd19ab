"""`bench crafter --ray`: the same figures as the local path, run folders come home, bounded
retries of a worker that dies; and the one-line hint when Ray is missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from graphs.context import RunSettings


def test_ray_missing_says_how_to_install_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from agents.cli import app
    from skills import _ray

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: import fails
    with pytest.raises(_ray.RayMissing, match=r"pip install -e '\.\[ray\]'"):
        _ray.require_ray()
    res = CliRunner().invoke(app, ["bench", "crafter", "--episodes", "1", "--ray"])
    assert res.exit_code == 2
    out = " ".join(res.output.split())
    assert "Ray is not installed: pip install -e '.[ray]'" in out
    assert "Traceback" not in res.output
    res = CliRunner().invoke(app, ["skills", "learn", "collect wood", "--ray"])
    assert res.exit_code == 2
    assert "Ray is not installed: pip install -e '.[ray]'" in " ".join(res.output.split())


ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    """A real local Ray instance with 2 CPUs, shut down after the module's tests."""
    from skills import _ray

    if ray.is_initialized():
        ray.shutdown()
    _ray.init(num_cpus=2)
    # this module's task functions travel by value (workers cannot import a test module)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray
    ray.shutdown()


def _die_once(item: tuple[str, int], marker_dir: str) -> int:
    """Kills its own worker process the first time it sees `item` (a real lost worker)."""
    name, value = item
    marker = Path(marker_dir) / name
    if name.startswith("die") and not marker.exists():
        marker.write_text("died")
        os._exit(1)
    return value * 10


def _always_die(item: int) -> int:
    os._exit(1)


@pytest.mark.slow
def test_map_tasks_retries_a_dead_worker_and_counts_each_item_once(
    local_ray, tmp_path: Path
) -> None:
    from skills import _ray

    items = [("ok0", 1), ("die1", 2), ("ok2", 3)]
    retried: list[_ray.Retry] = []
    got = list(
        _ray.map_tasks(_die_once, items, parallel=2, shared=(str(tmp_path),), retried=retried)
    )
    assert sorted(got) == [(0, 10), (1, 20), (2, 30)]  # each item exactly once
    assert [(r.index, r.attempt) for r in retried] == [(1, 1)]
    assert "Died" in retried[0].error or "Crashed" in retried[0].error
    with pytest.raises(_ray.RayTaskLost, match="died 2 times"):
        list(_ray.map_tasks(_always_die, [0], parallel=1, retries=1))


def _figures(report: dict) -> dict:
    return {
        arm: [
            (e["seed"], e["achievements"], e["unlocked_at"], e["env_steps"], e["ended"])
            for e in a["per_episode"]
        ]
        for arm, a in report["arms"].items()
    } | {"score": report["score"], "balrog": report["balrog"]}


@pytest.mark.slow
def test_ci_slow_ray_bench_gives_the_local_figures_and_brings_runs_home(
    local_ray, mendako_home: Path, tmp_path: Path
) -> None:
    from agents.bench import run_bench
    from graphs.trace import list_runs

    settings = RunSettings(seed=1000, llm="none", max_env_steps=150)
    local = run_bench(settings, 2, workers=2, out_dir=tmp_path / "local", compare=None)
    remote = run_bench(settings, 2, workers=2, out_dir=tmp_path / "ray", compare=None, ray="")
    assert _figures(remote) == _figures(local)
    assert remote["ray"] == {"address": "local instance", "retried": []}
    ids = {r.id for r in list_runs()}
    for e in remote["per_episode"]:
        assert e["run_id"] in ids
        run = mendako_home / "runs" / e["run_id"]
        assert (run / "trace.jsonl").is_file() and (run / "meta.json").is_file()
        assert (tmp_path / "ray/episodes/none" / f"seed_{e['seed']}.json").is_file()
    # the trace reads the run that came back like a local one
    from typer.testing import CliRunner

    from agents.cli import app

    res = CliRunner().invoke(app, ["trace", "show", remote["per_episode"][0]["run_id"]])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_embedded_model_loads_once_per_ray_worker(local_ray, tmp_path: Path) -> None:
    from agents.bench import run_bench

    settings = RunSettings(seed=1000, llm="embedded", max_env_steps=20)
    report = run_bench(settings, 2, workers=1, out_dir=tmp_path, compare=None, ray="")
    workers = [e["worker"] for e in report["per_episode"]]
    assert workers[0]["pid"] == workers[1]["pid"]  # one worker ran both episodes
    assert sorted(w["model_loads"] for w in workers)[0] == 0  # the second reused the model
