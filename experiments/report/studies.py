"""Report sections of ``govsim sweep`` and ``govsim sensitivity`` directories."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments import sensitivity as sa
from experiments.figures import describe_outcome
from experiments.report import figures as report_figures
from experiments.report.document import Build, Section, interval_frame
from experiments.text import labels


def _distribution(runs: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Per outcome: runs, mean, sd, 5%, 50% and 95% quantiles, in display units."""
    rows = []
    for outcome in outcomes:
        info = describe_outcome(outcome)
        values = runs[outcome].to_numpy(dtype=float) * info.scale
        values = values[np.isfinite(values)]
        q05, median, q95 = np.quantile(values, [0.05, 0.5, 0.95])
        rows.append(
            {
                "outcome": outcome,
                "unit": info.unit,
                "runs": len(values),
                "mean": values.mean(),
                "sd": values.std(ddof=1) if len(values) > 1 else float("nan"),
                "q05": q05,
                "median": median,
                "q95": q95,
            }
        )
    return pd.DataFrame(rows)


def build_sweep(b: Build) -> None:
    """govsim sweep: outcome distributions over the design, the factors, replicate adequacy."""
    m = b.data
    s = b.section("Outcome distributions")
    runs = b.read(s, "runs.parquet", ["status", *m["outcomes"]])
    if runs is not None:
        ok = runs[runs["status"] == "ok"]
        outcomes = [o for o in m["outcomes"] if np.isfinite(ok[o].to_numpy(dtype=float)).any()]
        s.text.append(
            f"{len(ok)} of {len(runs)} runs finished; every design point ran with the same "
            f"{m['replicates']} replicate seeds (common random numbers)."
        )
        table = _distribution(ok, outcomes)
        b.derive(s, table, "outcome_distribution.csv", "Outcomes over all runs.", inline=True)
        b.derive(s, runs.drop(columns="run_key", errors="ignore"), "runs.csv", "Every run.", False)
        for row in table.to_dict("records"):
            b.add_headline(
                describe_outcome(row["outcome"]).label,
                "all design points",
                [row["median"], row["q05"], row["q95"]],
                f"median, 90% range over {row['runs']} runs",
                row["unit"],
            )
        if outcomes:
            stem = b.figure(
                s,
                "outcome_distributions",
                f"Distribution of each outcome over the {len(ok)} finished runs of the sweep "
                "(units on each axis); the line is the median.",
                f"Histograms of {len(outcomes)} outcomes over {len(ok)} sweep runs.",
            )
            note = f"{len(ok)} runs"
            report_figures.plot_distributions(ok, outcomes, stem, b.run_id, note=note)
    s = b.section("Design", "The factors varied by the sweep and their ranges.")
    factors = pd.DataFrame([f for f in m["factors"] if isinstance(f, dict)])
    b.derive(s, factors, "factors.csv", "Factors of the design.", inline=True)
    b.copy(
        s,
        "replicate_adequacy.csv",
        "95% CI half-width of a design point's mean against the number of replicates.",
    )


def _indices_chart(b: Build, s: Section, frame: pd.DataFrame, method: str) -> None:
    """The main index of one outcome with its intervals and the dummy threshold."""
    main, outcome = sa.MAIN_INDEX[method], str(frame["outcome"].iloc[0])
    info = describe_outcome(outcome)
    scale = info.scale if method == "morris" else 1.0
    rows = frame[frame["index"] == main]
    factors = rows[~rows["is_dummy"].astype(bool)].sort_values("value", ascending=False)
    dummy = rows[rows["is_dummy"].astype(bool)]
    low = factors[["ci_low", "noise_ci_low"]].min(axis=1).fillna(factors["value"])
    high = factors[["ci_high", "noise_ci_high"]].max(axis=1).fillna(factors["value"])
    shown = interval_frame(factors["name"], factors["value"], low, high, scale)
    limit = dummy[["value", "ci_high", "noise_ci_high"]].to_numpy(dtype=float)
    threshold = float(np.nanmax(limit)) * scale if np.isfinite(limit).any() else None
    stem = b.figure(
        s,
        f"indices_{sa._file_stem(outcome)}",
        f"{info.label}: {method} index {main} of each factor with its 95% interval; the dashed "
        "line is the dummy factor's upper bound (factors left of it are indistinguishable "
        "from no effect).",
        f"Dot-and-whisker chart of {main} for {len(shown)} factors on {info.label}.",
    )
    report_figures.plot_intervals(
        shown.assign(label=labels(shown["label"])),
        stem,
        b.run_id,
        xlabel=sa._axis_label(method, outcome),
        title=f"{info.label}\n{method} {main}, 95% intervals (design and seed)",
        reference=None,
        threshold=None if threshold is None else (threshold, f"{sa.DUMMY_LABEL}: upper bound"),
    )
    b.add_headline(
        f"{info.label}: most influential factor ({main})",
        shown["label"].iloc[0],
        shown[["centre", "low", "high"]].iloc[0],
        "95% interval",
        info.diff_unit if method == "morris" else "index (0-1)",
    )


def build_sensitivity(b: Build) -> None:
    """govsim sensitivity: the main index per outcome, noise and convergence checks."""
    study = b.data["study"]
    method = study["method"]
    s = b.section(
        "Sensitivity indices",
        f"{method} analysis: main index {sa.MAIN_INDEX[method]} per factor, largest at the top. "
        "Every design carries a dummy factor the model never sees; its index shows how large "
        "an index can be by chance.",
    )
    paths = sorted(b.source.glob("indices_*.csv"))
    if not paths:
        s.notes.append("No `indices_*.csv` in the results directory; no indices to show.")
    for path in paths:
        frame = b.read(s, path.name, sa.INDEX_COLUMNS)
        if frame is not None and not frame[frame["index"] == sa.MAIN_INDEX[method]].empty:
            _indices_chart(b, s, frame, method)
            b.copy(s, path.name, f"All indices of `{frame['outcome'].iloc[0]}`.")
    for outcome, why in (b.data.get("skipped_outcomes") or {}).items():
        s.notes.append(f"`{outcome}` was not analysed: {why}.")
    factors = [f for f in study.get("factors", []) if isinstance(f, dict)]
    if factors:
        b.derive(s, pd.DataFrame(factors), "factors.csv", "Factors and ranges.", inline=True)
    s = b.section(
        "Noise and convergence",
        "`noise.csv`: the share of output variance due to seeds rather than factors. "
        "`convergence.csv`: the largest change of an index between half and the full sample.",
    )
    b.copy(s, "noise.csv", "Seed noise per outcome.")
    b.copy(s, "convergence.csv", "Convergence of each index (N/2 against N).")
