"""Run one goal through the graph: open the env, build the context, stream, record the trace;
and resume a run that was killed, from its last checkpoint.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from importlib.metadata import PackageNotFoundError, version
from itertools import pairwise
from typing import Any

from graphs.build import build_graph
from graphs.context import RunContext, RunSettings
from graphs.state import AgentState
from graphs.trace import (
    FrameRecorder,
    Run,
    TraceWriter,
    checkpoint_id,
    create_run,
    event,
    find_run,
)

MAX_SEED = 2**32 - 1
"""The largest world seed, unless the env's adapter declares its own `max_seed` (numpy's
seeding, and so Crafter's, takes 0 .. 2**32 - 1)."""


def check_settings(settings: RunSettings) -> None:
    """Refuse, with one ValueError line, numbers no run can use: step budgets that are not
    positive, negative replans or rounds, a seed outside what the env takes."""
    from envs.registry import adapter

    positive = {
        "max_env_steps": ("--max-steps", settings.max_env_steps),
        "skill_budget": ("--skill-budget", settings.skill_budget),
        "write_rounds": ("write rounds", settings.write_rounds),
    }
    for flag, value in positive.values():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{flag} must be a positive whole number of steps (got {value!r})")
    if not isinstance(settings.max_replans, int) or settings.max_replans < 0:
        raise ValueError(f"--max-replans must be 0 or more (got {settings.max_replans!r})")
    top = int(getattr(adapter(settings.env_id), "max_seed", MAX_SEED))
    if isinstance(settings.seed, bool) or not isinstance(settings.seed, int):
        raise ValueError(f"--seed must be a whole number (got {settings.seed!r})")
    if not 0 <= settings.seed <= top:
        raise ValueError(
            f"--seed {settings.seed} is outside what {settings.env_id} takes: 0..{top}"
        )


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """How a run ended."""

    run_id: str
    outcome: str
    message: str
    env_steps: int
    wall_s: float
    achievements: dict[str, int]


@functools.cache
def mendako_version() -> str:
    """The installed mendako version (looked up once per process: it reads package metadata)."""
    try:
        return version("mendako")
    except PackageNotFoundError:
        return "dev"


def run_goal(
    goal: str,
    settings: RunSettings,
    *,
    llm: Any = None,
    scorer: Any = None,
    library: Any = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    record: bool = False,
) -> RunSummary:
    """Pursue `goal` in a fresh env until achieved, given up, or out of budget.

    `llm`, `scorer` and `library` default to those named by `settings`; tests pass fakes.
    `record` keeps a frame per env step and writes the run's `episode.gif`.
    Raises ValueError (with a one-line message) on bad input.
    """
    goal = goal.strip()
    if not goal:
        raise ValueError("the goal is empty: say what the agent should do, e.g. 'collect wood'")
    from envs.registry import adapter

    adapter(settings.env_id)  # fail on an unknown env before loading anything heavy
    check_settings(settings)
    llm, scorer, library = resolve_parts(settings, llm, scorer, library)
    run = create_run(settings.env_id, goal, settings.seed)
    hold = run.hold()  # `trace list` shows the run as crashed once this process is gone
    run.write_meta(
        goal=goal,
        env=settings.env_id,
        seed=settings.seed,
        llm=settings.llm,
        settings=asdict(settings),
        mendako_version=mendako_version(),
        record=record,
        outcome="running",
        started=time.time(),
    )
    with _crash_recorded(run, hold):
        session, recorder = _open_env(settings, record, goal)
        context = RunContext(
            env=session, llm=llm, scorer=scorer, library=_Ledger(library, run), settings=settings
        )
        writer = TraceWriter(run)
        writer.write("start", goal=goal, observation=session.describe())
        return _drive(run, writer, {"goal": goal}, context, on_event, recorder)


@contextlib.contextmanager
def _crash_recorded(run: Run, hold: Any) -> Any:
    """Hold the run's lock while the body runs; a run that raises is marked `crashed` (with
    the error) before the error goes on, and the lock is let go either way."""
    try:
        yield
    except BaseException as e:
        first = (str(e).splitlines() or [""])[0][:300]
        run.write_meta(outcome="crashed", message=f"{type(e).__name__}: {first}".rstrip(": "))
        raise
    finally:
        hold.release()


