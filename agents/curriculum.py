"""Voyager's automatic curriculum for Crafter: propose the next goal, keep the agent alive.

What decides what (honestly): the rules (crafter's `data.yaml`) define the frontier, the
achievements not yet unlocked whose prerequisite chain is doable from here, ordered by how
long that chain is; survival needs (drink, food, energy) are reflexes of the explorer, set off by
thresholds stated as data; the LLM picks the next task from the frontier (constrained to
its names), which with the 135M embedded model mostly means the first, easiest one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, create_model

from agents._prompts import render
from graphs.state import LLMExchange

TOP_UP = 6  # drink or food at or below which the player fills up at dusk or when in sight
IN_SIGHT: tuple[tuple[str, str, str], ...] = (
    ("drink", "water", "collect_drink"),
    ("food", "cow", "eat_cow"),
)
"""(stat, what restores it, goal): taken whenever the source is in view and the stat is at
or below ``TOP_UP``, in the middle of a skill too."""
WOUNDED = 4  # health at or below which the player hides in a shelter until it heals
# Survival needs, checked in order: (stat, at or below between goals, at or below in the
# middle of a skill, goal). Crafter's stats run 0..9 and health drains when food, drink or
# energy reach 0 (crafter/objects.py); drink falls by one about every 20 steps, food every
# 25-30, so a goal of up to 150 steps may start at 5 and end near 0: the urgent level
# interrupts the skill before that.
SURVIVAL: tuple[tuple[str, int, int, str], ...] = (
    ("drink", 5, 2, "collect_drink"),
    ("food", 4, 2, "eat_cow"),
    ("energy", 2, 1, "wake_up"),
)


class Proposal(BaseModel):
    """The curriculum's next task and why it was chosen."""

    goal: str
    reason: Literal["frontier", "none"]
    exchange: LLMExchange | None = None


# Order adjustments, as data: swords first (zombies come at night, and a sword doubles the
# damage dealt), then by depth; goals that put the player in harm's way (skeletons live in
# dark caves, diamonds sit next to lava) after everything else.
RISK: dict[str, int] = {
    "make_wood_sword": -2,
    "make_stone_sword": -1,
    "defeat_zombie": 1,
    "collect_diamond": 1,
    "defeat_skeleton": 2,
}


def frontier(
    rules: Any,
    achievements: dict[str, int],
    inventory: dict[str, int],
    known: set[str],
    tried: dict[str, int],
    max_tries: int = 2,
    age: Callable[[str], int | None] = lambda kind: None,
) -> list[str]:
    """Achievements not yet unlocked, reachable by the rules, easiest (shortest chain) first.

    `tried` counts failed attempts per achievement; one failed `max_tries` times is left out.
    One whose object must first stand a while (`Requirement.wait`: a plant ripens) is left
    out while the oldest one remembered (`age`: steps it has been seen where it stands) is
    younger than that; with none remembered, its chain places one.
    """
    options = []
    for name in rules.achievements:
        if achievements.get(name, 0) > 0 or tried.get(name, 0) >= max_tries:
            continue
        if _too_young(rules, name, age):
            continue
        chain = rules.prerequisites(name, inventory, known)
        options.append((RISK.get(name, 0), len(chain), rules.achievements.index(name), name))
    return [option[-1] for option in sorted(options)]


def _too_young(rules: Any, name: str, age: Callable[[str], int | None]) -> bool:
    """Whether `name`'s object must stand a while first and the oldest one remembered has not
    stood long enough (False when none is remembered)."""
    requirement = getattr(rules, "requirement", None)  # BabyAI's rules have no such waits
    if requirement is None:
        return False
    req = requirement(name)
    ages = [a for a in map(age, req.face) if a is not None]
    return bool(req.wait and ages and max(ages) < req.wait)


def survival_need(
    inventory: dict[str, int],
    in_view: set[str] = frozenset(),  # type: ignore[assignment]
    *,
    night: bool = False,
    dusk: bool = False,
    urgent: bool = False,
) -> str | None:
    """The survival skill the stats call for, if any.

    ``in_view``: the kinds the player sees (water or a cow in sight is taken early, even
    in the middle of a skill).
    Zombies are not hunted here: the step guard (``envs._crafter_guard``) fights those that
    come next to the player. A wounded player with a pickaxe digs in and rests until it
    heals (``"recover"``); at night, the same: it shelters and sleeps (zombies spawn in the
    dark and deal 7 damage to a sleeper). At ``dusk`` drink and food are topped up.
    ``urgent`` uses the lower thresholds that may interrupt a running skill.
    """
    # A stat about to run out comes before the night: a night asleep at food 0 costs
    # several health points (crafter drains health while a need is unmet).
    for stat, _, in_skill, goal in SURVIVAL:
        if inventory.get(stat, 9) <= in_skill:
            return goal
    can_dig_in = inventory.get("wood_pickaxe", 0) > 0
    if can_dig_in and inventory.get("health", 9) <= (WOUNDED - 1 if urgent else WOUNDED):
        return "recover"
    if night and can_dig_in:
        return "sleep_in_shelter"
    if dusk:  # a night in a shelter costs 2-3 food and drink: fill up before it
        for stat, _, _, goal in SURVIVAL[:2]:
            if inventory.get(stat, 9) <= TOP_UP:
                return goal
    if not urgent:
        for stat, between_goals, _, goal in SURVIVAL:
            if inventory.get(stat, 9) <= between_goals:
                return goal
    # Food or water in sight is cheap: take it before it is needed (cows are scarce).
    for stat, source, goal in IN_SIGHT:
        if source in in_view and inventory.get(stat, 9) <= TOP_UP:
            return goal
    return None


def propose(
    llm: BaseChatModel,
    session: Any,
    tried: dict[str, int],
    *,
    top: int = 5,
) -> Proposal:
    """The next goal for the explorer: the LLM's pick from the rules' frontier.

    Survival is not proposed here: the explorer runs it as a reflex (`survival_need`).
    """
    inventory = session.inventory
    achievements = session.achievements
    memory = getattr(session.env, "memory", None)
    age = getattr(memory, "age", lambda kind: None)
    options = frontier(
        session.rules, achievements, inventory, session.known_kinds(), tried, age=age
    )
    if not options:
        return Proposal(goal="", reason="none")
    options = options[:top]
    done = [a for a, n in achievements.items() if n > 0]
    prompt = render(
        "curriculum",
        done=", ".join(done) or "nothing yet",
        observation=session.describe(),
        frontier=", ".join(options),
    )
    schema = create_model("NextTask", task=(Literal[tuple(options)], ...))  # type: ignore[valid-type]
    raw = llm.with_structured_output(schema).invoke(prompt)
    task = raw.task if isinstance(raw, BaseModel) else raw["task"]
    exchange = LLMExchange(role="curriculum", prompt=prompt, reply=task)
    return Proposal(goal=task, reason="frontier", exchange=exchange)
