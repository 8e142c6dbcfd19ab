"""The spec reader: a goal in words becomes a ``GoalSpec`` (``agents.goal_spec``).

The language model reads the goal under a JSON schema whose names are the env's own
(``model_spec``; prompt ``agents/prompts/goal_spec.md``); the word reader
(``read_spec_words``: English and Japanese, amounts in digits, words or kanji) fills the
same spec and is the fallback. ``read_spec`` puts the two together by a stated rule, part by
part (the words prune, the model chooses; DESIGN.md, "Who decides"):

- the words split the goal into parts and say, per part, which readings its words allow
  (the achievements it names, an item amount, a vital level, a span) and which of them is
  the most specific (the words' own reading);
- each condition the model read is matched to a part that allows it: where it is the words'
  reading too, they agree; where it is another reading as specific as the words' (``choose
  = "specific"``) it stands, the model choosing; a less specific one (``collect_wood`` for
  "a wood sword") is overridden by the words' reading, traced;
- amounts are always the words' (read literally: digits, number words, kanji, days);
- a part the model read nothing for keeps the words' reading (the model never shortens a
  goal); a part the words could not read stays in ``unread`` and is named (a partly
  readable goal is refused, never silently shortened; ``UNREAD`` says why the model's
  log-likelihood does not read such parts);
- a condition the model read that no part allows is left out, traced;
- the order is the words' (an order word: "then", てから).

``SpecReading`` keeps both readings and every disagreement; ``decision`` makes it the trace's
``Decision``. ``spec_for_run`` is what the graph's first plan uses; a goal the words read as
one achievement once (or nothing at all) goes to ``agents.goal_reader`` as before.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model

from agents import goal_reader
from agents._prompts import render
from agents.goal_spec import (
    DAY_STEPS,
    Achieve,
    GoalSpec,
    Have,
    Near,
    Survive,
    Vital,
    condition_text,
)
from agents.llm import method_of
from envs import goal_vocab
from envs.goal_vocab import GoalVocabulary
from envs.values import Decision

__all__ = [
    "CHOOSE",
    "UNREAD",
    "SpecReading",
    "decision",
    "model_spec",
    "prompt",
    "read_spec",
    "read_spec_words",
    "reconcile",
    "spec_for_run",
]

CHOOSE: Literal["specific", "any"] = "specific"
"""Which of a part's readings the model's choice may be for it to stand: ``specific``, one
as specific as the words' own (as many terms of the vocabulary matched); ``any``, any reading
the part's words allow. Chosen on the tune half of ``benchmarks/spec_reading.py``."""
RETRIES = 1
"""Retries of the model's structured answer when it does not validate."""
UNREAD: Literal["refuse", "scores"] = "refuse"
"""A part the words could not read: ``refuse`` it, named; or ``scores``, let the model's
log-likelihood read it (``goal_reader.read_goal``, with its refusal option). Measured
(``benchmarks/spec_reading.py --grid``, tune half): SmolLM2 47/47 either way; Qwen2.5-Coder-0.5B
(every 4th phrasing) 10/12 with ``scores``, 12/12 with ``refuse``: it read the parts to refuse
("fly to the moon", "ride a horse") as targets. So refuse."""

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
_LEVEL = re.compile(r"\bto\s+\d|\bat least\b|\blevel\b|\d+\s*に|まで")
"""A level a vital should reach ("get your health back to 9", 体力を9にして)."""
_SURVIVE = re.compile(r"surviv|stay alive|keep alive|生き延び|生き残|生存")
_ORDER = re.compile(r"\bthen\b|\bafter that\b|それから|そのあと|[てで]から|次に")
_SPLIT = re.compile(
    r"\s*(?:,|;|\band then\b|\bthen\b|\band\b|\bafter that\b"
    r"|、|。|そして|それから|そのあと|(?<=[てで])から|次に)\s*"
)
# A Japanese request chains its clauses in the て-form ("牛を食べて水を飲んで"): a cut after
# て/んで where the clause before has a particle and the rest is a request of its own.
_NEAR_EN = re.compile(r"\b(?:next to|near|beside|close to)\s+(?P<what>[^,;.]*)")
_NEAR_JA = re.compile(r"(?P<what>[^、。をにがで]+?)の(?:隣|近く|そば|横)(?:に|へ|で)?")
_TE_CUT = re.compile(r"(?<=て)|(?<=んで)")
_PARTICLE = re.compile(r"[をにがへ]|まで")