def resume_run(
    run_id: str,
    *,
    llm: Any = None,
    scorer: Any = None,
    library: Any = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> RunSummary:
    """Continue a run that was killed, from its last checkpoint.

    The env is rebuilt from the run's seed and the checkpointed actions are replayed; then
    the graph goes on from that checkpoint, appending to the same trace. Resuming a finished
    run only reports how it ended.
    """
    run = find_run(run_id)
    hold = run.hold()  # RunBusy if the run is still going in another process
    try:
        meta = run.meta()
        if "settings" not in meta:
            raise ValueError(f"run {run.id} has no settings in its meta.json: it cannot be resumed")
        settings = _settings(meta["settings"])
        check_settings(settings)
        with run.reading_checkpoints():
            saver = run.checkpointer()
            try:
                snapshot = build_graph(saver).get_state({"configurable": {"thread_id": run.id}})
            finally:
                saver.conn.close()
        damage = run.damage()
        for problem in damage:
            log.warning("resuming despite damage: %s", problem)
        llm, scorer, library = resolve_parts(settings, llm, scorer, library)
    except BaseException:
        hold.release()
        raise
    with _crash_recorded(run, hold):
        return _resume(run, meta, settings, snapshot, damage, llm, scorer, library, on_event)


def _resume(
    run: Run,
    meta: dict[str, Any],
    settings: RunSettings,
    snapshot: Any,
    damage: list[str],
    llm: Any,
    scorer: Any,
    library: Any,
    on_event: Callable[[dict[str, Any]], None] | None,
) -> RunSummary:
    goal = meta["goal"]
    values = snapshot.values or {}
    actions = list(values.get("actions", []))
    session, recorder = _open_env(settings, bool(meta.get("record")), goal)
    session.replay(actions)
    done_records = len(values.get("history", []))
    context = RunContext(
        env=session,
        llm=llm,
        scorer=scorer,
        library=_Ledger(library, run, done=done_records),
        settings=settings,
    )
    writer = TraceWriter(run)
    with run.reading_checkpoints():
        _recover_events(run, writer)
    started = bool(snapshot.next) or bool(values)
    writer.write(
        "resume",
        checkpoint=snapshot.config["configurable"].get("checkpoint_id") if values else None,
        next=list(snapshot.next),
        replayed_steps=len(actions),
        observation=session.describe(),
        **({"damage": damage} if damage else {}),
    )
    run.write_meta(outcome="running", resumes=int(meta.get("resumes", 0)) + 1)
    graph_input = None if started else {"goal": goal}
    if values and not snapshot.next:  # it had finished; only the bookkeeping was lost
        graph_input = _FINISHED
    return _drive(run, writer, graph_input, context, on_event, recorder)


_FINISHED: Any = object()

_APPENDED = ("actions", "history", "llm_log")
"""State keys whose reducer appends: an update holds only what it added."""


def _recover_events(run: Run, writer: TraceWriter) -> None:
    """Write the node events of checkpoints that were saved but never reached the trace.

    A node's event is written once its checkpoint is on disk, so a process killed between
    the two leaves a saved checkpoint with no event; the resumed graph goes on after that
    checkpoint and would not write it. Each such event is rebuilt from the checkpoint: the
    node is the one its parent checkpoint scheduled, the update what changed between the two
    (marked `recovered`; its wall time is unknown).
    """
    snaps = run.checkpoints()
    traced = {e.get("checkpoint") for e in run.events() if e.get("kind") == "node"}
    last = max((i for i, snap in enumerate(snaps) if checkpoint_id(snap) in traced), default=-1)
    for parent, snap in pairwise(snaps[max(last, 0) :]):
        node = parent.next[0] if len(parent.next) == 1 else None
        if node is None or node.startswith("__"):
            continue
        before, after = parent.values or {}, snap.values or {}
        update: dict[str, Any] = {}
        for key, value in after.items():
            if key in _APPENDED:
                added = list(value)[len(before.get(key, [])) :]
                if added:
                    update[key] = added
            elif before.get(key) != value:
                update[key] = value
        writer.write(
            "node",
            node=node,
            checkpoint=checkpoint_id(snap),
            superstep=snap.metadata.get("step") if snap.metadata else None,
            **_event_fields(after, node),
            update=update,
            recovered=True,
        )


def _settings(saved: dict[str, Any]) -> RunSettings:
    """The run's settings as saved; fields this version no longer has are dropped."""
    known = {f.name for f in fields(RunSettings)}
    dropped = sorted(set(saved) - known)
    if dropped:
        log.warning("ignoring saved settings this version does not know: %s", dropped)
    return RunSettings(**{k: v for k, v in saved.items() if k in known})


def resolve_parts(settings: RunSettings, llm: Any, scorer: Any, library: Any) -> tuple[Any, ...]:
    """The LLM, scorer and library a run uses: those given, else those `settings` names."""
    from agents.llm import make_chat_model, make_scorer
    from skills.library import SkillLibrary

    if llm is None:
        llm = make_chat_model(settings.llm)
    if scorer is None:
        scorer = make_scorer(llm)
    if library is None:
        from envs.registry import base_id

        library = SkillLibrary(base_id(settings.env_id))
    return llm, scorer, library


def _open_env(
    settings: RunSettings, record: bool, goal: str | None = None
) -> tuple[Any, FrameRecorder | None]:
    from envs.registry import EnvSession

    session = EnvSession.open(settings.env_id, settings.seed, goal=goal)
    recorder = FrameRecorder(session.env) if record else None
    return session, recorder


class _Ledger:
    """The skill library, with each success-history write also logged in the run's folder.

    The history lives outside the checkpoint (in `stats.json`), so a run killed after
    `verify` wrote it but before the checkpoint was saved would count that attempt twice on
    resume; the ledger tells the resumed run which writes were already made.
    """

    def __init__(self, library: Any, run: Run, *, done: int = 0) -> None:
        self._library = library
        self._path = run.ledger_path
        logged = 0
        if self._path.is_file():
            logged = sum(1 for line in self._path.read_text().splitlines() if line.strip())
        self._skip = max(0, logged - done)

    def record(self, name: str, success: bool) -> None:
        """Add one attempt to the skill's history, unless a killed run already had."""
        if self._skip:
            self._skip -= 1
            return
        self._library.record(name, success)
        with self._path.open("a") as f:
            f.write(json.dumps({"skill": name, "success": success}) + "\n")

    def __iter__(self) -> Any:
        return iter(self._library)

    def __len__(self) -> int:
        return len(self._library)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._library, name)


