"""PRIM, CART and feature scoring from the EMA Workbench, as boxes the rest of discovery reads.

PRIM (the Patient Rule Induction Method, Friedman and Fisher 1999) looks for a box in the input
space (a range per factor) where the share of runs meeting a goal is high. The peeling,
pasting and quasi-p-values are the EMA Workbench's (``ema_workbench.analysis.prim.Prim``,
Kwakkel 2017; its default lenient objective: gain in density per run removed): it peels the
``peel_alpha`` share of the box's runs off one end of one input at a time until the box would
hold fewer than ``min_mass`` of the runs, then pastes (widens a limit, ``paste_alpha`` at a
time) while that raises the density. The sequence of boxes is the *trajectory*, a trade-off
between

- coverage: the share of all successful runs that lie in the box, and
- density: the share of the runs in the box that are successful,

with mass the share of all runs in the box. One box is chosen (by the user, or by
:meth:`PrimResult.best`) and optionally *pruned*: while the input with the highest quasi-p-value
(EMA's one-sided binomial test of the box's density against the box without that limit;
Bryant and Lempert 2010) exceeds ``max_p``, its restriction is dropped with EMA's
``drop_restriction``, so only inputs that matter are named. Boolean inputs and numbers that are
only 0 and 1 go to EMA as categories (``binary``), text inputs as categories (``category``).

:class:`PrimBox` and :class:`PrimResult` are thin views over EMA's boxes, in the form the
describe, figures and command modules read; :func:`cart_boxes` and :func:`feature_scores` give
CART leaves (``ema_workbench.analysis.cart``) as the same boxes and extra-trees feature scores
(``ema_workbench.analysis.feature_scoring``).
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

PEEL_ALPHA = 0.05
PASTE_ALPHA = 0.01
MIN_MASS = 0.05
MIN_COVERAGE = 0.5
MAX_P = 0.05
FEATURE_SCORING_SEED = 0  # extra trees draw at random: fixed, so scores are reproducible

Kind = str  # "numeric" | "binary" | "category"
BoolArray = NDArray[np.bool_]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence ema_workbench's import warnings and the pandas deprecations inside it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
        warnings.filterwarnings("ignore", "altair based interactive", ImportWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="ema_workbench")
        warnings.filterwarnings("ignore", category=FutureWarning, module="ema_workbench")
        yield


def analysis(name: str) -> ModuleType:
    """``ema_workbench.analysis.<name>`` (prim, cart, feature_scoring, ...), imported quietly.

    Imported on first use: ema_workbench takes seconds to import, and every govsim command
    loads this package to register ``govsim discover``.
    """
    with _quiet():
        return importlib.import_module(f"ema_workbench.analysis.{name}")


# --- the box -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrimBox:
    """One box: limits per input (inclusive), its coverage, density and mass, and its origin.

    ``limits`` has one row per input, indexed by name, with columns ``kind``, ``low``,
    ``high``, ``data_low``, ``data_high``, ``restricted``, ``p_value`` (the quasi-p-value of a
    restricted input, NaN for the others) and ``categories`` (for a text input, the categories
    in the box joined by ``|``; empty otherwise).
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    n_in_box: int
    n_successes_in_box: int
    n_runs: int
    n_successes: int
    step: int  # index in the trajectory the box came from
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
        """Which rows of ``X`` (the inputs as given to :func:`prim`) lie inside the box."""
        inside = np.ones(len(X), dtype=bool)
        for name in self.restricted:
            row = self.limit(name)
            if row["kind"] == "category":
                inside &= X[name].astype(str).isin(str(row["categories"]).split("|")).to_numpy()
            else:
                col = X[name].to_numpy(dtype=float)
                inside &= (col >= row["low"]) & (col <= row["high"])
        return inside

    def table(self) -> pd.DataFrame:
        """The limits as a flat table (``dimension`` first), as written to ``prim_box.csv``."""
        out = self.limits.reset_index(names="dimension")
        return out[
            [
                "dimension",
                "low",
                "high",
                "restricted",
                "p_value",
                "kind",
                "data_low",
                "data_high",
                "categories",
            ]
        ]


