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


@pytest.fixture(autouse=True)
def code_skills_without_os_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where this machine cannot give code skills their OS boundary (no bwrap, no user
    namespaces), tests run them with the documented override, so that the Python-level
    layers are still tested; tests/skills/test_boundary.py checks the refusal itself."""
    from skills.code import _boundary

    if _boundary.boundary() is None:
        monkeypatch.setenv(_boundary.UNSAFE_ENV, "1")
