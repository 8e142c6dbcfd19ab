"""LLM as policy (GLAM): packed, cached action scoring is exact; PPO trains only the last
block(s); a saved policy loads back and acts; the CLI prints a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from agents.llm import embedded_model_path
from envs import babyai
from skills.rl import llm_policy as lp


class _CharTok:
    """A character tokenizer: enough to drive a tiny random Llama without downloads."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": [ord(c) % 120 + 1 for c in text]}


def _tiny(seed: int = 0) -> tuple[object, _CharTok]:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
    )
    model = LlamaForCausalLM(cfg).eval()
    model.config._attn_implementation = "sdpa"
    return model, _CharTok()


def _prompts(n: int) -> list[str]:
    """Real BabyAI text observations (different lengths) from a few random steps."""
    env = babyai.make("babyai:BabyAI-GoToRedBallNoDists-v0", max_steps=8)
    out: list[str] = []
    gen = torch.Generator().manual_seed(0)
    seed = 0
    while len(out) < n:
        env.reset(seed=seed)
        while not env.episode_over and len(out) < n:
            info = env.info
            p = lp.make_prompt(info["mission"], babyai.describe(None, info, None))
            if p not in out:
                out.append(p)
            env.step(int(torch.randint(0, 3, (1,), generator=gen)))
        seed += 1
    return out


@pytest.mark.parametrize("train_blocks", [1, 2])
def test_packed_scores_equal_separate_forwards(train_blocks: int) -> None:
    model, tok = _tiny()
    pol = lp.LLMPolicy(model, tok, train_blocks=train_blocks)
    prompt = lp.make_prompt("go to the red ball", "You see a red ball 2 steps forward.")
    scores, _ = pol.score_uncached(prompt)
    p = tok(prompt)["input_ids"]
    with torch.no_grad():
        for i, action in enumerate(lp.ACTIONS):
            q = tok(" " + action)["input_ids"]
            logits = torch.log_softmax(model(torch.tensor([p + q])).logits[0], -1)
            ref = sum(float(logits[len(p) - 1 + k, q[k]]) for k in range(len(q)))
            assert float(scores[i]) == pytest.approx(ref, abs=1e-4)


def test_cached_and_batched_scores_equal_uncached_scoring_before_and_after_an_update() -> None:
    model, tok = _tiny()
    pol = lp.LLMPolicy(model, tok, train_blocks=1)
    prompts = [*_prompts(5), "Goal: go to the red ball.\nNext action:"]  # last: no prefix
    assert len({len(p) for p in prompts}) > 1  # the batch below really pads
    for _ in range(2):  # the second round is served from the caches
        for p in prompts:
            cached, uncached = pol.score(p), pol.score_uncached(p)
            assert torch.allclose(cached[0], uncached[0], atol=1e-5)
            assert torch.allclose(cached[1], uncached[1], atol=1e-5)
    assert pol.frozen_passes == len(prompts)  # the trunk ran once per distinct text
    # one padded batch with repeats, as a PPO minibatch, gives each prompt's own numbers
    batch = [prompts[i] for i in (0, 3, 1, 0, 5, 2, 3, 4)]
    acts = torch.tensor([0, 1, 2, 3, 4, 5, 0, 1])
    logp, ent, value = pol.evaluate_actions(batch, acts)
    for j, p in enumerate(batch):
        s, v = pol.score_uncached(p)
        ref = float(torch.log_softmax(s, -1)[acts[j]])
        assert float(logp[j].detach()) == pytest.approx(ref, abs=1e-5)
        assert float(value[j].detach()) == pytest.approx(float(v), abs=1e-5)
    # after a gradient step the cached scores must follow the new weights
    opt = torch.optim.SGD([q for q in pol.parameters() if q.requires_grad], lr=1.0)
    old = pol.score(prompts[0])[0].clone()
    (-logp.sum() + value.square().sum()).backward()
    opt.step()
    pol.invalidate()
    new = pol.score(prompts[0])[0]
    assert not torch.allclose(old, new, atol=1e-4)
    assert torch.allclose(new, pol.score_uncached(prompts[0])[0], atol=1e-5)
    assert pol.frozen_passes == len(prompts)  # the frozen part did not need recomputing


def test_only_last_blocks_and_value_head_train() -> None:
    model, tok = _tiny()
    pol = lp.LLMPolicy(model, tok, train_blocks=1)
    names = {n for n, p in pol.named_parameters() if p.requires_grad}
    assert names and all(
        n.startswith(("lm.model.layers.2.", "lm.model.norm", "value.")) for n in names
    )
    assert set(pol.trained_state()) == names
    with pytest.raises(ValueError, match="train_blocks"):
        lp.LLMPolicy(model, tok, train_blocks=0)


def test_intervals() -> None:
    lo, hi = lp.wilson(0, 30)
    assert lo == 0.0 and hi == pytest.approx(0.1135, abs=1e-3)
    lo, hi = lp.wilson(15, 30)
    assert lo < 0.5 < hi and hi - lo == pytest.approx(0.34, abs=0.02)
    assert lp.paired_bootstrap([0] * 20, [1] * 20) == (1.0, 1.0)
    lo, hi = lp.paired_bootstrap([0] * 20, [1] * 2 + [0] * 18)
    assert lo == 0.0 and 0.1 <= hi <= 0.25


