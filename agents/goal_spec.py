"""Goals as specifications (issue #20, first part): a conjunction of conditions the env checks.

A goal in words becomes a ``GoalSpec``: conditions (an achievement unlocked N times, an
inventory level, a vital stat level, staying alive N steps), in order or in any order. The
language model reads it under a JSON schema whose names are the env's own (``read_spec``);
the word reader (``read_spec_words``: English and Japanese, amounts in digits or words)
fills the same spec and is the fallback. A part of the goal that neither can read is kept in
``unread`` and named, so a partly readable goal is never silently shortened. ``check`` says,
per condition, whether it holds in a live env session.

In the graph (``graphs.nodes.plan``/``verify``), a goal the words read as more than one
achievement once becomes ``AgentState.spec``: ``spec_for_run`` reads it on the first plan,
``refusal`` names what cannot be pursued, each plan takes the next unmet condition's
achievement (``pursuit``: with its amount as ``Subgoal.need``) as the target, and the run is
achieved only when every ``check`` holds. The model reading (``read_spec``) is not used there
yet: the graph reads with the words (a goal they read nothing of goes to ``goal_reader``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model

from envs.goal_vocab import GoalVocabulary

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
    "spec_for_run",
    "summary",
    "read_spec",
    "read_spec_words",
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


# --------------------------------------------------------------------------- words
_NUM_EN = {
    w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())
}
_NUM_EN |= {"a couple of": 2, "a few": 3, "several": 3}
_NUM_JA = {c: i for i, c in enumerate("〇一二三四五六七八九十")}
_ITEM_JA = {"木": "wood", "木材": "wood", "石": "stone", "石炭": "coal", "鉄": "iron",
            "ダイヤ": "diamond", "苗": "sapling"}  # fmt: skip
_VITAL = {
    "health": ("health", "体力", "hp", "ＨＰ", "life"),
    "food": ("food", "hunger", "お腹", "満腹", "食べ"),
    "drink": ("drink", "thirst", "water", "水", "飲"),
    "energy": ("energy", "rest", "sleep", "眠", "寝"),
}
_FULL = re.compile(r"\bfull\b|\bmax\b|満タン|全快|いっぱい|満腹|回復")
_SURVIVE = re.compile(r"surviv|stay alive|keep alive|生き延び|生き残|生存")
_ORDER = re.compile(r"\bthen\b|\bafter that\b|それから|そのあと|してから|次に")
_SPLIT = re.compile(
    r"\s*(?:,|;|\band then\b|\bthen\b|\band\b|\bafter that\b"
    r"|、|。|そして|それから|そのあと|次に)\s*"
)


def _number(clause: str) -> int | None:
    m = re.search(r"\d+", clause)
    if m:
        return int(m.group())
    low = clause.lower()
    for w, n in sorted(_NUM_EN.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{w}\b", low):
            return n
    m = re.search(r"([一二三四五六七八九十])\s*(?:個|つ|本|日|回|歩)", clause)
    return _NUM_JA[m.group(1)] if m else None


def _clause(clause: str, vocab: GoalVocabulary, items: list[str], max_level: int) -> Any:
    low = clause.lower()
    n = _number(clause)
    if _SURVIVE.search(low):
        if re.search(r"day|日", low):
            return Survive(steps=(n or 1) * DAY_STEPS)
        if re.search(r"night|夜", low):
            return Survive(steps=DAY_STEPS)
        return Survive(steps=n or DAY_STEPS) if n or "step" in low else None
    if _FULL.search(low):
        for stat, cues in _VITAL.items():
            if any(c in low for c in cues):
                return Vital(stat=stat, at_least=max_level)
    if n is not None and not re.search(r"\btimes?\b|回", low):
        words = set(re.findall(r"[a-z]+", low))
        for item in items:
            if item in words or item + "s" in words:
                return Have(item=item, at_least=n)
        for ja, item in sorted(_ITEM_JA.items(), key=lambda kv: -len(kv[0])):
            if ja in clause and item in items and vocab.match(clause) in (None, f"collect_{item}"):
                return Have(item=item, at_least=n)
    name = _first_named(clause, vocab)
    if name is not None:
        return Achieve(name=name, times=n or 1)
    return None


def _first_named(clause: str, vocab: GoalVocabulary) -> str | None:
    # Among the best word matches, the thing named first ("place a furnace next to the table").
    found = vocab.matches(clause)
    if not found:
        return None
    top = max(found.values())
    best = [t for t, k in found.items() if k == top]
    low = clause.lower()

    def where(t: str) -> int:
        cues = [a for key in (*vocab.en[t], *vocab.ja[t]) for term in key for a in term]
        hits = [low.find(a) for a in cues if low.find(a) >= 0]
        return min(hits, default=len(low))

    return min(best, key=lambda t: (where(t), len(t)))


def _pieces(goal: str) -> list[str]:
    parts = [p for p in _SPLIT.split(goal) if p and p.strip()]
    out: list[str] = []
    for p in parts:  # "木のツルハシと木の剣を作って": と joins two things when both sides read
        halves = p.split("と")
        out.extend(halves if len(halves) == 2 and all(h.strip() for h in halves) else [p])
    return out


def read_spec_words(goal: str, vocab: GoalVocabulary, rules: Any) -> GoalSpec:
    """The word reader: clauses split on 'and', 'then', commas (and their Japanese), each read
    as a survival span, a full vital, an amount of an item or an achievement (N times)."""
    items = [i for i in rules.items if i not in rules.vitals]
    max_level = max(int(v.get("max", 9)) for v in rules.items.values())
    spec = GoalSpec(ordered=bool(_ORDER.search(goal.lower())))
    pieces = _pieces(goal)
    joined = [c for c in (_clause(p, vocab, items, max_level) for p in pieces)]
    if len(pieces) > 1 and any(c is None for c in joined):
        whole = _clause(goal, vocab, items, max_level)  # "place stone next to water" is one
        if whole is not None and all(c is None for c in joined):
            joined, pieces = [whole], [goal]
    for piece, cond in zip(pieces, joined, strict=True):
        if cond is None:
            spec.unread.append(piece.strip())
        else:
            spec.conditions.append(cond)
    return spec


# --------------------------------------------------------------------------- model
def _tag(kind: str) -> Any:
    """``Literal[kind]``: a condition's discriminator (a type built at run time)."""
    return Literal[kind]


