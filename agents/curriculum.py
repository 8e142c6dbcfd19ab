"""Voyager's automatic curriculum for Crafter: propose the next goal, keep the agent alive.

What decides what (honestly): the rules (crafter's `data.yaml`) define the frontier, the
achievements not yet unlocked whose prerequisite chain is doable from here, ordered by how
long that chain is; survival needs (drink, food, energy) are reflexes of the explorer, set off by
thresholds stated as data; the LLM picks the next task from the frontier (constrained to
its names), which with the 135M embedded model mostly means the first, easiest one.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, create_model

from agents._prompts import render
from graphs.state import LLMExchange

HURT = 5  # health at or below which a zombie in view is fought before anything else
# Survival needs, checked in order: (stat, at or below, goal). Crafter's stats run 0..9 and
# health drains when food, drink or energy reach 0 (crafter/objects.py).
SURVIVAL: tuple[tuple[str, int, str], ...] = (
    ("drink", 4, "collect_drink"),
    ("food", 4, "eat_cow"),
    ("energy", 2, "wake_up"),
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
) -> list[str]:
    """Achievements not yet unlocked, reachable by the rules, easiest (shortest chain) first.

    `tried` counts failed attempts per achievement; one failed `max_tries` times is left out.
    """
    options = []
    for name in rules.achievements:
        if achievements.get(name, 0) > 0 or tried.get(name, 0) >= max_tries:
            continue
        chain = rules.prerequisites(name, inventory, known)
        options.append((RISK.get(name, 0), len(chain), rules.achievements.index(name), name))
    return [option[-1] for option in sorted(options)]


def survival_need(
    inventory: dict[str, int],
    threats: set[str] = frozenset(),  # type: ignore[assignment]
    *,
    night: bool = False,
) -> str | None:
    """The survival skill the stats call for, if any.

    A zombie in view is fought when hurt; at night, with a pickaxe to dig in, the player
    shelters and sleeps (zombies spawn in the dark and deal 7 damage to a sleeper).
    """
    if inventory.get("health", 9) <= HURT and "zombie" in threats:
        return "defeat_zombie"
    if night and inventory.get("wood_pickaxe", 0) > 0:
        return "sleep_in_shelter"
    for stat, threshold, goal in SURVIVAL:
        if inventory.get(stat, 9) <= threshold:
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
    options = frontier(session.rules, achievements, inventory, session.known_kinds(), tried)
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
