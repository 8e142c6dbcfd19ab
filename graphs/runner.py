"""Run one goal through the graph: open the env, build the context, stream, record the trace."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from graphs.build import build_graph
from graphs.context import RunContext, RunSettings
from graphs.state import AgentState
from graphs.trace import Run, TraceWriter, create_run

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


def mendako_version() -> str:
    """The installed mendako version."""
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
) -> RunSummary:
    """Pursue `goal` in a fresh env until achieved, given up, or out of budget.

    `llm`, `scorer` and `library` default to those named by `settings`; tests pass fakes.
    Raises ValueError (with a one-line message) on bad input.
    """
    goal = goal.strip()
    if not goal:
        raise ValueError("the goal is empty: say what the agent should do, e.g. 'collect wood'")
    from agents.llm import make_chat_model, make_scorer
    from envs.registry import EnvSession, adapter
    from skills.library import SkillLibrary

    adapter(settings.env_id)  # fail on an unknown env before loading anything heavy
    if llm is None:
        llm = make_chat_model(settings.llm)
    if scorer is None:
        scorer = make_scorer(llm)
    if library is None:
        library = SkillLibrary(settings.env_id)
    session = EnvSession.open(settings.env_id, settings.seed)
    run = create_run(settings.env_id, goal, settings.seed)
    run.write_meta(
        goal=goal,
        env=settings.env_id,
        seed=settings.seed,
        llm=settings.llm,
        settings=asdict(settings),
        mendako_version=mendako_version(),
        outcome="running",
        started=time.time(),
    )
    context = RunContext(env=session, llm=llm, scorer=scorer, library=library, settings=settings)
    return _drive(run, goal, context, on_event)


def _drive(
    run: Run,
    goal: str,
    context: RunContext,
    on_event: Callable[[dict[str, Any]], None] | None,
) -> RunSummary:
    writer = TraceWriter(run)
    config = {"configurable": {"thread_id": run.id}, "recursion_limit": 10_000}
    t0 = time.perf_counter()
    saver = run.checkpointer()
    try:
        graph = build_graph(saver)
        writer.write("start", goal=goal, observation=context.env.describe())
        last = time.perf_counter()
        for chunk in graph.stream(
            {"goal": goal}, config, context=context, stream_mode="updates"
        ):
            for node, update in chunk.items():
                now = time.perf_counter()
                event = writer.write(
                    "node", node=node, wall_s=round(now - last, 4), update=update or {}
                )
                last = now
                if on_event is not None:
                    on_event(event)
        final = AgentState.model_validate(graph.get_state(config).values)
    finally:
        saver.conn.close()
    wall = time.perf_counter() - t0
    achievements = {k: v for k, v in context.env.achievements.items() if v}
    writer.write("end", outcome=final.outcome, message=final.message, wall_s=round(wall, 3))
    writer.close()
    run.write_meta(
        outcome=final.outcome,
        message=final.message,
        target=final.target,
        env_steps=final.env_steps,
        wall_s=round(wall, 3),
        achievements=achievements,
    )
    return RunSummary(run.id, final.outcome, final.message, final.env_steps, wall, achievements)
