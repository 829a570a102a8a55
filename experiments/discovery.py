"""Scenario discovery: PRIM boxes that say, in plain words, under which conditions a goal is met.

PRIM, the Patient Rule Induction Method (Friedman and Fisher 1999), looks for a box in the input
space (a range per factor) where the share of runs meeting a goal is high. It *peels*: step by
step it cuts off the ``peel_alpha`` share of the box's runs at the low or high end of one input,
choosing the cut that raises the share of successes most per run removed, until no cut helps or
the box would hold fewer than ``min_mass`` of all runs. The sequence of boxes is the *peeling
trajectory*, a trade-off between

- coverage: the share of all successful runs that lie in the box, and
- density: the share of the runs in the box that are successful,

with mass the share of all runs in the box. One box of the trajectory is chosen (by the user, or
by :meth:`PrimResult.best`), then optionally *pasted* (a limit is widened again, ``paste_alpha``
of the box's runs at a time, while that does not lower the density) and *pruned*: a restriction
whose quasi-p-value (a one-sided binomial test of the box's density against the density of the
same box without that restriction, as in the EMA Workbench; Kwakkel 2017) exceeds ``max_p`` is
dropped, so only inputs that matter are named. Boolean inputs are treated as 0/1 numbers and
text inputs as one 0/1 column per category (``name=value``).

:func:`describe` turns a box into one sentence, using the parameter registry
(:data:`abm.config.PARAMETER_META`) and the lever descriptions (:data:`abm.policies.LEVERS`).
``govsim discover RUNS.parquet ...`` (registered by :func:`register`) runs all of it on the
``runs.parquet`` of a sweep and writes tables, a report and two figures.
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import re
import shlex
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from numpy.typing import NDArray
from scipy.stats import binomtest

from abm.config import PARAMETER_META
from abm.policies import LEVERS
from experiments import figures
from experiments.errors import BadInput

PEEL_ALPHA = 0.05
PASTE_ALPHA = 0.01
MIN_MASS = 0.05
MIN_COVERAGE = 0.5
MAX_P = 0.05
EXIT_OK = 0

Kind = str  # "numeric" | "binary" | "category"
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# units not worth printing after a number in a sentence
_UNITLESS = {"", "-", "share", "probability", "weight", "authority", "index 0-1"}
# comparison operators of a goal, longest first so '>=' is not read as '>'
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_OPERATOR_WORDS = {">=": "at least", "<=": "at most", ">": "above", "<": "below"}


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


# --- plain words ---------------------------------------------------------------------------


def format_number(value: float, digits: int = 2) -> str:
    """A number for a sentence: ``digits`` significant digits, no exponent, thousands commas."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")
    if abs(rounded) >= 10 ** (digits - 1) or rounded == int(rounded):
        return f"{rounded:,.0f}"
    decimals = digits - 1 - math.floor(math.log10(abs(rounded)))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def _percent(share: float) -> str:
    return "n/a" if share != share else f"{share:.0%}"


def _human(name: str) -> str:
    return name.replace("_", " ")


# unit endings of registry names, left out of a label because the unit follows the number
_UNIT_SUFFIXES = (
    "_eur_per_capita_per_year",
    "_person_months",
    "_eur_per_t",
    "_months",
    "_years",
    "_pp",
)


def _strip_doc(doc: str) -> str:
    """A registry doc without its symbol prefix ('b3: burden ...' -> 'burden ...')."""
    return re.sub(r"^[\w ]{1,12}:\s*", "", doc)


def _readable(doc: str) -> bool:
    """Does a registry doc read as a noun phrase that names the parameter on its own?"""
    words = doc.split()
    return (
        len(words) >= 3
        and not any(mark in doc for mark in ("->", "~", "_", "^"))
        and len(words[0]) > 1
        and len(words[-1]) > 1
        and words[-1] not in {"after", "than", "of", "to", "by", "for", "per"}
    )


def _short_brief(text: str, max_chars: int = 60) -> str:
    """The first clause of a lever's brief text, about ``max_chars`` long, in sentence case."""
    text = re.split(r"[;:]|,? incl\.", text)[0].strip()
    if len(text) > max_chars:
        cuts = [
            m.start() for m in re.finditer(r", | with | for | such as ", text) if m.start() > 15
        ]
        fitting = [c for c in cuts if c <= max_chars]
        if fitting or cuts:
            text = text[: max(fitting) if fitting else min(cuts)]
    words = text.split()
    if len(words) > 1 and words[1][:1].islower():
        text = text[:1].lower() + text[1:]
    return text


