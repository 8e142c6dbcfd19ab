"""Server-backed chat models (OpenAI-compatible, Anthropic, Ollama) and the multiple-choice scorer.

Each backend's package is imported lazily. The model class is subclassed so that a call
that cannot reach its server, or is refused (bad key, unknown model), raises ``LLMError``
with one line saying what to check, instead of a transport stack trace.
"""

from __future__ import annotations

import json
import logging
import math
import os
import string
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableLambda

from agents._llm_cache import SQLiteLLMCache, mendako_home
from agents._llm_schema import (
    extract_json,
    parse_and_validate,
    schema_instruction,
    schema_name,
    to_json_schema,
)
from agents.llm import LLMError, Scorer

log = logging.getLogger(__name__)

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


def quote(text: str) -> str:
    """``text`` on one line with control characters escaped (newlines as ``\\n``), for
    quoting a server's own message in full inside a one-line error."""
    return json.dumps(str(text).strip(), ensure_ascii=False)[1:-1]


class ServerError(LLMError):
    """A call the server answered with an error, or that reached no server.

    ``status`` is the HTTP status (None: no answer); ``server_message`` the server's own
    words; ``fatal`` means no other request form can help (no server, refused key, unknown
    model, rate limit), as opposed to a request the server could not take in this form.
    """

    def __init__(self, text: str, *, status: int | None, server_message: str, fatal: bool):
        super().__init__(text)
        self.status = status
        self.server_message = server_message
        self.fatal = fatal


def _server_url(backend: str, model: Any) -> str:
    if backend == "openai":
        return getattr(model, "openai_api_base", None) or "https://api.openai.com/v1"
    if backend == "anthropic":
        return getattr(model, "anthropic_api_url", None) or "https://api.anthropic.com"
    return getattr(model, "base_url", None) or "http://127.0.0.1:11434"


_KEY_VAR = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
_FEATURES = (
    ("response_format", "this response_format (structured output)"),
    ("json_schema", "this response_format (structured output)"),
    ("tool", "tool calling"),
    ("logprobs", "logprobs"),
)


def _cause(backend: str, model: Any, e: BaseException) -> tuple[int | None, str, str, bool]:
    """``(status, server message, likely cause, fatal)`` of a failed call."""
    status = getattr(e, "status_code", None)
    if not isinstance(status, int):
        status = getattr(getattr(e, "response", None), "status_code", None)
    body = getattr(e, "body", None)
    message = getattr(e, "message", None) or str(e)
    if isinstance(body, dict):  # the server's JSON error: {"error": {"message": ...}} or flat
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            message = str(inner["message"])
        elif isinstance(inner, str):
            message = inner
    url = _server_url(backend, model)
    name = _name_of(model)
    kind = type(e).__name__
    if status is None and ("Connect" in kind or "Timeout" in kind or isinstance(e, OSError)):
        hint = (
            "set OPENAI_BASE_URL or base_url= for vLLM, llama.cpp's server and other "
            "compatible servers"
            if backend == "openai"
            else f"start `ollama serve` and run `ollama pull {name}`"
            if backend == "ollama"
            else "check the network and ANTHROPIC_API_URL"
        )
        return None, message, f"no server answered at {url} ({hint})", True
    if status in (401, 403):
        var = _KEY_VAR.get(backend, "the API key")
        return status, message, f"the server at {url} refused the key: check {var}", True
    if status == 404:
        return (
            status,
            message,
            f"the server at {url} has no model {name!r} or no such endpoint "
            "(check the model name, and that the URL ends in /v1 for OpenAI-compatible servers)",
            True,
        )
    if status == 429:
        return status, message, "rate limit or quota exhausted at the server", True
    low = message.lower()
    for word, feature in _FEATURES:
        if word in low:
            return status, message, f"the server at {url} does not accept {feature}", False
    if status is not None:
        return status, message, f"the server at {url} could not handle the request", False
    return None, message, f"unexpected failure talking to {url}", False


def _server_error(backend: str, model: Any, e: BaseException) -> ServerError:
    status, message, cause, fatal = _cause(backend, model, e)
    where = f"HTTP {status}" if status is not None else type(e).__name__
    text = (
        f'{backend}:{_name_of(model)} call failed: {where}: "{quote(message)}"; '
        f"likely cause: {cause}"
    )
    return ServerError(text, status=status, server_message=message, fatal=fatal)


# --------------------------------------------------------------------------- structured output
STRUCTURED_METHODS = ("json_schema", "json_object", "tools", "prompted")
"""Structured-output methods in the order they are negotiated with an OpenAI-compatible
server: its native JSON schema mode; JSON mode with the schema in the prompt (llama.cpp's
server also takes the schema there, as a grammar); a forced tool call whose parameters are the
schema; plain text asked to be JSON. Each reply is validated, and retried when invalid."""


