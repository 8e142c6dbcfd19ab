"""Sentence embeddings from the embedded GGUF, prompted and last-token pooled (PromptEOL).

Mean pooling of SmolLM2-135M's hidden states (``agents.llm.embed``) ranked the right subgoal
first for only 6 of Crafter's 22 event captions; the PromptEOL form
(``This sentence : "<text>" means in one word:"``, last-token pooling; Jiang et al. 2023)
ranked it first for 21 of 22, so the similarity reward uses this form.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

_TEMPLATE = 'This sentence : "{}" means in one word:"'
_MODELS: dict[str, tuple[Any, threading.Lock]] = {}


def _model(path: Path) -> tuple[Any, threading.Lock]:
    import llama_cpp

    from agents._llm_llama import n_threads

    key = str(path.resolve())
    if key not in _MODELS:
        llm = llama_cpp.Llama(
            model_path=key,
            embedding=True,
            pooling_type=llama_cpp.LLAMA_POOLING_TYPE_LAST,
            n_ctx=512,
            n_threads=n_threads(),
            n_threads_batch=n_threads(),
            verbose=False,
        )
        _MODELS[key] = (llm, threading.Lock())
    return _MODELS[key]


def eol_embed(texts: Sequence[str], spec: str = "embedded") -> np.ndarray:
    """L2-normalised PromptEOL embeddings of ``texts`` (``embedded`` or ``llamacpp:`` specs)."""
    from agents.llm import llamacpp_model_path

    path = llamacpp_model_path(spec, "the similarity reward")
    if not texts:
        return np.zeros((0, 0), np.float32)
    llm, lock = _model(path)
    with lock:
        vecs = np.asarray(llm.embed([_TEMPLATE.format(t) for t in texts]), np.float32)
    return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)


@atexit.register
def _close_all() -> None:
    # Free models while llama.cpp's bindings still exist (at interpreter exit they may not).
    for llm, _ in _MODELS.values():
        llm.close()
    _MODELS.clear()
