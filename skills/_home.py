"""Where mendako keeps the user's things: `$MENDAKO_HOME` (default `~/.mendako`)."""

from __future__ import annotations

import json
import os
import tempfile
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
