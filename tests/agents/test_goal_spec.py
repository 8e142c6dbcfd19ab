"""Goal specifications (#20): each condition checked in a real Crafter (reading a goal into a
spec is tested in ``test_spec_reader``)."""

from __future__ import annotations

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
