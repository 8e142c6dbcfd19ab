"""How a choice among surviving options is made: the model's scores decide, ties at random.

The constraints (rules, affordances) prune; what is left is ranked by the model. When the
model has no preference (equal scores: always so for the ``none`` backend) the choice is
drawn at random from a seed derived from the run and the decision (`rng_for`), never "the
first option", so no order in which options happen to be listed decides anything.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from typing import Any

TIE = 1e-9
"""Scores within this of the best count as tied."""


def rng_for(seed: int, *parts: Any) -> random.Random:
    """A random generator seeded from a run's seed and what identifies the decision."""
    text = json.dumps([seed, *parts], sort_keys=True, default=str, ensure_ascii=False)
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def choose(scores: Sequence[float], *, seed: int, key: Any) -> int:
    """Index of the best score; among tied best scores, a seeded random one.

    ``key`` identifies the decision within the run (role, env step, decision index,
    options), so a rerun or a resumed run draws the same.
    """
    if not scores:
        raise ValueError("choose() needs at least one option")
    best = max(scores)
    tied = [i for i, s in enumerate(scores) if s >= best - TIE]
    if len(tied) == 1:
        return tied[0]
    return rng_for(seed, key).choice(tied)
