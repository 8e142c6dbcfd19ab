"""The LLM as world model (DECKARD, arXiv 2301.12050): hypothesise, verify, correct, imagine.

An abstract model of which things need which: nodes are items, kinds of things in the world
and achievements; an edge says an achievement needs an item consumed, a tool held or a kind
of thing nearby. The LLM proposes edges ("hypothesis", names limited to the env's known
items); experience corrects them: a success without a predicted need removes it, a success
that consumed something unpredicted adds it, and a tool or nearby thing present in every
success (and not merely everywhere) is added too. Edges seen to hold are "verified", with
counts. The env's requirement tables (crafter's ``data.yaml``) are never read here: they are
the answer key of ``benchmarks/world_model.py``, not an input. Only the vocabulary (item and
material names, which items are body stats) comes from the env.

The model is saved per env beside the skill library (``$MENDAKO_HOME/world_models/<env>.json``).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, create_model

from agents._prompts import render
from agents.llm import method_of
from envs.contract import Vocabulary
from envs.registry import adapter
from envs.values import LLMExchange
from skills import file_lock, mendako_home, write_json_atomic
from skills.base import SkillMeta

log = logging.getLogger(__name__)

NeedKind = Literal["consumes", "tool", "nearby"]
Status = Literal["hypothesis", "verified", "removed"]
MIN_SUPPORT = 2
"""Successes an unpredicted tool or nearby thing must be present in before it becomes a need."""
MIN_LIFT = 1.5
"""How much more often than on an ordinary step a thing must be present at successes to count
as a need (grass is near almost every success because it is near almost every step)."""
HYPOTHESIS_DOUBT = 0.3
"""Feasibility factor of an unmet need that only the LLM has claimed (the 135M model guesses)."""
DEFAULT_STEPS = 50
"""Steps predicted for a skill never seen to succeed."""
MAX_CHAIN = 10
"""Longest imagined plan believed before the LLM's unverified edges are set aside."""


class OutOfReach(ValueError):
    """The world model says the target cannot be reached from here."""


# ---------------------------------------------------------------------- vocabulary
Vocab = Vocabulary
"""The names a world model may use (``envs.contract.Vocabulary``: the env adapter's)."""


def vocab_for(env_id: str) -> Vocab:
    """The vocabulary of an env (its adapter's): item names and kinds only, never its
    requirement tables."""
    return adapter(env_id).vocabulary()


# ---------------------------------------------------------------------- the model
class Edge(BaseModel):
    """One need of an achievement, with where it came from and how experience has judged it."""

    achievement: str
    kind: NeedKind
    thing: str
    amount: int = 1
    status: Status = "hypothesis"
    source: Literal["llm", "experience"] = "llm"
    seen: int = 0
    """Successes in which the need held."""
    violated: int = 0
    """Successes in which it did not (one is enough to remove it)."""
    note: str = ""
    """Why experience added or removed it."""

    @property
    def active(self) -> bool:
        """Whether the model currently believes this need."""
        return self.status != "removed"

    @property
    def text(self) -> str:
        """The need in words."""
        if self.kind == "consumes":
            return f"uses {self.amount} {self.thing}"
        if self.kind == "tool":
            return f"holds a {self.thing}"
        return f"near a {self.thing}"


class AchievementStats(BaseModel):
    """What was present when an achievement succeeded or failed, for adding needs."""

    successes: int = 0
    failures: int = 0
    held: dict[str, int] = Field(default_factory=dict)
    """Item -> successes in which it was held."""
    near: dict[str, int] = Field(default_factory=dict)
    """Kind -> successes in which it was in the 3x3 area."""
    held_in_failure: dict[str, int] = Field(default_factory=dict)
    """Item -> failed attempts in which it was held (a need is absent in some failure)."""
    gives: dict[str, int] = Field(default_factory=dict)
    """Item -> largest gain seen in one success."""
    places: dict[str, int] = Field(default_factory=dict)
    """Kind -> successes after which it was in the faced cell (``place_*``)."""


class SkillStats(BaseModel):
    """One skill's record: attempts, successes, steps and inventory change when it succeeded."""

    attempts: int = 0
    successes: int = 0
    clear_attempts: int = 0
    """Attempts made when the model knew of no unmet need (so failures were the skill's own)."""
    clear_successes: int = 0
    steps: int = 0
    """Total env steps over successful executions."""
    delta: dict[str, int] = Field(default_factory=dict)
    """Total inventory change over successful executions."""


