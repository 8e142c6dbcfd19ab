"""The one run driver: `mendako run`, the explorer and the bench go through it.

A :class:`Driver` owns a run folder and a live env episode: it streams goals through the
graph (each goal one checkpoint thread), writes each node's event once its checkpoint is on
disk, and keeps the player alive with the env's survival reflexes (:class:`Reflexes`, from
the adapter's ``survival()``) between goals and before every action a skill takes. The
single-goal runner (`graphs.runner`) and the explorer (`graphs.explore`) differ only in
where their goals come from; both resume from their checkpoints.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from itertools import pairwise
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.goal_spec import HOLD
from agents.llm import make_chat_model, make_scorer
from agents.rewards import reward_kinds
from envs.contract import BudgetExhausted, EpisodeOver
from envs.registry import EnvSession, adapter, base_id
from graphs.build import build_graph
from graphs.context import RunContext, RunSettings
from graphs.nodes import nodes
from graphs.trace import FrameRecorder, Run, TraceWriter, checkpoint_id, event
from skills.base import SkillMeta, SkillResult
from skills.library import SkillLibrary

log = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1
"""The largest world seed, unless the env's adapter declares its own `max_seed` (numpy's
seeding, and so Crafter's, takes 0 .. 2**32 - 1)."""


def check_settings(settings: RunSettings) -> None:
    """Refuse, with one ValueError line, numbers no run can use: step budgets that are not
    positive, negative replans or rounds, a seed outside what the env takes."""
    positive = {
        "max_env_steps": ("--max-steps", settings.max_env_steps),
        "skill_budget": ("--skill-budget", settings.skill_budget),
        "write_rounds": ("write rounds", settings.write_rounds),
    }
    for flag, value in positive.values():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{flag} must be a positive whole number of steps (got {value!r})")
    if settings.reward not in reward_kinds():
        raise ValueError(
            f"--reward {settings.reward!r} is not a reward model: {', '.join(reward_kinds())}"
        )
    if not isinstance(settings.max_replans, int) or settings.max_replans < 0:
        raise ValueError(f"--max-replans must be 0 or more (got {settings.max_replans!r})")
    top = int(getattr(adapter(settings.env_id), "max_seed", MAX_SEED))
    if isinstance(settings.seed, bool) or not isinstance(settings.seed, int):
        raise ValueError(f"--seed must be a whole number (got {settings.seed!r})")
    if not 0 <= settings.seed <= top:
        raise ValueError(
            f"--seed {settings.seed} is outside what {settings.env_id} takes: 0..{top}"
        )


@functools.cache
def mendako_version() -> str:
    """The installed mendako version (looked up once per process: it reads package metadata)."""
    try:
        return version("mendako")
    except PackageNotFoundError:
        return "dev"


@contextlib.contextmanager
def crash_recorded(run: Run, hold: Any) -> Any:
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


FINISHED: Any = object()
"""Graph input of a goal whose thread had finished: nothing left to stream."""

_APPENDED = ("actions", "history", "llm_log")
"""State keys whose reducer appends: an update holds only what it added."""


def recover_events(
    run: Run, writer: TraceWriter, thread: str | None = None, tags: dict[str, Any] | None = None
) -> None:
    """Write the node events of checkpoints that were saved but never reached the trace.

    A node's event is written once its checkpoint is on disk, so a process killed between
    the two leaves a saved checkpoint with no event; the resumed graph goes on after that
    checkpoint and would not write it. Each such event is rebuilt from the checkpoint: the
    node is the one its parent checkpoint scheduled, the update what changed between the two
    (marked `recovered`; its wall time is unknown). `thread`: the checkpoint thread (default
    the run's own); `tags` go into each event (the explorer's goal).
    """
    snaps = run.checkpoints(thread)
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
            **(tags or {}),
        )


def resolve_parts(settings: RunSettings, llm: Any, scorer: Any, library: Any) -> tuple[Any, ...]:
    """The LLM, scorer and library a run uses: those given, else those `settings` names."""
    if llm is None:
        llm = make_chat_model(settings.llm, run_seed=settings.seed)  # `none` draws from it
    if scorer is None:
        scorer = make_scorer(llm)
    if library is None:
        library = SkillLibrary(base_id(settings.env_id))
    return llm, scorer, library


