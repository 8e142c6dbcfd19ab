"""Run store: each run's folder (`$MENDAKO_HOME/runs/<run-id>/`) with its checkpoints, its
flushed event log (`trace.jsonl`, one line per node update), `meta.json` and, for runs
recorded with `--record`, the episode as `episode.gif`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from skills import file_lock, mendako_home, write_json_atomic

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.types import StateSnapshot

    from graphs._saver import RunSaver

# LangGraph and pydantic are imported where they are used: `mendako trace list` over a
# thousand runs must answer in well under a second, start-up included.


def _state_types() -> list[type | tuple[str, str]]:
    """The state's classes; registering them lets checkpoints reload without warnings. The
    value types live in ``envs.values``; checkpoints written before they moved name them
    ``graphs.state.X`` (still importable there), so those names are allowed too."""
    from agents import goal_spec
    from envs import values
    from graphs import state as state_mod

    moved = [
        values.Subgoal,
        values.SkillScore,
        values.Verdict,
        values.LLMExchange,
        values.Decision,
        values.StepRecord,
    ]
    spec = [
        goal_spec.GoalSpec,
        goal_spec.Achieve,
        goal_spec.Have,
        goal_spec.Vital,
        goal_spec.Survive,
        goal_spec.Near,
        goal_spec.ConditionState,
    ]
    return [
        *moved,
        *(("graphs.state", t.__name__) for t in moved),
        *spec,
        state_mod.AgentState,
    ]


class RunNotFound(LookupError):
    """No run with that id (or unique id prefix)."""


class RunDamaged(ValueError):
    """A run's store (checkpoint database) cannot be read; the message names the file and
    what can still be read."""


class RunBusy(ValueError):
    """The run is being run by a live process right now."""


RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")
"""What a run id (or a prefix of one) may look like: no path separators, no `..`; a `:` as
in an env id with its level (``babyai:BabyAI-UnlockPickup-v0__...``)."""


def valid_run_id(run_id: str) -> str:
    """`run_id` if it can name a run folder (letters, digits, `_ . : -`; not `.`/`..`), else a
    one-line RunNotFound, before any path is built from it."""
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise RunNotFound(
            f"{run_id!r} is not a run id (ids look like crafter__collect-wood__0__1700000000000;"
            " see `mendako trace list`)"
        )
    return run_id


def runs_root(home: Path | None = None) -> Path:
    """The folder holding all runs."""
    root = (home or mendako_home()) / "runs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def new_run_id(env_id: str, goal: str, seed: int) -> str:
    """A cleanrl-style run name: `<env>__<goal-slug>__<seed>__<unix time>`."""
    slug = re.sub(r"[^a-z0-9]+", "-", goal.lower()).strip("-")[:40] or "goal"
    return f"{env_id}__{slug}__{seed}__{int(time.time() * 1000)}"


def _jsonable(value: Any) -> Any:
    """`value` as JSON-ready data (pydantic models dumped, in Rust); numpy values as lists,
    anything else unknown as its text."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, fallback=_fallback)


