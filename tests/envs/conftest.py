"""Env tests' set-up: the example env plugin, pip-installed once per session."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envs import registry

PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "taxi_plugin"


@pytest.fixture(scope="session")
def taxi_installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``examples/taxi_plugin`` pip-installed (a real wheel build, from a copy, so nothing is
    built inside the repository) into a folder put on sys.path: its entry point registers
    ``taxi``. No file of mendako is touched."""
    source = tmp_path_factory.mktemp("plugin_src") / "taxi_plugin"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = tmp_path_factory.mktemp("plugins")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    sys.path.insert(0, str(target))
    registry._targets.cache_clear()
    return target
