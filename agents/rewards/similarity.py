"""Goal-transition similarity reward (ELLM, Du et al. 2023, arXiv 2302.06692).

The transition is captioned from its achievement delta ("you collected wood"); the reward is
1 when the caption's embedding is similar enough to the subgoal text's. ELLM thresholds the
raw cosine of SentenceBERT embeddings. Our offline embedder (SmolLM2-135M, PromptEOL pooling,
see ``_embed``) is anisotropic: every pair of Crafter captions has cosine 0.90-0.96, and the
right pair's cosine (0.90-0.95) overlaps the wrong pairs' (up to 0.96), so no raw threshold
works. We therefore threshold a calibrated score: the cosine after removing the mean of a
reference set (the captions of all 22 achievements + "nothing happened" + their subgoal
texts), z-scored against that subgoal's similarities to all reference captions. On those
22 x 23 pairs, z > 2.25 accepted the right caption for 20 of 22 subgoals (not collect_drink,
whose caption says "drank water", nor one other) and 0 of 484 wrong pairs. This is an
in-sample calibration: re-measure with ``benchmarks/reward_models.py`` for another embedder.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from agents.rewards._captions import caption, describe_transition, events
from agents.rewards.base import Assessment, subgoal_text

__all__ = ["DEFAULT_THRESHOLD", "SimilarityReward", "reference_events"]

DEFAULT_THRESHOLD = 2.25
"""z-score threshold (see the module docstring for how it was picked)."""


@functools.cache
def reference_events() -> tuple[str, ...]:
    """Crafter's achievements from its own ``data.yaml``."""
    import crafter.constants as c

    return tuple(c.achievements)


class SimilarityReward:
    """ELLM's reward with a calibrated threshold; ``embed`` maps texts to unit vectors."""

    mode = "similarity"

    def __init__(
        self,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        reference: Sequence[str] | None = None,
    ) -> None:
        if embed is None:
            from agents.rewards._embed import eol_embed

            embed = eol_embed
        self.embed = embed
        self.threshold = threshold
        ref_events = list(reference or reference_events())
        self.ref_captions = [caption(e) for e in ref_events] + ["nothing happened"]
        self.ref_goals = [subgoal_text(e) for e in ref_events]
        self._vecs: dict[str, np.ndarray] = {}
        self._mean: np.ndarray | None = None

    def reset(self, info: Mapping[str, Any]) -> None:
        """Nothing to reset."""

    def _vec(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vecs]
        if missing:
            for t, v in zip(missing, np.asarray(self.embed(missing), np.float32), strict=True):
                self._vecs[t] = v
        return np.stack([self._vecs[t] for t in texts])

    def _centred(self, texts: Sequence[str]) -> np.ndarray:
        if self._mean is None:
            self._mean = self._vec(self.ref_captions + self.ref_goals).mean(0)
        v = self._vec(texts) - self._mean
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    def score(self, goal_text: str, text: str) -> tuple[float, float]:
        """(centred cosine, z-score against the reference captions) of ``text`` for the goal."""
        g = self._centred([goal_text])[0]
        ref = self._centred(self.ref_captions) @ g
        cos = float(self._centred([text])[0] @ g)
        return cos, float((cos - ref.mean()) / max(float(ref.std()), 1e-6))

    def assess(self, goal: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Assessment:
        """Caption the transition; reward 1 when any event's caption passes the threshold."""
        text = subgoal_text(goal)
        found = events(before, after)
        if not found:
            return Assessment(False, 0.0, "similarity: nothing happened")
        best = max((self.score(text, caption(e))[1], caption(e)) for e in found)
        ok = best[0] > self.threshold
        return Assessment(
            ok,
            float(ok),
            f"similarity of '{describe_transition(before, after)}' to '{text}': "
            f"z={best[0]:.2f} {'>' if ok else '<='} {self.threshold}",
        )