class BaseRates(BaseModel):
    """How often each item is held and each kind is near on an ordinary step."""

    steps: int = 0
    held: dict[str, int] = Field(default_factory=dict)
    near: dict[str, int] = Field(default_factory=dict)


class Transition(BaseModel):
    """One verified outcome of trying an achievement: the state before and after it."""

    achievement: str
    success: bool
    before: dict[str, int]
    """Inventory before the step that unlocked it (for a failure: when the skill gave up)."""
    after: dict[str, int] = Field(default_factory=dict)
    nearby: list[str] = Field(default_factory=list)
    """Kinds in the 3x3 area around the player before the step."""
    placed: list[str] = Field(default_factory=list)
    """Kinds that appeared in the faced cell with the step."""


class Prediction(BaseModel):
    """What the world model expects one skill to do from the current state."""

    p_success: float
    feasible: float = 1.0
    """The model's part of it: how likely the needs are met (1 when it knows of none unmet)."""
    delta: dict[str, int] = Field(default_factory=dict)
    steps: int = DEFAULT_STEPS
    missing: list[str] = Field(default_factory=list)
    why: str = ""


class ImaginedStep(BaseModel):
    """One subgoal of a plan rolled through the model."""

    name: str
    need: dict[str, int] = Field(default_factory=dict)
    p_success: float = 1.0
    steps: int = DEFAULT_STEPS
    risk: str = ""
    """Where it may fail: unmet or unverified needs."""


