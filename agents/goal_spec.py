"""Goals as specifications (issue #20): a conjunction of conditions the env checks.

A goal becomes a ``GoalSpec``: conditions (an achievement unlocked N times, an inventory
level, a vital stat level, staying alive N steps), in order or in any order. Reading a goal
into a spec is ``agents.spec_reader``'s job; this module holds the spec itself and what the
run does with it: ``check`` says, per condition, whether it holds in a live env session,
``refusal`` names what cannot be pursued, ``pursuit`` gives the achievement (and amount, as
``Subgoal.need``) a condition is pursued by, ``next_unmet`` and ``summary`` serve the plan
and verify nodes (``graphs.nodes.plan``/``verify``): the run is achieved only when every
``check`` holds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from envs.values import Subgoal

__all__ = [
    "DAY_STEPS",
    "Achieve",
    "ConditionState",
    "GoalSpec",
    "HOLD",
    "Have",
    "Near",
    "Survive",
    "Vital",
    "check",
    "condition_text",
    "baseline",
    "held_subgoal",
    "next_unmet",
    "pursuit",
    "refusal",
    "summary",
]

DAY_STEPS = 300
"""Env steps of one Crafter day (its daylight cycle is 300 steps)."""


class Achieve(BaseModel):
    """An achievement unlocked ``times`` more times than at the start."""

    kind: Literal["achieve"] = "achieve"
    name: str
    times: int = Field(1, ge=1, le=99)


class Have(BaseModel):
    """At least ``at_least`` of an inventory item."""

    kind: Literal["have"] = "have"
    item: str
    at_least: int = Field(1, ge=1, le=99)


class Vital(BaseModel):
    """A vital stat (health, food, drink, energy) at least ``at_least``."""

    kind: Literal["vital"] = "vital"
    stat: str
    at_least: int = Field(..., ge=1, le=99)


class Survive(BaseModel):
    """Alive after ``steps`` more env steps, and (with ``nights``) once that many of the env's
    nights have ended (its daylight back) since the start."""

    kind: Literal["survive"] = "survive"
    steps: int = Field(default=0, ge=0, le=100_000)
    nights: int = Field(default=0, ge=0, le=99)

    @model_validator(mode="after")
    def _some_span(self) -> Survive:
        if self.steps <= 0 and self.nights <= 0:
            raise ValueError("a survival span needs steps or nights")
        return self


class Near(BaseModel):
    """Next to a kind of object (Crafter: one of the 8 cells around, its own 'nearby'),
    as the player's local view shows it: with ``placed``, a ``placed`` put down since the
    start stands next to a ``target``; without, the player stands next to a ``target``."""

    kind: Literal["near"] = "near"
    target: str
    placed: str | None = None


Condition = Annotated[Achieve | Have | Vital | Survive | Near, Field(discriminator="kind")]


class GoalSpec(BaseModel):
    """What a goal asks for: every condition, in order when ``ordered``."""

    conditions: list[Condition] = Field(default_factory=list)
    ordered: bool = False
    unread: list[str] = Field(default_factory=list)
    """Parts of the goal nothing could read (the goal is refused when any is left)."""
    method: str = "words"
    """Who read it: ``model`` or ``words``."""

    @property
    def refused(self) -> bool:
        """Nothing readable, or a part left unread."""
        return not self.conditions or bool(self.unread)

    def message(self) -> str:
        """One line: what was read, and what was not."""
        parts = [_text(c) for c in self.conditions]
        joined = (" then " if self.ordered else " and ").join(parts) or "nothing"
        tail = f"; not understood: {', '.join(repr(u) for u in self.unread)}" if self.unread else ""
        return f"read by {self.method} as {joined}{tail}"


def _text(c: Any) -> str:
    if isinstance(c, Achieve):
        return c.name + (f" x{c.times}" if c.times > 1 else "")
    if isinstance(c, Have):
        return f"{c.item} >= {c.at_least}"
    if isinstance(c, Vital):
        return f"{c.stat} >= {c.at_least}"
    if isinstance(c, Near):
        return f"{c.placed} placed next to {c.target}" if c.placed else f"next to {c.target}"
    parts = [f"{c.steps} steps"] if c.steps else []
    if c.nights:
        parts.append("the night" if c.nights == 1 else f"{c.nights} nights")
    return "survive " + " and ".join(parts)


# --------------------------------------------------------------------------- check
class ConditionState(BaseModel):
    """One condition at the end (or now): held or not, and what was seen."""

    condition: str
    met: bool
    seen: str
    met_at: int | None = None
    """Env step of the check that first saw it met (in an ordered spec: met in its turn)."""
    counts: dict[str, int] = Field(default_factory=dict)
    """Achievement counts at that check: where the next condition of an ordered spec counts
    its achievements from."""


def check(
    spec: GoalSpec,
    session: Any,
    start: dict[str, Any],
    before: list[ConditionState] | None = None,
) -> list[ConditionState]:
    """Each condition's state in a live env session.

    ``start`` is ``{"achievements": {...}, "steps": n, "cells": {kind: [[x, y], ...]}}``
    taken when the goal began (counts and spans are from then; ``cells``: the placed kinds'
    cells the player knew then). ``before``: the states of the last check, whose ``met_at``
    this one keeps.

    Unordered, each condition is judged now: an achievement's count since the start, an
    item or vital at its level now, alive and the span passed; a placement next to an object
    counts once seen. Ordered (``then``), a condition counts only once the one before it is
    met, and from then on: its achievements are counted from the check that saw the previous
    condition met, its span starts there, and once met it stays met (what was asked happened,
    in that order). A later condition met before an earlier one does not count until it is
    met again in its turn: "make a stone pickaxe, then place a furnace" is not met by a
    furnace placed before the pickaxe. Checks run at each plan and verify (after each skill),
    so "when" is that check's env step.
    """
    prior = before if before is not None and len(before) == len(spec.conditions) else []
    steps, ach = session.steps, session.achievements
    base: dict[str, Any] = {
        "achievements": start.get("achievements", {}),
        "steps": start.get("steps", 0),
    }
    out: list[ConditionState] = []
    ready = True
    for i, c in enumerate(spec.conditions):
        prev = prior[i] if prior and prior[i].condition == _text(c) else None
        kept = prev is not None and prev.met and prev.met_at is not None
        if spec.ordered and not ready:
            after = _text(spec.conditions[i - 1])
            out.append(ConditionState(condition=_text(c), met=False, seen=f"waits for {after}"))
            continue
        if kept and (spec.ordered or (isinstance(c, Near) and c.placed)):
            assert prev is not None
            state = prev  # an event that happened (in its turn): it stays met
        else:
            met, seen = _judge(c, session, base, start)
            state = ConditionState(
                condition=_text(c),
                met=met,
                seen=seen,
                met_at=(prev.met_at if kept and prev is not None else steps) if met else None,
                counts=(prev.counts if kept and prev is not None else dict(ach)) if met else {},
            )
        out.append(state)
        if spec.ordered:
            ready = state.met
            if state.met:
                base = {"achievements": state.counts, "steps": state.met_at}
    return out


def _judge(c: Any, session: Any, base: dict[str, Any], start: dict[str, Any]) -> tuple[bool, str]:
    """Whether one condition holds now, counted from ``base``; and what was seen."""
    ach, inv, steps = session.achievements, session.inventory, session.steps
    vitals = session.vitals() if callable(getattr(session, "vitals", None)) else inv
    vitals = vitals or inv
    counted = base.get("achievements", {})
    if isinstance(c, Achieve):
        got = ach.get(c.name, 0) - counted.get(c.name, 0)
        return got >= c.times, f"{got} times"
    if isinstance(c, Have):
        got = inv.get(c.item, 0)
        return got >= c.at_least, str(got)
    if isinstance(c, Vital):
        got = vitals.get(c.stat, 0)
        return got >= c.at_least, str(got)
    if isinstance(c, Near):
        return _near(c, session, counted, start)
    since = int(base.get("steps", 0))
    lived = steps - since
    alive = not session.episode_over or vitals.get("health", 1) > 0
    seen = f"{lived} steps"
    nights = 0
    if c.nights:
        survival = session.adapter.survival()
        nights = survival.nights_ended(session.env, since, steps) if survival else 0
        seen += f", {nights} night{'s' if nights != 1 else ''} ended"
    if not alive:
        seen += ", dead"
    return alive and lived >= c.steps and nights >= c.nights, seen


def _near(
    c: Near, session: Any, counted: dict[str, int], start: dict[str, Any]
) -> tuple[bool, str]:
    """The env's own check of 'next to', on the player's local view (``next_to`` of its
    adapter); a placed thing counts only when its placement rose since ``counted`` and the
    cell was not one the player knew of at the start."""
    next_to = getattr(session.adapter, "next_to", None)
    if next_to is None:
        return False, "this env cannot tell what is next to what"
    cells = next_to(session.env, c.target, c.placed)
    if c.placed is None:
        return bool(cells), (
            f"next to {c.target}" if cells else f"no {c.target} next to the player"
        )
    name = f"place_{c.placed}"
    placed = session.achievements.get(name, 0) - counted.get(name, 0)
    old = {tuple(p) for p in start.get("cells", {}).get(c.placed, [])}
    new = [p for p in cells if tuple(p) not in old]
    if placed <= 0:
        return False, f"no {c.placed} placed yet"
    if not new:
        return False, f"{placed} placed, none seen next to a {c.target}"
    x, y = new[0]
    return True, f"{c.placed} at ({x}, {y}) next to a {c.target}"


# --------------------------------------------------------------------------- pursue
HOLD = "stay_alive"
"""The subgoal of a span or state only time brings (survive N steps, the night, full
health): the run driver holds it with its survival reflexes (``graphs.driver.Hold``)."""


def refusal(spec: GoalSpec, rules: Any, session: Any = None) -> str:
    """Why the run cannot pursue this spec (empty when it can): parts nobody read, a
    condition the env cannot pursue or check (each named, never silently dropped)."""
    why = [f"not understood: {u!r}" for u in spec.unread]
    for c in spec.conditions:
        got = pursuit(c, rules, session)
        if isinstance(got, str):
            why.append(got)
    return "; ".join(why)


def pursuit(c: Any, rules: Any, session: Any = None) -> tuple[str, dict[str, int]] | str:
    """The achievement a condition is pursued by and the inventory it should leave
    (``Subgoal.need``), or why it cannot be pursued. A span, or a stat no achievement raises,
    is pursued by :data:`HOLD` where the env (``session``) has survival reflexes; a thing
    placed next to an object by its ``place_*`` achievement (the plan's last step becomes
    :func:`held_subgoal`'s placement next to it)."""
    survival = session.adapter.survival() if session is not None else None
    if isinstance(c, Achieve):
        return (c.name, {}) if c.name in rules.achievements else f"{c.name}: unknown achievement"
    if isinstance(c, Survive):
        if survival is None:
            return f"{_text(c)}: this env has no survival reflexes to stay alive with"
        if c.nights and not callable(getattr(survival, "nights_ended", None)):
            return f"{_text(c)}: this env has no nights"
        return HOLD, {}
    if isinstance(c, Near):
        kinds = getattr(session.adapter, "kinds", ()) if session is not None else ()
        if session is None or not callable(getattr(session.adapter, "next_to", None)):
            return f"{_text(c)}: this env cannot tell what is next to what"
        if c.target not in kinds:
            return f"{_text(c)}: {c.target!r} is not a kind of object in this env"
        if c.placed is None:
            return f"next_to_{c.target}", {}
        name = f"place_{c.placed}"
        return (name, {}) if name in rules.achievements else f"{_text(c)}: {name} is unknown"
    item = c.item if isinstance(c, Have) else c.stat
    level = c.at_least
    producer = rules.producer(item) if hasattr(rules, "producer") else None
    if producer is None and hasattr(rules, "requirement"):
        producer = next((a for a in rules.achievements if item in rules.requirement(a).gives), None)
    if producer is None and isinstance(c, Vital) and survival is not None:
        return HOLD, {}  # health: it comes back by itself while the other stats are kept up
    if producer is None:
        return f"{_text(c)}: no achievement raises {item}"
    return producer, {item: level}


def held_subgoal(c: Any, session: Any, base: dict[str, Any]) -> Subgoal:
    """The subgoal the run driver holds for a condition :func:`pursuit` gives :data:`HOLD`
    (or a placement next to an object): ``stay_alive`` with the steps still to live
    (``{"steps": n}``, through the env's nights) or the stat to reach (``{"health": 9}``);
    ``place_<item>_next_to_<kind>``; ``next_to_<kind>``. ``base``: where the condition
    counts from (``check``'s start, or the previous condition's)."""
    if isinstance(c, Near):
        name = f"place_{c.placed}_next_to_{c.target}" if c.placed else f"next_to_{c.target}"
        return Subgoal(name=name)
    if isinstance(c, Vital):
        return Subgoal(name=HOLD, need={c.stat: c.at_least})
    since, now = int(base.get("steps", 0)), session.steps
    end = since + c.steps
    if c.nights:
        survival = session.adapter.survival()
        end = max(end, survival.night_end(session.env, since, c.nights))
    return Subgoal(name=HOLD, need={"steps": max(1, end - now)})


def baseline(
    spec: GoalSpec, index: int, states: list[ConditionState], start: dict[str, Any]
) -> dict[str, Any]:
    """Where condition ``index`` counts from: the start, or in an ordered spec the check that
    saw the condition before it met."""
    if spec.ordered and index > 0 and states[index - 1].met:
        prev = states[index - 1]
        return {"achievements": prev.counts, "steps": prev.met_at or 0}
    return start


def condition_text(c: Any) -> str:
    """A condition in words, as ``check`` names it (``make_wood_sword``, ``wood >= 5``)."""
    return _text(c)


def next_unmet(spec: GoalSpec, states: list[ConditionState]) -> int | None:
    """Index of the first condition not yet met (in the spec's order), None when all are."""
    return next((i for i, s in enumerate(states) if not s.met), None)


def summary(states: list[ConditionState]) -> str:
    """Each condition's state on one line: ``make_wood_sword: met (1 times); wood >= 5: not
    met (3)``."""
    return "; ".join(f"{s.condition}: {'met' if s.met else 'not met'} ({s.seen})" for s in states)
