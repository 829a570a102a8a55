"""The ranking figure of a robustness study: rank probabilities beside regret, per basis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from experiments.figures import OKABE_ITO
from experiments.text import label

DPI = 150
BASIS_TITLE = {"raw": "raw effect", "per_eur_bn": "effect per EUR 1 bn of public cost"}


def ranking_rows(ranking: pd.DataFrame, basis: str) -> pd.DataFrame:
    """The figure's rows, top first: levers then packages, each by mean regret, with labels."""
    part = ranking[ranking["basis"] == basis]
    part = pd.concat(
        [
            part[part["kind"] == k].sort_values("mean_regret", kind="stable")
            for k in ("lever", "package")
        ]
    )
    return part.assign(
        label=[
            f"{label(str(v))}{' (package)' if k == 'package' else ''}"
            for v, k in zip(part["variant"], part["kind"], strict=True)
        ]
    )


def plot_ranking(ranking: pd.DataFrame, path: Path, basis: str, unit: str) -> Path:
    """Write :func:`ranking_figure` to ``path`` (PNG)."""
    ranking_figure(ranking, basis, unit).savefig(path)
    return path


def ranking_figure(ranking: pd.DataFrame, basis: str, unit: str) -> Figure:
    """Levers and packages: P(first) and P(top three) bars, and mean regret with its 90th pct.

    One row per variant (:func:`ranking_rows`) from ``ranking.csv`` rows of one ``basis``;
    ``unit`` labels the regret axis.
    """
    part = ranking_rows(ranking, basis)
    names = list(part["label"])
    y = np.arange(len(part), dtype=float)[::-1]
    layout = ConstrainedLayoutEngine()
    fig = Figure(figsize=(9.0, 1.4 + 0.32 * max(len(part), 1)), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, sharey=True)
    left.barh(y + 0.2, part["p_top3"], height=0.4, color=OKABE_ITO[1], label="in the top three")
    left.barh(y - 0.2, part["p_first"], height=0.4, color=OKABE_ITO[4], label="first")
    left.set_xlim(0, 1)
    left.set_xlabel("share of scenarios (0-1)")
    left.set_yticks(y, names)
    left.legend(loc="lower right", fontsize="small")
    mean = part["mean_regret"].to_numpy(dtype=float)
    p90 = part["p90_regret"].to_numpy(dtype=float)
    right.barh(y, mean, height=0.5, color=OKABE_ITO[2], label="mean regret")
    right.errorbar(p90, y, fmt="|", color="black", markersize=10, label="90th percentile of regret")
    right.set_xlabel(f"regret against the best in each scenario ({unit})")
    right.legend(loc="upper right", fontsize="small")
    fig.suptitle(f"Robustness of the ranking on the {BASIS_TITLE.get(basis, basis)}")
    return fig