def test_ppo_updates_the_tiny_llm_and_the_saved_policy_loads_back(tmp_path: Path) -> None:
    model, tok = _tiny()
    before = model.model.layers[-1].mlp.down_proj.weight.clone()
    frozen = model.model.layers[0].mlp.down_proj.weight.clone()
    args = lp.LLMPolicyArgs(
        level="BabyAI-GoToObjS4-v0",
        total_steps=8,
        n_steps=8,
        horizon=4,
        minibatch=4,
        eval_episodes=2,
        epochs=1,
        lr=1e-2,
        out=str(tmp_path / "llm_skill"),
    )
    res = lp.train(args, model=model, tok=tok)
    assert 0.0 <= res["success_before"] <= 1.0 and 0.0 <= res["success_after"] <= 1.0
    assert res["per_episode"]["before"] and len(res["per_episode"]["after"]) == 2
    assert res["distinct_prompts"] == res["frozen_passes"] > 0
    assert not torch.equal(before, model.model.layers[-1].mlp.down_proj.weight)
    assert torch.equal(frozen, model.model.layers[0].mlp.down_proj.weight)
    folder = tmp_path / "llm_skill"
    assert (folder / "llm_policy.pt").is_file()
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["extra"]["result"]["env_steps"] == 8
    # a fresh copy of the same base model + the checkpoint = the trained policy
    fresh, tok2 = _tiny()
    loaded, largs = lp.load_policy(folder, model=fresh, tok=tok2)
    assert largs.level == "BabyAI-GoToObjS4-v0"
    p = lp.make_prompt("go to the red ball", "You face a wall. You see no objects.")
    trained = lp.LLMPolicy(model, tok)
    trained.value.load_state_dict(
        {k.removeprefix("value."): v for k, v in loaded.trained_state().items() if "value" in k}
    )
    assert torch.allclose(loaded.score_uncached(p)[0], trained.score_uncached(p)[0], atol=1e-5)
    untrained = lp.LLMPolicy(_tiny()[0], tok)
    assert not torch.allclose(loaded.score_uncached(p)[0], untrained.score_uncached(p)[0])
    a, logp, _, _ = loaded.act(p)
    assert 0 <= a < len(lp.ACTIONS) and logp <= 0.0


def test_progress_reports_each_phase_with_rate_and_success() -> None:
    model, tok = _tiny()
    seen: list[dict] = []
    args = lp.LLMPolicyArgs(
        level="BabyAI-GoToObjS4-v0", total_steps=6, n_steps=6, horizon=3, minibatch=3,
        eval_episodes=2, epochs=1,
    )  # fmt: skip
    lp.train(args, model=model, tok=tok, progress=seen.append)
    phases = [m["phase"] for m in seen]
    assert phases == ["before"] * 2 + ["train"] * 6 + ["after"] * 2
    assert [m["step"] for m in seen if m["phase"] == "train"] == [1, 2, 3, 4, 5, 6]
    assert all(m["steps_per_s"] > 0 for m in seen)
    assert all(0.0 <= m["success"] <= 1.0 for m in seen if m["phase"] != "train")


@pytest.mark.slow
def test_mlp_baseline_learns_an_easy_task() -> None:
    """Plain PPO reaches 60% on GoToObjS4 (a few minutes on 2 busy cores)."""
    args = lp.LLMPolicyArgs(
        level="BabyAI-GoToObjS4-v0",
        total_steps=1536,
        n_steps=256,
        horizon=6,
        minibatch=64,
        epochs=4,
        eval_episodes=40,
        head_lr=3e-3,
    )
    res = lp.train_mlp(args)
    assert res["success_after"] >= res["success_before"]
    assert res["success_after"] >= 0.6


@pytest.mark.slow
def test_ci_slow_glam_cli_learns_saves_and_the_policy_loads_back_and_acts(
    mendako_home: Path,
) -> None:
    """`mendako skills learn --policy llm` with the embedded SmolLM2 on a real BabyAI level,
    a tiny budget (150 s at load 8: the model loads twice): the table, the checkpoint, and
    the policy loaded back acting."""
    from typer.testing import CliRunner

    from agents.cli import app

    level = lp.LEARN_LEVEL  # the default level
    res = CliRunner().invoke(
        app,
        ["skills", "learn", "--policy", "llm", "--env", "babyai", "--steps", "24",
         "--eval-episodes", "3", "--horizon", "6"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = res.output
    assert f"LLM policy (GLAM) on {level}" in out
    for row in ("before", "after", "lift (paired)", "during training", "95% interval"):
        assert row in out
    assert "steps/s" in out and "{" not in out  # a table and progress lines, not a dict
    folder = mendako_home / "skills_llm" / f"llm_policy_{level}"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["extra"]["result"]["env_steps"] == 24
    policy, args = lp.load_policy(folder)
    assert args.horizon == 6 and args.model_path == str(embedded_model_path())
    state = torch.load(folder / "llm_policy.pt", weights_only=True)
    assert all(torch.equal(state[k], v) for k, v in policy.trained_state().items())
    wins = lp.evaluate(policy, lp.LLMPolicyArgs(level=level, horizon=6, eval_episodes=2))
    assert len(wins) == 2 and set(wins) <= {0, 1}
