"""The ``none`` backend: a language model with no knowledge, for measuring what a model adds.

Every answer is drawn at random from a seed derived from the run (``run_seed``) and the
call's own content (the prompt and the schema), so two runs with the same seed make the
same draws, a resumed run makes the draws it made before the crash, and no draw depends on
the order in which options happen to be listed:

- ``NoneChatModel.with_structured_output(schema)`` returns a valid instance of the schema
  (pydantic class or JSON-schema dict): a random member for every enum/``Literal`` field,
  a random length within the bounds for lists, random numbers within the bounds;
- plain generation returns an empty reply (no knowledge, no text);
- ``NoneScorer`` gives every option the same log-likelihood, so wherever a decision is
  made by the scores, the tie-break (`agents.decide.choose`, seeded the same way) decides
  at random.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Sequence
from typing import Any, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel

from agents._llm_schema import is_pydantic_class, to_json_schema
from agents.decide import rng_for
from agents.llm import Scorer

MODEL_ID = "none"
LIST_MAX = 6
"""Longest list drawn for an array without ``maxItems``."""
NUMBER_RANGE = (0, 10)
"""Range of a number or integer drawn without bounds."""


def _messages_text(messages: Sequence[BaseMessage]) -> list[list[str]]:
    return [[m.type, str(m.content)] for m in messages]


def random_instance(schema: dict[str, Any], rng: random.Random, root: dict[str, Any]) -> Any:
    """A random JSON value valid against ``schema`` (the subset pydantic emits)."""
    if "$ref" in schema:
        ref = schema["$ref"].split("/")[-1]
        schema = (root.get("$defs") or root.get("definitions") or {})[ref]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return random_instance(rng.choice(schema[key]), rng, root)
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return random_instance(schema["allOf"][0], rng, root)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = rng.choice(kind)
    if kind == "object":
        props = schema.get("properties", {})
        return {name: random_instance(sub, rng, root) for name, sub in props.items()}
    if kind == "array":
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", max(low, LIST_MAX)))
        items = schema.get("items", {"type": "string"})
        return [random_instance(items, rng, root) for _ in range(rng.randint(low, high))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", NUMBER_RANGE[0]))
        high = schema.get("maximum", schema.get("exclusiveMaximum", NUMBER_RANGE[1]))
        if kind == "integer":
            lo = int(low) + int("exclusiveMinimum" in schema)
            hi = int(high) - int("exclusiveMaximum" in schema)
            return rng.randint(lo, max(lo, hi))
        return rng.uniform(float(low), float(high))
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    low = int(schema.get("minLength", 1))
    high = int(schema.get("maxLength", max(low, 8)))
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(low, high)))


class NoneChatModel(BaseChatModel):
    """A chat model with no knowledge: random valid structured output, empty text."""

    run_seed: int = 0
    """The run's seed; every draw is derived from it and the call's content."""

    @property
    def _llm_type(self) -> str:
        return "mendako-none"

    @property
    def model_id(self) -> str:
        """Identifier used in cache keys and traces."""
        return MODEL_ID

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": MODEL_ID, "run_seed": self.run_seed}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=""))])

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """A Runnable returning a random valid instance of ``schema``."""
        json_schema = to_json_schema(schema)

        def invoke(value: LanguageModelInput) -> Any:
            messages = self._convert_input(value).to_messages()
            rng = rng_for(self.run_seed, "structured", _messages_text(messages), json_schema)
            data = random_instance(json_schema, rng, json_schema)
            parsed: Any = data
            if is_pydantic_class(schema):
                parsed = cast(type[BaseModel], schema).model_validate(data)
            if include_raw:
                raw = AIMessage(content=json.dumps(data))
                return {"raw": raw, "parsed": parsed, "parsing_error": None}
            return parsed

        name = getattr(schema, "__name__", None) or json_schema.get("title", "structured")
        return RunnableLambda(invoke, name=f"none:{name}")


class NoneScorer(Scorer):
    """SayCan's language factor with no knowledge: the same log-likelihood for every option,
    so `distribution` is uniform and the seeded tie-break decides."""

    model_id = MODEL_ID
    cache = None
    method = "none"

    def __init__(self, run_seed: int = 0) -> None:
        self.run_seed = run_seed

    def _score(self, prompt: str, options: list[str]) -> list[float]:
        return [0.0] * len(options)
