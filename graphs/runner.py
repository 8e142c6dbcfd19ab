"""Run one goal through the graph, and resume a run that was killed, from its last checkpoint.

Both go through the one run driver (`graphs.driver`): the same streaming, trace, checkpoint
threads and survival reflexes as the explorer (`graphs.explore`), which `resume_run` also
resumes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from envs.registry import adapter
from graphs import explore as explorer
from graphs.build import build_graph
from graphs.context import RunContext, RunSettings
from graphs.driver import (
    FINISHED,
    MAX_SEED,
    Driver,
    Ledger,
    check_settings,
    crash_recorded,
    mendako_version,
    open_env,
    recover_events,
    resolve_parts,
)
from graphs.state import AgentState
from graphs.trace import FrameRecorder, Run, create_run, find_run

__all__ = [
    "MAX_SEED",
    "RunSummary",
    "check_settings",
    "mendako_version",
    "resolve_parts",
    "resume_run",
    "run_goal",
]

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
    with crash_recorded(run, hold):
        session, recorder = open_env(settings, record, goal)
        context = RunContext(
            env=session, llm=llm, scorer=scorer, library=Ledger(library, run), settings=settings
        )
        driver = Driver(run, context, on_event=on_event)
        driver.writer.write("start", goal=goal, observation=session.describe())
        return _drive(driver, {"goal": goal}, recorder)


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
        if meta.get("kind") == "explore":  # an explorer episode: its goals are its threads
            damage = run.damage()
            llm, scorer, library = resolve_parts(settings, llm, scorer, library)
            with crash_recorded(run, hold):
                s = explorer.resume_explore(
                    run, meta, settings, damage, llm, scorer, library, on_event
                )
            return RunSummary(
                s.run_id, s.ended, f"{s.goals} goals", s.env_steps, s.wall_s, s.achievements
            )
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
    with crash_recorded(run, hold):
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
    session, recorder = open_env(settings, bool(meta.get("record")), goal)
    session.replay(actions)
    done_records = len(values.get("history", []))
    context = RunContext(
        env=session,
        llm=llm,
        scorer=scorer,
        library=Ledger(library, run, done=done_records),
        settings=settings,
    )
    driver = Driver(run, context, on_event=on_event)
    events = list(run.events())
    driver.reflexes.restore(events)
    with run.reading_checkpoints():
        recover_events(run, driver.writer)
    started = bool(snapshot.next) or bool(values)
    driver.writer.write(
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
        graph_input = FINISHED
    return _drive(driver, graph_input, recorder)


def _settings(saved: dict[str, Any]) -> RunSettings:
    """The run's settings as saved; fields this version no longer has are dropped."""
    known = {f.name for f in fields(RunSettings)}
    dropped = sorted(set(saved) - known)
    if dropped:
        log.warning("ignoring saved settings this version does not know: %s", dropped)
    return RunSettings(**{k: v for k, v in saved.items() if k in known})


def _drive(driver: Driver, graph_input: Any, recorder: FrameRecorder | None) -> RunSummary:
    """Pursue the run's one goal (its own checkpoint thread), then write its end."""
    run = driver.run
    try:
        values = driver.pursue(graph_input, thread=run.id)
        final = AgentState.model_validate(values)
        wall = driver.wall_s
        achievements = {k: v for k, v in driver.session.achievements.items() if v}
        driver.writer.write(
            "end",
            outcome=final.outcome,
            message=final.message,
            env_steps=final.env_steps,
            achievements=achievements,
            wall_s=round(wall, 3),
            **({"conditions": [c.model_dump() for c in final.conditions]} if final.spec else {}),
        )
    finally:
        driver.close()
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
