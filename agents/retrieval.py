"""Find the skills most relevant to a task: cosine similarity of text embeddings (Voyager).

Embeddings come from `agents.llm.embed` (llama.cpp on the embedded GGUF: offline, no model
download). A skill's vector depends only on its text, so vectors are cached on disk in
`$MENDAKO_HOME/cache/skill_embeddings.json`, keyed by model spec and a hash of the text;
retrieval then costs one embedding of the query.

Mean-pooled vectors of a 135M chat model are anisotropic (every pair of skill texts has a
cosine near 0.9), so vectors are centred on the mean of the candidate skills' vectors before
the cosine, and the score adds a lexical term (shared content words, lightly stemmed): a
hybrid retrieval, measured here to rank the matching skill first where either part alone
misses some. Where embeddings cannot be had (a backend without them), `rank` uses the
lexical term alone and says so in `method`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.affordance import skill_phrase
from envs.goal_vocab import words
from skills import mendako_home, write_json_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retrieved:
    """One retrieved skill and how close it is to the query (cosine, or word overlap)."""

    name: str
    score: float
    text: str


def skill_text(meta: Any) -> str:
    """What a skill is about, as one line: its achievement in words, then its description."""
    return f"{skill_phrase(meta)}: {meta.description}"


class SkillRetriever:
    """Embedding retrieval over skills, with an on-disk cache of skill vectors."""

    def __init__(self, spec: str = "embedded", *, cache_path: Path | None = None) -> None:
        self.spec = spec
        self.cache_path = cache_path or mendako_home() / "cache" / "skill_embeddings.json"
        self._cache: dict[str, list[float]] | None = None
        self.method = "embedding"
        """`embedding`, or `words` after a fallback."""

    def _key(self, text: str) -> str:
        return f"{self.spec}:{hashlib.sha256(text.encode()).hexdigest()[:24]}"

    def _load(self) -> dict[str, list[float]]:
        if self._cache is None:
            try:
                data = json.loads(self.cache_path.read_text())
                self._cache = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._cache = {}
        return self._cache

    def vectors(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of `texts`, from the cache where possible (new ones are stored)."""
        from agents.llm import embed

        cache = self._load()
        todo = [t for t in dict.fromkeys(texts) if self._key(t) not in cache]
        if todo:
            for t, v in zip(todo, embed(todo, self.spec), strict=True):
                cache[self._key(t)] = [round(float(x), 6) for x in v]
            try:
                write_json_atomic(self.cache_path, cache)
            except OSError as e:  # a read-only home costs speed, not retrieval
                log.warning("cannot write embedding cache: %s", e)
        return np.asarray([cache[self._key(t)] for t in texts], dtype=np.float32)

    def rank(self, query: str, skills: Iterable[Any], k: int | None = None) -> list[Retrieved]:
        """Skills ordered by similarity to `query`, most relevant first (top `k`)."""
        skills = list(skills)
        if not skills:
            return []
        texts = [skill_text(s.meta) for s in skills]
        from agents.llm import LLMError, embed

        try:
            q = embed([query], self.spec)[0]
            vecs = self.vectors(texts)
            mean = vecs.mean(axis=0) if len(vecs) > 1 else np.zeros_like(q)
            vecs, q = _unit(vecs - mean), _unit(q - mean)
            scores = vecs @ q + LEXICAL_WEIGHT * np.asarray([_overlap(query, t) for t in texts])
            self.method = "embedding"
        except (LLMError, ImportError, OSError) as e:
            log.warning("embedding retrieval unavailable (%s); ranking by shared words", e)
            self.method = "words"
            scores = np.asarray([_overlap(query, t) for t in texts])
        order = sorted(range(len(skills)), key=lambda i: -float(scores[i]))
        out = [Retrieved(skills[i].meta.name, float(scores[i]), texts[i]) for i in order]
        return out if k is None else out[:k]


LEXICAL_WEIGHT = 1.0
"""Weight of the shared-words term next to the centred cosine."""


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _words(text: str) -> set[str]:
    return {w for w in words(text) if len(w) > 2}


def _overlap(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / max(1, len(wa | wb))
