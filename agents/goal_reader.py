"""The goal reader: the language model reads a user's goal into one of the env's targets.

The words prune, the model chooses (DESIGN.md, "Who decides"). The word match of the env's
vocabulary (English words, Japanese substrings; ``envs.goal_vocab``) says which targets the
goal names: one is read with no model call; among several, or where the words name none, the
model chooses. It scores every target, plus a refusal option, as the answer to a prompt
listing them with one line each and a few examples (``agents/prompts/goal_reader.md``;
log-likelihood scoring, partly calibrated by the same prompt with an empty request). The
reading says which method read it and keeps the model's scores, for the trace.

Measured (``benchmarks/goal_reading.py``, tune half): with Qwen2.5-Coder-0.5B this policy
read 37/55 goals right; the model first with the words as its fallback at best 34/55 (over
thresholds), the words alone 33/55.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from agents._prompts import render
from agents.llm import method_of
from envs import goal_vocab
from envs.goal_vocab import GoalVocabulary
from envs.registry import adapter
from envs.values import Decision

__all__ = [
    "CALIBRATION",
    "OVERRIDE",
    "THRESHOLD",
    "GoalReading",
    "decision",
    "exact_target",
    "model_scores",
    "prompt",
    "read",
    "read_goal",
]

THRESHOLD = 0.3
"""Where the words name no target: least probability of the model's top option for its
reading to stand (tuned on the tune half of ``benchmarks/goal_reading.py``)."""
OVERRIDE = 0.7
"""Where the words name several targets: least probability of the model's choice for it to
stand against the words' most specific match (tune half: SmolLM2 chose 8/10 right as is,
9/10 with any bar from 0.6 to 0.9; the words' match was right 10/10)."""
CALIBRATION = 0.5
"""How much of the content-free prior is taken out of the scores (0 none, 1 full PMI)."""


@dataclass(frozen=True)
class GoalReading:
    """What a goal was read as, by which method, and the model's scores behind it."""

    target: str | None
    """The target, or None when the goal asks for nothing the env has (refused)."""
    method: Literal["model", "words", "none", "exact", "kept", "planner"]
    """Who read it: the model; the word-match fallback; nobody (neither found a target);
    ``exact`` (the goal is a target's own name: no model call); ``kept`` (a replan keeps the
    first reading); ``planner`` (an env without a vocabulary: the planner's grounding)."""
    scores: dict[str, float] = field(default_factory=dict)
    """The model's probability of each option (targets and the refusal), best first."""
    model_choice: str | None = None
    """The model's top option (None = it refused), whether or not it stood."""
    words: str | None = None
    """What the word match read (None = nothing), whether or not it was used."""
    scored_by: str = ""
    """How the scores were made (``agents.llm.method_of``: ``loglik`` in process; through a
    server ``forced_loglik``, ``echo_loglik``, ``yesno``, ``votes``); empty without scores."""

    def note(self) -> str:
        """One line for the trace: the reading, its method and the model's top scores."""
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(self.scores.items())[:3])
        said = f"model's top: {top}" if top else "no model scores"
        return (
            f"goal read as {self.target or 'nothing'} by {self.method} ({said}; "
            f"words: {self.words or 'nothing'})"
        )


def _menu(vocab: GoalVocabulary, targets: list[str]) -> str:
    lines = [f"{t}: {vocab.describe.get(t, t.replace('_', ' '))}" for t in targets]
    return "\n".join([*lines, f"{vocab.refuse}: {vocab.refuse_describe}"])


def prompt(vocab: GoalVocabulary, goal: str, targets: list[str] | None = None) -> str:
    """The scoring prompt for ``goal``; everything before the request is the same for every
    goal (a llama.cpp scorer evaluates it once)."""
    targets = targets or vocab.achievements
    examples = "\n\n".join(f'Request: "{g}"\nGoal: {t}' for g, t in vocab.examples)
    return render(
        "goal_reader",
        env=vocab.env.capitalize(),
        refuse=vocab.refuse,
        menu=_menu(vocab, targets),
        examples=examples,
        goal=" ".join(goal.split()),
    )


