"""On-disk cache of LLM calls: a small SQLite ``BaseCache`` plus a JSON key-value side table.

LangChain's own ``SQLiteCache`` lives in langchain-community, which mendako does not depend
on; this one is enough for chat generations (through ``BaseChatModel.cache``) and for the
results that bypass LangChain's cache path (structured outputs, log-likelihood scores).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_cache (
    llm TEXT NOT NULL,
    prompt TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (llm, prompt)
)
"""


def mendako_home() -> Path:
    """``$MENDAKO_HOME``, defaulting to ``~/.mendako``."""
    return Path(os.environ.get("MENDAKO_HOME") or Path.home() / ".mendako").expanduser()


def cache_enabled_by_env() -> bool:
    """False when ``MENDAKO_LLM_CACHE`` is set to 0/false/no/off."""
    value = os.environ.get("MENDAKO_LLM_CACHE", "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


def stable_key(*parts: Any) -> str:
    """A short hash of JSON-serialisable parts, for keys that would otherwise be long."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class SQLiteLLMCache(BaseCache):
    """LLM cache in one SQLite file, safe to share between threads of one process.

    Rows are keyed by ``(llm, prompt)``: for chat models LangChain passes the serialised
    messages as ``prompt`` and the model's parameters as ``llm``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False)
        with self._lock, self._conn:
            self._conn.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"SQLiteLLMCache({str(self.path)!r})"

    # BaseCache API -------------------------------------------------------------------
    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """Cached generations for this prompt and model, or None."""
        raw = self._get(llm_string, prompt)
        if raw is None:
            return None
        try:
            rows = json.loads(raw)
            return [
                ChatGeneration(message=messages_from_dict([r["message"]])[0])
                if "message" in r
                else Generation(text=r["text"])
                for r in rows
            ]
        except (KeyError, TypeError, ValueError):  # a row from an incompatible version
            return None

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Store generations for this prompt and model."""
        rows = [
            {"message": message_to_dict(g.message)}
            if isinstance(g, ChatGeneration)
            else {"text": g.text}
            for g in return_val
        ]
        self._put(llm_string, prompt, json.dumps(rows))

    def clear(self, **kwargs: Any) -> None:
        """Drop every cached row."""
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM llm_cache")

    # JSON side table used by structured output and scorers ------------------------------
    def get_json(self, namespace: str, key: Sequence[Any]) -> Any | None:
        """The JSON value stored under ``(namespace, key)``, or None."""
        raw = self._get("json:" + namespace, stable_key(*key))
        return None if raw is None else json.loads(raw)

    def put_json(self, namespace: str, key: Sequence[Any], value: Any) -> None:
        """Store a JSON-serialisable value under ``(namespace, key)``."""
        self._put("json:" + namespace, stable_key(*key), json.dumps(value))

    def count(self) -> int:
        """Number of cached rows (not ``__len__``: an empty cache must stay truthy)."""
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0]

    def _get(self, llm: str, prompt: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM llm_cache WHERE llm = ? AND prompt = ?", (llm, prompt)
            ).fetchone()
        return None if row is None else row[0]

    def _put(self, llm: str, prompt: str, value: str) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO llm_cache (llm, prompt, value) VALUES (?, ?, ?)",
                (llm, prompt, value),
            )


_DEFAULT: dict[Path, SQLiteLLMCache] = {}
_DEFAULT_LOCK = threading.Lock()


def default_cache() -> SQLiteLLMCache | None:
    """The process-wide cache at ``$MENDAKO_HOME/cache/llm.sqlite``; None if disabled by env."""
    if not cache_enabled_by_env():
        return None
    path = mendako_home() / "cache" / "llm.sqlite"
    with _DEFAULT_LOCK:
        if path not in _DEFAULT:
            _DEFAULT[path] = SQLiteLLMCache(path)
        return _DEFAULT[path]
