"""Figures of a PRIM run: the peeling trajectory and the chosen box's limits."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from experiments import figures
from experiments.discovery.describe import format_number, percent
from experiments.discovery.prim import PrimBox


def _figure(width: float, height: float) -> Figure:
    layout = ConstrainedLayoutEngine(rect=(0.0, 0.035, 1.0, 0.965))
    fig = Figure(figsize=(width, height), dpi=figures.DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path, footer: str) -> Path:
    fig.text(0.005, 0.005, footer, fontsize=7, color="0.4", ha="left", va="bottom")
    fig.savefig(path, format="png")
    return path


def plot_trajectory(trajectory: pd.DataFrame, box: PrimBox, path: Path, footer: str = "") -> Path:
    """Coverage against density of every box of the trajectory, coloured by restricted inputs."""
    t = trajectory
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
    ax.set_title("PRIM trajectory (EMA Workbench: peeling, then pasting)", fontsize=10)
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
        if row["kind"] == "category":  # a text input: its categories in the box, as words
            ax.barh(i, 1.0, left=0.0, height=0.55, color=figures.OKABE_ITO[3], zorder=2)
            text = "in: " + str(row["categories"]).replace("|", ", ")
            ax.text(0.5, i, text, ha="center", va="center", fontsize=7, zorder=3)
            continue
        lo, hi = ranges.get(name, (row["data_low"], row["data_high"]))
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
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
        f"PRIM box {box.step}: coverage {percent(box.coverage)}, density "
        f"{percent(box.density)}, mass {percent(box.mass)}",
        fontsize=10,
    )
    return _save(fig, path, footer)
