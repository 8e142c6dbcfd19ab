"""Scripted stand-ins for the language model, for tests about graph routing (not the model)."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel


class ScriptedPlanner(BaseChatModel):
    """Answers every structured call with the next scripted reply (the last one repeats)."""

    replies: list[dict[str, Any]]
    calls: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self) -> dict[str, Any]:
        i = min(len(self.calls) - 1, len(self.replies) - 1)
        return self.replies[i]

    def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> ChatResult:
        self.calls.append(str(messages[-1].content))
        msg = AIMessage(content=json.dumps(self._next()))
        return ChatResult(generations=[ChatGeneration(message=msg)])

    def with_structured_output(self, schema: Any, **kw: Any) -> Any:
        def call(prompt: Any) -> Any:
            self.calls.append(str(prompt))
            reply = self._next()
            if isinstance(schema, type) and issubclass(schema, BaseModel):
                return schema.model_validate(reply)
            return reply

        return RunnableLambda(call)


class WordScorer:
    """Prefers options that share words with the last line of the prompt (a fake usefulness)."""

    def distribution(self, prompt: str, options: list[str], **_: Any) -> list[float]:
        words = set(prompt.strip().splitlines()[-2].lower().replace("?", "").split())
        raw = [1.0 + 10.0 * len(words & set(o.lower().split())) for o in options]
        total = sum(raw)
        return [r / total for r in raw]


def run_scripted(goal: str, reply: dict[str, Any], **settings: Any) -> tuple[Any, ScriptedPlanner]:
    """``goal`` through the real graph on Crafter (seed 0, the built-in skills) with a planner
    that always answers ``reply`` and the word scorer; returns the run's summary and the
    planner (its ``calls``)."""
    from graphs.context import RunSettings
    from graphs.runner import run_goal
    from skills.library import SkillLibrary

    llm = ScriptedPlanner(replies=[reply])
    summary = run_goal(
        goal,
        RunSettings(seed=0, **settings),
        llm=llm,
        scorer=WordScorer(),
        library=SkillLibrary("crafter"),
    )
    return summary, llm