def _number(clause: str) -> int | None:
    m = re.search(r"\d+", clause)
    if m:
        return int(m.group())
    low = clause.lower()
    for w, n in sorted(_NUM_EN.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{w}\b", low):
            return n
    m = re.search(r"([一二三四五六七八九十])\s*(?:個|つ|本|日|回|歩|晩|夜)", clause)
    return _NUM_JA[m.group(1)] if m else None


def _clause(clause: str, vocab: GoalVocabulary, items: list[str], max_level: int) -> Any:
    low = clause.lower()
    n = _number(clause)
    near = _near(clause, vocab)
    if near is not False:
        return near
    if _SURVIVE.search(low):
        if re.search(r"night|夜|晩", low):
            return Survive(nights=n or 1)
        if re.search(r"day|日", low):
            return Survive(steps=(n or 1) * DAY_STEPS)
        return Survive(steps=n or DAY_STEPS) if n or "step" in low else None
    if _FULL.search(low) or (n is not None and _LEVEL.search(low)):
        # The stat most named ("満腹になるまで水を飲んで": full, of drink: 水 and 飲 over 満腹).
        hits = {stat: sum(c in low for c in cues) for stat, cues in _VITAL.items()}
        stat = max(hits, key=lambda k: hits[k])
        if hits[stat]:
            return Vital(stat=stat, at_least=max_level if n is None else min(n, max_level))
    have = _have(clause, vocab, items, n)
    if have is not None:
        return Have(item=have, at_least=n or 1)
    name = _first_named(clause, vocab)
    if name is not None:
        return Achieve(name=name, times=n or 1)
    return None


def _near(clause: str, vocab: GoalVocabulary) -> Near | None | Literal[False]:
    """A "next to" clause: ``Near`` (with what it places, "place a furnace next to the
    table"); None when it names no kind of the env's or asks for more than a placement there
    ("collect wood near the water": no such condition); False when it says no "next to"."""
    low = clause.lower()
    m = _NEAR_EN.search(low) or _NEAR_JA.search(clause)
    if m is None:
        return False
    target = vocab.kind(m.group("what"))
    if target is None:
        return None
    rest = clause[: m.start()] + " " + clause[m.end() :]
    name = _first_named(rest, vocab)
    if name is None:
        return Near(target=target)
    if name.startswith("place_"):
        return Near(target=target, placed=name.removeprefix("place_"))
    return None


def _have(clause: str, vocab: GoalVocabulary, items: list[str], n: int | None) -> str | None:
    """The item a counted clause asks to have ("collect 5 wood", 木を5個集めて), if any."""
    low = clause.lower()
    if n is None or re.search(r"\btimes?\b|回", low):
        return None
    words = set(re.findall(r"[a-z]+", low))
    for item in items:
        if item in words or item + "s" in words:
            return item
    for ja, item in sorted(_ITEM_JA.items(), key=lambda kv: -len(kv[0])):
        if ja in clause and item in items and vocab.match(clause) in (None, f"collect_{item}"):
            return item
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


def _te_clauses(piece: str) -> list[str]:
    """A Japanese piece cut into its て-form clauses ("馬に乗って牛を食べて" -> two)."""
    out, start = [], 0
    for m in _TE_CUT.finditer(piece):
        cut = m.start()
        left, rest = piece[start:cut], piece[cut:].strip()
        if len(rest) > 1 and _PARTICLE.search(left) and re.search(r"[てで]$", rest):
            if not rest.startswith(("く", "い", "も", "は", "ね")):  # ください, ている, ...
                out.append(left)
                start = cut
    out.append(piece[start:])
    return [p for p in out if p.strip()]


def _pieces(goal: str) -> list[str]:
    parts = [p for p in _SPLIT.split(goal) if p and p.strip()]
    out: list[str] = []
    for p in parts:
        for clause in _te_clauses(p) if not p.isascii() else [p]:
            # "木のツルハシと木の剣を作って": と joins two things when both sides are there
            halves = clause.split("と")
            out.extend(halves if len(halves) == 2 and all(h.strip() for h in halves) else [clause])
    return out


@dataclass(frozen=True)
class _Part:
    """One part of the goal: its text, the words' reading and the readings its words allow."""

    text: str
    words: Any
    """The words' condition (None: they read nothing here)."""
    options: dict[tuple[str, str], int]
    """Readings the part's words allow (``_key``) -> how specific (terms matched)."""


def _key(c: Any) -> tuple[str, str]:
    """What a condition is about, amounts aside: ``("achieve", name)``, ``("have", item)``."""
    if isinstance(c, Near):
        return ("near", f"{c.placed or ''}>{c.target}")
    return (c.kind, str(getattr(c, "name", None) or getattr(c, "item", None)
                        or getattr(c, "stat", None) or ""))  # fmt: skip


def _options(
    text: str, vocab: GoalVocabulary, items: list[str], words: Any
) -> dict[tuple[str, str], int]:
    low = text.lower()
    if _NEAR_EN.search(low) or _NEAR_JA.search(text):
        # "next to" allows only the words' Near: the rest of such a part ("place a table" in
        # "... next to the castle") must not stand for the whole of it.
        return {_key(words): 1} if isinstance(words, Near) else {}
    found = vocab.matches(text)
    opts = {("achieve", t): k for t, k in found.items()}
    structural = max(found.values(), default=0) + 1  # an amount, a level, a span: its own
    n = _number(text)
    if n is not None and not re.search(r"\btimes?\b|回", low):
        named = set(re.findall(r"[a-z]+", low))
        for item in items:
            ja = [j for j, i in _ITEM_JA.items() if i == item]
            if item in named or item + "s" in named or any(j in text for j in ja):
                opts[("have", item)] = structural
    if _FULL.search(low) or n is not None or re.search(r"\buntil\b|まで", low):
        for stat, cues in _VITAL.items():
            if any(c in low for c in cues):
                opts[("vital", stat)] = structural
    if _SURVIVE.search(low):
        opts[("survive", "")] = structural
    if words is not None:
        opts.setdefault(_key(words), structural)
    return opts


def _read_parts(goal: str, vocab: GoalVocabulary, rules: Any) -> tuple[list[_Part], bool]:
    items, max_level = _items(rules), _max_level(rules)
    pieces = _pieces(goal)
    read = [_clause(p, vocab, items, max_level) for p in pieces]
    if len(pieces) > 1 and all(c is None for c in read):
        whole = _clause(goal, vocab, items, max_level)  # "place stone next to water" is one
        if whole is not None:
            read, pieces = [whole], [goal]
    parts = [
        _Part(p.strip(), c, _options(p, vocab, items, c)) for p, c in zip(pieces, read, strict=True)
    ]
    return parts, bool(_ORDER.search(goal.lower()))


def _items(rules: Any) -> list[str]:
    return [i for i in rules.items if i not in rules.vitals]


def _max_level(rules: Any) -> int:
    return max(int(v.get("max", 9)) for v in rules.items.values())


def _spec(parts: list[_Part], ordered: bool, method: str = "words") -> GoalSpec:
    spec = GoalSpec(ordered=ordered, method=method)
    for p in parts:
        if p.words is None:
            spec.unread.append(p.text)
        else:
            spec.conditions.append(p.words)
    return spec


def read_spec_words(goal: str, vocab: GoalVocabulary, rules: Any) -> GoalSpec:
    """The word reader: clauses split on 'and', 'then', commas (and their Japanese, て-form
    chains included), each read as a survival span, a full vital, an amount of an item or an
    achievement (N times); a clause it cannot read is kept in ``unread``."""
    parts, ordered = _read_parts(goal, vocab, rules)
    return _spec(parts, ordered)


# --------------------------------------------------------------------------- model
def _tag(kind: str) -> Any:
    """``Literal[kind]``: a condition's discriminator (a type built at run time)."""
    return Literal[kind]


def _schema(vocab: GoalVocabulary, rules: Any) -> type[BaseModel]:
    # Types built at run time from the env's names: Any to the type checker.
    top = _max_level(rules)
    names: Any = Literal[tuple(vocab.achievements)]
    items: Any = Literal[tuple(_items(rules))]
    stats: Any = Literal[tuple(rules.vitals)]
    achieve = create_model("Achieve", kind=(_tag("achieve"), ...), name=(names, ...),
                           times=(int, Field(1, ge=1, le=9)))  # fmt: skip
    have = create_model("Have", kind=(_tag("have"), ...), item=(items, ...),
                        at_least=(int, Field(1, ge=1, le=top)))  # fmt: skip
    vital = create_model("Vital", kind=(_tag("vital"), ...), stat=(stats, ...),
                         at_least=(int, Field(top, ge=1, le=top)))  # fmt: skip
    survive = create_model("Survive", kind=(_tag("survive"), ...),
                           steps=(int, Field(0, ge=0, le=10_000)),
                           nights=(int, Field(0, ge=0, le=9)))  # fmt: skip
    kinds: Any = Literal[tuple(vocab.kinds) or ("none",)]
    placeable: Any = Literal[tuple(a.removeprefix("place_") for a in vocab.achievements
                                   if a.startswith("place_")) or ("none",)]  # fmt: skip
    near = create_model("Near", kind=(_tag("near"), ...), target=(kinds, ...),
                        placed=(placeable | None, None))  # fmt: skip
    cond: Any = Annotated[achieve | have | vital | survive | near, Field(discriminator="kind")]
    return create_model(
        "GoalSpec",
        conditions=(list[cond], Field(min_length=1, max_length=4)),
        ordered=(bool, False),
    )


def prompt(goal: str, vocab: GoalVocabulary, rules: Any) -> str:
    """The model's prompt (``agents/prompts/goal_spec.md``): the env's goals, items and
    stats, a few worked examples, then the request."""
    menu = "\n".join(f"- {t}: {vocab.describe.get(t, t)}" for t in vocab.achievements)
    return render(
        "goal_spec",
        env=vocab.env.capitalize(),
        menu=menu,
        items=", ".join(_items(rules)),
        stats=", ".join(rules.vitals),
        kinds=", ".join(vocab.kinds),
        top=str(_max_level(rules)),
        day=str(DAY_STEPS),
        goal=" ".join(goal.split()),
    )


def model_spec(llm: Any, goal: str, vocab: GoalVocabulary, rules: Any) -> GoalSpec | str:
    """The model's own reading under the env's schema (validated by pydantic: names, items,
    stats and bounds are the env's), or why it gave none."""
    try:
        runnable = llm.with_structured_output(_schema(vocab, rules), retries=RETRIES)
        raw: Any = runnable.invoke(prompt(goal, vocab, rules))
        data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw)
        return GoalSpec.model_validate({**data, "method": "model"})
    except Exception as e:  # noqa: BLE001 - any failure of the model's reading: the words read
        return f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"


