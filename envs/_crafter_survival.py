"""Crafter's survival needs and the reflexes that meet them (behind ``EnvAdapter.survival``).

Survival needs are reflexes, not goals: when drink, food or energy run low, or night falls,
the driver runs the matching skill directly until the stat is restored. The thresholds are
stated here as data. Zombies next to the player are the step guard's
(``envs._crafter_guard``), not a need.
"""

from __future__ import annotations

from typing import Any

from envs.contract import Reflex, Survival, SurvivalView

TOP_UP = 6  # drink or food at or below which the player fills up at dusk or when in sight
IN_SIGHT: tuple[tuple[str, str, str], ...] = (
    ("drink", "water", "collect_drink"),
    ("food", "cow", "eat_cow"),
)
"""(stat, what restores it, need): taken whenever the source is in view and the stat is at
or below ``TOP_UP``, in the middle of a skill too."""
WOUNDED = 4  # health at or below which the player hides in a shelter until it heals
# Survival needs, checked in order: (stat, at or below between goals, at or below in the
# middle of a skill, need). Crafter's stats run 0..9 and health drains when food, drink or
# energy reach 0 (crafter/objects.py); drink falls by one about every 20 steps, food every
# 25-30, so a goal of up to 150 steps may start at 5 and end near 0: the urgent level
# interrupts the skill before that.
SURVIVAL: tuple[tuple[str, int, int, str], ...] = (
    ("drink", 5, 2, "collect_drink"),
    ("food", 4, 2, "eat_cow"),
    ("energy", 2, 1, "wake_up"),
)
# Reflexes: need -> (skill, stat it restores, level to restore it to). Crafter stats run 0..9.
REFLEXES: dict[str, tuple[str, str, int]] = {
    "collect_drink": ("collect_drink", "drink", 9),
    "eat_cow": ("eat_cow", "food", 7),
    "wake_up": ("sleep_in_shelter", "energy", 9),  # dig in first when rock is at hand
    "sleep_in_shelter": ("sleep_in_shelter", "energy", 9),
    "recover": ("sleep_in_shelter", "health", 7),
}
# Crafter's daylight runs 1 (noon) to 0 (midnight) over a 300-step day; zombies spawn on
# grass in proportion to the dark (crafter's _balance_chunk), so the player is in its
# shelter from daylight 0.5 in the evening (about step 150 of each day) to 0.8 next morning.
NIGHT = 0.5  # daylight below which the player shelters
DUSK = 0.85  # falling daylight below which it fills up on drink and food first
DUSK_BUDGET = 40  # env steps a dusk top-up may take (dusk lasts about 35 steps)
SHELTER_BUDGET = 800  # steps: a night in crafter lasts about 150 of its 300-step day
REFLEX_PAUSE = 30  # env steps a reflex that did not restore its stat waits before retrying


def survival_need(
    inventory: dict[str, int],
    in_view: set[str] = frozenset(),  # type: ignore[assignment]
    *,
    night: bool = False,
    dusk: bool = False,
    urgent: bool = False,
) -> str | None:
    """The survival need the stats call for, if any (a key of :data:`REFLEXES`).

    ``in_view``: the kinds the player sees (water or a cow in sight is taken early, even
    in the middle of a skill). A wounded player with a pickaxe digs in and rests until it
    heals (``"recover"``); at night, the same: it shelters and sleeps (zombies spawn in the
    dark and deal 7 damage to a sleeper). At ``dusk`` drink and food are topped up.
    ``urgent`` uses the lower thresholds that may interrupt a running skill.
    """
    # A stat about to run out comes before the night: a night asleep at food 0 costs
    # several health points (crafter drains health while a need is unmet).
    for stat, _, in_skill, need in SURVIVAL:
        if inventory.get(stat, 9) <= in_skill:
            return need
    can_dig_in = inventory.get("wood_pickaxe", 0) > 0
    if can_dig_in and inventory.get("health", 9) <= (WOUNDED - 1 if urgent else WOUNDED):
        return "recover"
    if night and can_dig_in:
        return "sleep_in_shelter"
    if dusk:  # a night in a shelter costs 2-3 food and drink: fill up before it
        for stat, _, _, need in SURVIVAL[:2]:
            if inventory.get(stat, 9) <= TOP_UP:
                return need
    if not urgent:
        for stat, between_goals, _, need in SURVIVAL:
            if inventory.get(stat, 9) <= between_goals:
                return need
    # Food or water in sight is cheap: take it before it is needed (cows are scarce).
    for stat, source, need in IN_SIGHT:
        if source in in_view and inventory.get(stat, 9) <= TOP_UP:
            return need
    return None


