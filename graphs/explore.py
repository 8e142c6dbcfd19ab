"""The open-ended explorer: Voyager's curriculum over one whole episode.

The curriculum (`agents.curriculum`) proposes a goal; the goal runs through the same graph
as `mendako run` (plan, SayCan, skills, verifier), on the same live env; repeat until the
episode ends (death or the step limit). Survival needs are reflexes, not goals: when drink,
food or energy run low, or night falls, the explorer runs the matching skill directly until
the stat is restored, so the graph is not re-planned every few steps. Reflexes are checked
between goals and, at lower (urgent) thresholds, before every action a skill takes, so a
long goal cannot walk the player into thirst or a night in the open. A goal that failed is
tried again once the world had time to change (`RETRY_AFTER` steps); when every goal left
has failed recently the player explores for a while instead. Everything lands in one run
folder: a `goal` event per proposal, node events per goal (each goal is its own thread in
the checkpoint database), `reflex` and `wander` events, and `end`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from agents import curriculum
from graphs.build import build_graph
from graphs.context import RunContext, RunSettings
from graphs.runner import mendako_version, resolve_parts
from graphs.trace import TraceWriter, create_run

# Reflexes: need -> (skill, stat it restores, level to restore it to). Crafter stats run 0..9.
REFLEXES: dict[str, tuple[str, str, int]] = {
    "collect_drink": ("collect_drink", "drink", 9),
    "eat_cow": ("eat_cow", "food", 7),
    "wake_up": ("sleep_in_shelter", "energy", 9),  # dig in first when rock is at hand
    "sleep_in_shelter": ("sleep_in_shelter", "energy", 9),
    "recover": ("sleep_in_shelter", "health", 7),
}
# Crafter's daylight runs 1 (noon) to 0 (midnight) over a 300-step day; zombies spawn on
# grass in proportion to the dark (crafter's _balance_chunk), so the explorer is in its
# shelter from daylight 0.5 in the evening (about step 150 of each day) to 0.8 next morning.
NIGHT = 0.5  # daylight below which the explorer shelters
DUSK = 0.85  # falling daylight below which it fills up on drink and food first
DUSK_BUDGET = 40  # env steps a dusk top-up may take (dusk lasts about 35 steps)
GOAL_STEPS = 150  # env steps one goal may take
SHELTER_BUDGET = 800  # steps: a night in crafter lasts about 150 of its 300-step day
RETRY_AFTER = 400  # env steps after which a failed goal counts as untried again
REFLEX_PAUSE = 30  # env steps a reflex that did not restore its stat waits before retrying
WANDER_STEPS = 60  # env steps of exploring when every goal left has failed recently


@dataclass(frozen=True)
class ExploreSummary:
    """How an explorer episode went."""

    run_id: str
    achievements: dict[str, int]
    env_steps: int
    goals: int
    ended: str
    wall_s: float
    unlocked_at: dict[str, int] = field(default_factory=dict)
    """Env step (1-based) at which each achievement was first unlocked: benchmarks that cap
    episodes shorter (BALROG: 2,000 steps) read their figure from it."""


def explore(
    settings: RunSettings,
    *,
    llm: Any = None,
    scorer: Any = None,
    library: Any = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    max_goals: int = 2000,
) -> ExploreSummary:
    """Run one episode of curriculum-driven exploration in a fresh env of `settings.seed`."""
    from envs.registry import EnvSession, adapter

    adapter(settings.env_id)
    llm, scorer, library = resolve_parts(settings, llm, scorer, library)
    session = EnvSession.open(settings.env_id, settings.seed)
    unlocked_at = _unlock_clock(session.env)
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
    failures: dict[str, list[int]] = {}
    saver = run.checkpointer()
    reflexes = _Reflexes(session, library, settings, emit)
    session.reflex = reflexes.urgent
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
            reflexes()
            if session.episode_over:
                continue
            tried = {
                g: sum(session.steps - at < RETRY_AFTER for at in steps)
                for g, steps in failures.items()
            }
            proposal = curriculum.propose(llm, session, tried)
            if proposal.reason == "none":
                done = session.achievements
                if all(done.get(a, 0) for a in session.rules.achievements):
                    ended = "all achievements unlocked"
                    break
                _wander(session, min(left, WANDER_STEPS), emit)
                continue
            goals += 1
            emit(
                "goal",
                vitals=_vitals(session),
                goal=proposal.goal,
                reason=proposal.reason,
                unlocked=sorted(a for a, n in session.achievements.items() if n),
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
                failures.setdefault(proposal.goal, []).append(session.steps)
    finally:
        session.reflex = None
        saver.conn.close()
    wall = time.perf_counter() - t0
    achievements = {k: v for k, v in session.achievements.items() if v}
    emit(
        "end",
        vitals=_vitals(session),
        outcome=ended,
        achievements=achievements,
        unlocked_at=dict(unlocked_at),
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
    return ExploreSummary(
        run.id, achievements, session.steps, goals, ended, wall, unlocked_at=dict(unlocked_at)
    )


def _unlock_clock(env: Any) -> dict[str, int]:
    """Keep, from now on, the env step at which each achievement is first unlocked.

    Hooked on the env's own `step` (an instance attribute, as `FrameRecorder` does), so every
    action counts, whoever takes it: skills, reflexes, wandering."""
    at: dict[str, int] = {}
    inner = env.step

    def step(action: Any) -> Any:
        out = inner(action)
        for name, n in out[-1].get("achievements", {}).items():
            if n and name not in at:
                at[name] = len(env.action_log)
        return out

    env.step = step
    return at


class _Reflexes:
    """The explorer's survival reflexes over one episode.

    Called between goals (the ordinary thresholds) and, through ``session.reflex``, before
    every action a skill takes (``urgent``: a stat about to run out, food or water in sight,
    dusk, night, a wound). Never re-entered: the skills a reflex runs act through the same
    session. Zombies next to the player are the step guard's (``envs._crafter_guard``). A
    reflex that could not restore its stat (no water known, no rock to dig a shelter in)
    rests for `REFLEX_PAUSE` steps, so a hopeless one is not retried every step.
    """

    def __init__(
        self, session: Any, library: Any, settings: RunSettings, emit: Callable[..., None]
    ) -> None:
        self.session = session
        self.library = library
        self.settings = settings
        self.emit = emit
        self._busy = False
        self._pause_until: dict[str, int] = {}
        self._daylight = 1.0  # the last daylight seen: falling light is dusk

    def urgent(self) -> None:
        """The in-skill check: stats about to run out, or night."""
        self(urgent=True)

    def __call__(self, *, urgent: bool = False) -> None:
        """Run the survival skill the player's state calls for, if any."""
        if self._busy:
            return
        session = self.session
        in_view = {k for k in ("cow", "water") if session.sees(k)}
        daylight = session.info.get("daylight", 1.0)
        dusk = daylight < DUSK and daylight < self._daylight
        self._daylight = daylight
        need = curriculum.survival_need(
            session.inventory, in_view, night=daylight < NIGHT, dusk=dusk, urgent=urgent
        )
        if need is None or need not in REFLEXES:
            return
        if self._pause_until.get(need, -1) > session.steps:
            return
        name, stat, level = REFLEXES[need]
        try:
            skill = self.library.get(name)
        except KeyError:
            return
        before = session.inventory.get(stat, 0)
        if name == "sleep_in_shelter":
            budget = SHELTER_BUDGET
        elif dusk:  # a hunt that runs into the night meets the zombies it spawns
            budget = DUSK_BUDGET
        else:
            budget = self.settings.skill_budget
        self._busy = True
        try:
            result = skill.run(session, budget=budget, need={stat: level})
        finally:
            self._busy = False
        after = session.inventory.get(stat, 0)
        if after <= before:
            self._pause_until[need] = session.steps + REFLEX_PAUSE
        self.emit(
            "reflex",
            vitals=_vitals(session),
            skill=need,
            stat=stat,
            before=before,
            after=after,
            steps=result.steps,
            stopped=result.stopped,
            urgent=urgent,
            env_steps=session.steps,
        )


def _wander(session: Any, steps: int, emit: Callable[..., None]) -> None:
    """Explore toward unseen cells for `steps` steps (new ground for the goals that failed)."""
    from envs._errors import SkillStop

    api = session.api(steps, {})
    start = session.steps
    try:
        api.explore(steps)
    except SkillStop:
        pass  # budget spent or episode over: both end the wander
    emit("wander", steps=session.steps - start, env_steps=session.steps, vitals=_vitals(session))


def _vitals(session: Any) -> dict[str, int]:
    """Health, food, drink and energy, for the trace (why an episode ended is read there)."""
    inv = session.inventory
    return {k: inv.get(k, 0) for k in ("health", "food", "drink", "energy")}
