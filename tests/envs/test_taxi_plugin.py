"""The example env plugin from the command line: `mendako run` on Taxi, found by entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MENDAKO = Path(sys.executable).with_name("mendako")


def _mendako(*args: str, plugins: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(plugins), "MENDAKO_HOME": str(home)}
    return subprocess.run(
        [str(MENDAKO), *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_mendako_run_delivers_the_taxi_passenger(taxi_installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    envs = _mendako("envs", plugins=taxi_installed, home=home)
    assert envs.returncode == 0 and "taxi" in envs.stdout and "mendako_taxi" in envs.stdout
    listed = _mendako("skills", "list", "--env", "taxi", plugins=taxi_installed, home=home)
    assert listed.returncode == 0, listed.stderr
    for name in ("pick_up_passenger", "deliver_passenger", "taxi_ride"):
        assert name in listed.stdout
    done = _mendako(
        "run", "deliver the passenger", "--env", "taxi", "--seed", "3",
        plugins=taxi_installed, home=home,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "achieved" in done.stdout
    (run_dir,) = (home / "runs").iterdir()
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["outcome"] == "achieved" and meta["env"] == "taxi"
    assert meta["achievements"] == {"pick_up_passenger": 1, "deliver_passenger": 1}


def test_the_explorer_runs_on_the_plugin_env(taxi_installed: Path, tmp_path: Path) -> None:
    done = _mendako(
        "explore", "--env", "taxi", "--seed", "3", "--max-steps", "100",
        plugins=taxi_installed, home=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["kind"] == "explore" and meta["outcome"] == "episode over"
    assert meta["achievements"] == {"pick_up_passenger": 1, "deliver_passenger": 1}


def test_without_the_plugin_taxi_is_unknown(tmp_path: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import mendako_taxi"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("mendako-taxi is installed in this venv")
    gone = _mendako(
        "run", "deliver the passenger", "--env", "taxi", plugins=tmp_path, home=tmp_path
    )
    assert gone.returncode != 0
    assert "unknown env 'taxi'" in gone.stdout + gone.stderr