_LEVER_TEXT = {info.name: _short_brief(info.brief) for info in LEVERS}
_DOC_COUNTS: dict[str, int] = {}
for _meta in PARAMETER_META.values():
    _doc = _strip_doc(str(_meta["doc"]))
    _DOC_COUNTS[_doc] = _DOC_COUNTS.get(_doc, 0) + 1


def factor_label(name: str, kind: str = "") -> tuple[str, str]:
    """A readable label and unit for an input: registry doc for parameters, brief for levers.

    A parameter's doc is used when it reads as a name on its own (three words or more, no
    symbols, unique in the registry); otherwise the parameter's name with underscores as
    spaces and its unit ending dropped. ``kind`` is the factor kind from the sweep manifest
    (``lever``, ``package``, ...), if known.
    """
    base = name.split("=", 1)[0]
    if base in PARAMETER_META:
        meta = PARAMETER_META[base]
        doc = _strip_doc(str(meta["doc"]))
        unit = str(meta["unit"])
        if _readable(doc) and _DOC_COUNTS.get(doc, 0) == 1:
            return doc, unit
        stem = base
        for suffix in _UNIT_SUFFIXES:
            if stem.endswith(suffix) and len(stem) > len(suffix):
                stem = stem.removesuffix(suffix)
                break
        return _human(stem), unit
    if base in _LEVER_TEXT:
        return _LEVER_TEXT[base], "intensity"
    if kind == "package":
        return f"the {_human(base)}" + ("" if "package" in base else " package"), "intensity"
    return _human(base), ""


def _condition(row: Mapping[str, Any], name: str, kind_hint: str = "") -> str:
    """One restriction of a box as words, e.g. 'staff time for a bid is below 2.5 person-months'."""
    label, unit = factor_label(name, kind_hint)
    low, high = float(row["low"]), float(row["high"])
    has_low = low > float(row["data_low"])
    has_high = high < float(row["data_high"])
    if row["kind"] == "category":
        base, category = name.split("=", 1)
        return f"{_human(base)} is {'' if low >= 1 else 'not '}{category}"
    if row["kind"] == "binary":
        on = low >= 1
        if name in _LEVER_TEXT:
            return f"the lever {label} is {'on' if on else 'off'}"
        if kind_hint == "package":
            return f"{label} is {'used' if on else 'not used'}"
        return f"{label} is {'on' if on else 'off'}"
    subject = f"the intensity of {label}" if unit == "intensity" else label
    shown = "" if unit in _UNITLESS or unit == "intensity" else unit
    suffix = shown if shown == "%" else f" {shown}".rstrip()
    a, b = format_number(low) + suffix, format_number(high) + suffix
    if has_low and has_high:
        return f"{subject} is between {a} and {b}"
    return f"{subject} is above {a}" if has_low else f"{subject} is below {b}"


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def goal_text(outcome: str, op: str, value: float) -> str:
    """The goal in words, e.g. 'the EU emissions cut by 2050 (vs start year) is at least 50%'."""
    info = figures.describe_outcome(outcome)
    unit = info.unit if info.unit != "model units" else ""
    number = format_number(value * info.scale, 3)
    shown = f"{number}{unit}" if unit == "%" else f"{number} {unit}".strip()
    return f"{info.label} is {_OPERATOR_WORDS.get(op, op)} {shown}"


