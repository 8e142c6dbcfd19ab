"""Server-backed chat models (OpenAI-compatible, Anthropic, Ollama) and the multiple-choice scorer.

Each backend's package is imported lazily. The model class is subclassed so that a call
that cannot reach its server, or is refused (bad key, unknown model), raises ``LLMError``
with one line saying what to check, instead of a transport stack trace.
"""

from __future__ import annotations

import math
import os
import string
from collections.abc import AsyncIterator, Iterator, Sequence
from functools import cache
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from agents._llm_cache import SQLiteLLMCache
from agents.llm import LLMError, Scorer

# backend -> (module, class, pip extra)
_BACKENDS: dict[str, tuple[str, str, str]] = {
    "openai": ("langchain_openai", "ChatOpenAI", "openai"),
    "anthropic": ("langchain_anthropic", "ChatAnthropic", "anthropic"),
    "ollama": ("langchain_ollama", "ChatOllama", "ollama"),
}


def _import_class(backend: str) -> type[BaseChatModel]:
    module, name, extra = _BACKENDS[backend]
    try:
        mod = __import__(module, fromlist=[name])
    except ImportError as e:
        raise LLMError(
            f"backend {backend!r} needs {module.replace('_', '-')}: pip install 'mendako[{extra}]'"
        ) from e
    return getattr(mod, name)


def make_remote_chat_model(backend: str, model: str, **kw: Any) -> BaseChatModel:
    """Construct the chat model without contacting the server (calls fail later, as LLMError)."""
    cls = _with_clear_errors(_import_class(backend), backend)
    if backend == "openai":
        base_url = kw.pop("base_url", None) or os.environ.get("OPENAI_BASE_URL")
        api_key = kw.pop("api_key", None) or os.environ.get("OPENAI_API_KEY")
        # openai's client refuses to exist without a key; local servers (vLLM) need none,
        # and for api.openai.com the call then fails with a clear "set OPENAI_API_KEY".
        kw.update(model=model, api_key=api_key or "not-set")
        if base_url:
            kw["base_url"] = base_url
    elif backend == "anthropic":
        api_key = kw.pop("api_key", None) or os.environ.get("ANTHROPIC_API_KEY")
        kw.update(model=model, api_key=api_key or "not-set")
    else:
        kw.update(model=model)
    try:
        return cls(**kw)
    except Exception as e:  # pydantic validation of bad keywords, client set-up
        raise LLMError(f"cannot configure {backend}:{model}: {_first_line(e)}") from e


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".strip()


def _hint(backend: str, model: BaseChatModel) -> str:
    if backend == "openai":
        url = getattr(model, "openai_api_base", None) or "https://api.openai.com/v1"
        return (
            f"is the server at {url} up and is OPENAI_API_KEY right? "
            "(set OPENAI_BASE_URL or base_url= for vLLM and other compatible servers)"
        )
    if backend == "anthropic":
        return "is ANTHROPIC_API_KEY set and the model name right?"
    url = getattr(model, "base_url", None) or "http://127.0.0.1:11434"
    name = getattr(model, "model", "")
    return f"is `ollama serve` running at {url} and `ollama pull {name}` done?"


@cache
def _with_clear_errors(cls: type[BaseChatModel], backend: str) -> type[BaseChatModel]:
    """Subclass of ``cls`` whose calls turn backend exceptions into one-line LLMErrors."""

    def wrap(self: Any, e: Exception) -> LLMError:
        return LLMError(f"{backend} call failed ({_first_line(e)}); {_hint(backend, self)}")

    class Wrapped(cls):  # type: ignore[valid-type,misc]
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super()._generate(*args, **kwargs)
            except LLMError:
                raise
            except Exception as e:
                raise wrap(self, e) from e

        async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return await super()._agenerate(*args, **kwargs)
            except LLMError:
                raise
            except Exception as e:
                raise wrap(self, e) from e

        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from super()._stream(*args, **kwargs)
            except LLMError:
                raise
            except Exception as e:
                raise wrap(self, e) from e

        async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            try:
                async for chunk in super()._astream(*args, **kwargs):
                    yield chunk
            except LLMError:
                raise
            except Exception as e:
                raise wrap(self, e) from e

    Wrapped.__name__ = Wrapped.__qualname__ = cls.__name__
    return Wrapped


# --------------------------------------------------------------------------- scorer (b)
LABELS = string.ascii_uppercase


class ChoiceScorer(Scorer):
    """For chat-only APIs: one call choosing a letter among labelled options.

    The answer token's ``top_logprobs`` give the distribution; options whose letter is not
    among them get a floor below the least likely one seen. Without logprobs (Anthropic),
    the chosen option gets all the mass — a degenerate but honest distribution.
    """

    def __init__(self, model: BaseChatModel, cache: SQLiteLLMCache | None = None) -> None:
        self.model = model
        self.model_id = f"{type(model).__name__}:{_name_of(model)}"
        self.cache = cache

    def _score(self, prompt: str, options: list[str]) -> list[float]:
        if len(options) > len(LABELS):
            raise LLMError(f"ChoiceScorer handles at most {len(LABELS)} options")
        labels = LABELS[: len(options)]
        lines = "\n".join(f"{lab}) {opt}" for lab, opt in zip(labels, options, strict=True))
        question = (
            f"{prompt}\n\nOptions:\n{lines}\n\nAnswer with the letter of the best option only."
        )
        kw = _choice_kwargs(self.model, labels)
        msg = self.model.invoke([HumanMessage(content=question)], **kw)
        top = _top_logprobs(msg.response_metadata)
        found: dict[str, float] = {}
        for token, logprob in top:
            letter = token.strip().rstrip(")").upper()
            if letter in labels and letter not in found:
                found[letter] = logprob
        if not found:
            text = str(msg.content).strip().lstrip("(").upper()
            return [0.0 if text[:1] == lab else -math.inf for lab in labels]
        floor = min(found.values()) - math.log(len(options))
        return [found.get(lab, floor) for lab in labels]


def _choice_kwargs(model: BaseChatModel, labels: str) -> dict[str, Any]:
    """Per-backend call options: one answer token, with its alternatives' log-probs."""
    module = " ".join(c.__module__ for c in type(model).__mro__)
    if "openai" in module:
        return {"logprobs": True, "top_logprobs": min(20, len(labels)), "max_tokens": 1}
    if "ollama" in module:
        return {"logprobs": True, "top_logprobs": min(20, len(labels))}
    if "anthropic" in module:
        return {"max_tokens": 4}
    return {}


def _name_of(model: BaseChatModel) -> str:
    for attr in ("model_name", "model", "model_id"):
        value = getattr(model, attr, None)
        if isinstance(value, str):
            return value
    return "unknown"


def _top_logprobs(meta: dict[str, Any]) -> Sequence[tuple[str, float]]:
    """``(token, logprob)`` alternatives for the first answer token, from OpenAI or Ollama."""
    lp = meta.get("logprobs")
    content = lp.get("content") if isinstance(lp, dict) else lp
    if not content:
        return []
    first = content[0]
    alts = first.get("top_logprobs") or [first]
    return [(a["token"], float(a["logprob"])) for a in alts if "token" in a and "logprob" in a]
