"""Figures of a report, drawn from the tables a command wrote and saved as PNG and SVG.

``experiments.figures`` draws from in-memory run summaries while an experiment runs; a report
is built afterwards from the files in a results directory (``pathways.csv``, a difference
table, ``indices_*.csv``, ``runs.parquet``, ``fit_table.csv`` ...). These functions take those
tables and reuse that module's canvas, Okabe-Ito palette (Okabe and Ito 2008), pathway drawing
and run-id footer. Each figure is written twice next to the report: ``<stem>.png`` (embedded in
report.html) and ``<stem>.svg`` (vector, for print).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from experiments import figures
from experiments.figures import BASELINE_COLOUR, OKABE_ITO, T_PER_MT, describe_outcome
from experiments.text import label

SERIES_LABELS: dict[str, str] = {
    "emissions_total_t": "EU total emissions",
    "emissions_industry_t": "industrial emissions",
    "emissions_mission_cities_t": "Mission Cities' emissions",
    "emissions_non_mission_cities_t": "other (non-mission) cities' emissions",
}
MT_CO2E = "Mt CO$_2$e per year"


def save_figure(fig: Figure, stem: Path, run_id: str) -> tuple[Path, Path]:
    """Add the run-id footer and write ``stem``.png and ``stem``.svg (no date: reproducible)."""
    png = figures.save_figure(fig, stem.with_suffix(".png"), run_id)
    svg = stem.with_suffix(".svg")
    fig.savefig(svg, format="svg", metadata={"Date": None})
    return png, svg


def plot_pathways(
    table: pd.DataFrame,
    series: str,
    stem: Path,
    run_id: str,
    *,
    baseline: str | None,
    replicates: int,
    note: str = "",
) -> None:
    """One emission series of a pathway table: level per scenario (left), and with a baseline
    and several scenarios, each scenario's paired difference from it (right).

    With more than one replicate the 90% bands of the table are shaded; ``note`` replaces the
    title's description of what is drawn (e.g. "single run, seed 1").
    """
    rows = table[table["series"] == series]
    names = list(dict.fromkeys(rows["scenario"].astype(str)))
    styles = figures.scenario_styles(names, baseline)
    banded = figures.banded_scenarios(names, baseline) if replicates > 1 else set()
    note = note or figures.band_note(banded, names, replicates)
    paired = baseline in names and len(names) > 1 and "mean_difference_t" in rows
    fig = figures.new_figure(11.0 if paired else 6.5, 5.2)
    axes = fig.subplots(1, 2 if paired else 1, squeeze=False)[0]
    what = SERIES_LABELS.get(series, series.replace("_", " "))
    levels = ("mean_t", "low_t", "high_t")
    figures.draw_pathways(axes[0], rows, styles, banded, levels, 1.0 / T_PER_MT)
    axes[0].set(ylabel=f"{what} ({MT_CO2E})", ylim=(0.0, None))
    axes[0].set_title(f"{what}: {note}", fontsize=10)
    if paired:
        others = {k: v for k, v in styles.items() if k != baseline}
        diffs = ("mean_difference_t", "low_difference_t", "high_difference_t")
        figures.draw_pathways(axes[1], rows, others, set(others), diffs, 1.0 / T_PER_MT)
        axes[1].axhline(0.0, color=BASELINE_COLOUR, lw=1.0)
        axes[1].set_ylabel(f"difference from {label(str(baseline))} ({MT_CO2E})")
        axes[1].set_title(
            f"paired difference from {label(str(baseline))} (same seeds)", fontsize=10
        )
    figures.figure_legend(fig, styles)
    save_figure(fig, stem, run_id)


def plot_intervals(
    frame: pd.DataFrame,
    stem: Path,
    run_id: str,
    *,
    xlabel: str,
    title: str,
    reference: float | None = 0.0,
    threshold: tuple[float, str] | None = None,
    xlim: tuple[float, float] | None = None,
) -> None:
    """A dot-and-whisker chart, first row on top: ``centre`` with [``low``, ``high``] per ``label``.

    Optional columns: ``group`` (one Okabe-Ito colour and legend entry each) and ``observed``
    (an open black diamond, e.g. a calibration target). ``reference`` draws a solid vertical
    line (no effect), ``threshold`` a dashed one with its legend text.
    """
    frame = frame.iloc[::-1].reset_index(drop=True)
    groups = frame["group"].astype(str) if "group" in frame else pd.Series([""] * len(frame))
    order = list(dict.fromkeys(groups[::-1]))  # colours in the order of the rows given
    fig = figures.new_figure(8.0, 1.6 + 0.3 * len(frame))
    ax = fig.subplots()
    y = np.arange(len(frame), dtype=float)
    for k, group in enumerate(order):
        mask = (groups == group).to_numpy()
        centre = frame["centre"].to_numpy(dtype=float)[mask]
        low = frame["low"].to_numpy(dtype=float)[mask]
        high = frame["high"].to_numpy(dtype=float)[mask]
        err = np.nan_to_num(np.clip(np.vstack([centre - low, high - centre]), 0.0, None))
        colour = OKABE_ITO[(k + 3) % len(OKABE_ITO)]  # blue first, yellow last
        ax.errorbar(
            centre, y[mask], xerr=err, fmt="o", color=colour, capsize=3, ms=4, label=group or None
        )
    if "observed" in frame:
        ax.plot(frame["observed"], y, "D", mfc="none", color="black", ms=5, label="observed")
    if reference is not None:
        ax.axvline(reference, color=BASELINE_COLOUR, lw=0.8)
    if threshold is not None:
        ax.axvline(threshold[0], color=OKABE_ITO[4], ls="--", lw=1.0, label=threshold[1])
    ax.set_yticks(y, frame["label"].astype(str).tolist(), fontsize=8)
    ax.set(xlabel=xlabel, xlim=xlim)
    ax.set_title(title, fontsize=10)
    ax.grid(True, axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False)
    save_figure(fig, stem, run_id)


def plot_distributions(
    runs: pd.DataFrame, outcomes: Sequence[str], stem: Path, run_id: str, *, note: str
) -> None:
    """Histogram of each outcome over all runs (one panel each), with the median marked."""
    cols = min(3, len(outcomes))
    fig = figures.new_figure(4.0 * cols, 3.2 * math.ceil(len(outcomes) / cols) + 0.6)
    axes = fig.subplots(math.ceil(len(outcomes) / cols), cols, squeeze=False).ravel()
    for ax, outcome in zip(axes, outcomes, strict=False):
        info = describe_outcome(outcome)
        values = runs[outcome].to_numpy(dtype=float) * info.scale
        values = values[np.isfinite(values)]
        ax.hist(values, bins=min(20, max(5, len(values) // 4)), color=OKABE_ITO[3])
        ax.axvline(float(np.median(values)), color=OKABE_ITO[4], lw=1.2, label="median")
        ax.set_xlabel(f"{info.label} ({info.unit})", fontsize=8, wrap=True)
        ax.set_ylabel("runs")
        ax.grid(True, axis="y", color="0.9", lw=0.6)
        ax.set_axisbelow(True)
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"Outcome distributions over the sweep: {note}", fontsize=10)
    save_figure(fig, stem, run_id)


def plot_trace(generations: pd.DataFrame, stem: Path, run_id: str) -> None:
    """ABC-SMC progress: tolerance epsilon (log scale) and acceptance rate by generation."""
    fig = figures.new_figure(10.0, 4.2)
    left, right = fig.subplots(1, 2)
    gen = generations["generation"].to_numpy(dtype=float)
    left.plot(gen, generations["epsilon"].to_numpy(dtype=float), "o-", color=OKABE_ITO[3])
    left.set(yscale="log", xlabel="generation", ylabel="epsilon (distance threshold, log scale)")
    left.set_title("tolerance by generation", fontsize=10)
    rate = generations["acceptance_rate"].to_numpy(dtype=float)
    right.plot(gen, rate, "s-", color=OKABE_ITO[4])
    right.set(xlabel="generation", ylabel="acceptance rate (share of proposals)", ylim=(0, None))
    right.set_title("acceptance rate by generation", fontsize=10)
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, color="0.9", lw=0.6)
        ax.set_axisbelow(True)
    save_figure(fig, stem, run_id)
