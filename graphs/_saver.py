"""The run's checkpointer: LangGraph's SQLite saver that also says which checkpoints are on disk.

Runs stream with `durability="async"`: a checkpoint is saved in the background while the next
node runs, instead of the graph waiting for every save. The trace must still name only
checkpoints that exist (`trace show --at`, `run --resume`), so the runner writes a node's
event once `RunSaver.is_saved` says its checkpoint is on disk.

A node whose checkpoint was not saved is run again on resume. LangGraph would otherwise
apply the writes it saved for a finished node without running it; but nodes act on the env,
and a resumed run rebuilds the env by replaying the actions in the checkpoint, so the env
would be left behind the state. The saver therefore keeps only LangGraph's own bookkeeping
writes (errors, interrupts), never a node's state writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.sqlite import SqliteSaver


class RunSaver(SqliteSaver):
    """`SqliteSaver` that records the ids of the checkpoints it has committed and keeps no
    node state writes between checkpoints."""

    def __init__(self, conn: sqlite3.Connection, *, serde: SerializerProtocol | None = None):
        super().__init__(conn, serde=serde)
        self._saved: set[str] = set()
        self._saved_lock = threading.Lock()

    def put(
        self,
        config: Any,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Any:
        """Save a checkpoint (committed when this returns) and remember its id."""
        out = super().put(config, checkpoint, metadata, new_versions)
        with self._saved_lock:
            self._saved.add(checkpoint["id"])
        return out

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

    def is_saved(self, checkpoint_id: str) -> bool:
        """Whether this saver has committed the checkpoint `checkpoint_id`."""
        with self._saved_lock:
            return checkpoint_id in self._saved
