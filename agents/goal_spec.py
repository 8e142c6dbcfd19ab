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

from pydantic import BaseModel, Field

__all__ = [
    "DAY_STEPS",
    "Achieve",
    "ConditionState",
    "GoalSpec",
    "Have",
    "Survive",
    "Vital",
    "check",
    "condition_text",
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
    """Alive after ``steps`` more env steps."""

    kind: Literal["survive"] = "survive"
    steps: int = Field(..., ge=1, le=100_000)


Condition = Annotated[Achieve | Have | Vital | Survive, Field(discriminator="kind")]


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
    return f"survive {c.steps} steps"


# --------------------------------------------------------------------------- check
class ConditionState(BaseModel):
    """One condition at the end (or now): held or not, and what was seen."""

    condition: str
    met: bool
    seen: str


def check(spec: GoalSpec, session: Any, start: dict[str, Any]) -> list[ConditionState]:
    """Each condition's state in a live env session; ``start`` is ``{"achievements": {...},
    "steps": n}`` taken when the goal began (counts and spans are from then)."""
    out = []
    ach, inv, steps = session.achievements, session.inventory, session.steps
    vitals = session.vitals() if callable(getattr(session, "vitals", None)) else inv
    vitals = vitals or inv
    for c in spec.conditions:
        if isinstance(c, Achieve):
            got = ach.get(c.name, 0) - start.get("achievements", {}).get(c.name, 0)
            out.append(ConditionState(condition=_text(c), met=got >= c.times, seen=f"{got} times"))
        elif isinstance(c, Have):
            got = inv.get(c.item, 0)
            out.append(ConditionState(condition=_text(c), met=got >= c.at_least, seen=str(got)))
        elif isinstance(c, Vital):
            got = vitals.get(c.stat, 0)
            out.append(ConditionState(condition=_text(c), met=got >= c.at_least, seen=str(got)))
        else:
            lived = steps - int(start.get("steps", 0))
            alive = not session.episode_over or vitals.get("health", 1) > 0
            out.append(
                ConditionState(
                    condition=_text(c), met=alive and lived >= c.steps, seen=f"{lived} steps"
                )
            )
    return out


# --------------------------------------------------------------------------- pursue
def refusal(spec: GoalSpec, rules: Any) -> str:
    """Why the run cannot pursue this spec (empty when it can): parts nobody read, a
    duration, a stat no achievement raises. Each named, never silently dropped."""
    why = [f"not understood: {u!r}" for u in spec.unread]
    for c in spec.conditions:
        got = pursuit(c, rules)
        if isinstance(got, str):
            why.append(got)
    return "; ".join(why)


def pursuit(c: Any, rules: Any) -> tuple[str, dict[str, int]] | str:
    """The achievement a condition is pursued by and the inventory it should leave
    (``Subgoal.need``), or why it cannot be pursued."""
    if isinstance(c, Achieve):
        return (c.name, {}) if c.name in rules.achievements else f"{c.name}: unknown achievement"
    if isinstance(c, Survive):
        return (
            f"{_text(c)}: staying alive for a span is not pursued by the run driver yet "
            "(its survival reflexes only act between and inside other goals)"
        )
    item = c.item if isinstance(c, Have) else c.stat
    level = c.at_least
    producer = rules.producer(item) if hasattr(rules, "producer") else None
    if producer is None and hasattr(rules, "requirement"):
        producer = next((a for a in rules.achievements if item in rules.requirement(a).gives), None)
    if producer is None:
        return f"{_text(c)}: no achievement raises {item}"
    return producer, {item: level}


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
