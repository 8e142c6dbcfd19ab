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
    (``option_logliks``: its own batches with several sequences, ``SCORE_SEQUENCES`` of them
    in a unified KV cache of ``SCORE_N_CTX`` cells) and ``"embed"`` (``embedding=True``,
    mean pooling).
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
                kw.update(n_ctx=SCORE_N_CTX)
            _POOL[key] = _new_llama(key[0], role, kw)
            _LOCKS[key] = threading.RLock()
        return _POOL[key], _LOCKS[key]


#: Sequences a score context holds at once: every option of one call is its own sequence.
SCORE_SEQUENCES = 64


def _new_llama(path: str, role: str, kw: dict[str, Any]) -> Any:
    import llama_cpp
    import llama_cpp.llama_cpp as low

    if role != "score":
        return llama_cpp.Llama(model_path=path, **kw)
    # Llama() exposes no n_seq_max / kv_unified (it sets them only for embeddings), so the
    # score context gets them through the defaults it starts from; unified, the sequences
    # share the n_ctx cells instead of splitting them.
    default = low.llama_context_default_params

    def params() -> Any:
        p = default()
        p.n_seq_max = SCORE_SEQUENCES
        p.kv_unified = True
        return p

    low.llama_context_default_params = params
    try:
        return llama_cpp.Llama(model_path=path, **kw)
    finally:
        low.llama_context_default_params = default


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


def _split_head(llm: Any, prompt: str, p_tokens: list[int]) -> int:
    """How many of ``p_tokens`` lie wholly inside the prompt's text up to its last blank line.

    Prompts that differ only after their last blank line (a fixed menu, then a goal) share
    that head: it is evaluated as its own batch and its KV state kept for the next prompt.
    The head's tokens are taken from the whole prompt's tokenisation (a tokenizer may merge
    across the boundary differently when the head stands alone), and the split depends on
    the prompt's text alone, so a prompt's scores do not depend on what ran before.
    """
    cut = prompt.rfind("\n\n")
    if cut <= 0:
        return 0
    room = len(prompt[: cut + 2].encode())
    bos = llm.tokenize(b"", add_bos=True, special=True)
    start = len(bos) if p_tokens[: len(bos)] == bos else 0
    used, n = 0, start
    for tok in p_tokens[start:]:
        used += len(llm.detokenize([tok], special=True))
        if used > room:
            break
        n += 1
    return n if start < n < len(p_tokens) else 0


