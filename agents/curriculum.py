"""Voyager's automatic curriculum: propose the next goal for the explorer.

What decides what (DESIGN.md, "Who decides"): the rules (the env's own data) prune, the
frontier is every achievement not yet unlocked whose chain is doable from here; the model
chooses: it scores every option by log-likelihood after a prompt that states the facts
about each (how many steps its chain takes, what it needs, what is dangerous about it),
and the best score wins (ties drawn at random from the run's seed, `agents.decide`). With
one option left the choice is forced and no model is called. The state enters the prompt
through the steps each option takes from here (the rules' chain from what is held and
known), not as the observation: the same situation is the same prompt, answered from the
LLM cache in a later goal or episode. Survival needs are reflexes of the run driver, set
off by the env's thresholds (``EnvAdapter.survival``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from agents._prompts import render
from agents.llm import method_of
from envs.values import Decision, LLMExchange


class Proposal(BaseModel):
    """The curriculum's next task, why it was chosen, and the decision behind it."""

    goal: str
    reason: Literal["frontier", "none"]
    exchange: LLMExchange | None = None
    decision: Decision | None = None


def frontier(
    rules: Any,
    achievements: dict[str, int],
    inventory: dict[str, int],
    known: set[str],
    tried: dict[str, int],
    max_tries: int = 2,
    age: Callable[[str], int | None] = lambda kind: None,
) -> list[str]:
    """Achievements not yet unlocked and reachable by the rules, in the rules' own order.

    `tried` counts failed attempts per achievement; one failed `max_tries` times is left out.
    One whose object must first stand a while (`Requirement.wait`: a plant ripens) is left
    out while the oldest one remembered (`age`: steps it has been seen where it stands) is
    younger than that; with none remembered, its chain places one. The order carries no
    preference: the model ranks the options (`propose`).
    """
    options = []
    for name in rules.achievements:
        if achievements.get(name, 0) > 0 or tried.get(name, 0) >= max_tries:
            continue
        if _too_young(rules, name, age):
            continue
        try:
            chain = rules.prerequisites(name, inventory, known)
        except (ValueError, RecursionError):  # the rules cannot reach it from here
            continue
        missing = getattr(rules, "missing", None)
        if len(chain) <= 1 and missing is not None and missing(name, inventory, known):
            continue  # nothing to do first, yet not possible now (sleep with full energy)
        options.append(name)
    return options


def facts(
    rules: Any,
    options: list[str],
    inventory: dict[str, int],
    known: set[str],
    told: Mapping[str, str] = MappingProxyType({}),
) -> tuple[str, str]:
    """The prompt's facts about the options: each with the steps its chain takes from here
    (fewest first), and the notes that concern them (`told`: the env's own facts about its
    goals, ``EnvAdapter.goal_facts``; they inform the model and decide nothing)."""
    steps = {o: max(1, len(rules.prerequisites(o, inventory, known))) for o in options}
    ordered = sorted(options, key=lambda o: steps[o])
    listed = ", ".join(f"{o.replace('_', ' ')} ({steps[o]})" for o in ordered)
    notes = "; ".join(told[o] for o in options if o in told)
    return listed, notes or "none"


def _too_young(rules: Any, name: str, age: Callable[[str], int | None]) -> bool:
    """Whether `name`'s object must stand a while first and the oldest one remembered has not
    stood long enough (False when none is remembered)."""
    requirement = getattr(rules, "requirement", None)  # BabyAI's rules have no such waits
    if requirement is None:
        return False
    req = requirement(name)
    ages = [a for a in map(age, req.face) if a is not None]
    return bool(req.wait and ages and max(ages) < req.wait)


def propose(
    llm: BaseChatModel,
    session: Any,
    tried: dict[str, int],
    *,
    scorer: Any = None,
    seed: int = 0,
    index: int = 0,
) -> Proposal:
    """The next goal for the explorer: the model's choice among the rules' frontier.

    Every option is scored by the model (`scorer`, log-likelihood; made from `llm` when
    not given) and the best one is taken; ties are drawn from `seed` and the decision's
    `index` (the goal's number in the episode), so runs are reproducible. With one option
    the choice is forced: no call. Survival is not proposed here: the driver runs it as a
    reflex (the env adapter's ``survival()``).
    """
    from agents import decide

    inventory = session.inventory
    achievements = session.achievements
    known = session.known_kinds()
    memory = getattr(session.env, "memory", None)
    age = getattr(memory, "age", lambda kind: None)
    options = frontier(session.rules, achievements, inventory, known, tried, age=age)
    steps = int(getattr(session, "steps", 0))
    if not options:
        return Proposal(goal="", reason="none")
    if len(options) == 1:
        decision = Decision(
            role="curriculum",
            options=options,
            choice=options[0],
            forced=True,
            method="forced",
            env_steps=steps,
        )
        return Proposal(goal=options[0], reason="frontier", decision=decision)
    if scorer is None:
        from agents.llm import make_scorer

        scorer = make_scorer(llm)
    done = [a for a, n in achievements.items() if n > 0]
    listed, notes = facts(session.rules, options, inventory, known, session.adapter.goal_facts())
    prompt = render(
        "curriculum",
        done=", ".join(a.replace("_", " ") for a in done) or "nothing yet",
        options=listed,
        notes=notes,
    )
    probs = list(scorer.distribution(prompt, [" " + o.replace("_", " ") for o in options]))
    best = decide.choose(probs, seed=seed, key=("curriculum", index, steps, options))
    task = options[best]
    exchange = LLMExchange(
        role="curriculum",
        prompt=prompt,
        reply=f"{task} (p={probs[best]:.3f})",
        method=method_of(scorer),
    )
    decision = Decision(
        role="curriculum",
        options=options,
        scores=[round(p, 6) for p in probs],
        choice=task,
        method="loglik",
        env_steps=steps,
    )
    return Proposal(goal=task, reason="frontier", exchange=exchange, decision=decision)