# --------------------------------------------------------------------------- both
@dataclass
class SpecReading:
    """A goal's reading: the spec that stands, both readers' own, and every disagreement."""

    spec: GoalSpec
    words: GoalSpec
    """The word reader's spec."""
    model: GoalSpec | None = None
    """The model's own spec (None: no call, or it gave none)."""
    called: bool = False
    """Whether the model was asked (not with ``--llm none`` or without a model)."""
    error: str = ""
    """Why the model gave no valid spec."""
    notes: list[str] = field(default_factory=list)
    """The rule applied, part by part, where the readers differ."""
    overridden: bool = False
    """The words changed or replaced something the model read."""
    seconds: float = 0.0
    """Wall seconds of the model's calls."""
    via: str = ""
    """How the model's answer was obtained (``agents.llm.method_of``: ``grammar`` in process,
    or the structured-output method negotiated with a server, ``json_object`` ...)."""


def _is_none(llm: Any) -> bool:
    return llm is None or getattr(llm, "model_id", None) == "none"


def read_spec(
    llm: Any,
    goal: str,
    vocab: GoalVocabulary,
    rules: Any,
    scorer: Any = None,
    *,
    choose: Literal["specific", "any"] = CHOOSE,
    unread: Literal["refuse", "scores"] = UNREAD,
) -> SpecReading:
    """Read ``goal`` with the model under the env's schema and the words, by the rule in the
    module's docstring. ``llm`` None or the ``none`` backend: the words alone, no call."""
    if _is_none(llm):
        words = read_spec_words(goal, vocab, rules)
        return SpecReading(words, words, notes=["no model (--llm none): read by the words"])
    t0 = time.perf_counter()
    got = model_spec(llm, goal, vocab, rules)
    reading = reconcile(got, goal, vocab, rules, scorer, choose=choose, unread=unread)
    reading.seconds = time.perf_counter() - t0
    reading.via = method_of(llm)
    return reading


