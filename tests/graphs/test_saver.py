"""The run's checkpointer: which checkpoints are on disk, and which writes it keeps."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from langgraph.graph import START, StateGraph
from pydantic import BaseModel

from graphs._saver import RunSaver


class _State(BaseModel):
    n: int = 0


def _graph(saver: RunSaver, calls: list[str], fail_once: list[bool]):  # noqa: ANN202
    def a(state: _State) -> dict:
        calls.append("a")
        return {"n": state.n + 1}

    def b(state: _State) -> dict:
        calls.append("b")
        if fail_once:
            fail_once.pop()
            raise RuntimeError("b failed")
        return {"n": state.n * 10}

    g = StateGraph(_State)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    return g.compile(checkpointer=saver)


def _saver(path: Path) -> RunSaver:
    return RunSaver(sqlite3.connect(path, check_same_thread=False))


def test_failed_node_is_recorded_and_rerun_alone(tmp_path: Path) -> None:
    saver = _saver(tmp_path / "c.sqlite")
    calls: list[str] = []
    graph = _graph(saver, calls, fail_once=[True])
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(RuntimeError):
        list(graph.stream({"n": 1}, config, durability="async"))
    snap = graph.get_state(config)
    assert snap.next == ("b",)
    assert snap.tasks[0].error is not None  # the error write is kept
    assert all(
        saver.is_saved(s.config["configurable"]["checkpoint_id"])
        for s in graph.get_state_history(config)
    )
    list(graph.stream(None, config, durability="async"))
    assert calls == ["a", "b", "b"]  # a's checkpoint was saved: only b runs again
    assert graph.get_state(config).values == {"n": 20}
    channels = {row[0] for row in saver.conn.execute("SELECT channel FROM writes")}
    assert channels <= {"__error__", "__interrupt__", "__resume__", "__scheduled__"}


def test_state_writes_are_not_kept_but_errors_are(tmp_path: Path) -> None:
    saver = _saver(tmp_path / "c.sqlite")
    saver.setup()
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "x"}}
    saver.put_writes(config, [("n", 3), ("branch:to:b", None)], "task-1")
    assert saver.conn.execute("SELECT COUNT(*) FROM writes").fetchone()[0] == 0
    saver.put_writes(config, [("n", 3), ("__error__", "boom")], "task-2")
    rows = saver.conn.execute("SELECT task_id, channel FROM writes").fetchall()
    assert rows == [("task-2", "__error__")]
    assert not saver.is_saved("x")