class WorldModel(BaseModel):
    """The abstract world model of one env: need edges plus the experience that judged them."""

    env: str
    version: int = 1
    edges: list[Edge] = Field(default_factory=list)
    hypothesised: list[str] = Field(default_factory=list)
    """Achievements the LLM has been asked about (asked once)."""
    stats: dict[str, AchievementStats] = Field(default_factory=dict)
    skills: dict[str, SkillStats] = Field(default_factory=dict)
    base: BaseRates = Field(default_factory=BaseRates)
    vitals: list[str] = Field(default_factory=list)
    """Body stats (never needs), from the env's vocabulary."""

    # ------------------------------------------------------------------ queries
    def needs(self, achievement: str, *, include_removed: bool = False) -> list[Edge]:
        """The edges of one achievement (active ones unless ``include_removed``)."""
        return [
            e for e in self.edges if e.achievement == achievement and (include_removed or e.active)
        ]

    def edge(self, achievement: str, kind: str, thing: str) -> Edge | None:
        """The edge (any status) for one need, if the model has it."""
        for e in self.edges:
            if (e.achievement, e.kind, e.thing) == (achievement, kind, thing):
                return e
        return None

    def gives(self, achievement: str) -> dict[str, int]:
        """Items one success yields: from experience, else read from the achievement's name."""
        seen = self.stats.get(achievement)
        if seen and seen.gives:
            return dict(seen.gives)
        _, _, obj = achievement.partition("_")
        if achievement.startswith(("collect_", "make_")) and obj:
            return {obj: 1}
        return {}

    def places(self, achievement: str) -> list[str]:
        """Kinds one success puts next to the player (``place_table`` -> table)."""
        seen = self.stats.get(achievement)
        if seen and seen.places:
            return [k for k, n in seen.places.items() if n * 2 >= seen.successes]
        verb, _, obj = achievement.partition("_")
        return [obj] if verb == "place" and obj else []

    def producer(self, item: str, achievements: Iterable[str] = ()) -> str | None:
        """The achievement that yields ``item``: one seen to, else one named for it."""
        for name, s in self.stats.items():
            if s.gives.get(item, 0) > 0 and not self._consumes(name, item):
                return name
        for name in achievements:
            if name.startswith(("collect_", "make_")) and item in self.gives(name):
                return name
        return None

    def placer(self, kind: str, achievements: Iterable[str] = ()) -> str | None:
        """The achievement that puts ``kind`` near the player, if any (tables yes, trees no)."""
        names = [*self.stats, *achievements]
        return next((n for n in names if kind in self.places(n)), None)

    def _consumes(self, achievement: str, item: str) -> bool:
        return any(e.kind == "consumes" and e.thing == item for e in self.needs(achievement))

    def missing(
        self, achievement: str, inventory: Mapping[str, int], known: Iterable[str] = ()
    ) -> list[Edge]:
        """Needs not met now; a nearby need counts as met when its kind is known (skills walk)."""
        known = set(known)
        out = []
        for e in self.needs(achievement):
            if e.kind == "nearby":
                if e.thing not in known:
                    out.append(e)
            elif inventory.get(e.thing, 0) < e.amount:
                out.append(e)
        return out

    def overruled(self) -> list[Edge]:
        """Where experience disagreed with the LLM: its edges removed, edges it missed added."""
        return [
            e
            for e in self.edges
            if (e.source == "llm" and e.status == "removed") or e.source == "experience"
        ]

    # ------------------------------------------------------------------ learning
    def observe(self, t: Transition) -> None:
        """Update the model from one verified outcome (see the module docstring for the rule)."""
        s = self.stats.setdefault(t.achievement, AchievementStats())
        vitals = set(self.vitals)
        held = {i for i, n in t.before.items() if n > 0 and i not in vitals}
        if not t.success:
            s.failures += 1
            for i in held:
                s.held_in_failure[i] = s.held_in_failure.get(i, 0) + 1
            self._add_supported(t.achievement)
            return
        s.successes += 1
        consumed = {
            i: n - t.after.get(i, 0)
            for i, n in t.before.items()
            if i not in vitals and t.after and t.after.get(i, 0) < n
        }
        gained = {
            i: t.after.get(i, 0) - t.before.get(i, 0)
            for i in t.after
            if t.after.get(i, 0) > t.before.get(i, 0)
        }
        for i, n in gained.items():
            s.gives[i] = max(s.gives.get(i, 0), n)
        for k in t.placed:
            s.places[k] = s.places.get(k, 0) + 1
        for i in held:
            s.held[i] = s.held.get(i, 0) + 1
        for k in set(t.nearby):
            s.near[k] = s.near.get(k, 0) + 1
        near = set(t.nearby)
        for e in self.needs(t.achievement):
            if e.kind == "consumes":
                ok = e.thing in consumed
                why = f"succeeded without using {e.thing}"
                if ok:
                    e.amount = consumed[e.thing]
            elif e.kind == "tool":
                ok = e.thing in held and e.thing not in consumed
                why = f"succeeded without holding a {e.thing}"
            else:
                ok = e.thing in near
                why = f"succeeded with no {e.thing} nearby"
            if ok:
                e.seen += 1
                e.status = "verified"
            else:
                e.violated += 1
                e.status = "removed"
                e.note = why
        for item, n in consumed.items():
            edge = self.edge(t.achievement, "consumes", item)
            if edge is None or not edge.active:
                self._put(t.achievement, "consumes", item, n, f"used {n} {item} when it succeeded")
        self._add_supported(t.achievement)

    def observe_base(self, inventory: Mapping[str, int], nearby: Iterable[str]) -> None:
        """Count one ordinary step, for the base rates that tell needs from background."""
        b = self.base
        b.steps += 1
        for i, n in inventory.items():
            if n > 0 and i not in self.vitals:
                b.held[i] = b.held.get(i, 0) + 1
        for k in set(nearby):
            b.near[k] = b.near.get(k, 0) + 1

    def _lift(self, rate_in_success: float, base_count: int) -> float:
        base = base_count / self.base.steps if self.base.steps else 1.0
        return rate_in_success / base if base > 0 else float("inf")

    def _add_supported(self, achievement: str) -> None:
        """Add tools and nearby things present in every success, when they are informative."""
        s = self.stats.get(achievement)
        if s is None or not s.successes:
            return
        for item, n in s.held.items():
            if n < max(s.successes, MIN_SUPPORT) or self._consumes(achievement, item):
                continue
            # Informative: absent in some failure; with no failure yet, rarer than usual.
            informative = s.held_in_failure.get(item, 0) < s.failures or (
                not s.failures and self._lift(1.0, self.base.held.get(item, 0)) >= MIN_LIFT
            )
            if informative:
                self._put(achievement, "tool", item, 1, f"held in all {n} successes")
        for kind, n in s.near.items():
            if n < s.successes:
                continue
            # One success is enough for a thing that is rarely near (a table), not for grass.
            if self._lift(1.0, self.base.near.get(kind, 0)) >= MIN_LIFT * (2 if n == 1 else 1):
                self._put(achievement, "nearby", kind, 1, f"nearby in all {n} successes")

    def _put(self, achievement: str, kind: NeedKind, thing: str, amount: int, note: str) -> None:
        e = self.edge(achievement, kind, thing)
        if e is not None and e.active:
            return
        if e is not None and e.kind != "consumes":
            return  # once a success has gone without it, a tool or nearby need stays removed
        if e is None:
            e = Edge(achievement=achievement, kind=kind, thing=thing)
            self.edges.append(e)
        e.amount, e.status, e.source, e.note = amount, "verified", "experience", note
        e.seen = max(e.seen, 1)

    def record_skill(
        self, skill: str, success: bool, steps: int, delta: Mapping[str, int], clear: bool = False
    ) -> None:
        """Add one execution to a skill's record (steps and inventory change of successes);
        ``clear``: the model knew of no unmet need when it started."""
        s = self.skills.setdefault(skill, SkillStats())
        s.attempts += 1
        s.clear_attempts += int(clear)
        s.clear_successes += int(clear and success)
        if success:
            s.successes += 1
            s.steps += steps
            for i, n in delta.items():
                if n:
                    s.delta[i] = s.delta.get(i, 0) + int(n)