def shared_parts(spec: str) -> tuple[Any, Any]:
    """A model and scorer of LLM ``spec`` that many runs share (a benchmark's arm); ``(None,
    None)`` for ``none``, which :func:`resolve_parts` builds per run from the run's seed, so
    its draws are that run's own."""
    if spec.split(":", 1)[0] == "none":
        return None, None
    llm = make_chat_model(spec)
    return llm, make_scorer(llm)


def open_env(
    settings: RunSettings, record: bool, goal: str | None = None
) -> tuple[EnvSession, FrameRecorder | None]:
    """The run's env session, reset to its seed; with `record`, a recorder of its frames."""
    session = EnvSession.open(settings.env_id, settings.seed, goal=goal)
    recorder = FrameRecorder(session.env) if record else None
    return session, recorder


class Ledger:
    """The skill library, with each success-history write also logged in the run's folder.

    The history lives outside the checkpoint (in `stats.sqlite`), so a run killed after
    `verify` wrote it but before the checkpoint was saved would count that attempt twice on
    resume; the ledger tells the resumed run which writes were already made.
    """

    def __init__(self, library: Any, run: Run, *, done: int = 0) -> None:
        self._library = library
        self._run_id = run.id
        self._path = run.ledger_path
        logged = 0
        if self._path.is_file():
            logged = sum(1 for line in self._path.read_text().splitlines() if line.strip())
        self._skip = max(0, logged - done)
        self.reflexes: Reflexes | None = None
        """The run driver's survival reflexes (set by :class:`Driver`): what its own skills
        (:meth:`held`) hold a span with."""

    def held(self, name: str) -> Any:
        """The run driver's own skill for a subgoal it holds itself (None for any other):
        :data:`~agents.goal_spec.HOLD` (:class:`Hold`), ``place_<item>_next_to_<kind>``
        and ``next_to_<kind>`` (:class:`NextTo`)."""
        if self.reflexes is None:
            return None
        if name == HOLD:
            return Hold(self.reflexes)
        match = _NEXT_TO.fullmatch(name)
        if match is None:
            return None
        return NextTo(name, match.group("kind"), match.group("item"))

    def get(self, name: str) -> Any:
        """The skill called `name`: the driver's own (:meth:`held`) or the library's."""
        own = self.held(name)
        return own if own is not None else self._library.get(name)

    def record(self, name: str, success: bool, *, attempt: int | None = None) -> None:
        """Add one attempt to the skill's history, unless a killed run already had.

        With `attempt` (the run's attempt index) the library counts it at most once under the
        key `<run id>#<attempt>`, in the same transaction as the count, so a kill between the
        count and this ledger's line cannot make the resumed run count it again."""
        if attempt is not None:
            counted = self._library.record(name, success, key=f"{self._run_id}#{attempt}")
            if counted is not False:
                with self._path.open("a") as f:
                    f.write(json.dumps({"skill": name, "success": success, "attempt": attempt}))
                    f.write("\n")
            return
        if self._skip:
            self._skip -= 1
            return
        self._library.record(name, success)
        with self._path.open("a") as f:
            f.write(json.dumps({"skill": name, "success": success}) + "\n")

    def __iter__(self) -> Any:
        return iter(self._library)  # the driver's own skills are no options of other subgoals

    def __len__(self) -> int:
        return len(self._library)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._library, name)


def _event_fields(values: dict[str, Any], node: str) -> dict[str, Any]:
    """What an event says about where the run stands: attempt, subgoal, env steps. Where a
    node stands in an attempt is the node's own word (``ATTEMPT`` in its module)."""
    registered = nodes().get(node)
    place = registered.attempt if registered is not None else "within"
    history = values.get("history") or []
    attempt = len(history) - 1 if place == "closes" else len(history)
    plan, cursor = values.get("plan") or [], values.get("cursor", 0)
    subgoal = plan[cursor] if 0 <= cursor < len(plan) else None
    if place == "closes" and history:
        subgoal = history[-1].subgoal
    return {
        "attempt": None if place == "outside" else attempt,
        "subgoal": subgoal.text if subgoal is not None else None,
        "env_steps": values.get("env_steps", 0),
    }


