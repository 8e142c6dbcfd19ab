"""Intervals for success rates measured over episodes: one place for every benchmark.

``wilson`` bounds a success share ``k/n`` (Wilson score interval; honest at 0/n and n/n,
where the normal approximation gives zero width); ``paired_bootstrap`` bounds the difference
of two arms played on the same episodes (the same seeds, goals or levels), resampling the
pairs, so the seeds' shared luck cancels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["paired_bootstrap", "wilson"]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (95% by default) of a success rate ``k / n``; (0, 1) for n = 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def paired_bootstrap(
    before: Sequence[float], after: Sequence[float], *, n: int = 5000, seed: int = 0
) -> tuple[float, float]:
    """95% bootstrap interval of ``mean(after) - mean(before)`` over paired episodes (entry i
    of both is the same episode: seed, goal or level)."""
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if len(a) != len(b) or not len(a):
        raise ValueError("paired_bootstrap needs two equally long, non-empty lists")
    idx = np.random.default_rng(seed).integers(0, len(a), size=(n, len(a)))
    diffs = (a[idx] - b[idx]).mean(axis=1)
    return (float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975)))