# ---------------------------------------------------------------------- hypothesis (LLM)
class _Needs(BaseModel):
    consumes: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    nearby: list[str] = Field(default_factory=list)


def _needs_schema(vocab: Vocab) -> type[BaseModel]:
    item: Any = Literal[tuple(vocab.needables)]  # types built at run time: Any to mypy
    kind: Any = Literal[tuple(vocab.kinds)]
    # Bounded lists keep a small model from enumerating the vocabulary until max_tokens.
    return create_model(
        "Needs",
        consumes=(list[item], Field(max_length=3)),
        tools=(list[item], Field(max_length=2)),
        nearby=(list[kind], Field(max_length=2)),
    )


NEED_RELATIONS: dict[str, str] = {
    "consumes": "uses up some",
    "tool": "must hold a",
    "nearby": "must stand next to a",
}
"""The sentence each kind of need is scored in (``agents/prompts/world_model_need.md``)."""
NEED_TOP = {"consumes": 3, "tool": 1, "nearby": 2}
"""At most this many needs of each kind per achievement (the schema's bounds)."""
NEED_Z = {"consumes": 1.5, "tool": 2.25, "nearby": 1.5}
"""A candidate becomes a need when its calibrated score is this many standard deviations
above its mean over the env's achievements. Chosen (best F1) on the even-indexed
achievements of ``benchmarks/world_model.py``'s answer key with the embedded SmolLM2; the
benchmark reports the odd-indexed ones apart."""


