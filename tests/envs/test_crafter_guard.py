"""The step-level guard: a zombie next to the player is fought before anything else."""

from __future__ import annotations

import crafter.objects as objects

from envs._crafter_guard import defend_action
from envs.crafter import CrafterEnv, make, make_api


def _zombie_beside(env: CrafterEnv) -> tuple[int, int]:
    """Put a zombie on a free grass cell next to the player; returns its direction."""
    world, player = env._env._world, env._env._player
    for d in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        pos = (int(player.pos[0]) + d[0], int(player.pos[1]) + d[1])
        if world[pos][0] == "grass" and world[pos][1] is None:
            world.add(objects.Zombie(world, pos, player))
            return d
    raise AssertionError("no free grass next to the spawn point")


def test_defend_action_turns_then_hits() -> None:
    env = make("crafter", seed=3)
    env.reset(seed=3)
    assert defend_action(env.info) is None  # nothing hostile next to the spawn point
    d = _zombie_beside(env)
    env.step(0)  # noop: the info now shows the zombie
    info = env.info
    if tuple(info["facing"]) == d:
        assert defend_action(info) == "do"
    else:
        action = defend_action(info)
        assert action is not None and action.startswith("move_")


def test_api_fights_an_adjacent_zombie_before_acting() -> None:
    env = make("crafter", seed=3)
    env.reset(seed=3)
    api = make_api(env, budget=50)
    _zombie_beside(env)
    env.step(0)
    before = env.info["achievements"]["defeat_zombie"]
    api.noop()
    # The zombie (5 health, 1 damage bare-handed) died before the noop was taken.
    assert env.info["achievements"]["defeat_zombie"] == before + 1
    assert api.interrupts == 1
    assert defend_action(env.info) is None


def test_shelter_seals_the_player_in_and_knows_it() -> None:
    env = make("crafter", seed=0, frames=False)
    env.reset(seed=0)
    env._env._player.inventory.update({"wood_pickaxe": 1, "stone": 3})
    api = make_api(env, budget=600)
    assert not api.sheltered()  # the spawn point is open grass
    assert not api.shelter()  # no rock seen yet: no spot to dig in, no step taken
    assert api.steps_used == 0
    api.explore(150)
    assert api.shelter(max_steps=250)
    assert api.sheltered()
    steps = api.steps_used
    assert api.shelter()  # already in: nothing more to dig
    assert api.steps_used == steps
