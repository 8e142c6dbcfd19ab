"""Crafter's survival needs (behind the adapter's ``survival()``): thresholds and reflexes."""

from __future__ import annotations

import numpy as np

from envs import crafter
from envs._crafter_survival import DUSK_BUDGET, SHELTER_BUDGET, CrafterSurvival, survival_need
from envs.contract import Reflex


def test_survival_needs() -> None:
    assert survival_need({"drink": 2}) == "collect_drink"
    assert survival_need({"health": 3}, {"zombie"}) is None  # no pickaxe to dig in
    assert survival_need({"health": 3, "wood_pickaxe": 1}) == "recover"
    assert survival_need({"wood_pickaxe": 1}, night=True) == "sleep_in_shelter"
    assert survival_need({}, night=True) is None  # no pickaxe: cannot dig in
    assert survival_need({"drink": 9, "food": 9, "energy": 9}) is None
    # In the middle of a skill only a stat about to run out interrupts it.
    assert survival_need({"drink": 4}, urgent=True) is None
    assert survival_need({"drink": 2}, urgent=True) == "collect_drink"
    # A cow in sight is eaten before food runs low, in the middle of a skill too.
    assert survival_need({"food": 6}, {"cow"}) == "eat_cow"
    assert survival_need({"food": 6}, {"cow"}, urgent=True) == "eat_cow"
    assert survival_need({"food": 7}, {"cow"}, urgent=True) is None


class _View:
    def __init__(self, inventory: dict[str, int], daylight: float, seen: set[str]) -> None:
        self.inventory, self.info, self._seen = inventory, {"daylight": daylight}, seen

    def sees(self, kind: str) -> bool:
        return kind in self._seen


def test_reflexes_carry_skill_stat_and_budget() -> None:
    watch = crafter.ADAPTER.survival()
    assert isinstance(watch, CrafterSurvival)
    full = {"drink": 9, "food": 9, "energy": 9, "health": 9}
    assert watch.need(_View(full, 1.0, set())) is None
    thirsty = watch.need(_View(full | {"drink": 2}, 1.0, set()))
    assert thirsty == Reflex("collect_drink", "collect_drink", "drink", 9, None)
    # Night with a pickaxe: the shelter, with its long budget.
    night = watch.need(_View(full | {"wood_pickaxe": 1}, 0.3, set()))
    assert (
        night is not None and night.skill == "sleep_in_shelter" and night.budget == SHELTER_BUDGET
    )
    # Dusk is falling light below 0.85: not yet at 0.9, then at 0.8 (and not when rising).
    dusk = crafter.ADAPTER.survival()
    assert dusk.need(_View(full | {"food": 6}, 0.9, set())) is None
    topped = dusk.need(_View(full | {"food": 6}, 0.8, set()))
    assert topped is not None and topped.need == "eat_cow" and topped.budget == DUSK_BUDGET
    assert dusk.need(_View(full | {"food": 6}, 0.82, set())) is None  # morning: light rises


def test_survival_reads_a_live_session() -> None:
    from envs.registry import EnvSession

    session = EnvSession.open("crafter", 0)
    assert crafter.ADAPTER.survival().need(session) is None  # a fresh player needs nothing
    assert session.vitals() == {"health": 9, "food": 9, "drink": 9, "energy": 9}
    assert isinstance(session.info["local_view"], np.ndarray)