def _pmi_needs(
    scorer: Any, game: str, achievement: str, vocab: Vocab
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per kind, each candidate's log-likelihood after "In the game <env>, to <achievement>,
    the player <relation>" minus that without the achievement; and the prompts."""
    purpose = f" to {achievement.replace('_', ' ')},"
    out: dict[str, dict[str, float]] = {}
    prompts = []
    for kind, relation in NEED_RELATIONS.items():
        names = list(vocab.kinds if kind == "nearby" else vocab.needables)
        prompt = render("world_model_need", env=game, purpose=purpose, relation=relation)
        baseline = render("world_model_need", env=game, purpose="", relation=relation)
        raw = scorer.score(prompt, [" " + n.replace("_", " ") for n in names], baseline=baseline)
        out[kind] = dict(zip(names, raw, strict=True))
        prompts.append(prompt)
    return out, prompts


def score_needs(
    scorer: Any, env: str, achievement: str, vocab: Vocab
) -> tuple[dict[str, dict[str, float]], str]:
    """Calibrated scores of every candidate need of ``achievement``, per kind.

    Each name in the vocabulary is scored as the continuation of "In the game <env>, to
    <achievement>, the player <relation>" minus its score without the achievement (pointwise
    mutual information: what the achievement adds); then each (kind, name) is standardised
    over all the env's achievements, so a name the model links to every achievement alike
    ("table") counts only where it stands out. Returns the scores and the target's prompts.
    """
    game = env.split("-", 1)[0].capitalize()
    every = {a: _pmi_needs(scorer, game, a, vocab)[0] for a in vocab.achievements}
    mine, prompts = _pmi_needs(scorer, game, achievement, vocab)
    out: dict[str, dict[str, float]] = {}
    for kind, by_name in mine.items():
        out[kind] = {}
        for name, x in by_name.items():
            col = [every[a][kind][name] for a in every]
            mean = sum(col) / len(col)
            sd = (sum((c - mean) ** 2 for c in col) / len(col)) ** 0.5
            out[kind][name] = (x - mean) / sd if sd > 0 else 0.0
    return out, "\n".join(prompts)


def needs_from_scores(
    scores: Mapping[str, Mapping[str, float]],
    achievement: str,
    yields: Iterable[str] = (),
    puts: Iterable[str] = (),
) -> _Needs:
    """The needs whose standardised score clears ``NEED_Z`` (at most ``NEED_TOP`` per kind);
    nothing uses up or holds what it yields (``yields``, or the item ``achievement`` is named
    after: ``wood_pickaxe`` for ``make_wood_pickaxe``) nor needs near what it places."""
    own, placed = set(yields), set(puts)
    picked: dict[str, list[str]] = {}
    for kind, by_name in scores.items():
        # What an achievement yields is neither used up nor held to get it (nothing needs
        # itself): the model's own gives, and the item the achievement is named after.
        mine = (
            placed
            if kind == "nearby"
            else own | {n for n in by_name if achievement.endswith("_" + n)}
        )
        ranked = sorted(
            ((n, z) for n, z in by_name.items() if n not in mine), key=lambda kv: -kv[1]
        )[: NEED_TOP[kind]]
        picked[kind] = [n for n, z in ranked if z > NEED_Z[kind]]
    return _Needs(
        consumes=picked.get("consumes", []),
        tools=picked.get("tool", []),
        nearby=picked.get("nearby", []),
    )


def hypothesise(
    llm: Any,
    model: WorldModel,
    target: str,
    vocab: Vocab,
    *,
    max_calls: int = 8,
    scorer: Any = None,
) -> list[LLMExchange]:
    """Ask the LLM what ``target`` needs, then what those needs' producers need (breadth first).

    Adds "hypothesis" edges for achievements the model has never been asked about, names
    limited to ``vocab``. With a ``scorer``, each candidate need is scored by likelihood
    (``score_needs``, calibrated; measured better than generation with small models), else
    the chat model answers a schema. Returns the exchanges for the trace.
    """
    if not vocab.needables or not vocab.kinds:
        return []
    if not callable(getattr(scorer, "score", None)):
        scorer = None  # a scorer without log-likelihoods (a stand-in): the chat model answers
    schema = _needs_schema(vocab)
    structured = llm.with_structured_output(schema) if scorer is None else None
    queue = [target]
    exchanges: list[LLMExchange] = []
    while queue and len(exchanges) < max_calls:
        name = queue.pop(0)
        if name in model.hypothesised or name not in vocab.achievements:
            continue
        yields, puts = set(model.gives(name)), set(model.places(name))
        if scorer is not None:
            scores, prompt = score_needs(scorer, model.env, name, vocab)
            needs = needs_from_scores(scores, name, yields, puts)
        else:
            prompt = render(
                "world_model",
                env=model.env.split("-", 1)[0].capitalize(),
                achievement=name.replace("_", " "),
                items=", ".join(vocab.needables),
                kinds=", ".join(vocab.kinds),
            )
            try:
                raw: Any = structured.invoke(prompt)  # type: ignore[union-attr]
                data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw)
                needs = _Needs.model_validate(data)
            except (ValidationError, ValueError, TypeError) as e:
                log.warning("world-model hypothesis for %s unusable: %s", name, e)
                needs = _Needs()
        model.hypothesised.append(name)
        how = method_of(scorer if scorer is not None else llm)
        exchanges.append(
            LLMExchange(
                role="world_model", prompt=prompt, reply=needs.model_dump_json(), method=how
            )
        )
        proposals: list[tuple[NeedKind, str]] = [("consumes", i) for i in needs.consumes]
        proposals += [("tool", i) for i in needs.tools]
        proposals += [("nearby", k) for k in needs.nearby]
        for kind, thing in dict.fromkeys(proposals):
            if thing in (puts if kind == "nearby" else yields):
                continue  # nothing needs itself (collecting coal needs coal nearby, not held)
            if model.edge(name, kind, thing) is not None:
                continue  # experience already judged this edge
            model.edges.append(Edge(achievement=name, kind=kind, thing=thing))
            producer = (
                model.placer(thing, vocab.achievements)
                if kind == "nearby"
                else model.producer(thing, vocab.achievements)
            )
            if producer:
                queue.append(producer)
    return exchanges


