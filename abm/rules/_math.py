"""Small numerical helpers shared by the rules."""

from __future__ import annotations

import numpy as np


def logistic(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``; float32 input stays float32.

    Written out rather than ``scipy.special.expit``, which can differ in the last bit, so that
    results stay identical to the pinned baseline.
    """
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def rank_within(group: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... for the entries of each group (a city, a country), in their given order."""
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    first = np.searchsorted(sorted_group, sorted_group, side="left")
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - first
    return rank


def cumsum_within(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running total of ``values`` within each group (a city, a country), in order (inclusive)."""
    order = np.argsort(group, kind="stable")
    v = values[order]
    cs = np.cumsum(v)
    sorted_group = group[order]
    first = np.searchsorted(sorted_group, sorted_group, side="left")
    before = np.where(first > 0, cs[np.maximum(first - 1, 0)], 0.0)
    out = np.empty(group.size)
    out[order] = cs - before
    return out