def model_scores(
    scorer: Any,
    vocab: GoalVocabulary,
    goal: str,
    targets: list[str] | None = None,
    *,
    calibration: float = CALIBRATION,
    among: Any = None,
) -> dict[str, float]:
    """The model's distribution over the targets and the refusal option (or only the options
    ``among``), best first; the prompt lists every target either way."""
    targets = targets or vocab.achievements
    options = list(among) if among else [*targets, vocab.refuse]
    text = prompt(vocab, goal, targets)
    if not hasattr(scorer, "score"):  # a scorer with distributions only: full PMI or none
        base = prompt(vocab, "", targets) if calibration else None
        dist = dict(zip(options, scorer.distribution(text, options, baseline=base), strict=True))
        return dict(sorted(dist.items(), key=lambda kv: -kv[1]))
    raw = scorer.score(text, options)
    if calibration:
        prior = scorer.score(prompt(vocab, "", targets), options)
        raw = [s - calibration * p for s, p in zip(raw, prior, strict=True)]
    top = max(raw)
    weights = [1.0] * len(raw) if math.isinf(top) else [math.exp(s - top) for s in raw]
    total = sum(weights)
    dist = {o: w / total for o, w in zip(options, weights, strict=True)}
    return dict(sorted(dist.items(), key=lambda kv: -kv[1]))


def read_goal(
    goal: str,
    vocab: GoalVocabulary,
    scorer: Any | None,
    targets: list[str] | None = None,
    *,
    threshold: float = THRESHOLD,
    calibration: float = CALIBRATION,
) -> GoalReading:
    """Read ``goal`` into one of ``targets`` (default: the vocabulary's achievements).

    The words prune, the model chooses: when the goal's words name exactly one target it is
    read with no model call; when they name several, the model's most likely of them is the
    reading where it agrees with the words' most specific match or is at least ``OVERRIDE``
    likely (else the words' match stands, traced as overriding the model); when they name
    none, the model reads the goal alone, its top option (a refusal included) standing when
    at least ``threshold`` likely, else the goal is refused.
    ``scorer=None`` reads by words only.
    """
    targets = list(targets or vocab.achievements)
    found = vocab.matches(goal, targets)
    words = next(iter(found), None)
    if scorer is None or len(found) == 1:
        return GoalReading(words, "words" if words else "none", words=words)
    if found:  # the model chooses among what the words left (fewer options to score)
        scores = model_scores(scorer, vocab, goal, targets, calibration=calibration, among=found)
        by = method_of(scorer)
        best, p = next(iter(scores.items()))
        if best == words or p >= OVERRIDE:
            return GoalReading(best, "model", scores, model_choice=best, words=words, scored_by=by)
        # Unsure against the words' most specific match: the words stand (traced as such).
        return GoalReading(words, "words", scores, model_choice=best, words=words, scored_by=by)
    scores = model_scores(scorer, vocab, goal, targets, calibration=calibration)
    by = method_of(scorer)
    best, p = next(iter(scores.items()))
    choice = None if best == vocab.refuse else best
    if p >= threshold and choice is not None:
        return GoalReading(choice, "model", scores, model_choice=choice, words=words, scored_by=by)
    method: Literal["model", "none"] = "model" if choice is None and p >= threshold else "none"
    return GoalReading(None, method, scores, model_choice=choice, words=words, scored_by=by)


def exact_target(goal: str, targets: list[str]) -> str | None:
    """The target whose name the goal's words are exactly ("make a wood pickaxe"), or None."""
    said = goal_vocab.words(goal.replace("_", " "))
    for t in targets:
        if said == goal_vocab.words(t.replace("_", " ")):
            return t
    return None


def read(
    env_id: str,
    goal: str,
    scorer: Any | None,
    targets: list[str],
    proposed: str | None = None,
    kept: str | None = None,
) -> GoalReading:
    """The plan node's reading of ``goal`` in env ``env_id``.

    ``kept`` (the target of an earlier plan in this run) is kept without a call; a goal that
    is a target's own name needs no model; an env without a goal vocabulary falls back to
    the planner's grounding of its ``proposed`` target (``agents.planner.ground_target``).
    """
    if kept is not None and kept in targets:
        return GoalReading(kept, "kept")
    exact = exact_target(goal, targets)
    if exact is not None:
        return GoalReading(exact, "exact", words=exact)
    vocab = adapter(env_id).goal_vocabulary()  # the env contract's (a plugin's own)
    if vocab is None or not set(targets) <= set(vocab.achievements):
        from agents import planner

        target, _source = planner.ground_target(goal, proposed or "", targets)
        return GoalReading(target, "planner" if target else "none")
    return read_goal(goal, vocab, scorer, targets)


def decision(reading: GoalReading, env_steps: int = 0) -> Decision:
    """The reading as a trace decision record (options, the model's scores, the choice)."""
    forced = reading.method in ("exact", "kept")
    return Decision(
        role="goal",
        options=list(reading.scores),
        scores=[round(v, 4) for v in reading.scores.values()],
        choice=reading.target or "none",
        forced=forced,
        method=(reading.scored_by or "loglik")
        if reading.scores
        else ("forced" if forced else reading.method),
        overridden_by=(
            "words"
            if reading.scores
            and reading.method in ("words", "none")
            and reading.target != reading.model_choice
            else None
        ),
        notes=[reading.note()],
        env_steps=env_steps,
    )