class CrafterSurvival(Survival):
    """Crafter's needs over one episode; remembers the last daylight (falling light: dusk)."""

    pause = REFLEX_PAUSE

    def __init__(self) -> None:
        self._daylight = 1.0

    def need(self, view: SurvivalView, *, urgent: bool = False) -> Reflex | None:
        """The reflex the player's stats, what it sees and the time of day call for."""
        in_view = {k for k in ("cow", "water") if view.sees(k)}
        daylight = float(view.info.get("daylight", 1.0))
        dusk = daylight < DUSK and daylight < self._daylight
        self._daylight = daylight
        need = survival_need(
            view.inventory, in_view, night=daylight < NIGHT, dusk=dusk, urgent=urgent
        )
        if need is None:
            return None
        skill, stat, level = REFLEXES[need]
        if skill == "sleep_in_shelter":
            budget: int | None = SHELTER_BUDGET
        elif dusk:  # a hunt that runs into the night meets the zombies it spawns
            budget = DUSK_BUDGET
        else:
            budget = None
        return Reflex(need=need, skill=skill, stat=stat, level=level, budget=budget)

    # ------------------------------------------------------------------ nights
    # What a goal to survive the night is checked and pursued by: the env's own daylight
    # (``CrafterEnv.daylight_at``, crafter's formula), a night being the steps below NIGHT.
    def night_ends(self, env: Any, start: int, stop: int) -> list[int]:
        """The env steps in ``(start, stop]`` at which a night ends (daylight back at or above
        :data:`NIGHT` after a step below it)."""
        light = [env.daylight_at(s) for s in range(start, stop + 1)]
        return [start + k for k in range(1, len(light)) if light[k - 1] < NIGHT <= light[k]]

    def nights_ended(self, env: Any, start: int, now: int) -> int:
        """How many nights ended after env step ``start`` up to ``now``."""
        return len(self.night_ends(env, start, now)) if now > start else 0

    def night_end(self, env: Any, start: int, nights: int) -> int:
        """The env step at which the ``nights``-th night after ``start`` ends."""
        ends: list[int] = []
        day = 2 * 300  # crafter's day is 300 steps: two days always hold a night's end
        lo = start
        while len(ends) < nights:
            ends += self.night_ends(env, lo, lo + day)
            lo += day
        return ends[nights - 1]

    def prepare(self, view: SurvivalView, env: Any, until: int, now: int) -> str | None:
        """What to get before holding out until env step ``until``: when a night falls in
        the span, a wood sword first (twice the damage to zombies, which come at night; on
        seeds 0-49 "survive the night" with ``--llm none`` lived 41/50 with it, 38/50
        without), then what the night's reflex (dig into rock and seal the mouth with a
        stone, ``sleep_in_shelter``) needs and the player lacks: a stone in hand, which also
        means a pickaxe and rock found (``collect_stone``, whose chain has the pickaxe).
        None when nothing is needed."""
        inv = view.inventory
        dark = any(env.daylight_at(s) < NIGHT for s in range(now, min(until, now + 600) + 1))
        if not dark:
            return None
        if not inv.get("wood_sword", 0):  # twice the damage to the night's zombies
            return "make_wood_sword"
        if inv.get("wood_pickaxe", 0) > 0 and inv.get("stone", 0) > 0:
            return None
        return "collect_stone"
