"""Backends against real servers: ``--llm openai:<model>`` through llama-cpp-python's
OpenAI-compatible server (a process on 127.0.0.1, see ``conftest.py``), and Anthropic and
Ollama failing clearly when no server is there."""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agents import _llm_remote as remote
from agents.llm import LLMError, make_chat_model, make_scorer

NAMES = ["collect_wood", "place_table", "make_wood_pickaxe", "collect_stone"]


def _openai(server, **kw):
    kw.setdefault("max_retries", 0)  # the server's refusals need no client-side retries
    return make_chat_model(
        "openai:smollm2", base_url=server.base_url, temperature=0, cache=False, **kw
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ structured output
def test_planner_negotiates_past_json_schema_and_remembers(llama_server, caplog, mendako_home):
    from agents.planner import propose

    llm = _openai(llama_server)
    caplog.set_level(logging.INFO, logger="agents._llm_remote")
    proposal, exchange = propose(llm, "make a wood pickaxe", "You see trees.", NAMES)
    assert proposal.target in [*NAMES, "none"]
    assert proposal.subgoals and set(proposal.subgoals) <= set(NAMES)
    # this server refuses response_format json_schema (HTTP 500), so JSON mode is next
    assert any("json_schema" in r.getMessage() for r in caplog.records)
    assert exchange.method == "json_object" == llm.structured_method
    saved = json.loads((mendako_home / "llm" / "structured_methods.json").read_text())
    assert saved == {f"{llama_server.base_url}|smollm2": "json_object"}

    caplog.clear()
    again = _openai(llama_server)  # a new process would start from the file, as this does
    _, exchange = propose(again, "collect some wood", "You see trees.", NAMES)
    assert exchange.method == "json_object"
    assert not any("failed" in r.getMessage() for r in caplog.records)


def test_refused_method_quotes_the_server_and_names_the_cause(llama_server):
    from agents.planner import _proposal_schema

    runnable = _openai(llama_server).with_structured_output(
        _proposal_schema(NAMES), method="json_schema"
    )
    with pytest.raises(LLMError) as err:
        runnable.invoke("make a wood pickaxe")
    text = str(err.value)
    assert "\n" not in text
    assert "json_schema refused: HTTP 500" in text
    assert "Input should be 'text' or 'json_object'" in text  # the server's own words
    assert "OPENAI_API_KEY" not in text


def test_server_error_names_a_refused_response_format(llama_server):
    llm = _openai(llama_server)
    with pytest.raises(remote.ServerError) as err:
        llm.invoke("hi", response_format={"type": "json_schema", "json_schema": {"name": "x"}})
    e = err.value
    assert e.status == 500 and not e.fatal
    assert "does not accept this response_format" in str(e) and "\n" not in str(e)
    assert "'text' or 'json_object'" in e.server_message


def test_tool_calling_method_gives_valid_output(llama_server):
    from agents.planner import _proposal_schema

    out = (
        _openai(llama_server)
        .with_structured_output(_proposal_schema(NAMES), method="tools")
        .invoke("Goal: make a wood pickaxe. Which subgoals?")
    )
    assert set(out.subgoals) <= set(NAMES) and out.target in [*NAMES, "none"]


def test_wrong_model_path_fails_fast_with_cause():
    llm = make_chat_model(
        "openai:m", base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_retries=0, cache=False
    )
    with pytest.raises(remote.ServerError) as err:
        llm.with_structured_output({"type": "object", "title": "T"}).invoke("x")
    assert err.value.fatal and "no server answered at http://127.0.0.1:" in str(err.value)


# ------------------------------------------------------------------ scoring
def test_server_scorer_is_full_loglik_and_agrees_with_in_process(llama_server):
    from agents._llm_completion import CompletionScorer
    from agents.llm import LlamaCppScorer, embedded_model_path

    scorer = make_scorer(_openai(llama_server), cache=False)
    assert isinstance(scorer, CompletionScorer)
    reference = LlamaCppScorer(embedded_model_path())
    for prompt, options in [
        ("Instruction: collect wood\nSkill:", [" collect wood", " place table", " wake up"]),
        ("Instruction: build a furnace\nSkill:", [" eat cow", " place furnace", " wake up"]),
    ]:  # fmt: skip
        got, ref = scorer.score(prompt, options), reference.score(prompt, options)
        assert scorer.method == "forced_loglik"
        # the same model's log-likelihood: the same order, within llama.cpp's batch noise
        assert sorted(range(3), key=got.__getitem__) == sorted(range(3), key=ref.__getitem__)
        assert got == pytest.approx(ref, abs=0.5)
    assert scorer.route == "forced" and not scorer.why_not
    # the other route, checked as the probe would: llama-cpp-python's echo pairs each token
    # with the next position's logits when the model adds no BOS (SmolLM2 adds none)
    aligned, why = scorer.echo_aligned(*scorer.probe_greedy())
    assert not aligned and "misaligned" in why


def test_scorer_without_logprobs_says_so_once_and_falls_back(caplog, tmp_path):
    from agents._llm_completion import CompletionScorer
    from agents._llm_server import start_llama_server
    from agents.llm import embedded_model_path

    pytest.importorskip("llama_cpp.server")
    caplog.set_level(logging.WARNING)
    # a real server that gives no logprobs at all (as many proxies and hosted APIs)
    with start_llama_server(
        embedded_model_path(), log_path=tmp_path / "log", extra=("--logits_all", "False")
    ) as server:
        scorer = make_scorer(_openai(server), cache=False)
        assert isinstance(scorer, CompletionScorer)
        remote._WARNED.clear()  # once per process: start from none said
        a = scorer.score("Instruction: collect wood\nSkill:", [" collect wood", " wake up"])
        b = scorer.score("Instruction: eat cow\nSkill:", [" eat cow", " wake up"])
        assert scorer.route == "chat" and scorer.method == "votes"
        said = [r.getMessage() for r in caplog.records]
        assert sum("no full log-likelihood" in m for m in said) == 1
        assert sum("fall back to votes" in m for m in said) == 1
        for scores in (a, b):  # add-one smoothed votes over the 2 orders
            assert math.isclose(sum(math.exp(s) for s in scores), 1.0)
    assert server.process.poll() is not None


def test_choice_scorer_through_server_is_order_free(llama_server):
    scorer = remote.ChoiceScorer(_openai(llama_server))
    prompt = "Instruction: collect wood\nSkill:"
    options = [" collect wood", " place table", " wake up"]
    dist = scorer.distribution(prompt, options)
    assert scorer.method == "yesno"
    assert len(dist) == 3 and math.isclose(sum(dist), 1.0) and min(dist) > 0
    assert max(range(3), key=dist.__getitem__) == 0  # measured: yes/no reads this one right
    letters = remote.ChoiceScorer(scorer.model, method="letters")
    first = letters.score(prompt, options)
    assert letters.method == "top_logprobs"
    # averaged over the cyclic orders, listing the options in another order changes nothing
    rotated = letters.score(prompt, options[1:] + options[:1])
    assert rotated == pytest.approx(first[1:] + first[:1], abs=0.05)


def test_choice_scorer_without_logprobs_says_so_once_and_votes(caplog):
    from agents.llm import LlamaCppChatModel, embedded_model_path

    # a real chat model whose replies carry no logprobs (like Anthropic's)
    chat = LlamaCppChatModel(model_path=str(embedded_model_path()), max_tokens=4)
    scorer = remote.ChoiceScorer(chat)
    caplog.set_level(logging.WARNING, logger="agents._llm_remote")
    remote._WARNED.discard(scorer.model_id)
    a = scorer.score("Instruction: collect wood\nSkill:", [" collect wood", " wake up"])
    b = scorer.score("Instruction: eat cow\nSkill:", [" eat cow", " wake up", " place table"])
    assert scorer.method == "votes"
    warnings = [r for r in caplog.records if "fall back to votes" in r.getMessage()]
    assert len(warnings) == 1
    # add-one smoothed votes over n orders: probabilities (v + 1) / (2n) sum to one
    for scores in (a, b):
        assert math.isclose(sum(math.exp(s) for s in scores), 1.0)


def test_label_logprobs_pools_variants_and_ignores_the_article():
    top = [("A", math.log(0.3)), (" B", math.log(0.25)), ("B)", math.log(0.1)),
           ("a", math.log(0.25)), ("The", math.log(0.02))]  # fmt: skip
    p = [math.exp(x) for x in remote.label_logprobs(top, "ABC")]
    # A 0.3; B 0.25 + 0.1; the article "a" is not A; C unseen: the 0.08 the alternatives
    # leave, capped at the least likely one seen (0.02); then normalised over A, B, C
    assert p == pytest.approx([0.3 / 0.67, 0.35 / 0.67, 0.02 / 0.67], rel=1e-6)


# ------------------------------------------------------------------ the method, per role
@pytest.mark.slow
def test_ci_slow_every_role_records_how_the_model_answered(llama_server, mendako_home):
    """Through the server: the planner's negotiated method, the SayCan scorer's route, the
    reward judge's method; the world model with the `none` scorer (by likelihood it scores
    every need of every achievement: too many calls for a test through a server)."""
    from types import SimpleNamespace

    from agents import affordance, planner
    from agents import world_model as wm
    from agents.rewards.judge import JudgeReward
    from skills.base import SkillMeta

    llm = _openai(llama_server)
    _, exchange = planner.propose(llm, "make a wood pickaxe", "You see trees.", NAMES)
    assert exchange.method == "json_object"
    skills = [SimpleNamespace(meta=SkillMeta(name=n, description="")) for n in NAMES[:3]]
    _, exchange = affordance.usefulness(make_scorer(llm, cache=False), "collect wood", skills)
    assert exchange.role == "affordance" and exchange.method == "forced_loglik"
    before = {"inventory": {"wood": 0}, "achievements": {"collect_wood": 0}}
    after = {"inventory": {"wood": 1}, "achievements": {"collect_wood": 1}}
    got = JudgeReward(llm).assess("collect_wood", before, after)
    assert got.why.startswith("judge said") and got.why.endswith("(json_object)")
    vocab = wm.vocab_for("crafter")
    model = wm.WorldModel(env="crafter", vitals=list(vocab.vitals))
    scorer = make_scorer("none")
    (exchange,) = wm.hypothesise(None, model, "collect_wood", vocab, max_calls=1, scorer=scorer)
    assert exchange.method == "none"
    # The goal's readers: the single-target reader's scores and the spec reader's schema call.
    from agents import goal_reader, spec_reader
    from envs import crafter, goal_vocab

    words = goal_vocab.load("crafter")
    reading = goal_reader.read_goal("a stone pickaxe", words, make_scorer(llm, cache=False))
    assert reading.scores and goal_reader.decision(reading).method == "forced_loglik"
    got = spec_reader.read_spec(llm, "collect 5 wood and make a wood pickaxe", words,
                                crafter.load_rules())  # fmt: skip
    assert got.called and got.via == "json_object"
    assert "the model answered through json_object" in spec_reader.decision(got).notes


# ------------------------------------------------------------------ other backends
@pytest.mark.parametrize(
    ("spec", "module", "cause"),
    [
        ("anthropic:claude-x", "langchain_anthropic", "no server answered at http://127.0.0.1"),
        ("ollama:llama3.2", "langchain_ollama", "start `ollama serve` and run `ollama pull"),
    ],
)
def test_absent_server_is_one_clear_line(spec, module, cause):
    pytest.importorskip(module)
    kw = {"base_url": f"http://127.0.0.1:{_closed_port()}"}
    if spec.startswith("anthropic"):
        kw["max_retries"] = 0
    model = make_chat_model(spec, cache=False, **kw)  # constructing contacts nothing
    with pytest.raises(LLMError) as err:
        model.invoke("hello")
    text = str(err.value)
    assert "\n" not in text and cause in text and text.startswith(spec.split(":")[0])


# ------------------------------------------------------------------ the CLI, end to end
def _cli(args: list[str], server, home: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, OPENAI_BASE_URL=server.base_url, MENDAKO_HOME=str(home))
    env.pop("OPENAI_API_KEY", None)
    return subprocess.run(
        [str(Path(sys.executable).with_name("mendako")), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_skills_generate_through_server(llama_server, mendako_home):
    # the default (auto) mode: free Python first for a server's model; SmolLM2 writes none
    # that parses, so the rounds after switch to composing steps under the schema
    out = _cli(
        ["skills", "generate", "make a wood sword", "--llm", "openai:smollm2", "--seeds", "0"],
        llama_server,
        mendako_home,
    )  # fmt: skip
    said = " ".join(out.stdout.split())
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "saved make_wood_sword_from_scratch" in said
    assert "round 1: failed" in said and "python, text" in said
    assert "auto: the free code was refused" in said and "compose, json_object" in said


@pytest.mark.slow
def test_ci_slow_mendako_run_through_server(llama_server, mendako_home):
    out = _cli(
        ["run", "make a wood pickaxe", "--env", "crafter", "--seed", "0", "--llm",
         "openai:smollm2"],
        llama_server,
        mendako_home,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "make_wood_pickaxe achieved" in " ".join(out.stdout.split())
    traces = list((mendako_home / "runs").glob("*/trace.jsonl"))
    assert traces and '"method": "json_object"' in traces[0].read_text().replace('":"', '": "')
    shown = _cli(["trace", "show", traces[0].parent.name], llama_server, mendako_home, 120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    # each role's call says how the server answered it
    assert "LLM planner (json_object)" in shown.stdout
    assert "LLM affordance (forced_loglik)" in shown.stdout
