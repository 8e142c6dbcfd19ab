"""The planner: the LLM reads the goal and proposes subgoals; the env's rules repair the plan.

A 135M model reads goals well enough but cannot judge (DESIGN.md), so its proposal is
validated twice: the target must be supported by the goal's own words (grounding), and the
subgoal list is rolled through the rules (`rules.prerequisites`): what the target needs and
the proposal lacks is inserted, what it does not need is dropped. Both the raw proposal and
the repaired plan go to the trace.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field, create_model

from agents._prompts import render
from graphs.state import LLMExchange, Subgoal

NONE = "none"
MAX_SUBGOALS = 6
_STOP = {
    "a",
    "an",
    "the",
    "some",
    "of",
    "to",
    "and",
    "then",
    "me",
    "my",
    "your",
    "for",
    "it",
    "with",
}
# Achievement words that are verbs or filler: a target is supported when its other words
# (the things it is about) all appear in the goal.
_VERBS = {"collect", "make", "place", "eat", "defeat", "wake"}
# Goal words the achievement names do not contain; data, not logic.
_SYNONYMS = {
    "wake_up": {"sleep", "rest", "wake"},
    "collect_drink": {"water", "drink", "thirst"},
    "eat_cow": {"cow", "beef", "meat"},
    "defeat_zombie": {"zombie"},
    "defeat_skeleton": {"skeleton"},
}


class PlanProposal(BaseModel):
    """What the LLM proposes: the achievement the goal asks for and the subgoals to get there."""

    target: str
    subgoals: list[str]


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("en", "s"):  # wooden -> wood, pickaxes -> pickaxe
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)]
    return word


def goal_words(goal: str) -> set[str]:
    """Content words of a goal, lightly stemmed."""
    return {_stem(w) for w in re.findall(r"[a-zA-Z]+", goal) if w.lower() not in _STOP}


def supports(goal: str, target: str) -> bool:
    """Whether the goal's words name what `target` is about (e.g. 'stone pickaxe')."""
    words = goal_words(goal)
    if target in _SYNONYMS and words & _SYNONYMS[target]:
        return True
    nouns = {_stem(w) for w in target.split("_")} - _VERBS
    return bool(nouns) and nouns <= words


def ground_target(goal: str, proposed: str, targets: list[str]) -> tuple[str | None, str]:
    """Accept the LLM's target if the goal supports it, else the best supported one, else None.

    Returns the target and where it came from ("llm", "words" or "none").
    """
    if proposed in targets and supports(goal, proposed):
        return proposed, "llm"
    words = goal_words(goal)
    supported = [t for t in targets if supports(goal, t)]
    if not supported:
        return None, "none"
    # Prefer the most specific match, then the one whose verb the goal also uses.
    best = max(supported, key=lambda t: (len(set(t.split("_")) & words), -len(t)))
    return best, "words"


def _proposal_schema(names: list[str]) -> type[BaseModel]:
    choice = Literal[tuple(names)]  # type: ignore[valid-type]
    target = Literal[tuple([*names, NONE])]  # type: ignore[valid-type]
    # A bound on the list keeps a small model from enumerating achievements until max_tokens.
    subgoals = (list[choice], Field(min_length=1, max_length=MAX_SUBGOALS))
    return create_model("PlanProposal", target=(target, ...), subgoals=subgoals)


def propose(
    llm: BaseChatModel, goal: str, observation: str, names: list[str], failure: str = ""
) -> tuple[PlanProposal, LLMExchange]:
    """Ask the LLM for a target and subgoals, constrained to known subgoal names."""
    prompt = render(
        "planner",
        subgoals=", ".join(names),
        observation=observation,
        failure=failure,
        goal=goal,
    )
    structured = llm.with_structured_output(_proposal_schema(names))
    raw: Any = structured.invoke(prompt)
    data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw)
    proposal = PlanProposal(target=data["target"], subgoals=list(data["subgoals"]))
    method = str(getattr(llm, "structured_method", ""))  # negotiated with a server, if any
    reply = proposal.model_dump_json()
    return proposal, LLMExchange(role="planner", prompt=prompt, reply=reply, method=method)


def repair(
    proposal: PlanProposal,
    target: str,
    rules: Any,
    inventory: dict[str, int],
    known: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[Subgoal], list[str]]:
    """Roll the proposal through the rules: keep needed subgoals, insert missing, drop the rest.

    `known` are kinds the agent has seen (a remembered table needs no new one).
    Returns the plan and notes saying what was inserted or dropped and why.
    """
    chain = [
        Subgoal(name=n, need=need) for n, need in rules.prerequisites(target, inventory, known)
    ]
    if not chain or chain[-1].name != target:
        chain.append(Subgoal(name=target))
    needed = {s.name for s in chain}
    proposed = set(proposal.subgoals)
    unneeded = dict.fromkeys(n for n in proposal.subgoals if n not in needed)
    notes = [f"dropped {n}: not needed for {target}" for n in unneeded]
    notes += [f"inserted {s.name}: {target} needs it" for s in chain if s.name not in proposed]
    return chain, notes


def repair_imagined(
    proposal: PlanProposal,
    target: str,
    model: Any,
    inventory: dict[str, int],
    known: set[str],
    achievements: list[str],
) -> tuple[list[Subgoal], list[str]]:
    """`--world-model learned`: roll the proposal through the learned model, not the rules.

    The target's chain comes from the model (missing prerequisites inserted); a proposed step
    with a verified unmet need that nothing yields is dropped as impossible; other proposed
    steps are dropped as unneeded only when the chain rests on verified edges alone, and are
    otherwise kept first, as exploration the model can learn from. Raises
    `world_model.OutOfReach` when the model says the target cannot be reached.
    """
    from agents import world_model as wm

    chain, notes = wm.prerequisites(model, target, inventory, known, achievements)
    plan = [Subgoal(name=n, need=need) for n, need in chain]
    in_chain = {s.name for s in plan}
    sure = all(e.status == "verified" for name in in_chain for e in model.needs(name)) and all(
        name in model.stats for name in in_chain
    )
    explore: list[Subgoal] = []
    for name in dict.fromkeys(proposal.subgoals):
        if name in in_chain:
            continue
        blocked = [
            e
            for e in model.missing(name, inventory, known)
            if e.status == "verified"
            and e.kind != "nearby"
            and model.producer(e.thing, achievements) is None
        ]
        if blocked:
            notes.append(f"dropped {name}: impossible, {blocked[0].text} and nothing yields it")
        elif sure:
            notes.append(f"dropped {name}: the verified model says {target} does not need it")
        else:
            explore.append(Subgoal(name=name))
            notes.append(f"kept {name} to explore: the model is not sure yet")
    proposed = set(proposal.subgoals)
    notes += [
        f"inserted {s.name}: imagined {target} needs it" for s in plan if s.name not in proposed
    ]
    return explore + plan, notes


def validate_only(proposal: PlanProposal, target: str) -> tuple[list[Subgoal], list[str]]:
    """`--world-model off`: the LLM's plan as is (names were schema-validated), target last."""
    names = list(dict.fromkeys(n for n in proposal.subgoals if n != target))
    return [Subgoal(name=n) for n in [*names, target]], ["world model off: the LLM's plan as is"]