def reconcile(
    model: GoalSpec | str,
    goal: str,
    vocab: GoalVocabulary,
    rules: Any,
    scorer: Any = None,
    *,
    choose: Literal["specific", "any"] = CHOOSE,
    unread: Literal["refuse", "scores"] = UNREAD,
) -> SpecReading:
    """The spec that stands, given the model's reading of ``goal`` (or why it gave none) and
    the words', by the rule in the module's docstring; with ``unread="scores"``, ``scorer``
    reads the parts the words could not (else, or with no scorer, those stay unread)."""
    parts, ordered = _read_parts(goal, vocab, rules)
    words = _spec(parts, ordered)
    reading = SpecReading(words, words, called=True)
    if isinstance(model, str):
        reading.error, reading.overridden = model, True
        reading.notes.append(f"the model gave no valid spec ({model}): the words read it")
    else:
        reading.model = model
    scorer = scorer if unread == "scores" else None
    reading.spec = _reconcile(reading, reading.model, parts, ordered, vocab, scorer, choose)
    return reading


def _reconcile(
    reading: SpecReading,
    model: GoalSpec | None,
    parts: list[_Part],
    ordered: bool,
    vocab: GoalVocabulary,
    scorer: Any,
    choose: str,
) -> GoalSpec:
    notes = reading.notes
    taken: list[Any] = [None] * len(parts)
    by_model = [False] * len(parts)
    left = list(model.conditions) if model else []
    for agree in (True, False):  # first the model's conditions the words agree with
        for c in list(left):
            i = next(
                (
                    j
                    for j, p in enumerate(parts)
                    if taken[j] is None
                    and _key(c) in p.options
                    and (not agree or (p.words is not None and _key(p.words) == _key(c)))
                ),
                None,
            )
            if i is None:
                continue
            left.remove(c)
            p = parts[i]
            if agree:
                taken[i], by_model[i] = p.words, True
                if c != p.words:
                    reading.overridden = True
                    notes.append(
                        f"{p.text!r}: the model read {condition_text(c)}, the words "
                        f"{condition_text(p.words)}: amounts are the words'"
                    )
            elif choose == "any" or p.options[_key(c)] >= max(p.options.values()):
                taken[i], by_model[i] = _amounted(c, p), True
                notes.append(
                    f"{p.text!r}: the model chose {condition_text(taken[i])} (the words: "
                    f"{condition_text(p.words) if p.words is not None else 'nothing'})"
                )
            else:
                taken[i] = p.words
                reading.overridden = True
                notes.append(
                    f"{p.text!r}: the model read {condition_text(c)}, less specific than the "
                    f"words' {condition_text(p.words)}: the words stand"
                )
    for c in left:
        reading.overridden = True
        notes.append(
            f"the model read {condition_text(c)}, which no part of the goal names: left out"
        )
    spec = GoalSpec(ordered=ordered)
    for i, p in enumerate(parts):
        cond = taken[i] if taken[i] is not None else p.words
        if taken[i] is None and p.words is not None and model is not None:
            reading.overridden = True
            notes.append(f"{p.text!r}: the model read nothing here; the words read "
                         f"{condition_text(p.words)}")  # fmt: skip
        if cond is None and scorer is not None and reading.called:
            cond = _score_part(p, vocab, scorer, notes)
            by_model[i] = cond is not None
        if cond is None:
            spec.unread.append(p.text)
        else:
            spec.conditions.append(cond)
    if model is not None and model.ordered != ordered:
        notes.append(
            f"the model read the goal as {'ordered' if model.ordered else 'in any order'}; "
            f"{'an order word' if ordered else 'no order word'} in the goal: the words' order"
        )
    read = [b for b, p in zip(by_model, parts, strict=True) if p.words is not None or b]
    spec.method = "model" if read and all(read) else "model+words" if any(read) else "words"
    return spec