def _methods_path() -> Path:
    return mendako_home() / "llm" / "structured_methods.json"


def remembered_method(server: str) -> str | None:
    """The structured-output method that last worked for ``server`` (``base_url|model``)."""
    try:
        data = json.loads(_methods_path().read_text())
    except (OSError, ValueError):
        return None
    method = data.get(server) if isinstance(data, dict) else None
    return method if method in STRUCTURED_METHODS else None


def remember_method(server: str, method: str) -> None:
    """Write ``method`` as the one that works for ``server`` (atomic replace of the JSON)."""
    path = _methods_path()
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    if data.get(server) == method:
        return
    data[server] = method
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


class _Negotiating:
    """``with_structured_output`` for OpenAI-compatible servers: negotiates the method
    (:data:`STRUCTURED_METHODS`), validates with pydantic, retries boundedly, remembers."""

    _structured_method: str = ""

    @property
    def structured_method(self) -> str:
        """The structured-output method that last worked here ('' before the first call)."""
        return self._structured_method

    @property
    def server_key(self) -> str:
        """``base_url|model``: what a remembered method is keyed by."""
        return f"{_server_url('openai', self).rstrip('/')}|{_name_of(self)}"  # type: ignore[arg-type]

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """A Runnable returning a validated instance of ``schema``; ``method`` forces one of
        :data:`STRUCTURED_METHODS` (default: the remembered one first, then the list)."""
        from agents.llm import STRUCTURED_RETRIES

        if method is not None and method not in STRUCTURED_METHODS:
            raise LLMError(f"unknown structured-output method {method!r}: {STRUCTURED_METHODS}")
        retries = int(kwargs.pop("retries", STRUCTURED_RETRIES))
        json_schema = to_json_schema(schema)
        name = schema_name(schema, json_schema)

        def invoke(value: LanguageModelInput) -> Any:
            messages = self._convert_input(value).to_messages()  # type: ignore[attr-defined]
            return self._negotiate(
                messages, schema, json_schema, name, retries, include_raw, method
            )

        return RunnableLambda(invoke, name=f"structured:{name}")

    def _negotiate(
        self,
        messages: list[BaseMessage],
        schema: dict[str, Any] | type,
        json_schema: dict[str, Any],
        name: str,
        retries: int,
        include_raw: bool,
        forced: str | None,
    ) -> Any:
        key = self.server_key
        first = forced or self._structured_method or remembered_method(key)
        order = [forced] if forced else [m for m in (first, *STRUCTURED_METHODS) if m]
        notes: list[str] = []
        raw: AIMessage | None = None
        for method in dict.fromkeys(order):
            chat = list(messages)
            error = "no attempt"
            for _attempt in range(retries + 1):
                try:
                    raw, text = self._structured_call(method, chat, json_schema, name)
                except ServerError as e:
                    if e.fatal:
                        raise
                    error = f'refused: HTTP {e.status}: "{quote(e.server_message)}"'
                    break
                parsed, problem = parse_and_validate(text, schema)
                if problem is None:
                    self._structured_method = method
                    remember_method(key, method)
                    raw.response_metadata["structured_method"] = method
                    if include_raw:
                        return {"raw": raw, "parsed": parsed, "parsing_error": None}
                    return parsed
                error = f"invalid: {problem}"
                chat = chat + [
                    AIMessage(content=text),
                    HumanMessage(
                        content=f"That was invalid: {problem}. Answer again with valid JSON only."
                    ),
                ]
            notes.append(f"{method} {error}")
            log.info("structured output %s failed at %s: %s", method, key, error)
        msg = (
            f"openai:{_name_of(self)} at {_server_url('openai', self)} gave no valid {name} "  # type: ignore[arg-type]
            f"by any structured-output method ({'; '.join(notes)})"
        )
        if include_raw:
            return {"raw": raw, "parsed": None, "parsing_error": LLMError(msg)}
        raise LLMError(msg)

    def _structured_call(
        self, method: str, chat: list[BaseMessage], json_schema: dict[str, Any], name: str
    ) -> tuple[AIMessage, str]:
        """One request in ``method``'s form: the reply and the JSON text to validate."""
        invoke = self.invoke  # type: ignore[attr-defined]
        if method == "json_schema":
            fmt = {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}}
            msg = invoke(chat, response_format=fmt)
            return msg, str(msg.content)
        prompted = [SystemMessage(content=schema_instruction(json_schema)), *chat]
        if method == "json_object":
            try:  # llama.cpp's server turns a schema here into a grammar; others may refuse it
                fmt = {"type": "json_object", "schema": json_schema}
                msg = invoke(prompted, response_format=fmt)
            except ServerError as e:
                if e.fatal:
                    raise
                msg = invoke(prompted, response_format={"type": "json_object"})
            return msg, extract_json(str(msg.content))
        if method == "tools":
            tool = {
                "type": "function",
                "function": {
                    "name": name,
                    "description": f"Give the {name}.",
                    "parameters": json_schema,
                },
            }
            choice = {"type": "function", "function": {"name": name}}
            msg = invoke(chat, tools=[tool], tool_choice=choice)
            calls = getattr(msg, "tool_calls", None) or []
            if calls:
                return msg, json.dumps(calls[0].get("args", {}))
            raw_calls = msg.additional_kwargs.get("tool_calls") or []
            if raw_calls:
                return msg, str(raw_calls[0].get("function", {}).get("arguments", ""))
            return msg, extract_json(str(msg.content))
        msg = invoke(prompted)
        return msg, extract_json(str(msg.content))


