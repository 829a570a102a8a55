"""Charts of a study: the main indices per outcome with intervals and the dummy threshold."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from experiments.figures import OKABE_ITO, describe_outcome
from experiments.sensitivity.analysis import CONF_LEVEL, MAIN_INDEX, OutcomeResult
from experiments.sensitivity.design import DUMMY, DUMMY_LABEL

DPI = 150


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")


def _file_stem(outcome: str) -> str:
    return _SAFE_NAME.sub("_", outcome)


_INDEX_LABEL: dict[str, str] = {
    "S1": "first-order S1",
    "ST": "total ST",
    "mu_star": "mu* (mean |elementary effect|)",
    "pawn_median": "PAWN (median KS distance)",
}


def _axis_label(method: str, outcome: str) -> str:
    if method in ("sobol", "emulator"):
        return "share of output variance (0-1)"
    if method == "pawn":
        return "KS distance between conditional and unconditional CDFs (0-1)"
    info = describe_outcome(outcome)
    return f"mean |elementary effect|, per whole factor range ({info.diff_unit})"


def plot_indices(result: OutcomeResult, path: Path, title_note: str = "") -> Path:
    """Horizontal bars of the main indices with intervals and the dummy threshold line."""
    frame = result.indices
    method = str(frame["method"].iloc[0])
    main = MAIN_INDEX[method]
    shown = ["S1", "ST"] if method == "sobol" else [main]
    info = describe_outcome(result.outcome)
    scale = info.scale if method == "morris" else 1.0
    ranked = frame[(frame["index"] == main) & ~frame["is_dummy"]].sort_values(
        "value", kind="stable"
    )
    order = [DUMMY, *ranked["name"].astype(str)]  # the dummy at the bottom, largest on top
    layout = ConstrainedLayoutEngine(rect=(0.0, 0.035, 1.0, 0.965))
    fig = Figure(figsize=(7.5, 1.6 + 0.34 * len(order) * len(shown)), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    y = np.arange(len(order), dtype=float)
    height = 0.8 / len(shown)
    colours = {"S1": OKABE_ITO[1], "ST": OKABE_ITO[3]}
    for k, index in enumerate(shown):
        rows = frame[frame["index"] == index].set_index("name").loc[order]
        value = rows["value"].to_numpy(dtype=float) * scale
        low = rows[["ci_low", "noise_ci_low"]].min(axis=1).fillna(rows["value"]).to_numpy() * scale
        high = (
            rows[["ci_high", "noise_ci_high"]].max(axis=1).fillna(rows["value"]).to_numpy() * scale
        )
        offset = ((len(shown) - 1) / 2 - k) * height  # the first index on top
        colour = colours.get(index, OKABE_ITO[3])
        ax.barh(y + offset, value, height=height * 0.9, color=colour, label=_INDEX_LABEL[index])
        err = np.vstack([np.clip(value - low, 0, None), np.clip(high - value, 0, None)])
        ax.errorbar(value, y + offset, xerr=err, fmt="none", ecolor="0.15", capsize=2, lw=0.8)
    if method == "morris":  # sigma in the same units: spread of the effects (interactions)
        sigma = frame[frame["index"] == "sigma"].set_index("name").loc[order, "value"]
        ax.plot(
            sigma.to_numpy(dtype=float) * scale,
            y,
            "D",
            color=OKABE_ITO[0],
            ms=4,
            label="sigma (spread of effects: interactions, non-linearity)",
        )
    dummy = frame[(frame["is_dummy"]) & (frame["index"] == main)]
    if not dummy.empty:
        d = dummy.iloc[0]
        threshold = float(np.nanmax([d["value"], d["ci_high"], d["noise_ci_high"]])) * scale
        ax.axvline(
            threshold,
            color=OKABE_ITO[4],
            ls="--",
            lw=1.0,
            label=f"dummy threshold ({_INDEX_LABEL[main].split(' (')[0]})",
        )
    labels = [DUMMY_LABEL if n == DUMMY else n for n in order]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(_axis_label(method, result.outcome))
    level = str(frame["level"].iloc[0])
    subtitle = f"{method} indices by {level}; whiskers: {CONF_LEVEL:.0%} design and seed intervals"
    ax.set_title(
        f"{info.label}\n{subtitle}" + (f"\n{title_note}" if title_note else ""), fontsize=9
    )
    ax.grid(True, axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def plot_convergence(result: OutcomeResult, path: Path) -> Path:
    """Emulator total-order indices against the number of training runs (one line a factor)."""
    fig = Figure(figsize=(7.0, 4.0), layout=ConstrainedLayoutEngine())
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    conv = result.convergence
    st = conv[conv["index"] == "ST"]
    for k, (name, part) in enumerate(st.groupby("name", sort=False)):
        part = part.sort_values("n_runs")
        label = DUMMY_LABEL if name == DUMMY else str(name)
        ax.plot(
            part["n_runs"],
            part["value"],
            marker="o",
            color=OKABE_ITO[k % len(OKABE_ITO)],
            linestyle=":" if name == DUMMY else "-",
            label=label,
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("model runs the emulator is fitted on")
    ax.set_ylabel("total-order index ST (0-1)")
    ax.set_title(f"{describe_outcome(result.outcome).label}: emulator indices vs runs")
    ax.legend(fontsize="x-small", ncol=2)
    fig.savefig(path, dpi=DPI)
    return path