def describe(
    box: PrimBox,
    outcome: str,
    goal_text: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> str:
    """The box in one plain sentence: goal, share of runs meeting it, conditions, statistics.

    ``goal_text`` says what was asked (e.g. 'the full package halves city emissions by
    2040'); without it the outcome's label is used. ``kinds`` maps input names to the factor
    kinds of the sweep manifest (``lever``, ``package``, ...) to word on/off inputs.
    """
    goal = goal_text or f"{figures.describe_outcome(outcome).label} meets the goal"
    goal = goal[:1].upper() + goal[1:]
    stats = (
        f"coverage {_percent(box.coverage)}, density {_percent(box.density)}, "
        f"{_percent(box.mass)} of runs"
    )
    hints = kinds or {}
    conditions = [
        _condition(box.limit(name), name, hints.get(name.split("=", 1)[0], ""))
        for name in box.restricted
    ]
    if not conditions:
        return (
            f"{goal} in {_percent(box.density)} of all runs, and no range of the inputs "
            f"singles out where it is met more often ({stats})."
        )
    return f"{goal} in {_percent(box.density)} of runs when {_join(conditions)} ({stats})."


# --- figures -------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    layout = ConstrainedLayoutEngine(rect=(0.0, 0.035, 1.0, 0.965))
    fig = Figure(figsize=(width, height), dpi=figures.DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path, footer: str) -> Path:
    fig.text(0.005, 0.005, footer, fontsize=7, color="0.4", ha="left", va="bottom")
    fig.savefig(path, format="png")
    return path


def plot_trajectory(result: PrimResult, box: PrimBox, path: Path, footer: str = "") -> Path:
    """Coverage against density of every box of the trajectory, coloured by restricted inputs."""
    t = result.trajectory
    fig = _figure(6.4, 4.8)
    ax = fig.add_subplot()
    ax.plot(t["coverage"], t["density"], color="0.75", lw=0.8, zorder=1)
    palette = figures.OKABE_ITO
    for k in sorted(int(v) for v in t["n_restricted"].unique()):
        rows = t[t["n_restricted"] == k]
        ax.scatter(
            rows["coverage"],
            rows["density"],
            s=18,
            color=palette[k % len(palette)],
            label=f"{k} restricted input{'' if k == 1 else 's'}",
            zorder=2,
        )
    ax.scatter(
        [float(t["coverage"].to_numpy()[box.step])],
        [float(t["density"].to_numpy()[box.step])],
        s=120,
        facecolors="none",
        edgecolors="black",
        lw=1.4,
        zorder=3,
        label=f"chosen: box {box.step}",
    )
    if box.pasted or box.dropped:
        ax.scatter(
            [box.coverage],
            [box.density],
            marker="*",
            s=110,
            color="black",
            zorder=4,
            label=f"box {box.step} after pasting/pruning ({len(box.restricted)} restricted)",
        )
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of successful runs inside the box)")
    ax.set_ylabel("density (share of runs in the box that succeed)")
    ax.set_title("PRIM peeling trajectory", fontsize=10)
    ax.grid(True, color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, loc="lower left")
    return _save(fig, path, footer)


def plot_box(
    box: PrimBox,
    path: Path,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    footer: str = "",
) -> Path:
    """The chosen box's limits on each restricted input, as a share of the input's range.

    The range is the factor's design range from the sweep manifest (``ranges``) when known,
    else the range of the values in the runs; restricted limits are labelled with their value.
    """
    names = box.restricted
    fig = _figure(7.0, 1.4 + 0.45 * max(1, len(names)))
    ax = fig.add_subplot()
    ranges = ranges or {}
    for i, name in enumerate(names):
        row = box.limit(name)
        lo, hi = ranges.get(name.split("=", 1)[0], (row["data_low"], row["data_high"]))
        if row["kind"] == "category" or not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            lo, hi = float(row["data_low"]), float(row["data_high"])
        span = (hi - lo) or 1.0
        a = min(max((row["low"] - lo) / span, 0.0), 1.0)
        b = min(max((row["high"] - lo) / span, 0.0), 1.0)
        ax.barh(i, 1.0, left=0.0, height=0.55, color="0.9", zorder=1)
        ax.barh(i, max(b - a, 0.006), left=a, height=0.55, color=figures.OKABE_ITO[3], zorder=2)
        labels = []
        if row["low"] == row["high"]:
            labels.append((b + 0.01, f"= {format_number(float(row['low']), 3)}", "left"))
        elif row["low"] > row["data_low"]:
            labels.append((a - 0.01, f">= {format_number(float(row['low']), 3)}", "right"))
        if row["high"] < row["data_high"] and row["low"] < row["high"]:
            labels.append((b + 0.01, f"<= {format_number(float(row['high']), 3)}", "left"))
        for x, text, ha in labels:
            ax.text(x, i, text, ha=ha, va="center", fontsize=7, zorder=3)
    ax.set_yticks(
        range(len(names)),
        [f"{n}\n(quasi-p {box.limit(n)['p_value']:.1g})" for n in names],
        fontsize=7,
    )
    if not names:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no restriction: the box is the whole input space", ha="center")
    ax.invert_yaxis()
    ax.set_xlim(-0.15, 1.15)
    ax.set_xlabel("limit as a share of the input's range (grey: full range)")
    ax.set_title(
        f"PRIM box {box.step}: coverage {_percent(box.coverage)}, density "
        f"{_percent(box.density)}, mass {_percent(box.mass)}",
        fontsize=10,
    )
    return _save(fig, path, footer)


