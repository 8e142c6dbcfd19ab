"""The coder (Voyager loop): compose/render, feedback rounds, python mode, the graph node."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel

from agents.coder import (
    CoderSettings,
    _amounts,
    api_doc,
    extract_code,
    render_composition,
    step_vocabulary,
    write_skill,
)
from envs.crafter import CrafterAPI, load_rules
from graphs.state import Subgoal
from skills.code.sandbox import check_source
from skills.library import SkillLibrary

# Retrieval is not what these tests are about: skip the GGUF embedding load.
FAST = {"retrieve_k": 3, "embed_spec": "llamacpp:/nonexistent.gguf"}


class Scripted(BaseChatModel):
    """Replies in order: dicts to structured calls, strings to plain calls."""

    replies: list[Any]
    prompts: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _take(self, prompt: str) -> Any:
        self.prompts.append(prompt)
        return self.replies[min(len(self.prompts), len(self.replies)) - 1]

    def _generate(self, messages: Any, stop: Any = None, **kw: Any) -> ChatResult:
        reply = self._take(str(messages[-1].content))
        text = reply if isinstance(reply, str) else json.dumps(reply)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def with_structured_output(self, schema: Any, **kw: Any) -> Any:
        def call(prompt: Any) -> Any:
            reply = self._take(str(prompt))
            return schema.model_validate(reply) if issubclass(schema, BaseModel) else reply

        return RunnableLambda(call)


def test_rendered_composition_is_valid_sandbox_code() -> None:
    rules = load_rules()
    names = ["collect_wood", "place_table", "make_wood_sword"]
    needs = _amounts(names, rules)
    assert needs[0] == {"wood": rules.requirement("place_table").consumes["wood"] + 1}
    lib = SkillLibrary()
    steps = [Subgoal(name=n, need=d) for n, d in zip(names, needs, strict=True)]
    uses = {"make_wood_sword": lib.get("make_wood_sword")}  # inlined from the shipped skill
    src = render_composition("make a wood sword", "make_wood_sword", steps, uses, rules, "")
    check_source(src)
    assert "def _use_make_wood_sword(api):" in src and "api.collect('wood', until=" in src
    vocab = step_vocabulary(rules, list(lib))
    assert {"collect wood", "place table", "make wood_sword", "use place_furnace"} <= set(vocab)


def test_compose_round_one_fails_feedback_then_rules_repair_verifies() -> None:
    lib = SkillLibrary()
    # Round 1: the LLM forgets the wood and the table; round 2 (with the failure in its
    # prompt) it still does, and the rules insert them.
    reply = {"target": "make_wood_sword", "steps": ["make wood_sword", "place stone"]}
    llm = Scripted(replies=[reply])
    result = write_skill(
        "make a wood sword", llm=llm, library=lib, settings=CoderSettings(seeds=(0,), **FAST)
    )
    assert result.verified and result.target == "make_wood_sword"
    first, second = result.attempts
    assert not first.passed and "needs a nearby table" in (first.results[0].error or "")
    assert "Your last skill failed" in llm.prompts[1] and "needs 1 wood" in llm.prompts[1]
    assert any("inserted collect_wood" in n for n in second.notes)
    assert second.passed and second.steps[-1] == "make wood sword"
    assert result.name in SkillLibrary()
    meta = SkillLibrary().get(result.name).meta
    assert meta.self_contained and meta.extra["verified_seeds"] == [0]


def test_unverified_skill_is_not_saved() -> None:
    llm = Scripted(replies=[{"target": "collect_diamond", "steps": ["collect diamond"]}])
    result = write_skill(
        "collect a diamond",
        llm=llm,
        library=SkillLibrary(),
        settings=CoderSettings(seeds=(0,), rounds=1, budget=30, **FAST),
    )
    assert not result.verified and result.name is None
    assert not [n for n in SkillLibrary().names() if n.endswith("_from_scratch")]


def test_python_mode_refused_code_is_fed_back_then_fixed() -> None:
    bad = "```python\nimport os\n\ndef run(api):\n    os.system('ls')\n```"
    good = "Here it is:\n```python\ndef run(api):\n    api.collect('wood', until=1)\n```\n"
    llm = Scripted(replies=[bad, good])
    result = write_skill(
        "collect wood",
        llm=llm,
        library=SkillLibrary(),
        settings=CoderSettings(seeds=(0,), mode="python", **FAST),
        name="chop",
    )
    assert result.verified and result.name == "chop"
    assert result.attempts[0].notes[0].startswith("refused")
    assert "import of 'os'" in llm.prompts[1] and "api.collect(" in llm.prompts[0]
    assert extract_code(good).startswith("def run(api):")
    assert "api.move_toward(" in api_doc(CrafterAPI)


def test_auto_mode_composes_after_a_reply_that_is_no_skill() -> None:
    # a server's model (python first) that answers prose: the next round composes steps
    prose = "To make a sword you need wood. First find a tree, then..."
    steps = {"target": "collect_wood", "steps": ["collect wood"]}
    llm = Scripted(replies=[prose, steps])
    result = write_skill(
        "collect wood",
        llm=llm,
        library=SkillLibrary(),
        settings=CoderSettings(seeds=(0,), llm_spec="openai:m", **FAST),
    )
    first, second = result.attempts
    assert (first.mode, first.method) == ("python", "text")
    assert "syntax error" in first.notes[0]  # prose is not Python
    assert first.notes[-1].startswith("auto: the free code was refused")
    assert second.mode == "compose" and second.passed and result.verified
    assert SkillLibrary().get(result.name).meta.extra["mode"] == "compose"


def test_graph_calls_the_coder_when_no_skill_scores_well(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "graphs"))
    from graph_fakes import WordScorer

    from graphs.context import RunSettings
    from graphs.runner import run_goal

    plan = {"target": "make_wood_sword", "subgoals": ["make_wood_sword"]}
    code = {
        "target": "make_wood_sword",
        "steps": ["collect wood", "place table", "make wood_sword"],
    }
    llm = Scripted(replies=[plan, code])
    monkeypatch.setattr("agents.retrieval.SkillRetriever.rank", lambda self, q, s, k=None: [])
    summary = run_goal(
        "make a wood sword",
        # A threshold above any score forces the coder on the first subgoal.
        RunSettings(seed=0, write_skills=True, write_threshold=2.0),
        llm=llm,
        scorer=WordScorer(),
        library=SkillLibrary("crafter"),
    )
    assert summary.outcome == "achieved"
    from graphs.trace import find_run

    nodes = [e.get("node") for e in find_run(summary.run_id).events() if e["kind"] == "node"]
    assert nodes[:4] == ["plan", "score_affordances", "write_skill", "execute_skill"]
    assert "collect_wood_from_scratch" in SkillLibrary().names()


@pytest.mark.slow
def test_ci_slow_embedded_model_writes_a_verified_wood_sword_skill() -> None:
    from agents.llm import make_chat_model

    result = write_skill(
        "make a wood sword",
        llm=make_chat_model("embedded"),
        library=SkillLibrary(),
        settings=CoderSettings(seeds=(0,)),
    )
    assert result.verified, [a.notes for a in result.attempts]
    assert result.name in SkillLibrary().names()