# ---------------------------------------------------------------------- prediction
def predict(
    model: WorldModel | None,
    meta: Any,
    inventory: Mapping[str, int],
    known: Iterable[str] = (),
    *,
    scorer: Any = None,
    observation: str = "",
) -> Prediction:
    """Success probability, inventory change and steps of one skill from here.

    Feasibility comes from the model's needs (a verified unmet need makes it ~0, an LLM-only
    one only lowers it), times the skill's success history; a skill never tried that the
    model knows nothing about asks the LLM (``scorer``: yes/no likelihood), if given.
    """
    achievement = getattr(meta, "achievement", None) or ""
    self_contained = bool(getattr(meta, "self_contained", False))
    feasible, why = 1.0, []
    missing: list[Edge] = []
    if model is not None and achievement and not self_contained:
        missing = model.missing(achievement, inventory, known)
        for e in missing:
            feasible *= 0.0 if e.status == "verified" else HYPOTHESIS_DOUBT
            why.append(f"{e.text}? ({e.status})")
    stats = model.skills.get(meta.name) if model is not None else None
    if stats and stats.clear_attempts:
        # How often it worked when the model saw nothing missing: its own reliability.
        attempts, successes = stats.clear_attempts, stats.clear_successes
    else:
        attempts = getattr(meta, "attempts", 0) or (stats.attempts if stats else 0)
        successes = getattr(meta, "successes", 0) or (stats.successes if stats else 0)
    known_to_model = model is not None and (
        achievement in model.stats or bool(model.needs(achievement))
    )
    if attempts == 0 and not known_to_model and scorer is not None:
        prompt = render(
            "world_model_predict", skill=meta.name.replace("_", " "), observation=observation
        )
        yes, _ = scorer.distribution(prompt, [" yes", " no"])
        history = min(0.8, max(0.2, float(yes)))
        why.append(f"LLM p(yes)={yes:.2f}")
    else:
        history = (successes + 1) / (attempts + 2)
        why.append(f"history {successes}/{attempts}")
    steps, delta = DEFAULT_STEPS, {}
    if stats and stats.successes:
        steps = round(stats.steps / stats.successes)
        delta = {i: round(n / stats.successes) for i, n in stats.delta.items()}
        delta = {i: n for i, n in delta.items() if n}
    elif model is not None and achievement:
        for e in model.needs(achievement):
            if e.kind == "consumes":
                delta[e.thing] = delta.get(e.thing, 0) - e.amount
        for i, n in model.gives(achievement).items():
            delta[i] = delta.get(i, 0) + n
    why.append(f"~{steps} steps")
    return Prediction(
        p_success=feasible * history,
        feasible=feasible,
        delta=delta,
        steps=steps,
        missing=[e.text for e in missing],
        why="wm: " + ", ".join(why),
    )


# ---------------------------------------------------------------------- imagination
@dataclass
class _Chain:
    model: WorldModel
    achievements: tuple[str, ...]
    inv: dict[str, int]
    near: set[str]
    steps: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)

    def achieve(self, name: str, via: Edge | None = None) -> None:
        if name in self.stack or len(self.stack) > 30:
            if via is not None and via.status == "hypothesis":
                self.notes.append(f"ignored unverified need of {via.achievement}: cycle")
                return
            raise OutOfReach(f"{name} needs itself (a cycle through {' -> '.join(self.stack)})")
        self.stack.append(name)
        needs = sorted(
            self.model.needs(name), key=lambda e: ("nearby", "tool", "consumes").index(e.kind)
        )
        for e in needs:
            if e.kind == "nearby":
                if e.thing in self.near:
                    continue
                placer = self.model.placer(e.thing, self.achievements)
                if placer is not None:
                    self.achieve(placer, e)
                self.near.add(e.thing)  # no placer: a thing of the world, the skill finds it
            elif e.kind == "tool":
                self.ensure(e.thing, e.amount, e)
        consumes = [e for e in needs if e.kind == "consumes"]
        for _ in range(4):  # getting one consumable may spend another
            for e in consumes:
                self.ensure(e.thing, e.amount, e)
            if all(self.inv.get(e.thing, 0) >= e.amount for e in consumes):
                break
        for e in consumes:
            self.inv[e.thing] = self.inv.get(e.thing, 0) - e.amount
        gives = self.model.gives(name)
        for kind in self.model.places(name):
            self.near.add(kind)
        self.stack.pop()
        if name.startswith("collect_") and len(gives) == 1:
            (item,) = gives
            want = self.inv.get(item, 0) + gives[item]
            self.inv[item] = want
            for i, (prev, need) in enumerate(self.steps):  # merge into the first collect
                if prev == name:
                    self.steps[i] = (prev, {item: need[item] + gives[item]})
                    return
            self.steps.append((name, {item: want}))
            return
        for item, n in gives.items():
            self.inv[item] = self.inv.get(item, 0) + n
        self.steps.append((name, {}))

    def ensure(self, item: str, amount: int, via: Edge) -> None:
        while self.inv.get(item, 0) < amount:
            producer = self.model.producer(item, self.achievements)
            if producer is None:
                if via.status == "hypothesis":
                    self.notes.append(f"ignored unverified need {via.text}: nothing yields it")
                    return
                raise OutOfReach(f"nothing known yields {item} ({via.achievement} {via.text})")
            before = self.inv.get(item, 0)
            self.achieve(producer, via)
            if self.inv.get(item, 0) <= before:
                return  # a cycle was cut: do not loop