def encode_inputs(X: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Kind]]:
    """The inputs as EMA reads them: numbers, 0/1 and booleans as categories, text as categories.

    Returns the frame and the kind of each column: ``binary`` (booleans, or numbers that are
    only 0 and 1), ``category`` (text) or ``numeric``.
    """
    columns: dict[str, pd.Series] = {}
    kinds: dict[str, Kind] = {}
    for name in X.columns:
        col, key = X[name], str(name)
        if col.isna().any():
            raise ValueError(f"input {name!r} has {int(col.isna().sum())} missing values")
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if pd.api.types.is_bool_dtype(col) or (numeric and set(col.unique()) <= {0, 1}):
            columns[key] = col.astype(bool).astype("category")
            kinds[key] = "binary"
        elif numeric:
            columns[key] = col.astype(float)
            kinds[key] = "numeric"
        else:
            columns[key] = col.astype(str).astype("category")
            kinds[key] = "category"
    return pd.DataFrame(columns, index=X.index).reset_index(drop=True), kinds


def box_view(
    X: pd.DataFrame,
    y: BoolArray,
    kinds: dict[str, Kind],
    box_lim: pd.DataFrame,
    box_init: pd.DataFrame,
    *,
    step: int,
    p_values: dict[str, list[float]] | None = None,
    pasted: bool = False,
    dropped: tuple[str, ...] = (),
) -> PrimBox:
    """A :class:`PrimBox` from EMA's box limits (rows 0 and 1: lower, upper; sets for
    categories) on the encoded inputs ``X``; statistics counted from the data."""
    rows = []
    inside = np.ones(len(X), dtype=bool)
    for name in X.columns:
        kind = kinds[str(name)]
        # numbers for a numeric input, sets of categories for the others
        low: Any = box_lim.at[0, name]
        high: Any = box_lim.at[1, name]
        init_low: Any = box_init.at[0, name]
        init_high: Any = box_init.at[1, name]
        categories = ""
        if kind == "numeric":
            restricted = bool(low > init_low or high < init_high)
            col = X[name].to_numpy(dtype=float)
            inside &= (col >= low) & (col <= high)
            values = (float(low), float(high), float(init_low), float(init_high))
        else:
            chosen, everything = set(low), set(init_low)
            restricted = chosen != everything
            inside &= X[name].isin(list(chosen)).to_numpy()
            if kind == "binary":
                ones = [float(v) for v in chosen]
                values = (min(ones), max(ones), 0.0, 1.0)
            else:
                values = (np.nan, np.nan, np.nan, np.nan)
                categories = "|".join(sorted(str(c) for c in chosen))
        p = np.nan
        if restricted and p_values is not None and str(name) in p_values:
            valid = [float(v) for v in p_values[str(name)] if v is not None and float(v) >= 0]
            p = min(valid) if valid else np.nan
        rows.append((str(name), kind, *values, restricted, p, categories))
    limits = pd.DataFrame(
        rows,
        columns=[
            "dimension",
            "kind",
            "low",
            "high",
            "data_low",
            "data_high",
            "restricted",
            "p_value",
            "categories",
        ],
    ).set_index("dimension")
    n_box, k_box = int(inside.sum()), int(y[inside].sum())
    n, k = len(y), int(y.sum())
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


# --- PRIM ----------------------------------------------------------------------------------


