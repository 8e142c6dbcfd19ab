"""Tests of Crafter rules derived from crafter's own data.yaml."""

from __future__ import annotations

import pytest

from envs._crafter_rules import load_rules


def test_loads_data_yaml() -> None:
    rules = load_rules()
    assert len(rules.achievements) == 22
    assert load_rules() is rules
    assert "wood_pickaxe" in rules.items and "table" in rules.materials


def test_requirements_from_data() -> None:
    rules = load_rules()
    wood = rules.requirement("collect_wood")
    assert wood.face == ["tree"] and wood.gives == {"wood": 1} and wood.tools == {}
    stone = rules.requirement("collect_stone")
    assert stone.tools == {"wood_pickaxe": 1}
    assert rules.requirement("collect_sapling").probability == pytest.approx(0.1)
    table = rules.requirement("place_table")
    assert table.consumes == rules.place["table"]["uses"]
    assert "grass" in table.face and table.action == "place_table"
    iron = rules.requirement("make_iron_pickaxe")
    assert set(iron.nearby) == {"table", "furnace"}
    assert iron.consumes == {"wood": 1, "coal": 1, "iron": 1}
    assert rules.requirement("collect_drink").face == ["water"]
    assert rules.requirement("eat_cow").face == ["cow"]
    assert rules.requirement("eat_plant").after == ["place_plant"]
    with pytest.raises(KeyError):
        rules.requirement("collect_gold")


def test_prerequisites_stone_pickaxe_from_empty() -> None:
    chain = load_rules().prerequisites("make_stone_pickaxe", {})
    wood_total = 2 + 1 + 1  # table + wood pickaxe + stone pickaxe (data.yaml)
    assert chain == [
        ("collect_wood", {"wood": wood_total}),
        ("place_table", {}),
        ("make_wood_pickaxe", {}),
        ("collect_stone", {"stone": 1}),
        ("make_stone_pickaxe", {}),
    ]


def test_prerequisites_wood_pickaxe_and_furnace() -> None:
    rules = load_rules()
    assert rules.prerequisites("make_wood_pickaxe", {}) == [
        ("collect_wood", {"wood": 3}),
        ("place_table", {}),
        ("make_wood_pickaxe", {}),
    ]
    chain = rules.prerequisites("place_furnace", {})
    names = [n for n, _ in chain]
    assert names == [
        "collect_wood",
        "place_table",
        "make_wood_pickaxe",
        "collect_stone",
        "place_furnace",
    ]
    assert dict(chain)["collect_stone"] == {"stone": rules.place["furnace"]["uses"]["stone"]}


def test_prerequisites_skip_what_is_held() -> None:
    rules = load_rules()
    chain = rules.prerequisites("make_stone_pickaxe", {"wood_pickaxe": 1, "wood": 1})
    assert [n for n, _ in chain] == [
        "collect_wood",
        "place_table",
        "collect_stone",
        "make_stone_pickaxe",
    ]
    assert dict(chain)["collect_wood"] == {"wood": 3}
    near = rules.prerequisites("make_wood_pickaxe", {"wood": 1}, nearby={"table"})
    assert near == [("make_wood_pickaxe", {})]
    # eat_plant comes after place_plant, unless a plant placed earlier is remembered.
    assert [n for n, _ in rules.prerequisites("eat_plant", {"sapling": 1})] == [
        "place_plant",
        "eat_plant",
    ]
    assert rules.prerequisites("eat_plant", {}, nearby={"plant"}) == [("eat_plant", {})]
    # A collect goal is its unlock (the counter rising), never a stock level above the max.
    assert rules.prerequisites("collect_wood", {}) == [("collect_wood", {})]
    assert rules.prerequisites("collect_drink", {"drink": 9}) == [("collect_drink", {})]


def test_prerequisites_iron_chain_is_feasible_in_order() -> None:
    rules = load_rules()
    inv: dict[str, int] = {}
    near: set[str] = set()
    for name, need in rules.prerequisites("collect_diamond", {}):
        assert rules.missing(name, inv, near) == [], name
        req = rules.requirement(name)
        for k, v in need.items():
            inv[k] = max(inv.get(k, 0), v)
        for k, v in req.consumes.items():
            inv[k] -= v
        if not name.startswith("collect_") or not need:
            for k, v in req.gives.items():
                inv[k] = inv.get(k, 0) + v
        if name.startswith("place_"):
            near.add(name.removeprefix("place_"))
    assert inv["diamond"] == 1


def test_missing_messages() -> None:
    rules = load_rules()
    assert rules.missing("collect_wood", {}) == []
    assert rules.missing("collect_stone", {}) == ["needs a wood_pickaxe (has none)"]
    msgs = rules.missing("make_stone_pickaxe", {"wood": 1}, {"grass"})
    assert msgs == ["needs 1 stone (has 0)", "needs a nearby table"]
    assert rules.missing("make_wood_pickaxe", {"wood": 1}, {"table", "grass"}) == []
    assert rules.missing("wake_up", {"energy": 9}) != []
    assert rules.missing("wake_up", {"energy": 5}) == []


def test_achieved() -> None:
    rules = load_rules()
    before = {"achievements": {"collect_wood": 0}}
    after = {"achievements": {"collect_wood": 1}}
    assert rules.achieved("collect_wood", before, after)
    assert not rules.achieved("collect_wood", after, after)
