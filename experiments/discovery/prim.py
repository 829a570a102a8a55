"""PRIM, the Patient Rule Induction Method (Friedman and Fisher 1999): boxes where a goal is met.

PRIM looks for a box in the input space (a range per factor) where the share of runs meeting a
goal is high. It *peels*: step by step it cuts off the ``peel_alpha`` share of the box's runs at
the low or high end of one input, choosing the cut that raises the share of successes most per
run removed, until no cut helps or the box would hold fewer than ``min_mass`` of all runs. The
sequence of boxes is the *peeling trajectory*, a trade-off between

- coverage: the share of all successful runs that lie in the box, and
- density: the share of the runs in the box that are successful,

with mass the share of all runs in the box. One box of the trajectory is chosen (by the user, or
by :meth:`PrimResult.best`), then optionally *pasted* (a limit is widened again, ``paste_alpha``
of the box's runs at a time, while that does not lower the density) and *pruned*: a restriction
whose quasi-p-value (a one-sided binomial test of the box's density against the density of the
same box without that restriction, as in the EMA Workbench; Kwakkel 2017) exceeds ``max_p`` is
dropped, so only inputs that matter are named. Boolean inputs are treated as 0/1 numbers and
text inputs as one 0/1 column per category (``name=value``).

This module is self-contained (numpy, pandas and scipy only), so that another PRIM (e.g. the
EMA Workbench's) can replace it without touching the rest of :mod:`experiments.discovery`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import binomtest

PEEL_ALPHA = 0.05
PASTE_ALPHA = 0.01
MIN_MASS = 0.05
MIN_COVERAGE = 0.5
MAX_P = 0.05

Kind = str  # "numeric" | "binary" | "category"
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


# --- the box -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrimBox:
    """One box: limits per input (inclusive), its coverage, density and mass, and its origin.

    ``limits`` has one row per input, indexed by name, with columns ``kind``, ``low``,
    ``high``, ``data_low``, ``data_high``, ``restricted`` and ``p_value`` (the quasi-p-value
    of a restricted input, NaN for the others).
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    n_in_box: int
    n_successes_in_box: int
    n_runs: int
    n_successes: int
    step: int  # index in the peeling trajectory the box came from
    pasted: bool = False
    dropped: tuple[str, ...] = ()  # restrictions removed as not significant

    def limit(self, name: str) -> dict[str, Any]:
        """One input's row of ``limits`` as a dict (kind, low, high, data_low, ...)."""
        return {str(k): v for k, v in self.limits.loc[name].items()}

    @property
    def restricted(self) -> list[str]:
        """Names of the restricted inputs, most significant (lowest quasi-p-value) first."""
        rows = self.limits[self.limits["restricted"]]
        return [str(name) for name in rows.sort_values("p_value", kind="stable").index]

    def contains(self, X: pd.DataFrame) -> BoolArray:
        """Which rows of ``X`` (encoded inputs, as returned by :func:`encode_inputs`) lie inside."""
        inside = np.ones(len(X), dtype=bool)
        for name in self.restricted:
            col = X[name].to_numpy(dtype=float)
            inside &= (col >= self.limits.at[name, "low"]) & (col <= self.limits.at[name, "high"])
        return inside

    def table(self) -> pd.DataFrame:
        """The limits as a flat table (``dimension`` first), as written to ``prim_box.csv``."""
        out = self.limits.reset_index(names="dimension")
        return out[
            ["dimension", "low", "high", "restricted", "p_value", "kind", "data_low", "data_high"]
        ]


