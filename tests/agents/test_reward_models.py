"""Language reward models (issue 8): judge, similarity, manual, clip, and their wiring."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.runnables import RunnableLambda

from agents.rewards import TransitionReward, make_reward_model, transition_reward
from agents.rewards._captions import caption, describe_transition, gerund
from agents.rewards.judge import JudgeAnswer, JudgeReward
from agents.rewards.manual import ManualReward, excerpt, load_manual
from agents.rewards.similarity import SimilarityReward, reference_events


def info(inv: dict[str, int] | None = None, ach: dict[str, int] | None = None) -> dict[str, Any]:
    return {"inventory": inv or {}, "achievements": ach or {}}


WOOD = (info({"wood": 0}, {"collect_wood": 0}), info({"wood": 1}, {"collect_wood": 1}))
TABLE = (info({"wood": 2}, {"place_table": 0}), info({"wood": 0}, {"place_table": 1}))


class FakeYesNo:
    """A chat model whose structured output says yes when ``needle`` is in the prompt."""

    def __init__(self, needle: str) -> None:
        self.needle = needle
        self.prompts: list[str] = []

    def with_structured_output(self, schema: Any, **kw: Any) -> RunnableLambda:
        def answer(prompt: Any) -> JudgeAnswer:
            self.prompts.append(str(prompt))
            return JudgeAnswer(answer="yes" if self.needle in str(prompt) else "no")

        return RunnableLambda(answer)


def test_captions() -> None:
    assert caption("collect_wood") == "you collected wood"
    assert caption("place_table") == "you placed a table"
    assert caption("make_iron_pickaxe") == "you made an iron pickaxe"
    assert gerund("collect_drink") == "drinking water"
    assert describe_transition(*WOOD) == "you collected wood"
    assert describe_transition(WOOD[0], WOOD[0]) == "nothing happened"


def test_judge_rewards_yes_caches_and_skips_quiet_steps() -> None:
    llm = FakeYesNo("wood 0 -> 1")
    judge = JudgeReward(llm)
    got = judge.assess("collect_wood", *WOOD)
    assert (got.success, got.reward) == (True, 1.0)
    assert "judge said yes" in got.why and "collect wood" in llm.prompts[0]
    judge.assess("collect_wood", *WOOD)
    assert judge.calls == 1  # cached by prompt
    assert judge.assess("collect_wood", WOOD[0], WOOD[0]).reward == 0.0
    assert judge.calls == 1  # nothing changed: not asked
    assert judge.assess("collect_wood", *TABLE).reward == 0.0
    assert JudgeReward(llm, "gather timber").prompt("collect_wood", *WOOD).count("timber") == 1


def _toy_embed(texts: Sequence[str]) -> np.ndarray:
    # One axis per object word: captions and subgoals sharing an object point the same way.
    words = sorted({w for e in reference_events() for w in e.split("_")} | {"water", "drank"})
    out = np.zeros((len(texts), len(words) + 1), np.float32)
    for i, t in enumerate(texts):
        for w in t.replace("_", " ").split():
            if w in words:
                out[i, words.index(w)] += 1.0
        out[i, -1] = 0.1
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_similarity_thresholds_calibrated_score() -> None:
    sim = SimilarityReward(_toy_embed)
    good = sim.assess("collect_wood", *WOOD)
    assert good.success and good.reward == 1.0 and "z=" in good.why
    assert not sim.assess("collect_wood", *TABLE).success
    assert sim.assess("collect_wood", WOOD[0], WOOD[0]).reward == 0.0
    assert SimilarityReward(_toy_embed, threshold=1e9).assess("collect_wood", *WOOD).reward == 0


@pytest.mark.slow
def test_similarity_with_embedded_model_separates_events() -> None:
    sim = SimilarityReward()
    hits = [e for e in reference_events() if sim.score(e.replace("_", " "), caption(e))[1] > 2.25]
    assert len(hits) >= 18
    assert sim.assess("collect_wood", *WOOD).success
    assert not sim.assess("place_table", *WOOD).success


def test_manual_bonus_for_useful_events_once_per_episode(tmp_path: Path) -> None:
    manual = load_manual()
    assert "table uses two wood" in manual.lower().replace("placing a ", "")
    assert "wood" in excerpt(manual, "collect_wood", "place_table")
    llm = FakeYesNo("collecting wood")
    m = ManualReward(llm, manual)
    m.reset(WOOD[0])
    assert m.useful("place_table") == {"collect_wood"}
    assert m.assess("place_table", *WOOD).reward == pytest.approx(0.1)
    assert m.assess("place_table", *WOOD).reward == 0.0  # paid once per episode
    done = m.assess("place_table", *TABLE)
    assert done.success and done.reward == 1.0 and "done" in done.why
    m.reset(WOOD[0])
    assert m.assess("place_table", *WOOD).reward == pytest.approx(0.1)
    own = tmp_path / "m.md"
    own.write_text("Wood is good.")
    assert load_manual(own) == "Wood is good."
    with pytest.raises(FileNotFoundError):
        load_manual(tmp_path / "missing.md")


def test_transition_reward_is_a_ppo_reward(monkeypatch: pytest.MonkeyPatch) -> None:
    from skills.rl import rewards

    monkeypatch.setattr(
        "agents.rewards.make_reward_model", lambda kind, **kw: JudgeReward(FakeYesNo("wood"))
    )
    monkeypatch.setattr("agents.rewards._SHARED", {})
    fn = rewards.make_reward("judge", "collect_wood", language=transition_reward)
    assert isinstance(fn, TransitionReward)
    fn.reset(WOOD[0])
    assert fn(*WOOD) == 1.0
    with pytest.raises(ValueError, match="unknown reward"):
        rewards.make_reward("nope", "collect_wood")


def test_verify_with_model_keeps_programmatic_result_in_critique() -> None:
    from agents import verifier
    from graphs.context import RunSettings
    from graphs.state import Subgoal

    sub = Subgoal(name="collect_wood")
    prog = verifier.verify(
        sub, {"collect_wood": 0}, {"collect_wood": 1}, {"wood": 1}, steps=5, stopped="", error=None
    )
    v = verifier.verify_with_model(prog, JudgeReward(FakeYesNo("zzz")), sub, *WOOD)
    assert v.mode == "judge" and not v.success and v.reward == 0.0
    assert "judge said no" in v.critique and "programmatic check: done" in v.critique
    assert RunSettings().reward == "programmatic"
    with pytest.raises(ValueError, match="unknown reward mode"):
        make_reward_model("telepathy")


# ----------------------------------------------------------------------------- clip
def _tiny_clip(folder: Path) -> Path:
    """A randomly initialised CLIP with a character-level tokenizer, saved locally."""
    transformers = pytest.importorskip("transformers")
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")  # no merges: one token per letter
    tok = transformers.CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="<|endoftext|>"
    )
    images = transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    cfg = transformers.CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 64,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        vision_config={
            "image_size": 32,
            "patch_size": 8,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
        },
        projection_dim=16,
    )
    transformers.set_seed(0)
    transformers.CLIPModel(cfg).save_pretrained(folder)
    transformers.CLIPProcessor(image_processor=images, tokenizer=tok).save_pretrained(folder)
    return folder


def test_clip_projection_maths() -> None:
    from agents.rewards.clip import projected_reward

    rng = np.random.default_rng(0)
    x, g, b = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 8)))
    assert projected_reward(x, g, b, 0.0)[0] == pytest.approx(float(x @ g), abs=1e-6)
    d = (g - b) / np.linalg.norm(g - b)
    p = 0.3 * np.outer(d, d) + 0.7 * np.eye(8)
    want = 1 - 0.5 * np.sum((p @ (x - g)) ** 2)
    assert projected_reward(x, g, b, 0.3)[0] == pytest.approx(want, abs=1e-6)
    assert projected_reward(x, g, b, 1.0)[0] == pytest.approx(1 - 0.5 * ((x - g) @ d) ** 2)
    assert projected_reward(g, g, b, 0.5)[0] == pytest.approx(1.0)


def test_clip_reward_with_tiny_local_clip(tmp_path: Path) -> None:
    from agents.rewards.clip import ClipReward, ClipWeightsError

    with pytest.raises(ClipWeightsError, match="--clip-weights"):
        make_reward_model("clip")
    with pytest.raises(ClipWeightsError, match="no CLIP folder"):
        ClipReward.from_pretrained(tmp_path)
    clip = ClipReward.from_pretrained(_tiny_clip(tmp_path / "clip"), alpha=0.0)
    frames = [np.random.default_rng(i).integers(0, 255, (64, 64, 3), np.uint8) for i in range(2)]
    x = clip.frame_embeddings(frames)
    g = clip.text_embedding(clip.prompt("collect_wood"))
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert np.allclose(clip.rewards("collect_wood", frames), x @ g, atol=1e-5)
    got = clip.assess("collect_wood", {}, {"frame": frames[0]})
    assert got.reward == pytest.approx(float(x[0] @ g), abs=1e-5) and "clip: R=" in got.why


def test_cli_reward_option_fails_in_one_line_without_clip_weights() -> None:
    from typer.testing import CliRunner

    from agents.cli import app

    out = CliRunner().invoke(app, ["run", "collect wood", "--reward", "clip"])
    assert out.exit_code != 0 and "--clip-weights" in out.output