# --- command line --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Goal:
    """``outcome op value``, e.g. ``emissions_reduction_2050_pct >= 50``."""

    outcome: str
    op: str
    value: float

    def test(self, values: pd.Series) -> BoolArray:
        """Which values meet the goal."""
        return np.asarray(_OPERATORS[self.op](values.to_numpy(dtype=float), self.value))

    def __str__(self) -> str:
        return f"{self.outcome} {self.op} {self.value:g}"


def parse_goal(text: str) -> Goal:
    """Read ``'COL >= V'`` (operators >=, >, <=, <)."""
    match = re.fullmatch(r"\s*([A-Za-z_][\w.=\-]*)\s*(>=|<=|>|<)\s*(\S+)\s*", text)
    if match is None:
        raise BadInput(f"--goal {text!r}: expected 'COLUMN OP VALUE' with OP one of >=, >, <=, <")
    try:
        value = float(match.group(3))
    except ValueError:
        raise BadInput(f"--goal {text!r}: {match.group(3)!r} is not a number") from None
    return Goal(match.group(1), match.group(2), value)


def _goal_from_args(args: argparse.Namespace) -> Goal:
    if args.goal is not None:
        goal = parse_goal(args.goal)
        if args.outcome is not None and args.outcome != goal.outcome:
            raise BadInput(
                f"--outcome {args.outcome} and --goal {args.goal!r} name different columns"
            )
        return goal
    if args.outcome is None:
        raise BadInput("--above and --below need --outcome COLUMN")
    return Goal(args.outcome, ">" if args.above is not None else "<", args.threshold)


