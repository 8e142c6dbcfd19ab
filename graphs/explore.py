"""The open-ended explorer: Voyager's curriculum over one whole episode.

The curriculum (`agents.curriculum`) proposes a goal; the goal runs through the same graph
and the same run driver as `mendako run` (`graphs.driver`: plan, SayCan, skills, verifier,
trace, checkpoints, survival reflexes), on the same live env; repeat until the episode ends
(death or the step limit). Survival needs are reflexes, not goals (the env adapter's
``survival()``), checked between goals and, at lower (urgent) thresholds, before every
action a skill takes. A goal that failed is tried again once the world had time to change
(`RETRY_AFTER` steps); when every goal left has failed recently the player explores for a
while instead. Everything lands in one run folder: a `goal` event per proposal, node events
per goal (each goal is its own checkpoint thread, ``<run id>:<n>``), a `goal_end` per goal,
`reflex` and `wander` events (those between goals carry their actions), and `end`.

**Resume.** The episode's actions are the concatenation, in trace order, of the actions of
the reflexes and wanders between goals (in their events) and of each goal's thread (in its
checkpoints). :func:`resume_explore` replays them, takes back the curriculum's failures and
the reflexes' pauses from the events, finishes the goal that was running from its last
checkpoint, and goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from agents import curriculum
from envs.contract import SkillStop
from envs.registry import EnvSession
from graphs.context import RunContext, RunSettings
from graphs.driver import (
    FINISHED,
    Driver,
    check_settings,
    crash_recorded,
    mendako_version,
    recover_events,
    resolve_parts,
)
from graphs.trace import Run, create_run

log = logging.getLogger(__name__)

GOAL_STEPS = 150  # env steps one goal may take
RETRY_AFTER = 400  # env steps after which a failed goal counts as untried again
WANDER_STEPS = 60  # env steps of exploring when every goal left has failed recently
_FRESH: Any = object()


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
    check_settings(settings)
    llm, scorer, library = resolve_parts(settings, llm, scorer, library)
    run = create_run(settings.env_id, "explore", settings.seed)
    hold = run.hold()
    run.write_meta(
        goal="explore",
        kind="explore",
        env=settings.env_id,
        seed=settings.seed,
        llm=settings.llm,
        settings=asdict(settings),
        mendako_version=mendako_version(),
        max_goals=max_goals,
        outcome="running",
        started=time.time(),
    )
    with crash_recorded(run, hold):
        episode = _Explorer(run, settings, llm, scorer, library, on_event, max_goals)
        episode.driver.emit("start", goal="explore", observation=episode.session.describe())
        return episode.loop()


def resume_explore(
    run: Run,
    meta: dict[str, Any],
    settings: RunSettings,
    damage: list[str],
    llm: Any,
    scorer: Any,
    library: Any,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> ExploreSummary:
    """Continue a killed explorer episode (see the module docstring); a finished one only
    reports how it ended (no second `end`, the outcome kept)."""
    events = list(run.events())
    end = next((e for e in reversed(events) if e.get("kind") == "end"), None)
    if end is not None:
        return ExploreSummary(
            run.id,
            dict(end.get("achievements") or {}),
            int(end.get("env_steps", 0)),
            int(meta.get("goals", sum(e.get("kind") == "goal" for e in events))),
            str(end.get("outcome")),
            0.0,
            unlocked_at=dict(end.get("unlocked_at") or {}),
        )
    max_goals = int(meta.get("max_goals", 2000))
    episode = _Explorer(run, settings, llm, scorer, library, on_event, max_goals)
    pending = episode.restore(events)
    episode.driver.writer.write(
        "resume",
        run_kind="explore",
        goals=episode.goals,
        next=[pending["goal"]] if pending else [],
        replayed_steps=episode.session.steps,
        observation=episode.session.describe(),
        **({"damage": damage} if damage else {}),
    )
    run.write_meta(outcome="running", resumes=int(meta.get("resumes", 0)) + 1)
    return episode.loop(pending)


class _Explorer:
    """One explorer episode on the run driver: the curriculum's goals, failures, wandering."""

    def __init__(
        self,
        run: Run,
        settings: RunSettings,
        llm: Any,
        scorer: Any,
        library: Any,
        on_event: Callable[[dict[str, Any]], None] | None,
        max_goals: int,
    ) -> None:
        self.run, self.settings, self.max_goals = run, settings, max_goals
        self.llm, self.scorer = llm, scorer
        self.session = EnvSession.open(settings.env_id, settings.seed)
        self.unlocked_at = _unlock_clock(self.session.env)
        context = RunContext(
            env=self.session, llm=llm, scorer=scorer, library=library, settings=settings
        )
        self.driver = Driver(run, context, on_event=on_event)
        self.failures: dict[str, list[int]] = {}
        self.goals = 0

    # ------------------------------------------------------------------ the loop
    def loop(self, pending: dict[str, Any] | None = None) -> ExploreSummary:
        """Propose and pursue goals until the episode ends; `pending`: a goal to finish first."""
        session, driver = self.session, self.driver
        ended = "goals exhausted"
        try:
            if pending is not None:
                self._pursue(
                    pending["goal"],
                    pending["index"],
                    resume=pending["input"],
                    start=pending["start"],
                )
            while self.goals < self.max_goals:
                if session.episode_over:
                    ended = "episode over"
                    break
                left = self.settings.max_env_steps - session.steps
                if left <= 0:
                    ended = "step budget spent"
                    break
                driver.reflexes(log_actions=True)
                if session.episode_over:
                    continue
                tried = {
                    g: sum(session.steps - at < RETRY_AFTER for at in steps)
                    for g, steps in self.failures.items()
                }
                proposal = curriculum.propose(
                    self.llm,
                    session,
                    tried,
                    scorer=self.scorer,
                    seed=self.settings.seed,
                    index=self.goals,
                )
                if proposal.reason == "none":
                    done = session.achievements
                    if all(done.get(a, 0) for a in session.rules.achievements):
                        ended = "all achievements unlocked"
                        break
                    if not self._wander(min(left, WANDER_STEPS)):
                        break  # an env whose API cannot explore: nothing new to find
                    continue
                self.goals += 1
                driver.emit(
                    "goal",
                    vitals=session.vitals(),
                    goal=proposal.goal,
                    index=self.goals,
                    thread=self._thread(self.goals),
                    reason=proposal.reason,
                    unlocked=sorted(a for a, n in session.achievements.items() if n),
                    llm_log=[proposal.exchange] if proposal.exchange else [],
                    decisions=[proposal.decision] if proposal.decision else [],
                    env_steps=session.steps,
                )
                self._pursue(proposal.goal, self.goals)
            wall = driver.wall_s
            achievements = {k: v for k, v in session.achievements.items() if v}
            driver.emit(
                "end",
                vitals=session.vitals(),
                outcome=ended,
                achievements=achievements,
                unlocked_at=dict(self.unlocked_at),
                env_steps=session.steps,
                wall_s=round(wall, 3),
            )
        finally:
            driver.close()
        wall_total = round(float(self.run.meta().get("wall_s", 0.0)) + wall, 3)
        self.run.write_meta(
            outcome=ended,
            env_steps=session.steps,
            wall_s=wall_total,
            achievements=achievements,
            goals=self.goals,
        )
        return ExploreSummary(
            self.run.id,
            achievements,
            session.steps,
            self.goals,
            ended,
            wall,
            unlocked_at=dict(self.unlocked_at),
        )

    def _thread(self, index: int) -> str:
        return f"{self.run.id}:{index}"

    def _pursue(
        self, goal: str, index: int, *, resume: Any = _FRESH, start: int | None = None
    ) -> None:
        """One goal through the driver, on its own thread, with the explorer's step budget;
        `resume`: the graph input of a goal a killed process had started (None: go on),
        `start`: the env step it started at (its budget counts from there)."""
        session = self.session
        left = self.settings.max_env_steps - (session.steps if start is None else start)
        settings = replace(self.settings, max_env_steps=max(1, min(left, GOAL_STEPS)))
        graph_input = {"goal": goal.replace("_", " ")} if resume is _FRESH else resume
        tags = {"goal": goal, "index": index}
        values = self.driver.pursue(
            graph_input, thread=self._thread(index), settings=settings, tags=tags
        )
        outcome = values.get("outcome")
        if outcome != "achieved":
            self.failures.setdefault(goal, []).append(session.steps)
        self.driver.emit(
            "goal_end",
            goal=goal,
            index=index,
            outcome=outcome,
            env_steps=session.steps,
            vitals=session.vitals(),
        )

    def _wander(self, steps: int) -> bool:
        """Explore toward unseen cells for `steps` steps (new ground for the goals that failed);
        False when the env's API has no ``explore`` primitive."""
        session = self.session
        api = session.api(steps, {})
        if not callable(getattr(api, "explore", None)):
            return False
        start = session.steps
        try:
            api.explore(steps)
        except SkillStop:
            pass  # budget spent or episode over: both end the wander
        self.driver.emit(
            "wander",
            steps=session.steps - start,
            env_steps=session.steps,
            vitals=session.vitals(),
            actions=list(session.env.action_log[start:]),
        )
        return True

    # ------------------------------------------------------------------ resume
    def restore(self, events: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Replay the episode the events and checkpoints describe; take back the goal count,
        failures and reflex pauses. Returns the goal that was running (its name, index and
        graph input: None to go on from its checkpoint, FINISHED, or a fresh start), or None."""
        actions: list[Any] = []
        pending: dict[str, Any] | None = None
        for ev in events:
            kind = ev.get("kind")
            if kind in ("reflex", "wander") and "actions" in ev:
                actions.extend(ev["actions"])
            elif kind == "goal":
                if int(ev.get("env_steps", len(actions))) != len(actions):
                    log.warning(
                        "explorer resume: goal %s started at env step %s, replay is at %s",
                        ev.get("index"), ev.get("env_steps"), len(actions),
                    )  # fmt: skip
                self.goals = int(ev.get("index", self.goals + 1))
                pending = {"goal": ev["goal"], "index": self.goals, "start": len(actions)}
            elif kind == "goal_end":
                index = int(ev.get("index", self.goals))
                values = self.driver.state(self._thread(index)).values or {}
                actions.extend(values.get("actions", []))
                if ev.get("outcome") != "achieved":
                    self.failures.setdefault(str(ev["goal"]), []).append(int(ev["env_steps"]))
                pending = None
        if pending is not None:
            thread = self._thread(pending["index"])
            snapshot = self.driver.state(thread)
            values = snapshot.values or {}
            actions.extend(values.get("actions", []))
            if not values:  # killed before its first checkpoint: start it again
                pending["input"] = {"goal": pending["goal"].replace("_", " ")}
            else:  # go on from its last checkpoint, or only do its bookkeeping
                pending["input"] = None if snapshot.next else FINISHED
            tags = {"goal": pending["goal"], "index": pending["index"]}
            with self.run.reading_checkpoints():
                recover_events(self.run, self.driver.writer, thread, tags)
        self.session.replay(actions)
        self.driver.reflexes.restore(events)
        return pending


def _unlock_clock(env: Any) -> dict[str, int]:
    """Keep, from now on, the env step at which each achievement is first unlocked.

    Hooked on the env's own `step` (an instance attribute, as `FrameRecorder` does), so every
    action counts, whoever takes it: skills, reflexes, wandering (and a resume's replay)."""
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
