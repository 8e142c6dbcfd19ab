"""transformers backend (``hf:<path>``): a chat model and a full log-likelihood scorer.

Slow on CPU (a GGUF is de-quantised to fp32 at load), but differentiable: the route for
an LLM policy trained with RL, and the reference the llama.cpp scorer is tested against.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agents import _llm_llama
from agents._llm_cache import SQLiteLLMCache
from agents.llm import LLMError, Scorer

_LOADED: dict[str, tuple[Any, Any]] = {}
_LOCK = threading.Lock()


def load_hf(path: str) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for a model folder or a ``.gguf`` file, loaded once per process."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise LLMError("backend 'hf' needs transformers: pip install 'mendako[hf]'") from e
    p = Path(path).expanduser()
    if not p.exists():
        raise LLMError(f"hf model not found: {p} (give a model folder or a .gguf file)")
    key = str(p.resolve())
    with _LOCK:
        if key not in _LOADED:
            kw: dict[str, Any] = {}
            where = str(p)
            if p.suffix.lower() == ".gguf":
                kw["gguf_file"], where = p.name, str(p.parent)
            try:
                tok = AutoTokenizer.from_pretrained(where, **kw)
                model = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, **kw)
            except ImportError as e:  # gguf / accelerate missing
                raise LLMError(
                    f"hf:{path} needs more packages: pip install 'mendako[hf]' ({e})"
                ) from e
            model.eval()
            _LOADED[key] = (model, tok)
        return _LOADED[key]


class HFChatModel(BaseChatModel):
    """Greedy chat over a transformers causal LM (deterministic)."""

    model_path: str
    """Model folder or GGUF file."""
    max_tokens: int = 256
    """Most tokens to generate per call."""

    @property
    def _llm_type(self) -> str:
        return "mendako-hf"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": Path(self.model_path).name, "max_tokens": self.max_tokens}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        import torch

        model, tok = load_hf(self.model_path)
        chat = _llm_llama.to_llama_messages(messages)
        ids = tok.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with torch.no_grad():
            out = model.generate(
                **ids, do_sample=False, max_new_tokens=kwargs.get("max_tokens", self.max_tokens)
            )
        text = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        for s in stop or []:
            text = text.split(s)[0]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def make_hf_chat_model(path: str, **kw: Any) -> HFChatModel:
    """``hf:<path>``: check the path and package now, load the weights at first call."""
    try:
        import transformers  # noqa: F401
    except ImportError as e:
        raise LLMError("backend 'hf' needs transformers: pip install 'mendako[hf]'") from e
    if not Path(path).expanduser().exists():
        raise LLMError(f"hf model not found: {path} (give a model folder or a .gguf file)")
    return HFChatModel(model_path=path, **kw)


class HFScorer(Scorer):
    """Full log-likelihood of each option from a transformers model's logits."""

    def __init__(self, model_path: str | Path, cache: SQLiteLLMCache | None = None) -> None:
        self.model_path = str(model_path)
        self.model_id = "hf:" + Path(model_path).name
        self.cache = cache

    def token_logprobs(self, ids: Sequence[int], start: int) -> list[float]:
        """log p(ids[i] | ids[:i]) for i >= start, for arbitrary token ids."""
        import torch

        model, _ = load_hf(self.model_path)
        with torch.no_grad():
            logits = model(torch.tensor([list(ids)])).logits[0].double()
        lp = torch.log_softmax(logits, dim=-1)
        return [float(lp[i - 1, ids[i]]) for i in range(start, len(ids))]

    def _score(self, prompt: str, options: list[str]) -> list[float]:
        _, tok = load_hf(self.model_path)
        p_ids = tok(prompt)["input_ids"]
        out = []
        for opt in options:
            sep = "" if (not prompt or prompt[-1].isspace() or opt[:1].isspace()) else " "
            o_ids = tok(sep + opt, add_special_tokens=False)["input_ids"]
            out.append(sum(self.token_logprobs(p_ids + o_ids, len(p_ids))))
        return out