def prerequisites(
    model: WorldModel,
    target: str,
    inventory: Mapping[str, int],
    known: Iterable[str] = (),
    achievements: Iterable[str] = (),
) -> tuple[list[tuple[str, dict[str, int]]], list[str]]:
    """Backward-chain ``target`` through the learned model: ``(name, need)`` steps and notes.

    Raises OutOfReach when a verified need has no known producer (or a verified cycle).
    When the LLM's unverified edges blow the chain up past ``MAX_CHAIN`` steps, it is
    imagined again from the verified edges alone (a small model's guesses must not cost
    hundreds of env steps).
    """
    chain = _Chain(
        model=model,
        achievements=tuple(achievements),
        inv={k: int(v) for k, v in inventory.items()},
        near=set(known),
    )
    chain.achieve(target)
    if len(chain.steps) > MAX_CHAIN:
        verified = model.model_copy(
            update={"edges": [e for e in model.edges if e.status == "verified"]}
        )
        steps, notes = prerequisites(verified, target, inventory, known, achievements)
        note = f"ignored the unverified edges: they made a {len(chain.steps)}-step plan"
        return steps, [note, *notes]
    return chain.steps, list(dict.fromkeys(chain.notes))


def rollout(
    model: WorldModel,
    plan: list[tuple[str, dict[str, int]]],
    inventory: Mapping[str, int],
    known: Iterable[str] = (),
    metas: Mapping[str, Any] | None = None,
) -> list[ImaginedStep]:
    """Roll a plan through the model: per step, its chance, steps and where it may fail."""
    inv = {k: int(v) for k, v in inventory.items()}
    near = set(known)
    out = []
    for name, need in plan:
        meta = (metas or {}).get(name) or SkillMeta(name=name, description=name, achievement=name)
        pred = predict(model, meta, inv, near)
        risks = list(pred.missing)
        risks += [
            f"{e.text} (unverified)"
            for e in model.needs(name)
            if e.status == "hypothesis" and e.text not in pred.missing
        ]
        out.append(
            ImaginedStep(
                name=name,
                need=need,
                p_success=pred.p_success,
                steps=pred.steps,
                risk="; ".join(risks),
            )
        )
        for e in model.needs(name):
            if e.kind == "consumes":
                inv[e.thing] = inv.get(e.thing, 0) - e.amount
        gives = model.gives(name)
        for item, n in gives.items():
            inv[item] = max(inv.get(item, 0) + n, need.get(item, 0))
        near.update(model.places(name))
    return out


# ---------------------------------------------------------------------- storage
def model_path(env_id: str, home: Path | None = None) -> Path:
    """Where an env's world model lives, beside the skill library."""
    return (home or mendako_home()) / "world_models" / f"{env_id}.json"


