"""Charts of the explorer as PNG bytes, drawn with the helpers of :mod:`experiments.figures`.

The page shows each chart as an image; every chart is made from the same rows the view's
CSV download holds, in the experiment figures' palette, with the run id in the footer.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from experiments import cases, figures
from experiments import sensitivity as sa
from experiments.explorer.data import SERIES_LABELS
from experiments.explorer.live import BASELINE, LiveResult
from experiments.report import figures as report_figures
from experiments.report.document import interval_frame
from experiments.text import column_label, label, labels, plain, round_to_uncertainty

# city_year column suffix -> (unit shown, factor from the column's unit)
CITY_UNITS: dict[str, tuple[str, float]] = {
    "_t": ("(Mt CO$_2$e)", 1e-6),
    "_eur": ("(EUR M)", 1e-6),
    "_fte": ("(FTE)", 1.0),
}


def png(draw: Callable[[Path], Path]) -> bytes:
    """Run a figure function that writes a PNG file and return the file's bytes."""
    with tempfile.TemporaryDirectory(prefix="govsim-chart-") as tmp:
        return draw(Path(tmp) / "chart.png").read_bytes()


def has_values(values: pd.Series) -> bool:
    """True if a column has at least one finite number."""
    return bool(np.isfinite(values.to_numpy(dtype=float)).any())


def effects_png(rows: pd.DataFrame, outcome: str, run_id: str) -> bytes:
    """Paired differences from the baseline with their confidence intervals (bars)."""
    return png(lambda path: figures.plot_lever_effects(rows, outcome, path, run_id))


def pathways_png(
    rows: pd.DataFrame,
    series: str,
    baseline: str | None,
    replicates: int,
    run_id: str,
) -> bytes:
    """Pathways of one series with bands (left) and the paired difference (right)."""
    names = list(dict.fromkeys(rows["scenario"].astype(str)))
    styles = figures.scenario_styles(names, baseline)
    banded = figures.banded_scenarios(names, baseline)
    others = {name: style for name, style in styles.items() if name != baseline}
    with_diff = bool(others) and "mean_difference_t" in rows.columns
    fig = figures.new_figure(11.0 if with_diff else 6.5, 5.2)
    axes = fig.subplots(1, 2 if with_diff else 1, squeeze=False)[0]
    scale = 1.0 / figures.T_PER_MT
    what = SERIES_LABELS.get(series, series)
    figures.draw_pathways(axes[0], rows, styles, banded, ("mean_t", "low_t", "high_t"), scale)
    axes[0].set_ylabel(f"{what} emissions (Mt CO$_2$e per year)")
    axes[0].set_title(f"{what}: {figures.band_note(banded, names, replicates)}", fontsize=10)
    axes[0].set_ylim(bottom=0.0)
    if with_diff:
        columns = ("mean_difference_t", "low_difference_t", "high_difference_t")
        figures.draw_pathways(axes[1], rows, others, set(others), columns, scale)
        axes[1].axhline(0.0, color=figures.BASELINE_COLOUR, lw=1.0)
        axes[1].set_ylabel(f"difference from {label(str(baseline))} (Mt CO$_2$e per year)")
        axes[1].set_title(
            f"paired difference from {label(str(baseline))} (same seeds)", fontsize=10
        )
    figures.figure_legend(fig, styles)
    return png(lambda path: figures.save_figure(fig, path, run_id))


