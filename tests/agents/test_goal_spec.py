"""Goal specifications (#20): each condition checked in a real Crafter (reading a goal into a
spec is tested in ``test_spec_reader``)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from agents import goal_spec as G
from agents import spec_reader as R
from envs import crafter, goal_vocab
from envs.registry import EnvSession


@pytest.fixture(scope="module")
def parts():
    return goal_vocab.load("crafter"), crafter.load_rules()


def test_check_reads_each_condition_in_a_real_env(parts) -> None:
    session = EnvSession.open("crafter", seed=0)
    start = {"achievements": dict(session.achievements), "steps": session.steps}
    spec = R.read_spec_words("get to full health and survive 5 steps and collect 1 wood", *parts)
    states = G.check(spec, session, start)
    assert [s.met for s in states] == [True, False, False]  # full health at the start
    noop = session.rules.actions.index("noop") if hasattr(session.rules, "actions") else 0
    for _ in range(5):
        session.env.step(noop)
    states = G.check(spec, session, start)
    assert [s.met for s in states] == [True, True, False]
    assert states[1].seen == "5 steps" and states[2].seen == "0"


def _start(session) -> dict:
    return {"achievements": dict(session.achievements), "steps": session.steps}


def test_then_counts_a_later_condition_only_once_the_earlier_is_met() -> None:
    # "place a table, then collect wood": the wood collected before the table does not count;
    # wood collected after it does, and the table stays met once met (it happened, in order).
    session = EnvSession.open("crafter", seed=0)
    spec = G.GoalSpec(
        conditions=[G.Achieve(name="place_table"), G.Achieve(name="collect_wood")], ordered=True
    )
    start = _start(session)
    api = session.api(400, {})
    assert api.collect("tree", until=3)
    states = G.check(spec, session, start)
    assert [s.met for s in states] == [False, False]
    assert states[1].seen == "waits for place_table"
    assert api.place("table")
    states = G.check(spec, session, start, states)
    assert [s.met for s in states] == [True, False]
    assert states[0].met_at == session.steps and states[1].seen == "0 times"
    table_at = states[0].met_at
    assert api.collect("tree", until=session.inventory["wood"] + 1)
    states = G.check(spec, session, start, states)
    assert [s.met for s in states] == [True, True]
    assert states[0].met_at == table_at and states[1].met_at == session.steps
    # The same conditions in any order: the wood before the table counts.
    unordered = G.GoalSpec(conditions=spec.conditions, ordered=False)
    assert [s.met for s in G.check(unordered, session, start)] == [True, True]


def test_ordered_state_condition_is_judged_only_after_the_previous_one() -> None:
    session = EnvSession.open("crafter", seed=0)
    spec = G.GoalSpec(
        conditions=[G.Have(item="wood", at_least=1), G.Survive(steps=3)], ordered=True
    )
    start = _start(session)
    for _ in range(5):  # five steps alive before any wood: they do not count for the span
        session.env.step(0)
    states = G.check(spec, session, start)
    assert [s.met for s in states] == [False, False]
    api = session.api(200, {})
    assert api.collect("tree", until=1)
    states = G.check(spec, session, start, states)
    assert [s.met for s in states] == [True, False] and states[1].seen == "0 steps"
    for _ in range(3):
        session.env.step(0)
    states = G.check(spec, session, start, states)
    assert [s.met for s in states] == [True, True] and states[1].seen == "3 steps"


def test_near_is_checked_on_the_local_view_of_a_real_env() -> None:
    session = EnvSession.open("crafter", seed=0)
    by_tree = G.Near(target="tree", placed="table")
    by_water = G.Near(target="water", placed="table")
    spec = G.GoalSpec(conditions=[by_tree, by_water, G.Near(target="tree")])
    start = _start(session) | {"cells": {"table": []}}
    states = G.check(spec, session, start)
    assert [s.met for s in states] == [False, False, False]
    assert states[0].seen == "no table placed yet"
    api = session.api(400, {})
    assert api.collect("tree", until=2)
    assert G.check(spec, session, start)[2].met  # collecting wood: the player faces a tree
    assert api.place("table", next_to="tree")
    states = G.check(spec, session, start, states)
    assert [s.met for s in states[:2]] == [True, False]
    assert states[1].seen == "1 placed, none seen next to a water"
    # The env's own cells agree: the table's world cell has a tree among its 8 neighbours.
    (x, y) = session.adapter.next_to(session.env, "tree", "table")[0]
    world = session.env._env._world
    around = {world[(x + dx, y + dy)][0] for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    assert world[(x, y)][0] == "table" and "tree" in around
    # A table known at the start is not one placed for the goal.
    old = start | {"cells": {"table": [[x, y]]}}
    assert not G.check(G.GoalSpec(conditions=[by_tree]), session, old)[0].met


def test_nights_follow_the_envs_own_daylight() -> None:
    session = EnvSession.open("crafter", seed=0)
    survival = session.adapter.survival()
    env = session.env
    ends = survival.night_ends(env, 0, 900)
    assert len(ends) == 3 and all(b - a == G.DAY_STEPS for a, b in pairwise(ends))
    for step in ends:  # dark one step before, light at the end, as crafter computes it
        assert env.daylight_at(step - 1) < 0.5 <= env.daylight_at(step)
    assert (
        survival.night_end(env, 0, 1) == ends[0] and survival.night_end(env, ends[0], 1) == ends[1]
    )
    for _ in range(3):
        _, _, _, _, info = env.step(0)
        assert env.daylight_at(session.steps) == info["daylight"]
    spec = G.GoalSpec(conditions=[G.Survive(nights=1)])
    (state,) = G.check(spec, session, _start(session))
    assert not state.met and state.seen == "0 steps, 0 nights ended"