def _fallback(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    return tolist() if callable(tolist) else str(value)


@dataclass
class Run:
    """One run's folder."""

    id: str
    path: Path

    @property
    def meta_path(self) -> Path:
        """`meta.json`: goal, env, seed, llm spec, version, outcome."""
        return self.path / "meta.json"

    @property
    def trace_path(self) -> Path:
        """`trace.jsonl`: one event per node update."""
        return self.path / "trace.jsonl"

    @property
    def db_path(self) -> Path:
        """The SQLite checkpoint database."""
        return self.path / "checkpoints.sqlite"

    @property
    def gif_path(self) -> Path:
        """`episode.gif`: the episode's frames, when the run was recorded."""
        return self.path / "episode.gif"

    @property
    def ledger_path(self) -> Path:
        """`records.jsonl`: success-history writes made by this run (so a resume skips them)."""
        return self.path / "records.jsonl"

    @property
    def lock_path(self) -> Path:
        """`run.lock`: held (flock) by the process running the run; it holds that pid."""
        return self.path / "run.lock"

    def raw_meta(self) -> dict[str, Any]:
        """meta.json as written (empty if missing or unreadable)."""
        try:
            data = json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def meta(self) -> dict[str, Any]:
        """The run's meta.json (empty if missing or unreadable), with `outcome` "crashed"
        where it says "running" but no live process holds the run's lock."""
        data = self.raw_meta()
        if data.get("outcome") == "running" and not self.is_live():
            data["outcome"] = "crashed"
        return data

    def write_meta(self, **fields: Any) -> None:
        """Update meta.json atomically, under the run's meta lock (a resume and a run, or
        two resumes, never lose each other's fields).

        Not synced to disk: like the run's checkpoints (SQLite WAL, `synchronous=NORMAL`),
        the run folder survives the process being killed, not a power cut."""
        with file_lock(self.path / ".meta.lock"):
            write_json_atomic(self.meta_path, self.raw_meta() | fields, durable=False)

    # ------------------------------------------------------------------ liveness
    def hold(self) -> RunHold:
        """Take the run's lock for this process (released by `RunHold.release` or by the
        process dying); RunBusy if a live process holds it."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = self.holder_pid()
            raise RunBusy(
                f"run {self.id} is running right now"
                + (f" (process {pid})" if pid else "")
                + ": wait for it, or stop that process first"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return RunHold(fd)

    def is_live(self) -> bool:
        """Whether a live process holds the run's lock (is running or resuming it)."""
        try:
            fd = os.open(self.lock_path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return False  # no lock file: the run's process never took it, or is gone
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also drops the probe's own shared lock
        return False

    def holder_pid(self) -> int | None:
        """The pid written in run.lock by the last process that held it."""
        try:
            text = self.lock_path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    # ------------------------------------------------------------------ events
    def events(self) -> Iterator[dict[str, Any]]:
        """The events of trace.jsonl, in order. A line that is not an event is not skipped
        silently: it comes as `{"kind": "damaged", "line": n, "error": ..., "text": ...}`
        (a torn last line, left by a crash, says so)."""
        if not self.trace_path.is_file():
            return
        with self.trace_path.open("rb") as f:
            for n, line in enumerate(f, start=1):
                try:
                    ev = orjson.loads(line)
                except orjson.JSONDecodeError as e:
                    torn = not line.endswith(b"\n")
                    yield _damaged(n, "torn last line (a crash while writing)" if torn else e, line)
                    continue
                if not isinstance(ev, dict) or not isinstance(ev.get("kind"), str):
                    yield _damaged(n, "not an event object", line)
                    continue
                yield ev

    def damage(self) -> list[str]:
        """One line per thing in the run's folder that cannot be read (trace lines that are
        not events, a checkpoint database that is not whole); empty when all is well."""
        out = [
            f"{self.trace_path}: line {e['line']} is not an event ({e['error']})"
            for e in self.events()
            if e["kind"] == "damaged"
        ]
        problem = _db_damage(self.db_path)
        if problem:
            out.append(f"{self.db_path}: {problem}")
        return out

    @contextlib.contextmanager
    def reading_checkpoints(self) -> Iterator[None]:
        """Turn a damaged checkpoint database into one RunDamaged line naming the file and
        what can still be read."""
        still = (
            f"`trace show {self.id}` and `trace export` still read its trace and meta.json; "
            "`--at` and `--resume` cannot"
        )
        try:
            yield
        except RunDamaged:
            raise
        except sqlite3.DatabaseError as e:
            raise RunDamaged(f"{self.db_path}: damaged ({e}); {still}") from None
        except (ValueError, TypeError) as e:  # rows SQLite reads whose values do not decode
            raise RunDamaged(
                f"{self.db_path}: a checkpoint does not decode ({type(e).__name__}: {e}); {still}"
            ) from None

    def checkpointer(self) -> RunSaver:
        """A SQLite checkpointer over this run's database."""
        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        from graphs._saver import RunSaver

        conn = sqlite3.connect(self.db_path, check_same_thread=False)
        # WAL (set by the saver's setup) without an fsync per commit: a checkpoint survives
        # the process being killed (what `--resume` is for), not a power cut; commits cost
        # microseconds, not ms.
        conn.execute("PRAGMA synchronous=NORMAL")
        serde = JsonPlusSerializer(allowed_msgpack_modules=_state_types())
        saver = RunSaver(conn, serde=serde)
        saver.setup()  # now, not inside the run's first graph step
        return saver

    def checkpoints(self, thread: str | None = None) -> list[StateSnapshot]:
        """Every checkpoint of the run, oldest first (LangGraph's `get_state_history`);
        RunDamaged when the database cannot be read. `thread`: one of the run's checkpoint
        threads (the explorer's goals, ``<run id>:<n>``); default the run's own."""
        from graphs.build import build_graph

        if not self.db_path.is_file():
            return []
        with self.reading_checkpoints():
            saver = self.checkpointer()
            try:
                graph = build_graph(saver)
                config: RunnableConfig = {"configurable": {"thread_id": thread or self.id}}
                return list(reversed(list(graph.get_state_history(config))))
            finally:
                saver.conn.close()

    def state_at(self, checkpoint: str) -> StateSnapshot:
        """The checkpoint with this id (or unique id prefix), or this index (`-1` = last)."""
        snaps = self.checkpoints()
        if not snaps:
            raise RunNotFound(f"run {self.id} has no checkpoints")
        if re.fullmatch(r"-?\d+", checkpoint):
            i = int(checkpoint)
            if not -len(snaps) <= i < len(snaps):
                raise RunNotFound(f"run {self.id} has checkpoints 0..{len(snaps) - 1}")
            return snaps[i]
        found = [s for s in snaps if checkpoint_id(s).startswith(checkpoint)]
        if len(found) != 1:
            what = "no checkpoint" if not found else f"{len(found)} checkpoints match"
            raise RunNotFound(f"{what} {checkpoint!r} in run {self.id} (see `trace show`)")
        return found[0]


@dataclass
class RunHold:
    """This process's hold on a run's lock (see `Run.hold`)."""

    fd: int
    released: bool = field(default=False)

    def release(self) -> None:
        """Let go of the run (it is no longer running in this process)."""
        if not self.released:
            os.close(self.fd)
            self.released = True


def _damaged(n: int, error: object, line: bytes) -> dict[str, Any]:
    text = line.decode("utf-8", "replace").rstrip("\n")
    return {"kind": "damaged", "line": n, "error": str(error), "text": text[:120]}


def _db_damage(path: Path) -> str | None:
    """Why the SQLite file at `path` is not whole (header, size), or None: a cheap check of
    its first 100 bytes, no query."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(100)
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"unreadable ({e.strerror})"
    if size == 0:
        return None
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return "not a SQLite database (damaged header)"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    valid = head[24:28] == head[92:96]  # the page count is valid for this change counter
    if valid and pages and size < page * pages:
        return f"truncated ({size} of {page * pages} bytes)"
    return None


def checkpoint_id(snapshot: StateSnapshot) -> str:
    """The id of a checkpoint snapshot."""
    return str(snapshot.config["configurable"]["checkpoint_id"])


def event(kind: str, **fields: Any) -> dict[str, Any]:
    """A trace event, stamped now, with its fields made JSON-ready."""
    return {"t": round(time.time(), 4), "kind": kind} | _jsonable(fields)


class TraceWriter:
    """Appends events to trace.jsonl, one line each (like Crafter's StatsRecorder).

    Each line goes out in one `write` call on an append-only descriptor, so a process killed
    while writing leaves whole lines; a torn last line left by anything else is cut off when
    the trace is opened again (a resumed run appends after whole lines only).
    """

    def __init__(self, run: Run) -> None:
        _cut_torn_tail(run.trace_path)
        self._fd = os.open(run.trace_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append one event and return it."""
        return self.append(event(kind, **fields))

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        """Append an event made by `event` (perhaps a while ago) and return it."""
        data = orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS)
        written = os.write(self._fd, data)
        while written < len(data):  # only for a short write (a full disk, a signal)
            written += os.write(self._fd, data[written:])
        return event

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line that has no newline (a write torn by a crash)."""
    if not path.is_file():
        return
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        end = size
        while end > 0:  # find the last newline, reading backwards in blocks
            start = max(0, end - 65536)
            f.seek(start)
            block = f.read(end - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                f.truncate(start + cut + 1)
                return
            end = start
        f.truncate(0)


def create_run(env_id: str, goal: str, seed: int, home: Path | None = None) -> Run:
    """Make a new run folder."""
    run_id = new_run_id(env_id, goal, seed)
    path = runs_root(home) / run_id
    path.mkdir(parents=True)
    return Run(run_id, path)


def find_run(run_id: str, home: Path | None = None) -> Run:
    """The run with this id, a unique prefix of it, or 'last' for the newest."""
    root = runs_root(home)
    if run_id == "last":
        runs = list_runs(home)
        if not runs:
            raise RunNotFound("there are no runs yet")
        return runs[0]
    valid_run_id(run_id)
    exact = root / run_id
    if exact.is_dir() and not exact.is_symlink():
        return Run(run_id, exact)
    with os.scandir(root) as it:
        matches = [
            Path(e.path)
            for e in it
            if e.name.startswith(run_id) and e.is_dir(follow_symlinks=False)
        ]
    if len(matches) == 1:
        return Run(matches[0].name, matches[0])
    if not matches:
        raise RunNotFound(f"no run {run_id!r} (see `mendako trace list`)")
    raise RunNotFound(f"{run_id!r} matches {len(matches)} runs; give more of the id")


def list_runs(home: Path | None = None) -> list[Run]:
    """All runs, newest first (by the time stamp in the id); reads nothing but the folder."""
    with os.scandir(runs_root(home)) as it:
        runs = [Run(e.name, Path(e.path)) for e in it if e.is_dir(follow_symlinks=False)]

    def started(r: Run) -> int:
        tail = r.id.rsplit("__", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    return sorted(runs, key=started, reverse=True)


class FrameRecorder:
    """Keeps the env's frame after every step, hooked on the env itself (skills never see it).

    At most `max_frames` are kept: past that every other frame is dropped, so a long episode
    still fits a small GIF.
    """

    def __init__(self, env: Any, *, max_frames: int = 300) -> None:
        self.env = env
        self.max_frames = max_frames
        self.frames: list[Any] = [env.render().copy()]
        self._stride = 1
        self._seen = 0
        inner = env.step

        def step(action: Any) -> Any:
            out = inner(action)
            self._seen += 1
            if self._seen % self._stride == 0:
                self.frames.append(env.render().copy())
                if len(self.frames) > self.max_frames:
                    self.frames = self.frames[::2]
                    self._stride *= 2
            return out

        env.step = step  # an instance attribute: the class, and other envs, are untouched

    def write_gif(self, path: Path, *, fps: int = 12) -> Path:
        """Write the frames as a looping GIF (crafter's 64x64 frames as they are)."""
        import imageio.v3 as iio

        iio.imwrite(path, self.frames, extension=".gif", duration=int(1000 / fps), loop=0)
        return path
