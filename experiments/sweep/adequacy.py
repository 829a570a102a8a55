"""Replicate adequacy: is the number of replicates enough to resolve differences between points?"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.results import (
    atomic_file,
)

CONFIDENCE = 0.95
ADEQUACY_TARGET = 0.1  # half-width a tenth of the spread between points


def _half_widths(values: np.ndarray, confidence: float) -> np.ndarray:
    """Per row: t-interval half-width of the mean of its non-NaN values (NaN if fewer than 2)."""
    present = ~np.isnan(values)
    n = present.sum(axis=1)
    filled = np.where(present, values, 0.0)
    safe_n = np.maximum(n, 1)
    mean = filled.sum(axis=1) / safe_n
    squares = (np.where(present, values - mean[:, None], 0.0) ** 2).sum(axis=1)
    out = np.full(len(values), math.nan)
    from scipy import stats

    ok = n >= 2
    var = squares[ok] / (n[ok] - 1)
    t = stats.t.ppf(0.5 + confidence / 2.0, n[ok] - 1)
    out[ok] = t * np.sqrt(var / n[ok])
    return out


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.nan


def replicate_adequacy(
    runs: pd.DataFrame, outcomes: Sequence[str], confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Interval half-width of a design point's mean against the number of replicates.

    For each outcome and n = 1..R: the t-interval half-width (``confidence``) of the mean of
    the first n replicates of a point, averaged over points (``mean_half_width``; NaN for
    n = 1), the standard deviation of the point means over all R replicates
    (``between_point_sd``, the signal the design is meant to resolve), and their ratio
    (``relative_half_width``). Failed runs and NaN outcomes are left out.
    """
    ok = runs[runs["status"] == "ok"]
    n_rep = int(runs["replicate"].max()) + 1 if len(runs) else 0
    points = np.sort(runs["point"].unique())
    rows = []
    for outcome in outcomes:
        wide = ok.pivot(index="point", columns="replicate", values=outcome)
        values = wide.reindex(index=points, columns=range(n_rep)).to_numpy(dtype=float)
        present = ~np.isnan(values)
        counts = present.sum(axis=1)
        point_means = np.where(counts > 0, np.where(present, values, 0.0).sum(axis=1), np.nan)
        point_means = point_means / np.maximum(counts, 1)
        finite = point_means[np.isfinite(point_means)]
        between = float(np.std(finite, ddof=1)) if len(finite) >= 2 else math.nan
        for n in range(1, n_rep + 1):
            half = _half_widths(values[:, :n], confidence)
            mean_half = _mean(half)
            rows.append(
                {
                    "outcome": outcome,
                    "replicates": n,
                    "points": int(np.isfinite(half).sum()),
                    "mean_half_width": mean_half,
                    "between_point_sd": between,
                    "relative_half_width": mean_half / between if between > 0 else math.nan,
                    "confidence": confidence,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "replicates",
            "points",
            "mean_half_width",
            "between_point_sd",
            "relative_half_width",
            "confidence",
        ],
    )


def replicates_needed(relative_half_width: float, replicates: int) -> float:
    """Replicates for a relative half-width of ADEQUACY_TARGET (half-width ~ 1/sqrt(n))."""
    if not math.isfinite(relative_half_width):
        return math.nan
    return float(max(2, math.ceil(replicates * (relative_half_width / ADEQUACY_TARGET) ** 2)))


def plot_replicate_adequacy(adequacy: pd.DataFrame, path: Path, title: str) -> None:
    """Relative half-width against replicates, one line per outcome (PNG, Agg canvas)."""
    # imported here: workers import this module and never draw
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from experiments.figures import OKABE_ITO

    figure = Figure(figsize=(7.0, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for k, (outcome, rows) in enumerate(adequacy.groupby("outcome", sort=False)):
        rows = rows[rows["replicates"] >= 2]
        axes.plot(
            rows["replicates"],
            rows["relative_half_width"],
            marker="o",
            color=OKABE_ITO[k % len(OKABE_ITO)],
            label=str(outcome),
        )
    axes.axhline(ADEQUACY_TARGET, color="black", linestyle=":", linewidth=1.0)
    axes.set_xlabel("replicates per design point")
    axes.set_ylabel("95% CI half-width / SD between points")
    axes.set_title(f"Replicate adequacy: {title}")
    axes.legend(fontsize=7, frameon=False)
    figure.tight_layout()
    with atomic_file(path) as tmp:
        figure.savefig(tmp, format="png", dpi=150)