@dataclass(slots=True)
class PrimResult:
    """The trajectory of one EMA PRIM box search and the data it was computed on.

    ``trajectory`` has one row per box: ``step``, ``coverage``, ``density``, ``mass``,
    ``n_in_box``, ``n_restricted``, ``restricted`` (comma-separated names) and ``phase``
    (``peel`` or ``paste``), as EMA found them (before any pruning).
    """

    X: pd.DataFrame  # inputs as EMA reads them (encode_inputs)
    y: BoolArray
    kinds: dict[str, Kind]
    box: Any  # ema_workbench.analysis.prim.PrimBox
    peel_alpha: float = PEEL_ALPHA
    paste_alpha: float = PASTE_ALPHA
    min_mass: float = MIN_MASS
    trajectory: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        t = self.box.peeling_trajectory
        n = len(t)
        mass = t["mass"].to_numpy(dtype=float)
        phase = ["peel"] + ["paste" if mass[i] > mass[i - 1] else "peel" for i in range(1, n)]
        names = [self._restricted_names(i) for i in range(n)]
        self.trajectory = pd.DataFrame(
            {
                "step": range(n),
                "coverage": t["coverage"].to_numpy(dtype=float),
                "density": t["density"].to_numpy(dtype=float),
                "mass": mass,
                "n_in_box": t["n"].to_numpy(dtype=int),
                "n_restricted": [len(r) for r in names],
                "restricted": [",".join(r) for r in names],
                "phase": phase,
            }
        )

    def _restricted_names(self, i: int) -> list[str]:
        view = self._view(i, step=i)
        return [str(n) for n in view.limits.index[view.limits["restricted"]]]

    def _view(self, j: int, *, step: int, dropped: tuple[str, ...] = ()) -> PrimBox:
        """Box ``j`` of EMA's (possibly extended) trajectory as a PrimBox."""
        return box_view(
            self.X,
            self.y,
            self.kinds,
            self.box.box_lims[j],
            self.box.box_lims[0],
            step=step,
            p_values=self.box.p_values[j],
            pasted=self._phase(step) == "paste",
            dropped=dropped,
        )

    def _phase(self, step: int) -> str:
        trajectory = getattr(self, "trajectory", None)
        if trajectory is None:
            return "peel"
        return str(trajectory.at[step, "phase"])

    @property
    def names(self) -> list[str]:
        """The input names, in column order."""
        return [str(c) for c in self.X.columns]

    def select(self, i: int, *, max_p: float | None = None) -> PrimBox:
        """Box ``i`` of the trajectory (negative counts from the end), optionally pruned.

        ``max_p`` drops, one at a time with EMA's ``drop_restriction``, the restricted input
        with the highest quasi-p-value while that exceeds ``max_p``.
        """
        n = len(self.trajectory)
        if not -n <= i < n:
            raise IndexError(f"box {i} is not in the trajectory (boxes 0 to {n - 1})")
        step = i % n
        view, j, dropped = self._view(step, step=step), step, []
        while max_p is not None:
            p = view.limits["p_value"].where(view.limits["restricted"])
            if not p.notna().any() or float(p.max()) <= max_p:
                break
            name = str(p.idxmax())
            with _quiet():
                self.box.drop_restriction(name, j)
            j = len(self.box.box_lims) - 1
            dropped.append(name)
            view = self._view(j, step=step, dropped=tuple(dropped))
        return view

    def best(
        self,
        min_coverage: float = MIN_COVERAGE,
        min_density: float | None = None,
        *,
        paste: bool = True,
        max_p: float | None = MAX_P,
    ) -> PrimBox:
        """The box to report: a point on the coverage-density trade-off, pruned (see select).

        Candidates are the boxes of the trajectory (only the peeled ones with ``paste``
        false). With ``min_density``: the box of highest coverage whose density reaches it.
        Otherwise, among boxes with coverage >= ``min_coverage``, the one with the highest
        harmonic mean of coverage and density (the F-score, van Rijsbergen 1979: density is
        the precision and coverage the recall of the box as a rule for success).
        """
        t = self.trajectory if paste else self.trajectory[self.trajectory["phase"] == "peel"]
        steps = t["step"].to_numpy(dtype=int)
        coverage = t["coverage"].to_numpy(dtype=float)
        density = t["density"].to_numpy(dtype=float)
        if min_density is not None:
            ok = np.flatnonzero(density >= min_density)
            if ok.size == 0:
                raise ValueError(
                    f"no box of the trajectory reaches density {min_density:.3g}; "
                    f"the highest is {density.max():.3g}"
                )
            chosen = int(steps[ok[np.argmax(coverage[ok])]])
        else:
            ok = np.flatnonzero(coverage >= min_coverage)
            if ok.size == 0:  # only for min_coverage > 1: box 0 has coverage 1
                raise ValueError(f"no box has coverage >= {min_coverage}")
            score = 2.0 * coverage[ok] * density[ok] / (coverage[ok] + density[ok])
            chosen = int(steps[ok[np.argmax(score)]])  # first maximum: the larger box on a tie
        return self.select(chosen, max_p=max_p)