@cache
def _with_clear_errors(cls: type[BaseChatModel], backend: str) -> type[BaseChatModel]:
    """Subclass of ``cls`` whose calls turn backend exceptions into one-line LLMErrors
    (:class:`ServerError`); for ``openai``, structured output is negotiated too."""

    def wrap(self: Any, e: Exception) -> LLMError:
        return _server_error(backend, self, e)

    bases: tuple[type, ...] = (_Negotiating, cls) if backend == "openai" else (cls,)

    class Wrapped(*bases):  # type: ignore[misc]
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
_WARNED: set[str] = set()


class ChoiceScorer(Scorer):
    """SayCan's language factor for chat-only APIs, read from the answer token's ``top_logprobs``.

    ``method="yesno"`` (default): each option on its own — the prompt completed by the
    option, then "Does this skill carry out the instruction? Answer yes or no." — scores
    ``log P(yes) / (P(yes) + P(no))``, one call per option. No letters, so no letter or
    order bias; measured by ``benchmarks/scorer_agreement.py`` it agrees with full
    log-likelihood far better than letters with small models.

    ``method="letters"``: one call choosing a letter among labelled options; every variant of
    a label's token (``A``, `` A``, ``A)``) adds to that label, the labels not among the
    alternatives share what they leave, normalised over the labels only. Small models prefer
    some letters whatever the options, so with ``permute`` (default) the options are shown
    in each of their ``n`` cyclic orders and an option scores its mean log-probability.

    Where the server gives no logprobs (Anthropic, some proxies) the scorer says so once and
    falls back to **votes**: the letter the model answers in each cyclic order counts one vote
    for its option, and the scores are ``log((votes + 1) / (orders + n))`` (add-one smoothing).
    """

    QUESTION = "Does this skill carry out the instruction? Answer yes or no."

    def __init__(
        self,
        model: BaseChatModel,
        cache: SQLiteLLMCache | None = None,
        *,
        method: str = "yesno",
        permute: bool = True,
    ) -> None:
        if method not in ("yesno", "letters"):
            raise LLMError(f"ChoiceScorer method must be yesno or letters, not {method!r}")
        self.model = model
        self.choice_method = method
        self.permute = permute
        way = method if method == "yesno" else f"letters-{'cyclic' if permute else 'one'}"
        self.model_id = f"{type(model).__name__}:{_name_of(model)}:{way}"
        self.cache = cache
        self.method = ""
        """How the last scores were made: ``yesno``, ``top_logprobs`` (letters) or ``votes``."""
        self._logprobs = True

    def _score(self, prompt: str, options: list[str]) -> list[float]:
        n = len(options)
        if n > len(LABELS):
            raise LLMError(f"ChoiceScorer handles at most {len(LABELS)} options")
        if n == 1:
            return [0.0]
        if self.choice_method == "yesno" and self._logprobs:
            scores = [self._yes(prompt, o) for o in options]
            if all(s is not None for s in scores):
                self.method = "yesno"
                return [float(s) for s in scores]  # type: ignore[arg-type]
        shifts = range(n) if (self.permute or not self._logprobs) else range(1)
        sums = [0.0] * n
        votes = [0] * n
        used_logprobs = True
        for k in shifts:
            order = [(j + k) % n for j in range(n)]  # position j shows option order[j]
            logp, chosen = self._ask(prompt, [options[i] for i in order])
            if logp is None:
                used_logprobs = False
            else:
                for j, i in enumerate(order):
                    sums[i] += logp[j]
            if chosen is not None:
                votes[order[chosen]] += 1
        self.method = "top_logprobs" if used_logprobs else "votes"
        if used_logprobs:
            return [s / len(shifts) for s in sums]
        total = len(shifts) + n
        return [math.log((v + 1) / total) for v in votes]

    def _yes(self, prompt: str, option: str) -> float | None:
        """``log P(yes) / (P(yes) + P(no))`` for one option; None without logprobs."""
        sep = "" if not prompt or prompt[-1].isspace() else " "
        question = f"{prompt}{sep}{option.strip()}\n\n{self.QUESTION}"
        messages = [HumanMessage(content=question)]
        try:
            msg = self.model.invoke(messages, **_choice_kwargs(self.model, "AB"))
        except ServerError as e:
            if e.fatal:
                raise
            self._no_logprobs(f'the server refused logprobs: "{quote(e.server_message)}"')
            return None
        top = _top_logprobs(msg.response_metadata)
        if not top:
            self._no_logprobs("the server's replies carry no logprobs")
            return None
        yes = sum(math.exp(lp) for t, lp in top if t.strip().strip(".,!").lower() == "yes")
        no = sum(math.exp(lp) for t, lp in top if t.strip().strip(".,!").lower() == "no")
        least = min(math.exp(lp) for _, lp in top)
        yes, no = yes or least, no or least  # unseen: at most the least likely alternative
        return math.log(yes / (yes + no))

    def _ask(self, prompt: str, options: list[str]) -> tuple[list[float] | None, int | None]:
        """One call: (log-probability of each position's label, or None without logprobs;
        the position the answer text names, or None)."""
        labels = LABELS[: len(options)]
        lines = "\n".join(f"{lab}) {opt.strip()}" for lab, opt in zip(labels, options, strict=True))
        question = (
            f"{prompt}\n\nOptions:\n{lines}\n\nAnswer with the letter of the best option only."
        )
        messages = [HumanMessage(content=question)]
        kw = _choice_kwargs(self.model, labels) if self._logprobs else _plain_kwargs(self.model)
        try:
            msg = self.model.invoke(messages, **kw)
        except ServerError as e:
            if e.fatal or not self._logprobs:
                raise
            self._no_logprobs(f'the server refused logprobs: "{quote(e.server_message)}"')
            msg = self.model.invoke(messages, **_plain_kwargs(self.model))
        text = str(msg.content).strip().lstrip("(").upper()
        chosen = labels.find(text[:1]) if text[:1] and text[:1] in labels else None
        top = _top_logprobs(msg.response_metadata) if self._logprobs else []
        if not top:
            if self._logprobs:
                self._no_logprobs("the server's replies carry no logprobs")
            return None, chosen
        return label_logprobs(top, labels), chosen

    def _no_logprobs(self, why: str) -> None:
        self._logprobs = False
        if self.model_id not in _WARNED:
            _WARNED.add(self.model_id)
            log.warning(
                "%s: %s; SayCan scores fall back to votes over the cyclic orders of the "
                "options (add-one smoothed), not top_logprobs",
                self.model_id,
                why,
            )