def _event_fields(values: dict[str, Any], node: str) -> dict[str, Any]:
    """What an event says about where the run stands: attempt, subgoal, env steps."""
    history = values.get("history") or []
    attempt = len(history) - 1 if node == "verify" else len(history)
    plan, cursor = values.get("plan") or [], values.get("cursor", 0)
    subgoal = plan[cursor] if 0 <= cursor < len(plan) else None
    if node == "verify" and history:
        subgoal = history[-1].subgoal
    return {
        "attempt": None if node == "plan" else attempt,
        "subgoal": subgoal.text if subgoal is not None else None,
        "env_steps": values.get("env_steps", 0),
    }


def _drive(
    run: Run,
    writer: TraceWriter,
    graph_input: Any,
    context: RunContext,
    on_event: Callable[[dict[str, Any]], None] | None,
    recorder: FrameRecorder | None,
) -> RunSummary:
    config = {"configurable": {"thread_id": run.id}, "recursion_limit": 10_000}
    t0 = time.perf_counter()
    saver = run.checkpointer()
    try:
        graph = build_graph(saver)
        values = None
        if graph_input is not _FINISHED:
            values = _stream(graph, graph_input, config, context, writer, on_event)
        if values is None:  # nothing streamed: read the state back
            values = graph.get_state(config).values
        final = AgentState.model_validate(values)
    finally:
        saver.conn.close()
    wall = time.perf_counter() - t0
    achievements = {k: v for k, v in context.env.achievements.items() if v}
    writer.write(
        "end",
        outcome=final.outcome,
        message=final.message,
        env_steps=final.env_steps,
        achievements=achievements,
        wall_s=round(wall, 3),
    )
    writer.close()
    if recorder is not None:
        recorder.write_gif(run.gif_path)
    wall_total = round(float(run.meta().get("wall_s", 0.0)) + wall, 3)
    run.write_meta(
        outcome=final.outcome,
        message=final.message,
        target=final.target,
        env_steps=final.env_steps,
        wall_s=wall_total,
        achievements=achievements,
    )
    return RunSummary(run.id, final.outcome, final.message, final.env_steps, wall, achievements)


def _stream(
    graph: Any,
    graph_input: Any,
    config: dict[str, Any],
    context: RunContext,
    writer: TraceWriter,
    on_event: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any] | None:
    """Stream the graph; write each node's update to the trace once its checkpoint is on disk.
    Returns the state of the last checkpoint (None if none was made).

    Checkpoints are saved in the background (`durability="async"`) while the next node runs.
    An update arrives before the checkpoint that holds it, and that checkpoint is committed
    a little later: its trace line waits for `RunSaver.is_saved`, so an event in trace.jsonl
    always names a saved checkpoint (`--at`), and a run resumed after a kill neither repeats
    nor skips events (a node whose checkpoint was not saved runs again). `on_event` (the live
    view) gets each event at once.
    """
    saver = graph.checkpointer
    pending: list[tuple[str, dict[str, Any], float]] = []
    values: dict[str, Any] | None = None
    unsaved: deque[tuple[str, dict[str, Any]]] = deque()  # (checkpoint id, event), in order

    def flush() -> None:
        while unsaved and saver.is_saved(unsaved[0][0]):
            writer.append(unsaved.popleft()[1])

    last = time.perf_counter()
    try:
        for mode, chunk in graph.stream(
            graph_input,
            config,
            context=context,
            stream_mode=["updates", "checkpoints"],
            durability="async",
        ):
            flush()
            if mode == "updates":
                now = time.perf_counter()
                for node, update in chunk.items():
                    pending.append((node, update or {}, round(now - last, 4)))
                last = now
                continue
            cid = chunk["config"]["configurable"]["checkpoint_id"]
            values = chunk["values"]
            for node, update, wall_s in pending:
                made = event(
                    "node",
                    node=node,
                    wall_s=wall_s,
                    checkpoint=cid,
                    superstep=chunk["metadata"].get("step"),
                    **_event_fields(chunk["values"], node),
                    update=update,
                )
                unsaved.append((cid, made))
                if on_event is not None:
                    on_event(made)
            pending.clear()
    finally:
        flush()  # the stream waits for its saves before it ends, even when a node raised
    for node, update, wall_s in pending:  # none expected: every update is checkpointed
        made = writer.write("node", node=node, wall_s=wall_s, update=update)
        if on_event is not None:
            on_event(made)
    return values
