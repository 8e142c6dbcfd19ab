"""The run's checkpointer: LangGraph's SQLite saver that stores each channel value once and
says which checkpoints are on disk.

**One row per channel version.** `SqliteSaver` serialises the whole state into every
checkpoint, so a run re-serialises its history, candidates and action log at every node. Here
(as in LangGraph's Postgres saver) a checkpoint row holds only the channel versions; each
value is a row of the `blobs` table, written once, by the checkpoint that made that version,
and joined back when a checkpoint is read. A node's checkpoint then costs what the node
changed. Checkpoints written whole (by an older mendako, or by a plain `SqliteSaver`) are
read as they are.

**Saved in the background.** Runs stream with `durability="async"`: a checkpoint is saved
while the next node runs, instead of the graph waiting for every save. The trace must still
name only checkpoints that exist (`trace show --at`, `run --resume`), so the runner writes a
node's event once `RunSaver.is_saved` says its checkpoint is on disk.

**No node state writes.** A node whose checkpoint was not saved is run again on resume.
LangGraph would otherwise apply the writes it saved for a finished node without running it;
but nodes act on the env, and a resumed run rebuilds the env by replaying the actions in the
checkpoint, so the env would be left behind the state. The saver therefore keeps only
LangGraph's own bookkeeping writes (errors, interrupts), never a node's state writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.sqlite import SqliteSaver

_SPLIT = "mendako_blobs"
"""Key set in a checkpoint whose channel values live in the `blobs` table."""


class RunSaver(SqliteSaver):
    """`SqliteSaver` that stores channel values once per version, records the ids of the
    checkpoints it has committed, and keeps no node state writes between checkpoints."""

    def __init__(self, conn: sqlite3.Connection, *, serde: SerializerProtocol | None = None):
        super().__init__(conn, serde=serde)
        self._saved: set[str] = set()
        self._saved_lock = threading.Lock()

    def setup(self) -> None:
        """Create LangGraph's tables and the `blobs` table (once per connection)."""
        if self.is_setup:
            return
        super().setup()
        try:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS blobs (thread_id TEXT NOT NULL, checkpoint_ns TEXT"
                " NOT NULL DEFAULT '', channel TEXT NOT NULL, version TEXT NOT NULL, type TEXT"
                " NOT NULL, blob BLOB, PRIMARY KEY (thread_id, checkpoint_ns, channel, version))"
            )
            self.conn.commit()
        except sqlite3.OperationalError as e:
            # A read-only database from before the blobs table holds whole checkpoints only.
            if "readonly" not in str(e):
                raise

    def put(
        self,
        config: Any,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Any:
        """Save the channel values of `new_versions` as blobs, then the checkpoint without
        values (committed when this returns), and remember its id."""
        conf = config["configurable"]
        thread, ns = str(conf["thread_id"]), str(conf.get("checkpoint_ns", ""))
        values = checkpoint["channel_values"]
        rows = [
            (thread, ns, channel, str(version), *self._dump(values, channel))
            for channel, version in new_versions.items()
        ]
        with self.cursor() as cur:
            cur.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?, ?, ?)", rows)
        split: Any = {**checkpoint, "channel_values": {}, _SPLIT: True}
        out = super().put(config, split, metadata, new_versions)
        with self._saved_lock:
            self._saved.add(checkpoint["id"])
        return out

    def _dump(self, values: dict[str, Any], channel: str) -> tuple[str, bytes | None]:
        # A channel with a version but no value (a consumed trigger) is stored as empty, so
        # that reading this version back does not find an older value.
        return self.serde.dumps_typed(values[channel]) if channel in values else ("empty", None)

    def get_tuple(self, config: Any) -> CheckpointTuple | None:
        """The checkpoint `config` names (or the thread's latest), with its values."""
        found = super().get_tuple(config)
        if found is not None:
            self._join([found])
        return found

    def list(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """The checkpoints `SqliteSaver.list` finds, newest first, with their values."""
        # The parent holds the connection's lock while it yields: take them all first.
        found = [*super().list(config, filter=filter, before=before, limit=limit)]
        self._join(found)
        yield from found

    def _join(self, tuples: Sequence[CheckpointTuple]) -> None:
        """Fill in the channel values of checkpoints saved split, from the `blobs` table."""
        threads: dict[tuple[str, str], list[Checkpoint]] = {}
        for t in tuples:
            if t.checkpoint.pop(_SPLIT, False):  # type: ignore[misc]
                conf = t.config["configurable"]
                key = (str(conf["thread_id"]), str(conf.get("checkpoint_ns", "")))
                threads.setdefault(key, []).append(t.checkpoint)
        for (thread, ns), checkpoints in threads.items():
            with self.cursor(transaction=False) as cur:
                cur.execute(
                    "SELECT channel, version, type, blob FROM blobs"
                    " WHERE thread_id = ? AND checkpoint_ns = ?",
                    (thread, ns),
                )
                blobs = {(ch, ver): (typ, blob) for ch, ver, typ, blob in cur.fetchall()}
            for checkpoint in checkpoints:
                values: dict[str, Any] = {}
                for channel, version in checkpoint["channel_versions"].items():
                    typ, blob = blobs.get((channel, str(version)), ("empty", None))
                    if typ != "empty":
                        values[channel] = self.serde.loads_typed((typ, blob))
                checkpoint["channel_values"] = values

    def put_writes(
        self,
        config: Any,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Save a task's error or interrupt writes; drop its state writes (see the module)."""
        kept = [(channel, value) for channel, value in writes if channel in WRITES_IDX_MAP]
        if kept:
            super().put_writes(config, kept, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints, writes and blobs."""
        super().delete_thread(thread_id)
        with self.cursor() as cur:
            cur.execute("DELETE FROM blobs WHERE thread_id = ?", (str(thread_id),))

    def is_saved(self, checkpoint_id: str) -> bool:
        """Whether this saver has committed the checkpoint `checkpoint_id`."""
        with self._saved_lock:
            return checkpoint_id in self._saved
