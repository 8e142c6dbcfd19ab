"""The open-ended explorer: Voyager's curriculum over one whole episode.

The curriculum (`agents.curriculum`) proposes a goal; the goal runs through the same graph
as `mendako run` (plan, SayCan, skills, verifier), on the same live env; repeat until the
episode ends (death or the step limit) or the rules leave nothing to try. Survival needs
are reflexes, not goals: when drink, food or energy run low the explorer runs the matching
skill directly until the stat is restored, so the graph is not re-planned every few steps.
Everything lands in one run folder: a `goal` event per proposal, node events per goal
(each goal is its own thread in the checkpoint database), `reflex` events, and `end`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from agents import curriculum
from graphs.build import build_graph
from graphs.context import RunContext, RunSettings
from graphs.runner import mendako_version, resolve_parts
from graphs.trace import TraceWriter, create_run

# Reflexes: stat -> (skill, level to restore it to). Crafter stats run 0..9.
REFLEXES = {
    "collect_drink": ("drink", 9),
    "eat_cow": ("food", 7),
    "wake_up": ("energy", 9),
    "defeat_zombie": ("health", 9),
    "sleep_in_shelter": ("energy", 9),
}
NIGHT = 0.35  # crafter's daylight below which the explorer shelters (1 noon, 0 midnight)
GOAL_STEPS = 150  # env steps one goal may take before the reflexes are checked again
SHELTER_BUDGET = 800  # steps: a night in crafter lasts about 150 of its 300-step day


@dataclass(frozen=True)
class ExploreSummary:
    """How an explorer episode went."""

    run_id: str
    achievements: dict[str, int]
    env_steps: int
    goals: int
    ended: str
    wall_s: float


def explore(
    settings: RunSettings,
    *,
    llm: Any = None,
    scorer: Any = None,
    library: Any = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    max_goals: int = 300,
) -> ExploreSummary:
    """Run one episode of curriculum-driven exploration in a fresh env of `settings.seed`."""
    from envs.registry import EnvSession, adapter

    adapter(settings.env_id)
    llm, scorer, library = resolve_parts(settings, llm, scorer, library)
    session = EnvSession.open(settings.env_id, settings.seed)
    run = create_run(settings.env_id, "explore", settings.seed)
    run.write_meta(
        goal="explore",
        kind="explore",
        env=settings.env_id,
        seed=settings.seed,
        llm=settings.llm,
        settings=asdict(settings),
        mendako_version=mendako_version(),
        outcome="running",
        started=time.time(),
    )
    writer = TraceWriter(run)

    def emit(kind: str, **fields: Any) -> None:
        event = writer.write(kind, **fields)
        if on_event is not None:
            on_event(event)

    emit("start", goal="explore", observation=session.describe())
    t0 = time.perf_counter()
    tried: Counter[str] = Counter()
    saver = run.checkpointer()
    ended = "goals exhausted"
    goals = 0
    try:
        graph = build_graph(saver)
        while goals < max_goals:
            if session.episode_over:
                ended = "episode over"
                break
            left = settings.max_env_steps - session.steps
            if left <= 0:
                ended = "step budget spent"
                break
            _reflexes(session, library, settings, emit)
            proposal = curriculum.propose(llm, session, tried)
            if proposal.reason == "none":
                ended = "nothing left the rules allow"
                break
            goals += 1
            emit(
                "goal",
                vitals=_vitals(session),
                goal=proposal.goal,
                reason=proposal.reason,
                llm_log=[proposal.exchange] if proposal.exchange else [],
                env_steps=session.steps,
            )
            context = RunContext(
                env=session,
                llm=llm,
                scorer=scorer,
                library=library,
                settings=replace(settings, max_env_steps=min(left, GOAL_STEPS)),
            )
            config = {"configurable": {"thread_id": f"{run.id}:{goals}"}, "recursion_limit": 10_000}
            last = time.perf_counter()
            for chunk in graph.stream(
                {"goal": proposal.goal.replace("_", " ")},
                config,
                context=context,
                stream_mode="updates",
                durability="exit",
            ):
                for node, update in chunk.items():
                    now = time.perf_counter()
                    emit(
                        "node",
                        node=node,
                        goal=proposal.goal,
                        wall_s=round(now - last, 4),
                        update=update or {},
                        env_steps=session.steps,
                    )
                    last = now
            outcome = graph.get_state(config).values.get("outcome")
            if outcome != "achieved":
                tried[proposal.goal] += 1
    finally:
        saver.conn.close()
    wall = time.perf_counter() - t0
    achievements = {k: v for k, v in session.achievements.items() if v}
    emit(
        "end",
        vitals=_vitals(session),
        outcome=ended,
        achievements=achievements,
        env_steps=session.steps,
        wall_s=round(wall, 3),
    )
    writer.close()
    run.write_meta(
        outcome=ended,
        env_steps=session.steps,
        wall_s=round(wall, 3),
        achievements=achievements,
        goals=goals,
    )
    return ExploreSummary(run.id, achievements, session.steps, goals, ended, wall)


def _reflexes(session: Any, library: Any, settings: RunSettings, emit: Callable[..., None]) -> None:
    """Restore drink, food and energy with their skills when they run low."""
    threats = {k for k in ("zombie", "skeleton") if session.sees(k)}
    night = session.info.get("daylight", 1.0) < NIGHT
    need = curriculum.survival_need(session.inventory, threats, night=night)
    if need is None or need not in REFLEXES:
        return
    stat, level = REFLEXES[need]
    try:
        skill = library.get(need)
    except KeyError:
        return
    before = session.inventory.get(stat, 0)
    budget = SHELTER_BUDGET if need == "sleep_in_shelter" else settings.skill_budget
    result = skill.run(session, budget=budget, need={stat: level})
    emit(
        "reflex",
        vitals=_vitals(session),
        skill=need,
        stat=stat,
        before=before,
        after=session.inventory.get(stat, 0),
        steps=result.steps,
        stopped=result.stopped,
        env_steps=session.steps,
    )


def _vitals(session: Any) -> dict[str, int]:
    """Health, food, drink and energy, for the trace (why an episode ended is read there)."""
    inv = session.inventory
    return {k: inv.get(k, 0) for k in ("health", "food", "drink", "energy")}
