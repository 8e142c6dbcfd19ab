"""The run's checkpointer: which checkpoints are on disk, and which writes it keeps."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver
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


class _Wide(BaseModel):
    n: int = 0
    log: list[str] = []


def _wide_graph(saver: SqliteSaver):  # noqa: ANN202
    def grow(state: _Wide) -> dict:
        return {"log": [*state.log, f"entry {len(state.log)}" * 50]}

    def count(state: _Wide) -> dict:
        return {"n": state.n + 1}

    g = StateGraph(_Wide)
    g.add_node("grow", grow)
    g.add_node("count", count)
    g.add_edge(START, "grow")
    g.add_edge("grow", "count")
    return g.compile(checkpointer=saver)


def test_each_value_is_stored_once_and_read_back_whole(tmp_path: Path) -> None:
    plain = SqliteSaver(sqlite3.connect(tmp_path / "plain.sqlite", check_same_thread=False))
    saver = _saver(tmp_path / "c.sqlite")
    config = {"configurable": {"thread_id": "t"}}
    histories = []
    for s in (plain, saver):
        graph = _wide_graph(s)
        for first in (True, False):  # a second run goes on from the first one's end
            list(graph.stream({"n": 1, "log": ["a"]} if first else {"n": 0}, config))
        histories.append([snap.values for snap in graph.get_state_history(config)])
    assert histories[0] == histories[1] and len(histories[1]) >= 6
    # Checkpoint rows hold versions only; the long log is in one blob per version.
    assert not any(
        b"entry" in row[0] for row in saver.conn.execute("SELECT checkpoint FROM checkpoints")
    )
    log_versions = {
        snap.checkpoint["channel_versions"]["log"]
        for snap in saver.list(config)
        if "log" in snap.checkpoint["channel_versions"]
    }
    (log_blobs,) = saver.conn.execute("SELECT COUNT(*) FROM blobs WHERE channel = 'log'").fetchone()
    assert log_blobs == len(log_versions) < len(histories[1])


def test_checkpoints_saved_whole_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    plain = SqliteSaver(sqlite3.connect(path, check_same_thread=False))
    config = {"configurable": {"thread_id": "t"}}
    list(_wide_graph(plain).stream({"n": 4}, config))
    expected = _wide_graph(plain).get_state(config).values
    plain.conn.close()
    reread = _wide_graph(_saver(path)).get_state(config).values
    assert reread == expected and reread["n"] == 5


def test_a_read_only_database_of_whole_checkpoints_is_read(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    plain = SqliteSaver(sqlite3.connect(path, check_same_thread=False))
    config = {"configurable": {"thread_id": "t"}}
    list(_wide_graph(plain).stream({"n": 2}, config))
    plain.conn.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    assert _wide_graph(RunSaver(conn)).get_state(config).values["n"] == 3