@dataclass(slots=True)
class PrimResult:
    """The peeling trajectory of one PRIM run and the data it was computed on.

    ``trajectory`` has one row per box: ``step``, ``coverage``, ``density``, ``mass``,
    ``n_in_box``, ``n_restricted`` and ``restricted`` (comma-separated names).
    """

    X: pd.DataFrame  # encoded inputs: numeric, one column per dimension
    y: BoolArray
    kinds: dict[str, Kind]
    trajectory: pd.DataFrame
    lows: list[FloatArray]
    highs: list[FloatArray]
    paste_alpha: float
    peel_alpha: float = PEEL_ALPHA
    min_mass: float = MIN_MASS
    values: FloatArray = field(init=False, repr=False)
    data_low: FloatArray = field(init=False, repr=False)
    data_high: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.values = self.X.to_numpy(dtype=float)
        self.data_low = self.values.min(axis=0)
        self.data_high = self.values.max(axis=0)

    @property
    def names(self) -> list[str]:
        """The encoded input names, in column order."""
        return [str(c) for c in self.X.columns]

    def select(self, i: int, *, paste: bool = False, max_p: float | None = None) -> PrimBox:
        """Box ``i`` of the trajectory (negative counts from the end), optionally refined.

        ``paste`` widens its limits while the density does not fall; ``max_p`` drops, one at
        a time, the restriction with the highest quasi-p-value while that exceeds ``max_p``.
        """
        n = len(self.lows)
        if not -n <= i < n:
            raise IndexError(f"box {i} is not in the peeling trajectory (boxes 0 to {n - 1})")
        step = i % n
        low, high = self.lows[step].copy(), self.highs[step].copy()
        if paste:
            low, high = self._paste(low, high)
        dropped: list[str] = []
        if max_p is not None:
            while True:
                p, j, side = max(self._side_p_values(low, high), default=(0.0, -1, ""))
                if p <= max_p:
                    break
                if side == "low":
                    low[j] = self.data_low[j]
                else:
                    high[j] = self.data_high[j]
                dropped.append(f"{self.names[j]} ({side} limit)")
        return self._box(low, high, step, pasted=paste, dropped=tuple(dropped))

    def best(
        self,
        min_coverage: float = MIN_COVERAGE,
        min_density: float | None = None,
        *,
        paste: bool = True,
        max_p: float | None = MAX_P,
    ) -> PrimBox:
        """The box to report: a point on the coverage-density trade-off, refined (see select).

        With ``min_density``: the box of highest coverage whose density reaches it. Otherwise,
        among boxes with coverage >= ``min_coverage``, the one with the highest harmonic mean
        of coverage and density (the F-score, van Rijsbergen 1979: density is the precision
        and coverage the recall of the box as a rule for success). Peeling past the true
        limits buys little density by chance and costs coverage, so this stops near them.
        """
        coverage = self.trajectory["coverage"].to_numpy(dtype=float)
        density = self.trajectory["density"].to_numpy(dtype=float)
        if min_density is not None:
            ok = np.flatnonzero(density >= min_density)
            if ok.size == 0:
                raise ValueError(
                    f"no box of the peeling trajectory reaches density {min_density:.3g}; "
                    f"the highest is {density.max():.3g}"
                )
            step = int(ok[np.argmax(coverage[ok])])
        else:
            ok = np.flatnonzero(coverage >= min_coverage)
            if ok.size == 0:  # only for min_coverage > 1: box 0 has coverage 1
                raise ValueError(f"no box has coverage >= {min_coverage}")
            score = 2.0 * coverage[ok] * density[ok] / (coverage[ok] + density[ok])
            step = int(ok[np.argmax(score)])  # first maximum: the larger box on a tie
        return self.select(step, paste=paste, max_p=max_p)

    # --- internals ---------------------------------------------------------------------

    def _inside(self, low: FloatArray, high: FloatArray) -> BoolArray:
        """Per run and input: is the value within the limits? (n_runs x n_inputs)."""
        return (self.values >= low) & (self.values <= high)

    def _restricted(self, low: FloatArray, high: FloatArray) -> BoolArray:
        return (low > self.data_low) | (high < self.data_high)

    def _p_values(self, low: FloatArray, high: FloatArray) -> FloatArray:
        """Quasi-p-value per restricted input: is the box denser than without that limit?"""
        inside = self._inside(low, high)
        in_box = inside.all(axis=1)
        n, k = int(in_box.sum()), int(self.y[in_box].sum())
        out = np.full(len(low), np.nan)
        for j in np.flatnonzero(self._restricted(low, high)):
            relaxed = np.delete(inside, j, axis=1).all(axis=1)
            p0 = float(self.y[relaxed].mean())
            out[j] = binomtest(k, n, p0, alternative="greater").pvalue if n else 1.0
        return out

    def _side_p_values(self, low: FloatArray, high: FloatArray) -> list[tuple[float, int, str]]:
        """Quasi-p-value of each limit that restricts: (p, input, 'low' or 'high')."""
        in_box = self._inside(low, high).all(axis=1)
        n, k = int(in_box.sum()), int(self.y[in_box].sum())
        out = []
        for j in range(len(low)):
            for side, limit, end in (("low", low, self.data_low), ("high", high, self.data_high)):
                if limit[j] == end[j]:
                    continue
                relaxed_low, relaxed_high = low.copy(), high.copy()
                (relaxed_low if side == "low" else relaxed_high)[j] = end[j]
                relaxed = self._inside(relaxed_low, relaxed_high).all(axis=1)
                p0 = float(self.y[relaxed].mean())
                p = binomtest(k, n, p0, alternative="greater").pvalue if n else 1.0
                out.append((float(p), j, side))
        return out

    def _paste(self, low: FloatArray, high: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Widen one limit at a time (the widening of highest density) while density holds."""
        low, high = low.copy(), high.copy()
        while True:
            inside = self._inside(low, high)
            n_out = (~inside).sum(axis=1)
            in_box = n_out == 0
            n_box, k_box = int(in_box.sum()), int(self.y[in_box].sum())
            density = k_box / n_box
            step = max(1, math.ceil(self.paste_alpha * n_box))
            best: tuple[float, int, str, float] | None = None
            for j in np.flatnonzero(self._restricted(low, high)):
                col = self.values[:, j]
                only_j = (n_out == 1) & ~inside[:, j]  # outside the box along j only
                for side in ("low", "high"):
                    cand = col[only_j & (col < low[j] if side == "low" else col > high[j])]
                    if cand.size == 0:
                        continue
                    # the `step` nearest runs beyond the limit (all runs tied with the last)
                    if side == "low":
                        limit = float(np.sort(cand)[::-1][min(step, cand.size) - 1])
                        added = only_j & (col >= limit) & (col < low[j])
                    else:
                        limit = float(np.sort(cand)[min(step, cand.size) - 1])
                        added = only_j & (col <= limit) & (col > high[j])
                    new_density = (k_box + int(self.y[added].sum())) / (n_box + int(added.sum()))
                    if best is None or new_density > best[0]:
                        best = (new_density, int(j), side, limit)
            if best is None or best[0] < density:
                return low, high
            _, dim, side, limit = best
            if side == "low":
                low[dim] = limit
            else:
                high[dim] = limit

    def _box(
        self,
        low: FloatArray,
        high: FloatArray,
        step: int,
        *,
        pasted: bool = False,
        dropped: tuple[str, ...] = (),
    ) -> PrimBox:
        in_box = self._inside(low, high).all(axis=1)
        n_box, k_box = int(in_box.sum()), int(self.y[in_box].sum())
        n, k = len(self.y), int(self.y.sum())
        limits = pd.DataFrame(
            {
                "kind": [self.kinds[name] for name in self.names],
                "low": low,
                "high": high,
                "data_low": self.data_low,
                "data_high": self.data_high,
                "restricted": self._restricted(low, high),
                "p_value": self._p_values(low, high),
            },
            index=pd.Index(self.names, name="dimension"),
        )
        return PrimBox(
            limits=limits,
            coverage=k_box / k if k else float("nan"),
            density=k_box / n_box if n_box else float("nan"),
            mass=n_box / n,
            n_in_box=n_box,
            n_successes_in_box=k_box,
            n_runs=n,
            n_successes=k,
            step=step,
            pasted=pasted,
            dropped=dropped,
        )


# --- the algorithm -------------------------------------------------------------------------


def encode_inputs(X: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Kind]]:
    """Numeric inputs for PRIM: booleans as 0/1, text as one 0/1 column per category.

    Returns the encoded frame and the kind of each column: ``binary`` (only 0 and 1),
    ``category`` (``name=value`` indicator of a text input) or ``numeric``.
    """
    columns: dict[str, pd.Series] = {}
    kinds: dict[str, Kind] = {}
    for name in X.columns:
        col = X[name]
        if col.isna().any():
            raise ValueError(f"input {name!r} has {int(col.isna().sum())} missing values")
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            values = col.astype(float)
            columns[str(name)] = values
            kinds[str(name)] = "binary" if set(values.unique()) <= {0.0, 1.0} else "numeric"
        else:
            for category in sorted(col.astype(str).unique()):
                key = f"{name}={category}"
                columns[key] = (col.astype(str) == category).astype(float)
                kinds[key] = "category"
    return pd.DataFrame(columns, index=X.index), kinds


def prim(
    X: pd.DataFrame,
    y: NDArray[Any] | Sequence[bool] | pd.Series,
    peel_alpha: float = PEEL_ALPHA,
    paste_alpha: float = PASTE_ALPHA,
    min_mass: float = MIN_MASS,
    threshold_density: float | None = None,
) -> PrimResult:
    """Peel the inputs ``X`` towards the runs where ``y`` is true (Friedman and Fisher 1999).

    Each step considers, for every input, cutting the ``peel_alpha`` quantile off the box's
    low or high end (for an input with few distinct values: its lowest or highest value) and
    takes the cut that raises the box's density most per run removed. Peeling stops when no
    cut raises the density, when the box would hold fewer than ``min_mass`` of the runs, or
    once the density reaches ``threshold_density`` (if given).
    """
    for name, value in (("peel_alpha", peel_alpha), ("paste_alpha", paste_alpha)):
        if not 0.0 < value < 0.5:
            raise ValueError(f"{name} must be in (0, 0.5), got {value}")
    if not 0.0 < min_mass < 1.0:
        raise ValueError(f"min_mass must be in (0, 1), got {min_mass}")
    target = np.asarray(y)
    if target.ndim != 1 or len(target) != len(X):
        raise ValueError(f"y must have one value per row of X ({len(X)}), got shape {target.shape}")
    if target.dtype != bool:
        if not np.isin(target, (0, 1)).all():
            raise ValueError("y must be boolean (or 0/1)")
        target = target.astype(bool)
    if not target.any():
        raise ValueError("no run meets the goal (y is all false); PRIM needs successes")
    encoded, kinds = encode_inputs(X)
    if encoded.shape[1] == 0:
        raise ValueError("X has no input columns")
    values = encoded.to_numpy(dtype=float)
    n_runs, k_total = len(target), int(target.sum())
    data_low, data_high = values.min(axis=0), values.max(axis=0)
    min_n = max(1, math.ceil(min_mass * n_runs))
    low, high = data_low.copy(), data_high.copy()
    in_box = np.ones(n_runs, dtype=bool)
    lows: list[FloatArray] = []
    highs: list[FloatArray] = []
    rows: list[dict[str, Any]] = []

    def record() -> None:
        n_box, k_box = int(in_box.sum()), int(target[in_box].sum())
        restricted = (low > data_low) | (high < data_high)
        lows.append(low.copy())
        highs.append(high.copy())
        rows.append(
            {
                "step": len(rows),
                "coverage": k_box / k_total,
                "density": k_box / n_box,
                "mass": n_box / n_runs,
                "n_in_box": n_box,
                "n_restricted": int(restricted.sum()),
                "restricted": ",".join(encoded.columns[restricted]),
            }
        )

    record()
    while threshold_density is None or float(rows[-1]["density"]) < threshold_density:
        idx = np.flatnonzero(in_box)
        v, yy = values[idx], target[idx].astype(float)
        n_old, k_old = len(idx), float(yy.sum())
        vmin, vmax = v.min(axis=0), v.max(axis=0)
        best: tuple[float, int, bool, float] | None = None  # (gain, input, is_low, limit)
        for is_low in (True, False):
            q = np.quantile(v, peel_alpha if is_low else 1.0 - peel_alpha, axis=0)
            removed = v < q if is_low else v > q
            # inputs with ties at the end (e.g. 0/1): cut off the whole lowest/highest value
            few = ~removed.any(axis=0)
            removed[:, few] = (v[:, few] <= vmin[few]) if is_low else (v[:, few] >= vmax[few])
            if is_low:
                next_value = np.where(removed, np.inf, v).min(axis=0)
            else:
                next_value = np.where(removed, -np.inf, v).max(axis=0)
            limit = np.where(few, next_value, q)
            n_removed = removed.sum(axis=0)
            n_new = n_old - n_removed
            valid = (vmax > vmin) & (n_removed > 0) & (n_new >= min_n)
            if not valid.any():
                continue
            k_new = k_old - yy @ removed
            with np.errstate(all="ignore"):
                gain = np.where(valid, (k_new / n_new - k_old / n_old) / n_removed, -np.inf)
            j = int(np.argmax(gain))
            if gain[j] > 0 and (best is None or gain[j] > best[0]):
                best = (float(gain[j]), j, is_low, float(limit[j]))
        if best is None:
            break
        _, j, is_low, value = best
        if is_low:
            low[j] = value
        else:
            high[j] = value
        in_box &= (values[:, j] >= low[j]) & (values[:, j] <= high[j])
        record()
    return PrimResult(
        X=encoded,
        y=target,
        kinds=kinds,
        trajectory=pd.DataFrame(rows),
        lows=lows,
        highs=highs,
        paste_alpha=paste_alpha,
        peel_alpha=peel_alpha,
        min_mass=min_mass,
    )