def _line_figure(title: str, ylabel: str, xlabel: str = "year") -> tuple[Figure, Axes]:
    fig = figures.new_figure(7.5, 4.4)
    ax = fig.subplots()
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.grid(True, color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def city_png(table: pd.DataFrame, column: str, filters: str, run_id: str) -> bytes:
    """A yearly city aggregate (output of :func:`experiments.explorer.data.city_series`)."""
    aggregate = str(table["aggregate"].iloc[0]) if len(table) else "sum"
    cities = int(table["cities"].max()) if len(table) else 0
    unit, scale = next(
        ((u, s) for suffix, (u, s) in CITY_UNITS.items() if column.endswith(suffix)), ("", 1.0)
    )
    name = column_label(column).split(" (")[0] if unit else column_label(column)
    fig, ax = _line_figure(
        f"{name}: {aggregate} over {cities} cities\n({filters})", f"{name} {unit}".strip()
    )
    values = table["value"].to_numpy(dtype=float) * scale
    ax.plot(table["year"], values, color=figures.OKABE_ITO[3], lw=1.8, marker="o", ms=3)
    return png(lambda path: figures.save_figure(fig, path, run_id))


def sweep_png(runs: pd.DataFrame, factor: str, outcome: str, run_id: str) -> bytes:
    """Every run's outcome against one factor, with the mean over replicates per point."""
    info = figures.describe_outcome(outcome)
    fig, ax = _line_figure(
        f"{info.label} by {label(factor)}", f"{info.label} ({info.unit})", label(factor)
    )
    values = runs[outcome].to_numpy(dtype=float) * info.scale
    ax.scatter(runs[factor], values, s=12, color=figures.OKABE_ITO[1], label="run")
    means = runs.groupby("point")[[factor, outcome]].mean().sort_values(factor)
    ax.plot(
        means[factor],
        means[outcome] * info.scale,
        color=figures.BASELINE_COLOUR,
        marker="o",
        ms=4,
        lw=0,
        label="mean over replicates",
    )
    ax.legend(fontsize=8, frameon=False)
    return png(lambda path: figures.save_figure(fig, path, run_id))


def live_png(result: LiveResult) -> bytes:
    """EU emissions of the lever run and its same-seed baseline, and their difference."""
    run_id = f"live run, seed {result.seed}"
    return png(
        lambda path: figures.plot_emission_pathways(result.summaries, path, run_id, BASELINE)
    )


def scaled(value: float, scale: float) -> str:
    """A scaled number with three significant digits, or an en dash for a missing one."""
    return "–" if not math.isfinite(value) else plain(value * scale)


def scaled_interval(value: float, low: float, high: float, scale: float) -> str:
    """A scaled value and its interval rounded to the interval's precision (en dash if none)."""
    if not math.isfinite(value):
        return "–"
    return round_to_uncertainty(value * scale, low * scale, high * scale)


def effects_rows(rows: pd.DataFrame, outcome: str) -> list[dict[str, str]]:
    """The effects table in display units, one dict per scenario (for the page's table)."""
    info = figures.describe_outcome(outcome)
    out = []
    for record in rows.to_dict("records"):
        out.append(
            {
                "scenario": label(str(record["scenario"])),
                "baseline": scaled(float(record["mean_baseline"]), info.scale),
                "scenario mean": scaled(float(record["mean_scenario"]), info.scale),
                f"difference [95% CI] ({info.diff_unit})": scaled_interval(
                    float(record["mean_difference"]),
                    float(record["ci_low"]),
                    float(record["ci_high"]),
                    info.scale,
                ),
                "seeds": str(record["n"]),
            }
        )
    return out


def effect_rows_for(names: Sequence[str], rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``rows`` whose outcome is in ``names`` (live view's key outcomes)."""
    return rows[rows["outcome"].isin(list(names))].reset_index(drop=True)


def distribution_png(values: pd.DataFrame, outcome: str, run_id: str) -> bytes:
    """Histogram of one outcome over a sweep's runs (``data.sweep_distribution`` rows)."""
    info = figures.describe_outcome(outcome)
    runs = pd.DataFrame({outcome: values["value"].to_numpy(dtype=float) / info.scale})

    def draw(path: Path) -> Path:
        note = f"{len(runs)} runs"
        report_figures.plot_distributions(runs, [outcome], path.with_suffix(""), run_id, note=note)
        return path

    return png(draw)


def _intervals_png(frame: pd.DataFrame, run_id: str, **options: Any) -> bytes:
    """A dot-and-whisker chart (``report.figures.plot_intervals``) as PNG bytes."""

    def draw(path: Path) -> Path:
        report_figures.plot_intervals(frame, path.with_suffix(""), run_id, **options)
        return path

    return png(draw)


def case_effects_png(rows: pd.DataFrame, title: str, diff_unit: str, run_id: str) -> bytes:
    """Each variant's paired difference from the case baseline with its 95% interval."""
    frame = interval_frame(
        labels(rows["scenario"]), rows["mean_difference"], rows["ci_low"], rows["ci_high"]
    )
    return _intervals_png(
        frame, run_id, xlabel=f"difference from the case baseline ({diff_unit})", title=title
    )


def case_panels_png(city: pd.DataFrame, plants: pd.DataFrame, title: str, run_id: str) -> bytes:
    """The case city's four panels (``experiments.cases.plot_case``)."""

    def draw(path: Path) -> Path:
        cases.plot_case(city, plants, title, run_id, path)
        return path

    return png(draw)


def fit_png(fit: pd.DataFrame, run_id: str) -> bytes:
    """Each calibration target's simulated 90% interval (by role) against its observed value."""
    frame = interval_frame(fit["item"], fit["simulated_mean"], fit["q05"], fit["q95"])
    frame = frame.assign(
        observed=fit["observed_mean"].to_numpy(float), group=fit["role"].to_numpy()
    )
    return _intervals_png(
        frame,
        run_id,
        xlabel="the target's own scale",
        title="fit to targets: simulated 90% interval and observed value",
        reference=None,
    )


def indices_png(rows: pd.DataFrame, outcome: str, run_id: str) -> bytes:
    """The main index of each factor with its interval; dashed: the dummy factor's bound."""
    method, main = str(rows["method"].iloc[0]), str(rows["index"].iloc[0])
    info = figures.describe_outcome(outcome)
    scale = info.scale if method == "morris" else 1.0
    factors, dummy = rows[~rows["is_dummy"]], rows[rows["is_dummy"]]
    low = factors[["ci_low", "noise_ci_low"]].min(axis=1).fillna(factors["value"])
    high = factors[["ci_high", "noise_ci_high"]].max(axis=1).fillna(factors["value"])
    frame = interval_frame(labels(factors["name"]), factors["value"], low, high, scale)
    limit = dummy[["value", "ci_high", "noise_ci_high"]].to_numpy(dtype=float)
    threshold = float(np.nanmax(limit)) * scale if np.isfinite(limit).any() else None
    return _intervals_png(
        frame,
        run_id,
        xlabel=sa._axis_label(method, outcome),
        title=f"{info.label}\n{method} {main}, 95% intervals",
        reference=None,
        threshold=None if threshold is None else (threshold, f"{sa.DUMMY_LABEL}: upper bound"),
    )


def interval_rows(
    frame: pd.DataFrame, name: str, columns: tuple[str, str, str], scale: float = 1.0
) -> list[dict[str, str]]:
    """Rows of a page table: the label of ``name`` and ``value [low, high]`` rounded."""
    centre, low, high = columns
    return [
        {
            "": label(str(record[name])),
            "value [interval]": scaled_interval(
                float(record[centre]), float(record[low]), float(record[high]), scale
            ),
        }
        for record in frame.to_dict("records")
    ]
