"""Shared test set-up: every test gets its own empty MENDAKO_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def mendako_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated $MENDAKO_HOME (skills, runs, caches) for each test."""
    home = tmp_path / "mendako_home"
    monkeypatch.setenv("MENDAKO_HOME", str(home))
    return home
