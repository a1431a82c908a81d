"""The Yes-class F1 and the dev threshold rule, shared by training and the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)


def f1_yes(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, threshold: float) -> float:
    """F1 of the Yes class (label 1) when scores >= threshold are called Yes."""
    pred = np.asarray(scores) >= threshold
    gold = np.asarray(labels) == 1
    tp = int(np.sum(pred & gold))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + int(np.sum(pred & ~gold)) + int(np.sum(~pred & gold)))


def choose_threshold(labels, scores, tolerance: float = 0.005) -> tuple[float, float]:
    """The decision threshold picked on dev, and the dev F1 there.

    The dev F1 curve has a flat top and its arg-max is a noisy pick that over-fits
    dev, so this takes the lowest threshold (0.01 grid) whose F1 is within
    ``tolerance`` of the best: the same F1 on dev with more recall, which is what
    a first pass for fact-checkers wants.
    """
    f1s = np.array([f1_yes(labels, scores, t) for t in THRESHOLD_GRID])
    index = int(np.flatnonzero(f1s >= f1s.max() - tolerance)[0])
    return float(THRESHOLD_GRID[index]), float(f1s[index])