def _schema(vocab: GoalVocabulary, rules: Any) -> type[BaseModel]:
    # Types built at run time from the env's names: Any to the type checker.
    names: Any = Literal[tuple(vocab.achievements)]
    items: Any = Literal[tuple(i for i in rules.items if i not in rules.vitals)]
    stats: Any = Literal[tuple(rules.vitals)]
    achieve = create_model("Achieve", kind=(_tag("achieve"), ...), name=(names, ...),
                           times=(int, Field(1, ge=1, le=9)))  # fmt: skip
    have = create_model("Have", kind=(_tag("have"), ...), item=(items, ...),
                        at_least=(int, Field(1, ge=1, le=9)))  # fmt: skip
    vital = create_model("Vital", kind=(_tag("vital"), ...), stat=(stats, ...),
                         at_least=(int, Field(9, ge=1, le=9)))  # fmt: skip
    survive = create_model("Survive", kind=(_tag("survive"), ...),
                           steps=(int, Field(300, ge=1, le=10_000)))  # fmt: skip
    cond: Any = Annotated[achieve | have | vital | survive, Field(discriminator="kind")]
    return create_model(
        "GoalSpec",
        conditions=(list[cond], Field(min_length=1, max_length=4)),
        ordered=(bool, False),
    )


def read_spec(llm: Any, goal: str, vocab: GoalVocabulary, rules: Any) -> GoalSpec:
    """The model reads the goal into a spec under a JSON schema of the env's names; the
    word reader is the fallback where the model's answer fails or drops a part it read."""
    words = read_spec_words(goal, vocab, rules)
    if llm is None:
        return words
    prompt = (
        f"Goals of {vocab.env}: {', '.join(vocab.achievements)}. Items: "
        f"{', '.join(i for i in rules.items if i not in rules.vitals)}. Vital stats: "
        f"{', '.join(rules.vitals)} (each up to 9). A day is {DAY_STEPS} steps.\n"
        "Write the request as conditions: achieve (a goal, times), have (an item, at_least), "
        "vital (a stat, at_least), survive (steps); ordered if the order matters.\n"
        f"Request: {goal}"
    )
    try:
        raw: Any = llm.with_structured_output(_schema(vocab, rules)).invoke(prompt)
        data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw)
        spec = GoalSpec.model_validate({**data, "method": "model"})
    except Exception:  # noqa: BLE001 - any failure of the model's reading: the words read
        return words
    if len(spec.conditions) < len(words.conditions) or words.unread:
        # The model dropped a condition the words read, or the words found a part nobody
        # can read: the words' spec (which names that part) stands.
        return words
    return spec


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
def spec_for_run(goal: str, env_id: str, rules: Any) -> GoalSpec | None:
    """The spec a run pursues, read by the word reader; None when the goal is one
    achievement once (the single-target reader, ``agents.goal_reader``, reads it as before)
    or when the words read nothing at all (that reader, with its model, tries it then)."""
    from envs import goal_vocab

    vocab = goal_vocab.load(env_id)
    if vocab is None or not hasattr(rules, "items") or not hasattr(rules, "vitals"):
        return None
    spec = read_spec_words(goal, vocab, rules)
    if not spec.conditions:
        return None
    one = spec.conditions[0]
    if len(spec.conditions) == 1 and not spec.unread and isinstance(one, Achieve):
        if one.times == 1:
            return None
    # Being next to a kind of object is no condition here yet: the words would read "place a
    # furnace next to the table" as place_furnace alone, so the part is named, not dropped.
    spec.unread.extend(m.group().strip() for m in _NEXT_TO.finditer(goal))
    return spec


_NEXT_TO = re.compile(
    r"\b(?:next to|near|beside|close to)\b[^,;.]*|[^、。とを]*(?:の隣|の近く|のそば)"
)


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
