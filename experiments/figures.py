"""Figures of an experiment: emission pathways across replicates and paired lever effects.

Figures are drawn on matplotlib's Agg canvas without pyplot (no global figure state, safe in
scripts and tests), in the colour-blind-safe Okabe-Ito palette (Okabe and Ito 2008), with
axis labels that carry units and the run id in a small footer so a figure can be traced back
to the results directory it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from abm import outcomes as outcome_table
from experiments.runner import RunSummary, pathway_table
from experiments.text import label, labels

# Okabe-Ito palette; black is kept for the baseline, yellow last (weak contrast on white).
BASELINE_COLOUR = "#000000"
OKABE_ITO: tuple[str, ...] = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#999999",  # grey
    "#F0E442",  # yellow
)
LINE_STYLES: tuple[str, ...] = ("-", "--", ":", "-.")
T_PER_MT = 1e6
BAND = 0.90  # central interval drawn around the mean pathways
MAX_BANDS = 4  # with more scenarios, only the baseline's band is drawn (bands would overlap)
DPI = 150


@dataclass(frozen=True, slots=True)
class OutcomeInfo:
    """How a headline outcome is shown: label, unit of the value and of a difference, scale."""

    label: str
    unit: str
    diff_unit: str
    scale: float = 1.0  # multiply the raw value by this to get ``unit``


# how each headline outcome is shown: read from the outcomes table (abm/outcomes.py)
OUTCOMES: dict[str, OutcomeInfo] = {
    o.name: OutcomeInfo(o.label, o.unit, o.diff_unit, o.scale) for o in outcome_table.OUTCOMES
}


def describe_outcome(name: str) -> OutcomeInfo:
    """How to label and scale a headline outcome (a plain fallback for unknown names)."""
    return OUTCOMES.get(name, OutcomeInfo(name.replace("_", " "), "model units", "model units"))


def _style_cycle() -> list[tuple[str, str]]:
    """Styles for non-baseline scenarios: solid Okabe-Ito, then black dashed, then dashed."""
    cycle = [(c, "-") for c in OKABE_ITO] + [(BASELINE_COLOUR, "--")]
    for style in LINE_STYLES[1:]:
        cycle += [(c, style) for c in OKABE_ITO]
    return cycle


def scenario_styles(
    names: Sequence[str], baseline_name: str | None = None
) -> dict[str, tuple[str, str]]:
    """Colour and line style per scenario: black for the baseline, Okabe-Ito for the rest."""
    cycle = _style_cycle()
    out: dict[str, tuple[str, str]] = {}
    k = 0
    for name in names:
        if name == baseline_name:
            out[name] = (BASELINE_COLOUR, "-")
        else:
            out[name] = cycle[k % len(cycle)]
            k += 1
    return out


def banded_scenarios(names: Sequence[str], baseline_name: str | None) -> set[str]:
    """Scenarios that get a shaded band: all if few, else only the baseline (legibility)."""
    if len(names) <= MAX_BANDS:
        return set(names)
    return {baseline_name} if baseline_name in names and baseline_name is not None else set()


def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas with constrained layout and room for the footer."""
    layout = ConstrainedLayoutEngine(rect=(0.0, 0.035, 1.0, 0.965))
    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: Path, run_id: str) -> Path:
    """Add the run-id footer and write the figure as PNG."""
    if run_id:
        fig.text(0.005, 0.005, f"run {run_id}", fontsize=7, color="0.4", ha="left", va="bottom")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def draw_pathways(
    ax: Axes,
    table: pd.DataFrame,
    styles: Mapping[str, tuple[str, str]],
    banded: set[str],
    columns: tuple[str, str, str],
    scale: float,
) -> None:
    """Mean line per scenario of a pathway table, with a shaded band for ``banded`` ones."""
    mean_col, low_col, high_col = columns
    for name, (colour, style) in styles.items():
        rows = table[table["scenario"] == name]
        years = rows["year"].to_numpy()
        if name in banded:
            ax.fill_between(
                years,
                rows[low_col].to_numpy() * scale,
                rows[high_col].to_numpy() * scale,
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
        ax.plot(years, rows[mean_col].to_numpy() * scale, color=colour, ls=style, lw=1.6)
    ax.grid(True, color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("year")


def band_note(banded: set[str], names: Sequence[str], n: int) -> str:
    """Title text saying what the shaded bands are."""
    whose = "" if banded == set(names) else f" of {', '.join(sorted(labels(sorted(banded))))}"
    band = f" and {BAND:.0%} band{whose}" if banded else ""
    return f"mean{band} over {n} replicates"


def figure_legend(fig: Figure, styles: Mapping[str, tuple[str, str]]) -> None:
    """A legend below the axes naming each scenario by its label (lever names as levers)."""
    handles = [
        fig.axes[0].plot([], [], color=colour, ls=style, lw=1.6, label=label(name))[0]
        for name, (colour, style) in styles.items()
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 4),
        fontsize=8,
        frameon=False,
    )


def _plot_series(
    summaries: Mapping[str, Sequence[RunSummary]],
    series: str,
    what: str,
    path: Path,
    run_id: str,
    baseline_name: str | None,
) -> Path:
    """Pathways of one series (left) and, with a baseline, the paired difference (right)."""
    table = pathway_table(summaries, BAND, baseline_name)
    table = table[table["series"] == series]
    names = list(summaries)
    styles = scenario_styles(names, baseline_name)
    banded = banded_scenarios(names, baseline_name)
    n = min(len(runs) for runs in summaries.values())
    two = baseline_name is not None
    fig = new_figure(11.0 if two else 6.5, 5.2)
    axes = fig.subplots(1, 2 if two else 1, squeeze=False)[0]
    scale = 1.0 / T_PER_MT
    draw_pathways(axes[0], table, styles, banded, ("mean_t", "low_t", "high_t"), scale)
    axes[0].set_ylabel(f"{what} (Mt CO$_2$e per year)")
    axes[0].set_title(f"{what}: {band_note(banded, names, n)}", fontsize=10)
    axes[0].set_ylim(bottom=0.0)
    if two:
        others = {k: v for k, v in styles.items() if k != baseline_name}
        columns = ("mean_difference_t", "low_difference_t", "high_difference_t")
        draw_pathways(axes[1], table, others, set(others), columns, scale)
        axes[1].axhline(0.0, color=BASELINE_COLOUR, lw=1.0)
        axes[1].set_ylabel(f"difference from {label(str(baseline_name))} (Mt CO$_2$e per year)")
        axes[1].set_title(
            f"paired difference from {label(str(baseline_name))} (same seeds), {BAND:.0%} band",
            fontsize=10,
        )
    figure_legend(fig, styles)
    return save_figure(fig, path, run_id)


def plot_emission_pathways(
    summaries: Mapping[str, Sequence[RunSummary]],
    path: Path,
    run_id: str = "",
    baseline_name: str | None = None,
) -> Path:
    """EU total emissions per year per scenario: mean line and 90% band across replicates.

    With ``baseline_name`` a second panel shows each scenario's paired (same-seed) difference
    from the baseline, which is where lever effects become visible.
    """
    return _plot_series(
        summaries, "emissions_total_t", "EU total emissions", path, run_id, baseline_name
    )


def plot_industry(
    summaries: Mapping[str, Sequence[RunSummary]],
    path: Path,
    run_id: str = "",
    baseline_name: str | None = None,
) -> Path:
    """Industrial emissions (plants and SMEs) per year per scenario, as plot_emission_pathways."""
    return _plot_series(
        summaries, "emissions_industry_t", "industrial emissions", path, run_id, baseline_name
    )


def plot_city_groups(
    summaries: Mapping[str, Sequence[RunSummary]],
    path: Path,
    run_id: str = "",
    baseline_name: str | None = None,
) -> Path:
    """Emissions of Mission Cities and of other cities, each run indexed to its start year."""
    names = list(summaries)
    styles = scenario_styles(names, baseline_name)
    banded = banded_scenarios(names, baseline_name)
    q_low, q_high = (1.0 - BAND) / 2.0, (1.0 + BAND) / 2.0
    fig = new_figure(11.0, 5.2)
    axes = fig.subplots(1, 2, sharey=True)
    groups = (
        ("emissions_mission_cities_t", "Mission Cities"),
        ("emissions_non_mission_cities_t", "other (non-mission) cities"),
    )
    n = min(len(runs) for runs in summaries.values())
    for ax, (series, title) in zip(axes, groups, strict=True):
        frames = []
        for name, runs in summaries.items():
            paths = [run.pathways() for run in runs]
            values = np.vstack([p[series].to_numpy(dtype=float) for p in paths])
            with np.errstate(divide="ignore", invalid="ignore"):
                index = 100.0 * values / values[:, :1]
            frames.append(
                pd.DataFrame(
                    {
                        "scenario": name,
                        "year": paths[0]["year"].to_numpy(),
                        "mean": index.mean(axis=0),
                        "low": np.quantile(index, q_low, axis=0),
                        "high": np.quantile(index, q_high, axis=0),
                    }
                )
            )
        table = pd.concat(frames, ignore_index=True)
        draw_pathways(ax, table, styles, banded, ("mean", "low", "high"), 1.0)
        ax.set_title(title, fontsize=10)
    fig.suptitle(
        f"City emissions, each run indexed to its start year: {band_note(banded, names, n)}",
        fontsize=10,
    )
    axes[0].set_ylabel("emissions incl. industry on their territory (start year = 100)")
    figure_legend(fig, styles)
    return save_figure(fig, path, run_id)


def plot_lever_effects(
    diff_table: pd.DataFrame, outcome: str, path: Path, run_id: str = ""
) -> Path:
    """Horizontal bars: each scenario's mean paired difference from the baseline, with CI.

    ``diff_table`` is the output of :func:`experiments.runner.paired_differences`; bars are
    sorted by the mean difference (largest at the top), whiskers are its confidence interval.
    """
    rows = diff_table[diff_table["outcome"] == outcome].sort_values(
        "mean_difference", kind="stable"
    )
    if rows.empty:
        raise ValueError(f"outcome '{outcome}' not in the difference table")
    info = describe_outcome(outcome)
    mean = rows["mean_difference"].to_numpy(dtype=float) * info.scale
    low = rows["ci_low"].to_numpy(dtype=float) * info.scale
    high = rows["ci_high"].to_numpy(dtype=float) * info.scale
    err = np.vstack([mean - low, high - mean])
    names = labels(rows["scenario"].astype(str).tolist())
    baseline = label(str(rows["baseline"].iloc[0])) if "baseline" in rows else "baseline"
    n = int(rows["n"].min())
    confidence = float(rows["confidence"].iloc[0]) if "confidence" in rows else 0.95
    fig = new_figure(7.5, 1.2 + 0.42 * len(names))
    ax = fig.subplots()
    y = np.arange(len(names))
    colours = [OKABE_ITO[3] if m >= 0 else OKABE_ITO[4] for m in mean]
    ax.barh(y, mean, color=colours, height=0.6)
    ax.errorbar(mean, y, xerr=np.nan_to_num(err), fmt="none", ecolor="0.15", capsize=3, lw=1)
    ax.axvline(0.0, color=BASELINE_COLOUR, lw=0.8)
    ax.set_yticks(y, names, fontsize=9)
    ax.set_xlabel(f"difference from {baseline} ({info.diff_unit})")
    ax.set_title(
        f"{info.label}\nmean paired difference, {confidence:.0%} CI over {n} seeds",
        fontsize=10,
    )
    ax.grid(True, axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    return save_figure(fig, path, run_id)