def _amounted(c: Any, part: _Part) -> Any:
    """The model's condition for a part, with the part's own amount where it states one (the
    words read amounts literally)."""
    n = _number(part.text)
    if isinstance(c, Achieve):
        return Achieve(name=c.name, times=n or 1)
    if isinstance(c, Have):
        return Have(item=c.item, at_least=n or 1)
    if isinstance(c, Vital) and n is not None:
        return Vital(stat=c.stat, at_least=n)
    return c


def _score_part(part: _Part, vocab: GoalVocabulary, scorer: Any, notes: list[str]) -> Any:
    """A part the words could not read: the model's log-likelihood among the env's targets
    and a refusal (``goal_reader.read_goal``); None when it refuses or is unsure."""
    got = goal_reader.read_goal(part.text, vocab, scorer)
    if got.target is None or got.method != "model":
        notes.append(f"{part.text!r}: nobody read it ({got.note()})")
        return None
    notes.append(f"{part.text!r}: read by the model's scores as {got.target} ({got.note()})")
    return Achieve(name=got.target, times=_number(part.text) or 1)


def decision(reading: SpecReading, env_steps: int = 0) -> Decision:
    """The reading as the trace's decision record: both readings, the spec that stands, the
    rule applied where they differ."""
    model = (
        reading.model.message().split(" as ", 1)[1]
        if reading.model
        else f"none ({reading.error})"
        if reading.called
        else "not asked"
    )
    words = reading.words.message().split(" as ", 1)[1]
    return Decision(
        role="goal",
        options=[f"model: {model}", f"words: {words}"],
        choice=reading.spec.message(),
        method="structured" if reading.called else "words",
        overridden_by="words" if reading.overridden else None,
        notes=[
            *reading.notes,
            *([f"the model answered through {reading.via}"] if reading.via else []),
        ],
        env_steps=env_steps,
    )


# --------------------------------------------------------------------------- run
def spec_for_run(
    goal: str, env_id: str, rules: Any, llm: Any = None, scorer: Any = None
) -> SpecReading | None:
    """The reading a run pursues; None when the words read the goal as one achievement once
    (the single-target reader, ``agents.goal_reader``, reads it as before, with its model)
    or read nothing at all (that reader tries it then)."""
    vocab = goal_vocab.load(env_id)
    if vocab is None or not hasattr(rules, "items") or not hasattr(rules, "vitals"):
        return None
    words = read_spec_words(goal, vocab, rules)
    if not words.conditions and not (_NEAR_EN.search(goal.lower()) or _NEAR_JA.search(goal)):
        return None  # ("next to" an unknown object is refused here, not read as the rest)
    one = words.conditions[0] if len(words.conditions) == 1 and not words.unread else None
    if isinstance(one, Achieve) and one.times == 1:
        return None
    return read_spec(llm, goal, vocab, rules, scorer)
