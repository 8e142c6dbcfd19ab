"""llama.cpp plumbing: one cached ``Llama`` per model file and role, message conversion,
and log-likelihood scoring from ``Llama.scores``.

Log-probabilities are computed here from raw logits with our own log-softmax, because
``create_completion(echo=True, logprobs=...)`` returned wrong prompt log-probs for SmolLM2.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

N_CTX = 2048
SCORE_N_CTX = 1024
SEED = 0

_POOL: dict[tuple[str, str], Any] = {}
_LOCKS: dict[tuple[str, str], threading.RLock] = {}
_POOL_LOCK = threading.Lock()


def n_threads() -> int:
    """Threads for llama.cpp: ``$MENDAKO_LLM_THREADS``, else 2 but leaving one core free.

    ggml's worker threads spin while they wait: on a 2-core machine where anything else
    runs (an env, a trainer, CI), 2 threads measured 6-12x slower than 1 (scoring 10
    options: 6-11 s against 0.95 s), while on an idle machine 2 threads gain under 2x.
    """
    if os.environ.get("MENDAKO_LLM_THREADS"):
        return max(1, int(os.environ["MENDAKO_LLM_THREADS"]))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(2, (cpus or 1) - 1))


def get_llama(path: str | Path, role: str = "chat") -> tuple[Any, threading.RLock]:
    """The process-wide ``Llama`` for ``path`` and ``role``, with its lock.

    Roles need separate llama.cpp contexts: ``"chat"`` (generation), ``"score"``
    (``logits_all=True`` so ``Llama.scores`` holds every position's logits; that halves
    generation speed and costs n_ctx x n_vocab floats, hence not shared with chat, and a
    smaller ``SCORE_N_CTX``) and ``"embed"`` (``embedding=True``, mean pooling).
    """
    import llama_cpp

    if role not in ("chat", "score", "embed"):
        raise ValueError(f"unknown llama role {role!r}")
    key = (str(Path(path).resolve()), role)
    with _POOL_LOCK:
        if key not in _POOL:
            kw: dict[str, Any] = dict(
                n_ctx=N_CTX,
                n_threads=n_threads(),
                n_threads_batch=n_threads(),
                seed=SEED,
                verbose=False,
            )
            if role == "embed":
                kw.update(embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
            elif role == "score":
                kw.update(logits_all=True, n_ctx=SCORE_N_CTX)
            _POOL[key] = llama_cpp.Llama(model_path=key[0], **kw)
            _LOCKS[key] = threading.RLock()
        return _POOL[key], _LOCKS[key]


@atexit.register
def _close_all() -> None:
    # Free models while llama.cpp's bindings still exist; left to __del__ at interpreter
    # shutdown they print "TypeError: 'NoneType' object is not callable".
    with _POOL_LOCK:
        for llm in _POOL.values():
            llm.close()
        _POOL.clear()


def to_llama_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages -> OpenAI-style dicts for ``create_chat_completion``."""
    out = []
    for m in messages:
        if isinstance(m, SystemMessage):
            role = "system"
        elif isinstance(m, HumanMessage):
            role = "user"
        elif isinstance(m, AIMessage):
            role = "assistant"
        elif isinstance(m, ToolMessage):
            role = "tool"
        else:
            role = getattr(m, "role", "user")
        out.append({"role": role, "content": m.text if hasattr(m, "text") else str(m.content)})
    return out


def join_tokens(llm: Any, prompt: str, option: str) -> tuple[list[int], list[int]]:
    """Token ids of the prompt (with BOS as the model wants) and of the option after it.

    A space is put between them when neither side has one, as SayCan's phrases expect
    ("Skill:" + " collect wood").
    """
    if not option:
        raise ValueError("options must be non-empty strings")
    sep = "" if (not prompt or prompt[-1].isspace() or option[0].isspace()) else " "
    p_tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    o_tokens = llm.tokenize((sep + option).encode(), add_bos=False, special=False)
    return p_tokens, o_tokens


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64."""
    x = logits.astype(np.float64)
    x -= x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def option_logliks(
    llm: Any, lock: threading.RLock, prompt: str, options: Sequence[str]
) -> list[float]:
    """Sum of log p(option tokens | prompt) for each option, one prompt evaluation shared.

    The prompt is evaluated once; each option is evaluated on top of its KV state by
    rewinding ``n_tokens``.
    """
    with lock:
        p_tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
        if not p_tokens:
            raise ValueError("prompt tokenises to nothing; give at least one token of context")
        n_p = len(p_tokens)
        opts = [join_tokens(llm, prompt, o)[1] for o in options]
        longest = max((len(o) for o in opts), default=0)
        if n_p + longest > llm.n_ctx():
            raise ValueError(f"prompt + option is {n_p + longest} tokens, over n_ctx {llm.n_ctx()}")
        # Always from a fresh state: llama.cpp's numerics depend on how tokens were batched,
        # and cached scores must not depend on what ran before.
        llm.reset()
        llm.eval(p_tokens)
        last = np.array(llm.scores[n_p - 1], dtype=np.float32)
        out = []
        for toks in opts:
            llm.n_tokens = n_p
            llm.eval(toks)
            rows = np.vstack([last[None, :], llm.scores[n_p : n_p + len(toks) - 1]])
            lp = log_softmax(rows)[np.arange(len(toks)), toks]
            out.append(float(lp.sum()))
        llm.n_tokens = n_p
        return out
