"""Skill statistics: how each version of each skill has fared in use, shared by processes.

One SQLite database (`$MENDAKO_HOME/skills/stats.sqlite`), one row per (env, skill, version)
holding the attempts and successes *added by use*; a version's figures are its own meta.json
(e.g. an RL policy's evaluation) plus that row. Every update is one `UPDATE ... + 1` in a
transaction, so processes sharing a home never lose each other's counts, and a new version
starts its own row instead of inheriting its predecessor's.

A snapshot (`read`) is a plain dict `{"<env>/<name>@<version>": {"successes": s, "attempts":
n}}`, JSON-able, so a bench can hand one fixed snapshot to every worker.

`$MENDAKO_HOME/skills/stats.json` (the store before this one, per skill, not per version) is
imported once into the version that was active when it is first opened, then renamed
`stats.json.imported`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

Snapshot = dict[str, dict[str, int]]
"""`{"<env>/<name>@<version>": {"successes": s, "attempts": n}}`: counts added by use."""

DB_NAME = "stats.sqlite"
LEGACY_NAME = "stats.json"


def key(env: str, name: str, version: int) -> str:
    """The snapshot key of one skill version."""
    return f"{env}/{name}@{version}"


class StatsStore:
    """The statistics database under a skill library's root (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / DB_NAME

    def _connect(self) -> sqlite3.Connection:
        self.root.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS stats (env TEXT NOT NULL, name TEXT NOT NULL,"
            " version INTEGER NOT NULL, successes INTEGER NOT NULL DEFAULT 0,"
            " attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (env, name, version))"
        )
        return conn

    def read(self) -> Snapshot:
        """Every version's added counts (empty when nothing was recorded yet)."""
        if not self.path.is_file():
            return {}
        try:
            conn = self._connect()
        except sqlite3.DatabaseError as e:
            log.warning("%s is unreadable (%s): success history reads as empty", self.path, e)
            return {}
        try:
            rows = conn.execute("SELECT env, name, version, successes, attempts FROM stats")
            return {key(e, n, v): {"successes": s, "attempts": a} for e, n, v, s, a in rows}
        except sqlite3.DatabaseError as e:
            log.warning("%s is unreadable (%s): success history reads as empty", self.path, e)
            return {}
        finally:
            conn.close()

    def add(
        self, env: str, name: str, version: int, success: bool, *, key: str | None = None
    ) -> bool:
        """Count one attempt (and a success if `success`) for a skill version, atomically.

        With `key` (e.g. `<run id>#<attempt>`) the count is made at most once: the key is
        stored in the same transaction, so a run killed after counting and resumed to do the
        same attempt again does not count it twice. Returns whether it was counted."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            if key is not None:
                conn.execute("CREATE TABLE IF NOT EXISTS counted (key TEXT PRIMARY KEY)")
                if conn.execute("INSERT OR IGNORE INTO counted VALUES (?)", (key,)).rowcount == 0:
                    conn.execute("ROLLBACK")
                    return False
            conn.execute(
                "INSERT INTO stats (env, name, version, successes, attempts) VALUES (?, ?, ?, ?, 1)"
                " ON CONFLICT (env, name, version) DO UPDATE SET"
                " successes = successes + excluded.successes, attempts = attempts + 1",
                (env, name, int(version), int(bool(success))),
            )
            conn.execute("COMMIT")
            return True
        finally:
            conn.close()

    def forget(self, env: str, name: str, versions: Iterable[int]) -> None:
        """Drop the counts of these versions (their skill folder was removed)."""
        versions = [int(v) for v in versions]
        if not versions or not self.path.is_file():
            return
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "DELETE FROM stats WHERE env = ? AND name = ? AND version = ?",
                [(env, name, v) for v in versions],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()

    def import_legacy(self, env: str, active: dict[str, tuple[int, int, int]]) -> None:
        """Move `stats.json`'s per-skill totals of `env` onto the active versions.

        `active` maps a skill name to (version, successes, attempts) of its meta.json; the
        old file held totals (meta + use), the database holds what use added. Call with the
        library's lock held."""
        legacy = self.root / LEGACY_NAME
        if not legacy.is_file():
            return
        try:
            data = json.loads(legacy.read_text())
        except (OSError, ValueError):
            data = {}
        rows = []
        for full, counts in (data if isinstance(data, dict) else {}).items():
            e, _, name = str(full).partition("/")
            if e != env or name not in active or not isinstance(counts, dict):
                continue
            version, own_s, own_a = active[name]
            s = max(0, int(counts.get("successes", 0)) - own_s)
            a = max(0, int(counts.get("attempts", 0)) - own_a)
            rows.append((env, name, version, min(s, a), a))
        left = {k: v for k, v in data.items() if not str(k).startswith(f"{env}/")}
        if rows:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO stats VALUES (?, ?, ?, ?, ?) ON CONFLICT (env, name, version)"
                    " DO UPDATE SET successes = successes + excluded.successes,"
                    " attempts = attempts + excluded.attempts",
                    rows,
                )
                conn.execute("COMMIT")
            finally:
                conn.close()
        if left:  # other envs' entries wait for a library of their env
            from skills._home import write_json_atomic

            write_json_atomic(legacy, left)
        else:
            legacy.rename(legacy.with_name(LEGACY_NAME + ".imported"))