def load(env_id: str, home: Path | None = None) -> WorldModel:
    """The saved model of ``env_id``, or a new empty one; a corrupt file is set aside."""
    path = model_path(env_id, home)
    vitals = list(vocab_for(env_id).vitals)
    if not path.is_file():
        return WorldModel(env=env_id, vitals=vitals)
    try:
        return WorldModel.model_validate(json.loads(path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as e:
        aside = path.with_name(f"{path.name}.corrupt")
        path.replace(aside)
        log.warning(
            "world model %s is unreadable (%s); moved to %s, starting afresh",
            path,
            type(e).__name__,
            aside.name,
        )
        return WorldModel(env=env_id, vitals=vitals)


def save(model: WorldModel, home: Path | None = None) -> Path:
    """Write the model atomically; returns its path."""
    path = model_path(model.env, home)
    with file_lock(path.with_name(path.name + ".lock")):  # processes sharing a home queue
        write_json_atomic(path, model.model_dump(mode="json"))
    return path


_SHARED: dict[Path, WorldModel] = {}


def shared(env_id: str) -> WorldModel:
    """The process's one copy of an env's model (loaded at first use), for the graph's nodes."""
    path = model_path(env_id)
    if path not in _SHARED:
        _SHARED[path] = load(env_id)
    return _SHARED[path]


# ---------------------------------------------------------------------- recording experience
def nearby_kinds(info: Mapping[str, Any]) -> list[str]:
    """Kinds in the 3x3 area around the player (materials and creatures), from fair perception."""
    grids = [info.get("local_materials"), info.get("local_view")]
    out: set[str] = set()
    for grid in grids:
        if grid is None:
            continue
        w, h = grid.shape
        cx, cy = w // 2, h // 2
        out.update(str(x) for x in grid[cx - 1 : cx + 2, cy - 1 : cy + 2].ravel())
    out.discard("player")
    out.discard("unknown")
    return sorted(out)


def _faced(info: Mapping[str, Any]) -> str:
    grid = info.get("local_materials")
    if grid is None:
        return ""
    fx, fy = info.get("facing", (0, 1))
    w, h = grid.shape
    return str(grid[w // 2 + fx, h // 2 + fy])


@contextlib.contextmanager
def recording(env: Any) -> Iterator[_Recorded]:
    """Record a transition for every achievement unlocked while the block steps ``env``.

    Wraps the env instance's ``step`` (and restores it). The yielded list also keeps every
    step's ``(inventory, nearby)`` in its ``base`` attribute, for the base rates.
    """
    found: _Recorded = _Recorded()
    inner = env.step

    def step(action: int) -> Any:
        info0 = env.info
        out = inner(action)
        info1 = env.info
        inv0 = dict(info0.get("inventory", {}))
        near0 = nearby_kinds(info0)
        found.base.append((inv0, near0))
        ach0, ach1 = info0.get("achievements", {}), info1.get("achievements", {})
        for name, n in ach1.items():
            if n > ach0.get(name, 0):
                faced0, faced1 = _faced(info0), _faced(info1)
                found.append(
                    Transition(
                        achievement=name,
                        success=True,
                        before=inv0,
                        after=dict(info1.get("inventory", {})),
                        nearby=near0,
                        placed=[faced1] if faced1 and faced1 != faced0 else [],
                    )
                )
        return out

    own = vars(env).get("step")
    env.step = step
    try:
        yield found
    finally:
        if own is None:
            del env.step  # the class's own step again
        else:
            env.step = own


class _Recorded(list):
    """Transitions, plus every step's (inventory, nearby) for the base rates."""

    def __init__(self) -> None:
        super().__init__()
        self.base: list[tuple[dict[str, int], list[str]]] = []


def learn_from_execution(
    model: WorldModel,
    recorded: _Recorded,
    *,
    skill: str,
    achievement: str | None,
    success: bool,
    steps: int,
    before: Mapping[str, int],
    after_info: Mapping[str, Any],
    clear: bool = False,
) -> None:
    """Fold one skill execution into the model: every step, every unlock, and a failure.

    ``clear``: the model knew of no unmet need before the skill ran (see `SkillStats`).
    """
    for inv, near in recorded.base:
        model.observe_base(inv, near)
    for t in recorded:
        model.observe(t)
    after = dict(after_info.get("inventory", {}))
    if achievement and not any(t.achievement == achievement for t in recorded):
        model.observe(
            Transition(
                achievement=achievement,
                success=False,
                before=after,
                after=after,
                nearby=nearby_kinds(after_info),
            )
        )
    delta = {i: after.get(i, 0) - before.get(i, 0) for i in set(after) | set(before)}
    model.record_skill(skill, success, steps, delta, clear)
