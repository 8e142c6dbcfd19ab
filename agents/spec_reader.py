"""The spec reader: a goal in words becomes a ``GoalSpec`` (``agents.goal_spec``).

The language model reads the goal under a JSON schema whose names are the env's own
(``read_spec``); the word reader (``read_spec_words``: English and Japanese, amounts in
digits, words or kanji) fills the same spec and is the fallback. A part of the goal that
neither can read is kept in ``unread`` and named, so a partly readable goal is never
silently shortened. ``spec_for_run`` is the reading the graph's first plan uses.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model

from agents.goal_spec import DAY_STEPS, Achieve, GoalSpec, Have, Survive, Vital
from envs import goal_vocab
from envs.goal_vocab import GoalVocabulary

__all__ = ["read_spec", "read_spec_words", "spec_for_run"]


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


# --------------------------------------------------------------------------- run
def spec_for_run(goal: str, env_id: str, rules: Any) -> GoalSpec | None:
    """The spec a run pursues, read by the word reader; None when the goal is one
    achievement once (the single-target reader, ``agents.goal_reader``, reads it as before)
    or when the words read nothing at all (that reader, with its model, tries it then)."""
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