def _target(X: pd.DataFrame, y: NDArray[Any] | Sequence[bool] | pd.Series) -> BoolArray:
    """``y`` as a boolean array with one value per row of ``X``; ValueError otherwise."""
    target = np.asarray(y)
    if target.ndim != 1 or len(target) != len(X):
        raise ValueError(f"y must have one value per row of X ({len(X)}), got shape {target.shape}")
    if target.dtype != bool:
        if not np.isin(target, (0, 1)).all():
            raise ValueError("y must be boolean (or 0/1)")
        target = target.astype(bool)
    if not target.any():
        raise ValueError("no run meets the goal (y is all false); PRIM needs successes")
    if X.shape[1] == 0:
        raise ValueError("X has no input columns")
    return target


def prim(
    X: pd.DataFrame,
    y: NDArray[Any] | Sequence[bool] | pd.Series,
    peel_alpha: float = PEEL_ALPHA,
    paste_alpha: float = PASTE_ALPHA,
    min_mass: float = MIN_MASS,
) -> PrimResult:
    """Find one PRIM box of the runs where ``y`` is true with EMA's ``Prim.find_box``."""
    for name, value in (("peel_alpha", peel_alpha), ("paste_alpha", paste_alpha)):
        if not 0.0 < value < 0.5:
            raise ValueError(f"{name} must be in (0, 0.5), got {value}")
    if not 0.0 < min_mass < 1.0:
        raise ValueError(f"min_mass must be in (0, 1), got {min_mass}")
    target = _target(X, y)
    encoded, kinds = encode_inputs(X)
    ema_prim = analysis("prim")
    with _quiet():
        finder = ema_prim.Prim(
            encoded,
            target.astype(int),
            peel_alpha=peel_alpha,
            paste_alpha=paste_alpha,
            mass_min=min_mass,
        )
        box = finder.find_box()
    return PrimResult(encoded, target, kinds, box, peel_alpha, paste_alpha, min_mass)


# --- CART and feature scoring --------------------------------------------------------------


def cart_boxes(
    X: pd.DataFrame, y: NDArray[Any] | Sequence[bool] | pd.Series, min_mass: float = MIN_MASS
) -> list[PrimBox]:
    """The leaves of EMA's CART tree (``ema_workbench.analysis.cart``) as boxes.

    Each leaf is a box; ``step`` is its index among the leaves, and quasi-p-values are NaN
    (CART has none).
    """
    target = _target(X, y)
    encoded, kinds = encode_inputs(X)
    cart = analysis("cart")
    with _quiet():
        tree = cart.CART(encoded, target.astype(int), mass_min=min_mass)
        tree.build_tree()
        limits = tree.boxes
    init = limits[0].copy()
    for name in encoded.columns:  # the whole data range, as PRIM's first box
        if kinds[str(name)] == "numeric":
            init[name] = [encoded[name].min(), encoded[name].max()]
        else:
            init[name] = [set(encoded[name].cat.categories)] * 2
    boxes = []
    for i, lim in enumerate(limits):
        lim = lim.copy()
        for name in encoded.columns:
            if kinds[str(name)] == "numeric":  # CART's open ends are the data range
                lo, hi = float(lim.at[0, name]), float(lim.at[1, name])
                lim[name] = [max(lo, init.at[0, name]), min(hi, init.at[1, name])]
        boxes.append(box_view(encoded, target, kinds, lim, init, step=i))
    return boxes


def feature_scores(
    X: pd.DataFrame, y: NDArray[Any] | Sequence[bool] | pd.Series, seed: int = FEATURE_SCORING_SEED
) -> pd.DataFrame:
    """Extra-trees feature scores of the inputs for the goal (``feature_scoring``), highest first.

    A table with columns ``input`` and ``score`` (scores sum to 1; Jaxa-Rozen and Kwakkel
    2018). Booleans and text are EMA categories, as for PRIM.
    """
    target = _target(X, y)
    encoded, _ = encode_inputs(X)
    scoring = analysis("feature_scoring")
    with _quiet():
        scores, _forest = scoring.get_ex_feature_scores(
            encoded, target.astype(int), random_state=seed
        )
    frame = scores.reset_index()
    frame.columns = ["input", "score"]
    return frame.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
