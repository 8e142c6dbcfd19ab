"""Tests for the verifier-shaped reward (``skills.rl.rewards.shaped_reward``).

The shaping must be potential-based (its discounted sum over an episode telescopes to
``gamma^T Phi(s_T) - Phi(s_0)``, with ``Phi = 0`` at success or death), its potential must
read progress off the rules data and the player's own view, and it must rise as the player
walks to a tree in a real Crafter world.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skills.rl import _obs
from skills.rl.ppo import PPOArgs, SubgoalEnv, train
from skills.rl.rewards import (
    Shaping,
    make_reward,
    progress,
    shaped_reward,
    verifier_reward,
)

crafter_env = pytest.importorskip("envs.crafter")

MOVE_RIGHT, DO = 2, 5
# envs.crafter's world for seed 1 spawns the player with a tree 4 cells to its right, on the
# same row (checked in the test: a different crafter would fail loudly, not silently).
SEED = 1


def _view(cells: dict[tuple[int, int], str]) -> np.ndarray:
    view = np.full(_obs.VIEW, "grass", dtype="<U8")
    view[4, 3] = "player"
    for (x, y), name in cells.items():
        view[x, y] = name
    return view


def _info(cells: dict[tuple[int, int], str], **kw: Any) -> dict[str, Any]:
    inventory = {"health": 9, "wood": 0, **kw.pop("inventory", {})}
    return {
        "local_view": _view(cells),
        "inventory": inventory,
        "achievements": {"collect_wood": 0, **kw.pop("achievements", {})},
        "facing": kw.pop("facing", (0, 1)),
    }


def test_progress_follows_the_rules_data() -> None:
    tree_far, tree_near = _info({(8, 3): "tree"}), _info({(5, 3): "tree"})
    facing = _info({(5, 3): "tree"}, facing=(1, 0))
    assert progress("collect_wood", _info({})) == 0.0  # no tree in view
    assert 0 < progress("collect_wood", tree_far) < progress("collect_wood", tree_near)
    assert progress("collect_wood", tree_near) < progress("collect_wood", facing) == 1.0
    # make_wood_pickaxe: 1 wood held and a table in crafter's 3x3 `nearby` area.
    table_near = _info({(5, 4): "table"}, inventory={"wood": 1})
    assert progress("make_wood_pickaxe", table_near) == 1.0
    assert progress("make_wood_pickaxe", _info({(8, 6): "table"}, inventory={"wood": 1})) < 1.0
    assert progress("make_wood_pickaxe", _info({})) == 0.0
    # place_table uses 1 wood of 2, and grass to place it on is in front of the player.
    one_wood = _info({}, inventory={"wood": 1})
    assert progress("place_table", one_wood) < progress(
        "place_table", _info({}, inventory={"wood": 2})
    )
    # Along the tech tree: with no wood, walking up to a tree and facing it is
    # progress toward the table (wood comes from trees), worth less than holding the wood.
    no_tree, tree_seen = _info({}), _info({(8, 3): "tree"})
    tree_faced = _info({(5, 3): "tree"}, facing=(1, 0))
    assert progress("place_table", no_tree) == 0.0  # grass in front counts only with wood
    assert 0 < progress("place_table", tree_seen) < progress("place_table", tree_faced)
    assert progress("place_table", tree_faced) < progress("place_table", one_wood)
    # A source whose tool is missing is no progress: stone needs a wood pickaxe.
    stone_faced = _info({(5, 3): "stone"}, facing=(1, 0))
    assert progress("place_stone", stone_faced) == 0.0
    with_pickaxe = _info({(5, 3): "stone"}, facing=(1, 0), inventory={"wood_pickaxe": 1})
    assert progress("place_stone", with_pickaxe) > 0.0
    assert progress("eat_cow", _info({(4, 4): "cow"})) == 1.0  # a creature to face
    assert progress("wake_up", _info({})) == 0.0  # nothing the rules ask can be seen


def test_shaping_is_potential_based_over_a_real_episode() -> None:
    env = crafter_env.make("crafter", seed=SEED)
    _, info = env.reset(seed=SEED)
    rng = np.random.default_rng(0)
    for gamma in (1.0, 0.9):
        shaping = Shaping(gamma=gamma)
        shaped, plain = shaped_reward("collect_wood", shaping), verifier_reward("collect_wood")
        shaped.reset(info)
        phi_0 = shaping.scale * progress("collect_wood", info)
        total, t = 0.0, 0
        for t in range(60):
            _, _, dead, _, nxt = env.step(int(rng.integers(_obs.N_ACTIONS)))
            total += gamma**t * (shaped(info, nxt) - plain(info, nxt))
            success = nxt["achievements"]["collect_wood"] > info["achievements"]["collect_wood"]
            info = nxt
            if success or dead:
                phi_t = 0.0  # terminal
                break
        else:
            phi_t = shaping.scale * progress("collect_wood", info)
        assert total == pytest.approx(gamma ** (t + 1) * phi_t - phi_0, abs=1e-9)


def test_potential_rises_walking_to_a_tree_and_success_pays() -> None:
    env = crafter_env.make("crafter", seed=SEED)
    _, info = env.reset(seed=SEED)
    assert info["local_view"][8, 3] == "tree"
    reward = make_reward("shaped", "collect_wood")
    reward.reset(info)
    phis, rewards = [progress("collect_wood", info)], []
    for action in (MOVE_RIGHT, MOVE_RIGHT, MOVE_RIGHT, DO):
        *_, nxt = env.step(action)
        rewards.append(reward(info, nxt))
        phis.append(progress("collect_wood", nxt))
        info = nxt
    # 3 moves: closer, closer, adjacent and facing (the maximum); then the wood is cut.
    assert phis[0] < phis[1] < phis[2] < phis[3] == 1.0
    assert all(r > 0 for r in rewards[:3])
    assert info["inventory"]["wood"] == 1
    assert rewards[3] == pytest.approx(1.0 - Shaping().scale * phis[3])  # Phi(terminal) = 0


def test_death_is_terminal_and_never_pays() -> None:
    shaped = shaped_reward("collect_wood")
    before = _info({(5, 3): "tree"})
    dead = _info({(5, 3): "tree"}, inventory={"health": 0})
    shaped.reset(before)
    assert shaped(before, dead) == pytest.approx(
        -Shaping().scale * progress("collect_wood", before)
    )


def test_subgoal_env_trains_on_the_shaped_kind() -> None:
    env = SubgoalEnv(
        _obs.FairCrafter(seed=SEED, world_pool=1),
        "collect_wood",
        reward="shaped",
        restart_prob=1.0,
    )
    env.reset(seed=SEED)
    assert env.info is not None and env.info["local_view"][8, 3] == _obs._NAME_TO_ID["tree"]
    shaping, phis, out = Shaping(), [], []
    for action in (MOVE_RIGHT, MOVE_RIGHT, MOVE_RIGHT, DO):
        phis.append(shaping.scale * progress("collect_wood", env.info))
        out.append(env.step(action))
    _, reward, terminated, _, ep = out[-1]
    assert terminated and ep["ep_success"] == 1.0
    assert all(r > 0 for _, r, *_ in out[:3]) and reward == pytest.approx(1.0 - phis[-1])
    # The undiscounted return telescopes up to the (1 - gamma) Phi paid on each inner state.
    inner = (1 - shaping.gamma) * sum(phis[1:])
    assert ep["ep_return"] == pytest.approx(1.0 - phis[0] - inner)


def test_make_reward_names_the_kinds() -> None:
    with pytest.raises(ValueError, match="shaped"):
        make_reward("shaping", "collect_wood")


def test_ppo_records_the_shaped_kind_in_meta(tmp_path: Path) -> None:
    args = PPOArgs(
        reward="shaped",
        num_envs=2,
        num_steps=64,
        total_steps=128,
        world_pool=1,
        eval_episodes=0,
        out_dir=str(tmp_path / "rl_collect_wood"),
    )
    curve: list[dict[str, float]] = []
    meta = json.loads((train(args, progress=curve.append) / "meta.json").read_text())
    assert meta["extra"]["reward"] == "shaped" and "--reward shaped" in meta["extra"]["command"]
    assert curve[-1]["global_step"] == 128