def label_logprobs(top: Sequence[tuple[str, float]], labels: str) -> list[float]:
    """Log-probabilities of each label, normalised over the labels only, from one position's
    ``(token, logprob)`` alternatives. Variants of a label's token (spaces, brackets) pool
    their probability; a label not among the alternatives gets an equal share of the mass
    they leave, capped at the least likely alternative seen."""
    mass = dict.fromkeys(labels, 0.0)
    seen = 0.0
    for token, logprob in top:
        p = math.exp(logprob)
        seen += p
        name = token.strip().strip("()[].:*")
        if len(name) == 1 and name in mass:  # exact case: the article "a" is not label A
            mass[name] += p
    missing = [lab for lab in labels if mass[lab] == 0.0]
    if missing:
        least = min(math.exp(lp) for _, lp in top) if top else 1.0
        share = min(least, max(1.0 - seen, 1e-12) / len(missing))
        for lab in missing:
            mass[lab] = max(share, 1e-12)
    total = sum(mass.values())
    return [math.log(mass[lab] / total) for lab in labels]


def _plain_kwargs(model: BaseChatModel) -> dict[str, Any]:
    """Call options without logprobs: a short answer."""
    module = " ".join(c.__module__ for c in type(model).__mro__)
    if "ollama" in module:
        return {"num_predict": 2}
    return {"max_tokens": 2}


def _choice_kwargs(model: BaseChatModel, labels: str) -> dict[str, Any]:
    """Per-backend call options: one answer token, with its alternatives' log-probs."""
    module = " ".join(c.__module__ for c in type(model).__mro__)
    # All 20 alternatives (OpenAI's most), whatever the number of labels: with top 2 for
    # two options, "B" is often pushed out by a non-label token such as "The".
    if "openai" in module:
        return {"logprobs": True, "top_logprobs": 20, "max_tokens": 1, "temperature": 0}
    if "ollama" in module:
        return {"logprobs": True, "top_logprobs": 20, "num_predict": 1, "temperature": 0}
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