def option_logliks(
    llm: Any, lock: threading.RLock, prompt: str, options: Sequence[str]
) -> list[float]:
    """Sum of log p(option tokens | prompt) for each option, one prompt evaluation shared.

    The prompt is evaluated once (its head, up to the last blank line, reused from the
    previous call when it is the same, see ``_split_head``); then all options at once, each
    as its own sequence on top of the prompt's KV cells. Logits are computed only where a
    log-probability is read (the prompt's last token, each option token but its last):
    with a 150k-token vocabulary the output layer costs as much as the rest of a 0.5B model.
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
        n_head = _split_head(llm, prompt, p_tokens)
        kept = getattr(llm, "_mendako_head", None)
        # The KV cache still holds the head when the last call here evaluated the same head
        # (input_ids records what the cache holds; any other eval would have overwritten it).
        reuse = (
            n_head > 0
            and kept == tuple(p_tokens[:n_head])
            and llm.n_tokens >= n_head
            and list(llm.input_ids[:n_head]) == p_tokens[:n_head]
        )
        # Otherwise from a fresh state: cached scores must not depend on what ran before.
        llm._mendako_head = None
        if not reuse and n_head:
            _eval_prompt(llm, p_tokens[:n_head], 0)
        llm._mendako_head = tuple(p_tokens[:n_head]) if n_head else None
        last = _eval_prompt(llm, p_tokens[n_head:], n_head)
        rows = _option_logits(llm, n_p, opts)
        out = []
        for toks, after in zip(opts, rows, strict=True):
            lp = log_softmax(np.vstack([last[None, :], after]))[np.arange(len(toks)), toks]
            out.append(float(lp.sum()))
        return out


def _decode(llm: Any, entries: list[tuple[int, int, int, bool]]) -> np.ndarray:
    """One llama.cpp batch of (token, position, sequence, wants logits); the logits rows of
    the entries that want them, in order."""
    import llama_cpp

    ctx = llm._ctx.ctx
    batch = llama_cpp.llama_batch_init(len(entries), 0, 1)
    try:
        for j, (tok, pos, seq, want) in enumerate(entries):
            batch.token[j] = tok
            batch.pos[j] = pos
            batch.n_seq_id[j] = 1
            batch.seq_id[j][0] = seq
            batch.logits[j] = want
        batch.n_tokens = len(entries)
        rc = llama_cpp.llama_decode(ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed ({rc}) on a batch of {len(entries)} tokens")
        n_out = sum(1 for e in entries if e[3])
        if not n_out:
            return np.zeros((0, llm.n_vocab()), dtype=np.float32)
        view = np.ctypeslib.as_array(llama_cpp.llama_get_logits(ctx), shape=(n_out, llm.n_vocab()))
        return np.array(view, dtype=np.float32)
    finally:
        llama_cpp.llama_batch_free(batch)


def _eval_prompt(llm: Any, tokens: list[int], start: int) -> np.ndarray:
    """Evaluate ``tokens`` as sequence 0 from position ``start`` (in ``n_batch`` chunks) and
    return the logits after the last one; keeps ``llm.n_tokens``/``input_ids`` in step."""
    import llama_cpp

    mem = llama_cpp.llama_get_memory(llm._ctx.ctx)
    llama_cpp.llama_memory_seq_rm(mem, -1, start, -1)
    llm.n_tokens = start
    last = np.zeros((0, llm.n_vocab()), dtype=np.float32)
    for i in range(0, len(tokens), llm.n_batch):
        chunk = tokens[i : i + llm.n_batch]
        pos = start + i
        end = i + len(chunk) == len(tokens)
        entries = [(t, pos + k, 0, end and k == len(chunk) - 1) for k, t in enumerate(chunk)]
        out = _decode(llm, entries)
        llm.input_ids[pos : pos + len(chunk)] = chunk
        llm.n_tokens = pos + len(chunk)
        if end:
            last = out
    return last[0]


def _option_logits(llm: Any, n_p: int, opts: list[list[int]]) -> list[np.ndarray]:
    """Logits after each option token but its last, every option its own sequence sharing
    the prompt's KV cells (``llama_memory_seq_cp`` tags them, no copy), as few batches as
    ``n_batch`` and ``n_seq_max`` allow."""
    import llama_cpp

    mem = llama_cpp.llama_get_memory(llm._ctx.ctx)
    max_seqs = max(1, int(llm.context_params.n_seq_max) - 1)
    room = min(llm.n_batch, llm.n_ctx() - n_p)
    groups: list[list[int]] = [[]]
    used = 0
    for i, toks in enumerate(opts):
        if groups[-1] and (len(groups[-1]) >= max_seqs or used + len(toks) > room):
            groups.append([])
            used = 0
        groups[-1].append(i)
        used += len(toks)
    rows: list[np.ndarray] = [np.zeros((0, llm.n_vocab()), dtype=np.float32)] * len(opts)
    for group in groups:
        entries = []
        for k, i in enumerate(group, start=1):
            llama_cpp.llama_memory_seq_cp(mem, 0, k, 0, n_p)
            toks = opts[i]
            entries += [(t, n_p + j, k, j < len(toks) - 1) for j, t in enumerate(toks)]
        try:
            out = _decode(llm, entries)
        finally:
            for k in range(1, len(group) + 1):
                llama_cpp.llama_memory_seq_rm(mem, k, -1, -1)
        at = 0
        for i in group:
            n = len(opts[i]) - 1
            rows[i] = out[at : at + n]
            at += n
    return rows