def _read_manifest(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from exc
    return data if isinstance(data, dict) else None


def _manifest_factors(manifest: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    factors = (manifest or {}).get("factors")
    if not isinstance(factors, list):
        return []
    return [f for f in factors if isinstance(f, dict) and "name" in f]


def _manifest_outcomes(manifest: Mapping[str, Any] | None) -> list[str]:
    outcomes = (manifest or {}).get("outcomes")
    if not isinstance(outcomes, list):
        return []
    return [str(o["name"]) if isinstance(o, dict) else str(o) for o in outcomes]


def load_runs(path: Path) -> tuple[pd.DataFrame, int]:
    """The successful runs of a sweep's ``runs.parquet`` and the number of failed runs."""
    if not path.is_file():
        raise BadInput(f"runs file {path} not found")
    try:
        runs = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise BadInput(f"cannot read {path} as Parquet: {exc}") from exc
    n_failed = 0
    if "status" in runs.columns:
        ok = runs["status"] == "ok"
        n_failed = int((~ok).sum())
        runs = runs[ok].reset_index(drop=True)
    if runs.empty:
        raise BadInput(f"{path} has no successful runs (status 'ok'); {n_failed} failed")
    return runs, n_failed


def _choose_inputs(
    runs: pd.DataFrame, path: Path, manifest_path: Path, args_inputs: str | None, outcome: str
) -> list[str]:
    if args_inputs:
        inputs = [name.strip() for name in args_inputs.split(",") if name.strip()]
        source = "--inputs"
    else:
        factors = _manifest_factors(_read_manifest(manifest_path))
        if not factors:
            raise BadInput(
                f"{manifest_path} is missing or lists no 'factors'; name the input columns of "
                f"{path} with --inputs a,b,c"
            )
        inputs = [str(f["name"]) for f in factors]
        source = str(manifest_path)
    unknown = [name for name in inputs if name not in runs.columns]
    if unknown:
        raise BadInput(
            f"{source}: no column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)} in {path} "
            f"(columns: {', '.join(map(str, runs.columns))})"
        )
    if outcome in inputs:
        raise BadInput(f"{source}: the outcome {outcome!r} cannot also be an input")
    return inputs


def cmd_discover(args: argparse.Namespace) -> int:
    """Find the PRIM box where a goal is met and describe it in plain words."""
    from experiments.results import atomic_dir  # all-or-nothing output

    path = Path(args.runs)
    if path.is_dir():  # a sweep's output directory
        path = path / "runs.parquet"
    goal = _goal_from_args(args)
    runs, n_failed = load_runs(path)
    manifest_path = path.with_name("manifest.json")
    manifest = _read_manifest(manifest_path)
    if goal.outcome not in runs.columns:
        known = _manifest_outcomes(manifest) or [
            str(c) for c in runs.select_dtypes("number").columns
        ]
        raise BadInput(f"{path}: no outcome column {goal.outcome!r}; outcomes: {', '.join(known)}")
    if not pd.api.types.is_numeric_dtype(runs[goal.outcome]):
        raise BadInput(f"{path}: outcome column {goal.outcome!r} is not numeric")
    inputs = _choose_inputs(runs, path, manifest_path, args.inputs, goal.outcome)
    missing_outcome = runs[goal.outcome].isna()
    if missing_outcome.all():
        raise BadInput(f"{path}: outcome column {goal.outcome!r} has no values")
    runs = runs[~missing_outcome].reset_index(drop=True)
    missing = [name for name in inputs if runs[name].isna().any()]
    if missing:
        raise BadInput(f"{path}: input column(s) {', '.join(missing)} have missing values")
    y = goal.test(runs[goal.outcome])
    values = runs[goal.outcome]
    span = f"{goal.outcome} ranges from {values.min():.4g} to {values.max():.4g}"
    if not y.any():
        raise BadInput(f"no run in {path} meets the goal {goal} ({span}); nothing to discover")
    if y.all():
        raise BadInput(f"every run in {path} meets the goal {goal} ({span}); nothing to discover")
    constant = [name for name in inputs if runs[name].nunique() < 2]
    varying = [name for name in inputs if name not in constant]
    if not varying:
        raise BadInput(f"{path}: every input is constant ({', '.join(inputs)})")

    result = prim(
        runs[varying],
        y,
        peel_alpha=args.peel_alpha,
        paste_alpha=args.paste_alpha,
        min_mass=args.min_mass,
    )
    max_p = None if args.max_p >= 1 else args.max_p
    if args.box is not None:
        try:
            box = result.select(args.box, paste=not args.no_paste, max_p=max_p)
        except IndexError as exc:
            raise BadInput(f"--box {args.box}: {exc}") from exc
    else:
        try:
            box = result.best(
                args.min_coverage, args.min_density, paste=not args.no_paste, max_p=max_p
            )
        except ValueError as exc:
            raise BadInput(f"--min-density {args.min_density}: {exc}") from exc

    factors = _manifest_factors(manifest)
    kinds = {str(f["name"]): str(f.get("kind", "")) for f in factors}
    ranges = {
        str(f["name"]): (float(f["low"]), float(f["high"]))
        for f in factors
        if isinstance(f.get("low"), int | float) and isinstance(f.get("high"), int | float)
    }
    goal_words = goal_text(goal.outcome, goal.op, goal.value)
    sentence = describe(box, goal.outcome, goal_words, kinds)
    command = "govsim " + shlex.join(getattr(args, "argv", ["discover", str(path)]))
    out = Path(args.out) if args.out else path.parent / f"discovery_{goal.outcome}"

    print(
        f"{len(runs)} runs from {path} ({n_failed} failed left out), {int(y.sum())} meet "
        f"{goal} ({y.mean():.0%}); {len(varying)} inputs"
        + (f" ({len(constant)} constant ones left out: {', '.join(constant)})" if constant else "")
    )
    print(_trajectory_text(result.trajectory, box.step))
    print()
    print(textwrap.fill(sentence, width=100))
    print(_box_text(box))
    with atomic_dir(out, args.overwrite) as tmp:
        result.trajectory.to_csv(tmp / "prim_trajectory.csv", index=False)
        box.table().to_csv(tmp / "prim_box.csv", index=False)
        footer = f"{command}"[:150]
        plot_trajectory(result, box, tmp / "prim_trajectory.png", footer)
        plot_box(box, tmp / "prim_box.png", ranges, footer)
        report = _report(
            sentence=sentence,
            goal=goal,
            goal_words=goal_words,
            box=box,
            result=result,
            path=path,
            n_failed=n_failed,
            constant=constant,
            command=command,
            max_p=max_p,
            kinds=kinds,
        )
        (tmp / "discovery.md").write_text(report, encoding="utf-8")
    print(
        f"wrote {out} (discovery.md, prim_box.csv, prim_trajectory.csv, prim_box.png, "
        "prim_trajectory.png)"
    )
    return EXIT_OK


def _trajectory_text(trajectory: pd.DataFrame, chosen: int, max_rows: int = 16) -> str:
    """The peeling trajectory as a short table: every k-th box, the last and the chosen one."""
    n = len(trajectory)
    every = max(1, math.ceil(n / max_rows))
    keep = sorted({*range(0, n, every), n - 1, chosen})
    lines = [
        f"peeling trajectory: {n} boxes (all in prim_trajectory.csv)",
        f"{'box':>5}  {'coverage':>8}  {'density':>7}  {'mass':>5}  restricted",
    ]
    for i in keep:
        row = trajectory.loc[i]
        mark = " <- chosen" if i == chosen else ""
        lines.append(
            f"{i:>5}  {row['coverage']:>8.0%}  {row['density']:>7.0%}  {row['mass']:>5.0%}  "
            f"{row['n_restricted']}{mark}"
        )
    return "\n".join(lines)


def _box_text(box: PrimBox) -> str:
    if not box.restricted:
        return "the box restricts no input"
    lines = [f"{'input':<44} {'low':>10} {'high':>10} {'quasi-p':>8}"]
    for name in box.restricted:
        row = box.limit(name)
        lines.append(f"{name:<44} {row['low']:>10.4g} {row['high']:>10.4g} {row['p_value']:>8.2g}")
    return "\n".join(lines)


def _report(
    *,
    sentence: str,
    goal: Goal,
    goal_words: str,
    box: PrimBox,
    result: PrimResult,
    path: Path,
    n_failed: int,
    constant: Sequence[str],
    command: str,
    max_p: float | None,
    kinds: Mapping[str, str],
) -> str:
    """The text of ``discovery.md``."""
    refine = []
    if box.pasted:
        refine.append("pasted (limits widened while the density did not fall)")
    if max_p is not None:
        dropped = ", ".join(f"`{d}`" for d in box.dropped) or "none"
        refine.append(f"limits with quasi-p > {max_p:g} dropped: {dropped}")
    rows = []
    for name in box.restricted:
        row = box.limit(name)
        label, unit = factor_label(name, kinds.get(name.split("=", 1)[0], ""))
        rows.append(
            f"| `{name}` | {label} | {row['low']:.4g} | {row['high']:.4g} | "
            f"[{row['data_low']:.4g}, {row['data_high']:.4g}] | {unit} | {row['p_value']:.2g} |"
        )
    share = box.n_successes / box.n_runs
    lines = [
        f"# Scenario discovery: {goal_words}",
        "",
        sentence,
        "",
        f"- Goal: `{goal}` ({goal_words}).",
        f"- Runs: {box.n_runs} successful runs of `{path}` ({n_failed} failed runs left out); "
        f"{box.n_successes} ({share:.0%}) meet the goal."
        + (f" Constant inputs left out: {', '.join(constant)}." if constant else ""),
        f"- Box: number {box.step} of the {len(result.trajectory)} boxes of the peeling "
        f"trajectory; {'; '.join(refine) or 'as peeled'}.",
        f"- Coverage {_percent(box.coverage)}: {box.n_successes_in_box} of the "
        f"{box.n_successes} runs that meet the goal lie in the box.",
        f"- Density {_percent(box.density)}: {box.n_successes_in_box} of the {box.n_in_box} "
        "runs in the box meet the goal.",
        f"- Mass {_percent(box.mass)}: {box.n_in_box} of the {box.n_runs} runs lie in the box.",
        "",
        "## Restricted inputs (limits are inclusive)",
        "",
        "| input | meaning | low | high | range in the runs | unit | quasi-p |",
        "|---|---|---|---|---|---|---|",
        *(rows or ["| (none) | | | | | | |"]),
        "",
        "The quasi-p-value is a one-sided binomial test of the box's density against the "
        "density of the same box without that input's limits: small values mean the "
        "restriction matters. PRIM (Friedman and Fisher 1999) with peeling alpha "
        f"{result.peel_alpha:g}, pasting alpha {result.paste_alpha:g} and minimum mass "
        f"{result.min_mass:g}.",
        "",
        "## Reproduce",
        "",
        f"    {command}",
        "",
        "## Files",
        "",
        "- `prim_trajectory.csv`: coverage, density, mass and restricted inputs of every box.",
        "- `prim_box.csv`: the chosen box, one row per input (low, high, restricted, p_value).",
        "- `prim_trajectory.png`: coverage against density along the trajectory.",
        "- `prim_box.png`: the chosen box's limits as shares of each input's range.",
    ]
    return "\n".join(lines) + "\n"


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def register(subparsers: Any) -> None:
    """Add ``govsim discover`` to the command line's subparsers."""
    p = subparsers.add_parser(
        "discover",
        help="scenario discovery: PRIM box where an outcome meets a goal, in plain words",
        description="Find the conditions (a PRIM box over the sweep's inputs) under which an "
        "outcome meets a goal; print and write the box in plain words, with coverage and density.",
    )
    p.add_argument(
        "runs", metavar="RUNS.parquet", help="runs.parquet of a sweep (or the sweep's directory)"
    )
    p.add_argument("--outcome", metavar="COL", help="outcome column (with --above/--below)")
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--above", type=_number, metavar="V", dest="above", help="goal: outcome > V")
    goal.add_argument("--below", type=_number, metavar="V", dest="below", help="goal: outcome < V")
    goal.add_argument("--goal", metavar="'COL >= V'", help="goal with >=, >, <= or <")
    p.add_argument(
        "--inputs",
        metavar="a,b,c",
        help="input columns (default: the factors of manifest.json next to RUNS.parquet)",
    )
    p.add_argument(
        "--box",
        type=int,
        metavar="N",
        help="use box N of the peeling trajectory (default: chosen by --min-coverage)",
    )
    p.add_argument(
        "--min-coverage",
        type=_probability,
        default=MIN_COVERAGE,
        metavar="C",
        help="among boxes with coverage >= C, take the best balance of coverage and density "
        f"(F-score; default C = {MIN_COVERAGE})",
    )
    p.add_argument(
        "--min-density",
        type=_probability,
        metavar="D",
        help="instead: the box of highest coverage with density >= D",
    )
    p.add_argument(
        "--max-p",
        type=_probability,
        default=MAX_P,
        metavar="P",
        help=f"drop restrictions with quasi-p-value > P (default {MAX_P}; 1 keeps all)",
    )
    p.add_argument("--no-paste", action="store_true", help="do not paste the chosen box")
    p.add_argument(
        "--peel-alpha",
        type=_probability,
        default=PEEL_ALPHA,
        metavar="A",
        help=f"share of the box's runs cut off per peel (default {PEEL_ALPHA})",
    )
    p.add_argument(
        "--paste-alpha",
        type=_probability,
        default=PASTE_ALPHA,
        metavar="A",
        help=f"share of the box's runs added per paste (default {PASTE_ALPHA})",
    )
    p.add_argument(
        "--min-mass",
        type=_probability,
        default=MIN_MASS,
        metavar="M",
        help=f"stop peeling before the box holds fewer than M of the runs (default {MIN_MASS})",
    )
    p.add_argument(
        "--out", metavar="DIR", help="output directory (default: discovery_<outcome> next to RUNS)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    p.set_defaults(handler=_run_discover)


def _run_discover(args: argparse.Namespace) -> int:
    args.threshold = args.above if args.above is not None else args.below
    if args.peel_alpha >= 0.5 or args.paste_alpha >= 0.5 or args.min_mass >= 1:
        raise BadInput("--peel-alpha and --paste-alpha must be below 0.5, --min-mass below 1")
    return cmd_discover(args)
