"""Small numerical helpers shared by the rules."""

from __future__ import annotations

import numpy as np

from abm.kernels import kernels


def logistic(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``; float32 input stays float32.

    Written out rather than ``scipy.special.expit``, which can differ in the last bit, so that
    results stay identical to the pinned baseline.
    """
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def rank_within(group: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... for the entries of each group (a city, a country), in their given order."""
    return np.asarray(kernels().rank_within(np.asarray(group, dtype=np.int64)))


def cumsum_within(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running total of ``values`` within each group (a city, a country), in order (inclusive)."""
    return np.asarray(
        kernels().cumsum_within(
            np.asarray(group, dtype=np.int64), np.asarray(values, dtype=np.float64)
        )
    )
