"""`skills learn --reward judge|similarity|manual|clip`: PPO trains on a language reward
model (agents.rewards) through the same reward path as the verifier's."""

from __future__ import annotations

import json

import pytest

from agents import rewards
from skills.rl.ppo import PPOArgs, train
from skills.rl.rewards import LANGUAGE_KINDS, make_reward


def test_language_kinds_build_reward_functions():
    fn = make_reward("judge", "collect_wood", language=rewards.transition_reward, llm="embedded")
    assert isinstance(fn, rewards.TransitionReward) and fn.model.mode == "judge"
    with pytest.raises(ValueError, match="unknown reward"):
        make_reward("jugde", "collect_wood")
    with pytest.raises(ValueError, match="language reward"):  # skills import no agents
        make_reward("judge", "collect_wood", llm="embedded")
    assert set(LANGUAGE_KINDS) == {"judge", "similarity", "manual", "clip"}


@pytest.mark.slow
def test_ci_slow_tiny_learn_with_the_judge_reward_asks_the_embedded_model(tmp_path):
    rewards._SHARED.clear()
    args = PPOArgs(
        achievement="collect_wood",
        reward="judge",
        reward_options=(("llm", "embedded"),),
        language_reward=rewards.transition_reward,
        total_steps=128,
        num_envs=2,
        num_steps=64,
        eval_episodes=0,
        eval_episodes_periodic=0,
        seed=3,
        out_dir=str(tmp_path / "rl_collect_wood"),
    )
    out = train(args)
    ((_, judge),) = rewards._SHARED.items()
    # random early actions change the inventory (sapling, wood): each change went to the LLM
    assert judge.mode == "judge" and judge.calls > 0
    meta = json.loads((out / "meta.json").read_text())
    assert "LLM judge's reward" in meta["description"]
    assert '"reward": "judge"' in json.dumps(meta)
    assert meta["extra"]["args"]["language_reward"] == "agents.rewards.transition_reward"
    assert (out / "policy.pt").is_file()


def test_cli_names_every_reward_kind_and_says_what_clip_needs():
    from typer.testing import CliRunner

    from agents.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["skills", "learn", "collect wood", "--reward", "jugde"])
    assert out.exit_code == 2
    text = " ".join(out.output.split())
    assert "unknown reward 'jugde'" in text and "judge, similarity, manual, clip" in text
    out = runner.invoke(app, ["skills", "learn", "collect wood", "--reward", "clip"])
    assert out.exit_code == 2 and "--clip-weights PATH" in " ".join(out.output.split())
