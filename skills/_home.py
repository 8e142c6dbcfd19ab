"""Where mendako keeps the user's things: `$MENDAKO_HOME` (default `~/.mendako`)."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any


def mendako_home() -> Path:
    """The user's mendako folder (skills, runs, caches), created on first use."""
    home = Path(os.environ.get("MENDAKO_HOME") or Path.home() / ".mendako").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def write_json_atomic(path: Path, data: Any, *, durable: bool = True) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half of one.

    ``durable`` also syncs the file to disk before it replaces the old one, so that a power
    cut cannot leave an empty file (~1 ms); without it the write survives the process being
    killed, not a power cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _FileLock:
    """One lock file, taken with `flock`: exclusive across processes, re-entrant in a thread.

    flock locks belong to an open file description, so a second `open` of the same file in
    this process would wait for the first; the thread lock and depth count make nested
    `with file_lock(p):` in one thread cheap and safe, and keep other threads out too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd = -1

    def __enter__(self) -> _FileLock:
        self._thread_lock.acquire()
        if self._depth == 0:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
            except BaseException:
                self._thread_lock.release()
                raise
            self._fd = fd
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            os.close(self._fd)  # closing the description releases the flock
            self._fd = -1
        self._thread_lock.release()


_LOCKS: dict[str, _FileLock] = {}
_LOCKS_GUARD = threading.Lock()


def file_lock(path: Path) -> _FileLock:
    """An exclusive lock on `path` (created if missing) for `with file_lock(path): ...`.

    Every writer of a shared file in `$MENDAKO_HOME` (skill versions, statistics, the world
    model, a run's meta.json) takes the lock next to it, so processes sharing one home never
    lose each other's writes. The lock is released when the process dies (kill -9 too)."""
    key = os.path.abspath(path)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = _FileLock(Path(key))
        return lock