def stream(
    graph: Any,
    graph_input: Any,
    config: RunnableConfig,
    context: RunContext,
    writer: TraceWriter,
    on_event: Callable[[dict[str, Any]], None] | None,
    tags: dict[str, Any] | None = None,
    side: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """Stream the graph; write each node's update to the trace once its checkpoint is on disk.
    Returns the state of the last checkpoint (None if none was made).

    Checkpoints are saved in the background (`durability="async"`) while the next node runs.
    An update arrives before the checkpoint that holds it, and that checkpoint is committed
    a little later: its trace line waits for `RunSaver.is_saved`, so an event in trace.jsonl
    always names a saved checkpoint (`--at`), and a run resumed after a kill neither repeats
    nor skips events (a node whose checkpoint was not saved runs again). `on_event` (the live
    view) gets each event at once. `side`: events made while a node ran (a reflex inside its
    skill), taken with that node and written just before it, once its checkpoint is saved
    (a node that runs again after a kill makes them again).
    """
    saver = graph.checkpointer
    pending: list[tuple[str, dict[str, Any], float, list[dict[str, Any]]]] = []
    side = side if side is not None else []
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
                made_during, side[:] = list(side), []
                for node, update in chunk.items():
                    pending.append((node, update or {}, round(now - last, 4), made_during))
                    made_during = []
                last = now
                continue
            cid = chunk["config"]["configurable"]["checkpoint_id"]
            values = chunk["values"]
            for node, update, wall_s, made_during in pending:
                unsaved.extend((cid, e) for e in made_during)
                made = event(
                    "node",
                    node=node,
                    wall_s=wall_s,
                    checkpoint=cid,
                    superstep=chunk["metadata"].get("step"),
                    **_event_fields(chunk["values"], node),
                    update=update,
                    **(tags or {}),
                )
                unsaved.append((cid, made))
                if on_event is not None:
                    on_event(made)
            pending.clear()
    finally:
        flush()  # the stream waits for its saves before it ends, even when a node raised
    for e in side:  # made after the last update (the stream ended with a node's error)
        writer.append(e)
    for node, update, wall_s, made_during in pending:  # none expected: all are checkpointed
        for e in made_during:
            writer.append(e)
        made = writer.write("node", node=node, wall_s=wall_s, update=update, **(tags or {}))
        if on_event is not None:
            on_event(made)
    return values


class Reflexes:
    """Survival reflexes over one episode: the env adapter's ``survival()`` says which need
    the player's state calls for (``envs.contract.Reflex``); this runs its skill.

    Called between goals (the ordinary thresholds) and, through ``session.reflex``, before
    every action a skill takes (``urgent``). Never re-entered: the skills a reflex runs act
    through the same session. A reflex that could not restore its stat rests for the
    survival's ``pause`` steps, so a hopeless one is not retried every step.
    """

    def __init__(
        self, session: EnvSession, library: Any, settings: RunSettings, emit: Callable[..., Any]
    ) -> None:
        self.session = session
        self.library = library
        self.settings = settings
        self.emit = emit
        self.survival = session.adapter.survival()
        self._busy = False
        self.pause_until: dict[str, int] = {}
        """Need -> env step before which it is not tried again (restored on resume)."""

    def urgent(self) -> None:
        """The in-skill check: stats about to run out, or night."""
        self(urgent=True)

    def __call__(
        self, *, urgent: bool = False, log_actions: bool = False, limit: int | None = None
    ) -> None:
        """Run the survival skill the player's state calls for, if any. `log_actions` puts
        the reflex's actions in its event (a reflex between goals: resume replays them);
        `limit`: at most this many env steps (a hold's span ends)."""
        if self._busy or self.survival is None:
            return
        session = self.session
        reflex = self.survival.need(session, urgent=urgent)
        if reflex is None or self.pause_until.get(reflex.need, -1) > session.steps:
            return
        try:
            skill = self.library.get(reflex.skill)
        except KeyError:
            return
        before = session.inventory.get(reflex.stat, 0)
        budget = reflex.budget if reflex.budget is not None else self.settings.skill_budget
        if limit is not None:
            budget = max(1, min(budget, limit))
        start = session.steps
        self._busy = True
        try:
            result = skill.run(session, budget=budget, need={reflex.stat: reflex.level})
        finally:
            self._busy = False
        after = session.inventory.get(reflex.stat, 0)
        if after <= before:
            self.pause_until[reflex.need] = session.steps + self.survival.pause
        fields: dict[str, Any] = {}
        if log_actions:
            fields["actions"] = list(session.env.action_log[start:])
        self.emit(
            "reflex",
            vitals=session.vitals(),
            skill=reflex.need,
            stat=reflex.stat,
            before=before,
            after=after,
            steps=result.steps,
            stopped=result.stopped,
            urgent=urgent,
            env_steps=session.steps,
            **fields,
        )

    def restore(self, events: list[dict[str, Any]]) -> None:
        """Take back the pauses of a resumed episode from its reflex events."""
        pause = self.survival.pause if self.survival is not None else 0
        for ev in events:
            if ev.get("kind") == "reflex" and ev.get("after", 0) <= ev.get("before", 0):
                self.pause_until[str(ev.get("skill"))] = int(ev.get("env_steps", 0)) + pause


_NEXT_TO = re.compile(r"(?:place_(?P<item>[a-z]+)_)?next_to_(?P<kind>[a-z_]+)")


class Hold:
    """The run driver's skill for a span to live through or a state only time brings
    (:data:`~agents.goal_spec.HOLD`: survive N steps, the night, full health): each step the
    survival reflexes (:class:`Reflexes`, at their ordinary thresholds: drink, food, sleep in
    a shelter at night, hide when wounded) run what the player's state calls for, else the
    player waits a step (the API's guard fights a zombie beside it). ``need``: ``{"steps":
    n}`` to live through, and/or stats to reach (``{"health": 9}``)."""

    def __init__(self, reflexes: Reflexes) -> None:
        self.reflexes = reflexes
        self.meta = SkillMeta(
            name=HOLD,
            description="stay alive: drink, eat, shelter and sleep as the survival reflexes "
            "call for, else wait (the run driver's own)",
        )

    def affordance(self, session: Any) -> float | None:
        """Always feasible: waiting is."""
        return 1.0

    def run(self, session: Any, *, budget: int, need: dict[str, int]) -> SkillResult:
        """Hold until the span has passed and each stat reached, the budget is spent, or the
        episode ends."""
        start = session.steps
        end = start + int(need.get("steps", 0))
        stats = {k: v for k, v in need.items() if k != "steps"}
        api = session.api(budget, stats)

        def done() -> bool:
            inv = session.inventory
            return session.steps >= end and all(inv.get(k, 0) >= v for k, v in stats.items())

        try:
            while not done():
                if session.episode_over:
                    return SkillResult(steps=session.steps - start, stopped="episode_over")
                left = budget - (session.steps - start)
                if left <= 0:
                    return SkillResult(steps=session.steps - start, stopped="budget")
                before = session.steps
                self.reflexes(limit=min(left, end - before) if end > before else left)
                if session.steps == before:  # nothing called for: wait a step
                    api.noop()
        except BudgetExhausted:
            return SkillResult(steps=session.steps - start, stopped="budget")
        except EpisodeOver:
            return SkillResult(steps=session.steps - start, stopped="episode_over")
        if session.episode_over:
            return SkillResult(steps=session.steps - start, stopped="episode_over")
        return SkillResult(steps=session.steps - start, stopped="returned")


class NextTo:
    """The run driver's skill for being next to a kind of object: walk next to one, or (with
    an item) place the item on a free cell next to one (the env API's ``move_near`` and
    ``place(item, next_to=kind)``)."""

    def __init__(self, name: str, kind: str, item: str | None) -> None:
        self.kind, self.item = kind, item
        what = f"place a {item} next to a {kind}" if item else f"go next to a {kind}"
        self.meta = SkillMeta(name=name, description=f"{what} (the run driver's own)")

    def affordance(self, session: Any) -> float | None:
        """Feasible when the player holds what placing needs (an object not seen yet is
        looked for first)."""
        if self.item is None:
            return 1.0
        missing = session.rules.missing(f"place_{self.item}", session.inventory)
        return 0.0 if missing else 1.0

    def run(self, session: Any, *, budget: int, need: dict[str, int]) -> SkillResult:
        """Walk (and place); an error result when it could not."""
        api = session.api(budget, need)
        try:
            found = api.known(self.kind) or api.move_near(self.kind)  # explores until seen
            if self.item is None:
                ok = bool(found and api.move_near(self.kind))
            else:
                ok = bool(found and api.place(self.item, next_to=self.kind))
        except BudgetExhausted:
            return SkillResult(steps=api.steps_used, stopped="budget")
        except EpisodeOver:
            return SkillResult(steps=api.steps_used, stopped="episode_over")
        except (AttributeError, TypeError) as e:  # an env whose API cannot do it
            return SkillResult(steps=api.steps_used, stopped="error", error=str(e))
        if not ok:
            what = f"place a {self.item} next to" if self.item else "get next to"
            return SkillResult(
                steps=api.steps_used, stopped="error", error=f"could not {what} a {self.kind}"
            )
        return SkillResult(steps=api.steps_used, stopped="returned")


class Driver:
    """One run folder, one live env episode, the graph: goals go through :meth:`pursue`.

    Opened with the run's context; sets the session's in-skill reflex hook; :meth:`close`
    lets go of the checkpoint database and the trace file.
    """

    def __init__(
        self,
        run: Run,
        context: RunContext,
        *,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        reflexes: bool = True,
    ) -> None:
        self.run = run
        self.context = context
        self.session = context.env
        self.on_event = on_event
        self.writer = TraceWriter(run)
        self.saver = run.checkpointer()
        self.graph = build_graph(self.saver)
        self.reflexes = Reflexes(self.session, context.library, context.settings, self.emit)
        if isinstance(context.library, Ledger):  # its own skills hold with these reflexes
            context.library.reflexes = self.reflexes
        self._side: list[dict[str, Any]] | None = None  # while a goal streams
        if reflexes:
            self.session.reflex = self.reflexes.urgent
        self.t0 = time.perf_counter()

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Write an event to the trace (while a goal streams: with the node it happens in,
        once that node's checkpoint is saved), and show it live now."""
        if self._side is not None:
            made = event(kind, **fields)
            self._side.append(made)
        else:
            made = self.writer.write(kind, **fields)
        if self.on_event is not None:
            self.on_event(made)
        return made

    def config(self, thread: str) -> RunnableConfig:
        """The graph config of a checkpoint thread."""
        return {"configurable": {"thread_id": thread}, "recursion_limit": 10_000}

    def state(self, thread: str) -> Any:
        """The last checkpoint of a thread (LangGraph's StateSnapshot)."""
        return self.graph.get_state(self.config(thread))

    def pursue(
        self,
        graph_input: Any,
        *,
        thread: str,
        settings: RunSettings | None = None,
        tags: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Stream one goal (`graph_input`: ``{"goal": ...}``, None to go on from the thread's
        last checkpoint, or :data:`FINISHED`) through the graph; returns its final state.
        `settings` replace the run's for this goal (the explorer's per-goal step budget);
        `tags` go into each node event."""
        context = self.context if settings is None else replace(self.context, settings=settings)
        config = self.config(thread)
        values = None
        if graph_input is not FINISHED:
            self._side = []
            try:
                values = stream(
                    self.graph,
                    graph_input,
                    config,
                    context,
                    self.writer,
                    self.on_event,
                    tags,
                    self._side,
                )
            finally:
                self._side = None
        if values is None:  # nothing streamed: read the state back
            values = self.graph.get_state(config).values
        return values or {}

    def close(self) -> None:
        """Unhook the reflexes, close the checkpoint database and the trace."""
        self.session.reflex = None
        self.saver.conn.close()
        self.writer.close()

    @property
    def wall_s(self) -> float:
        """Seconds since the driver opened."""
        return time.perf_counter() - self.t0
