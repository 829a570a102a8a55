"""The sentences a report opens with: what the results show, and the caveats a brief must carry.

:func:`findings` writes up to three sentences from the tables of the results directory (each
with its interval and run ID: the largest effects, what is not distinguishable from zero,
the fit of a calibration) and three caveats: what is calibrated and what is assumed (from the
committed posterior's manifest and the registry's source tags), what the intervals cover, and
what the model does not represent (README "Limitations", docs/ODD.md §11-12). Numbers come
from the data, rounded to their uncertainty (:func:`experiments.text.round_to_uncertainty`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.config import PARAMETER_META
from abm.outcomes import selection
from abm.policies import LEVER_NAMES
from calibration.posterior import POSTERIOR_DIR
from experiments import sensitivity as sa
from experiments.figures import describe_outcome
from experiments.report.case import case_metrics
from experiments.report.document import Build
from experiments.text import label, labels, plain, round_to_uncertainty, with_unit

MAX_RESULTS = 3  # sentences on the results; with the three caveats a report opens with <= 6
PACKAGE = "full_package"
# what the model leaves out, in plain words (README "Limitations", docs/ODD.md §11-12)
NOT_REPRESENTED = (
    "elections or changing national priorities",
    "departments as actors",
    "social networks among citizens",
    "energy, hydrogen or world-market prices and the ETS2",
)


def _read(b: Build, name: str) -> pd.DataFrame | None:
    """A CSV or Parquet table of the results directory, or None if missing or unreadable."""
    path = b.source / name
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError):
        return None


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _sentence(text: str) -> str:
    """``text`` with a capital first letter (labels may start in lower case)."""
    return text[:1].upper() + text[1:]


def _named(info_label: str) -> str:
    """An outcome label inside a sentence, closed by a comma if it holds one."""
    return f"{info_label}," if "," in info_label else info_label


def _some(names: Sequence[str], shown: int = 4) -> str:
    """Up to ``shown`` names joined in words, then how many more."""
    if len(names) <= shown:
        return _join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def _effect(row: pd.Series, scale: float, unit: str) -> str:
    """A paired difference with its interval, e.g. '11.8 pp [11.3, 12.2]'."""
    mean, low, high = (float(row[k]) * scale for k in ("mean_difference", "ci_low", "ci_high"))
    return round_to_uncertainty(mean, low, high, _short_unit(unit))


def _short_unit(unit: str) -> str:
    return {"percentage points": "pp"}.get(unit, unit)


def _includes_zero(rows: pd.DataFrame) -> pd.Series:
    return (rows["ci_low"] <= 0) & (rows["ci_high"] >= 0)


def _effects_sentences(
    b: Build, diffs: pd.DataFrame, outcomes: Sequence[str], key: str, baseline: str
) -> list[str]:
    """Sentences on paired differences: the package or largest effect, the largest single
    levers, and those not distinguishable from zero (95% interval includes 0)."""
    run = f"(run {b.run_id})"
    for outcome in outcomes:
        rows = diffs[(diffs[key] == outcome) & np.isfinite(diffs["mean_difference"])]
        if not rows.empty:
            break
    else:
        return []
    info = describe_outcome(outcome) if key == "outcome" else case_metrics([outcome])[outcome]
    rows = rows.sort_values("mean_difference", ascending=False, kind="stable")
    out = []
    top = rows[rows["scenario"] == PACKAGE] if PACKAGE in set(rows["scenario"]) else rows.head(1)
    first = top.iloc[0]
    mean, low, high = (float(first[k]) for k in ("mean_difference", "ci_low", "ci_high"))
    verb = "changes" if low <= 0 <= high else "raises" if mean > 0 else "lowers"
    out.append(
        _sentence(
            f"{label(str(first['scenario']))} {verb} {_named(info.label)} by "
            f"{_effect(first, info.scale, info.diff_unit)} against {label(baseline)} {run}."
        )
    )
    levers = rows[rows["scenario"].isin(LEVER_NAMES)]
    levers = levers.reindex(levers["mean_difference"].abs().sort_values(ascending=False).index)
    if len(levers) > 1 or (len(levers) == 1 and levers.iloc[0]["scenario"] != first["scenario"]):
        named = [
            f"{label(str(r['scenario']))} ({_effect(r, info.scale, info.diff_unit)})"
            for _, r in levers.head(2).iterrows()
        ]
        out.append(f"The largest single-lever effects on it are {_join(named)} {run}.")
    zero = rows[_includes_zero(rows)]
    if zero.empty:
        out.append(f"Every scenario's effect on it is distinguishable from zero {run}.")
    else:
        out.append(
            f"{len(zero)} of {len(rows)} scenarios are not distinguishable from no effect on it "
            f"(95% interval includes 0): {_some(labels(zero['scenario']))} {run}."
        )
    return out


def _experiment(b: Build) -> list[str]:
    diffs = _read(b, str(b.data["diff_file"]))
    if diffs is None:
        return []
    outcomes = [*selection("key"), *selection("report")]
    out = _effects_sentences(b, diffs, outcomes, "outcome", str(b.data["baseline"]))
    return out + _parameter_uncertainty(b)


def _parameter_uncertainty(b: Build) -> list[str]:
    """With --posterior: how much of each effect's spread is calibrated-parameter uncertainty."""
    table = _read(b, "posterior_uncertainty.csv")
    if table is None or table.empty:
        return []
    table = table[table["outcome"].isin(selection("key"))]
    if table.empty:
        return []
    share = float(table["parameter_share_of_variance"].median())
    top = table.sort_values("parameter_share_of_variance", ascending=False).iloc[0]
    return [
        _sentence(
            f"Integrated over posterior draws ({int(top['draws'])} draws x "
            f"{int(top['seeds_per_draw'])} seeds), calibrated-parameter uncertainty makes up a "
            f"median {share:.0%} of the spread of a one-run effect on the key outcomes, seed "
            f"noise the rest (posterior_uncertainty.csv); it is largest for "
            f"{top['scenario']} on {top['outcome']} ({top['parameter_share_of_variance']:.0%})"
        )
    ]


def _run(b: Build) -> list[str]:
    headline, seed = b.data["headline"], b.data["seed"]
    shown = []
    for outcome in selection("run"):
        value = headline.get(outcome)
        if value is not None and math.isfinite(float(value)):
            info = describe_outcome(outcome)
            number = with_unit(plain(float(value) * info.scale), info.unit)
            shown.append(f"{_named(info.label)} is {number}")
    if not shown:
        return []
    return [
        f"In this single run (seed {seed}): {_join(shown[:3])} (run {b.run_id}).",
        "One seed has no interval: run `govsim compare` with replicates for intervals and "
        f"paired lever effects (run {b.run_id}).",
    ]


def _sweep(b: Build) -> list[str]:
    runs = _read(b, "runs.parquet")
    if runs is None:
        return []
    ok = runs[runs["status"] == "ok"]
    out = []
    for outcome in b.data["outcomes"]:
        values = ok[outcome].to_numpy(dtype=float) if outcome in ok else np.array([])
        values = values[np.isfinite(values)]
        if len(values) < 2 or np.ptp(values) == 0:
            continue
        info = describe_outcome(outcome)
        q05, median, q95 = np.quantile(values * info.scale, [0.05, 0.5, 0.95])
        out.append(
            f"Over the {len(values)} runs of the sweep, {_named(info.label)} has median "
            f"{round_to_uncertainty(median, q05, q95, _short_unit(info.unit))} (90% range "
            f"over runs) (run {b.run_id})."
        )
        if len(out) == 2:
            break
    factors = [str(f.get("name")) for f in b.data["factors"] if isinstance(f, dict)]
    if factors:
        out.append(
            f"The design varies {len(factors)} factors: {_some(labels(factors))} (run {b.run_id})."
        )
    return out


def _sensitivity(b: Build) -> list[str]:
    method = b.data["study"]["method"]
    main = sa.MAIN_INDEX[method]
    out = []
    for path in sorted(b.source.glob("indices_*.csv")):
        frame = _read(b, path.name)
        if frame is None or not set(sa.INDEX_COLUMNS) <= set(frame.columns):
            continue
        rows = frame[frame["index"] == main]
        factors = rows[~rows["is_dummy"].astype(bool)].sort_values("value", ascending=False)
        if factors.empty:
            continue
        info = describe_outcome(str(frame["outcome"].iloc[0]))
        scale = info.scale if method == "morris" else 1.0
        top = factors.iloc[0]
        low = np.nanmin([top["ci_low"], top.get("noise_ci_low", math.nan)]) * scale
        high = np.nanmax([top["ci_high"], top.get("noise_ci_high", math.nan)]) * scale
        shown = round_to_uncertainty(float(top["value"]) * scale, low, high)
        out.append(
            f"For {_named(info.label)} the most influential factor is {label(str(top['name']))} "
            f"({method} {main} {shown}) (run {b.run_id})."
        )
        dummy = rows[rows["is_dummy"].astype(bool)]
        limit = dummy[["value", "ci_high", "noise_ci_high"]].to_numpy(dtype=float)
        if np.isfinite(limit).any():
            below = factors[factors["value"] <= np.nanmax(limit)]
            if not below.empty:
                out.append(
                    f"For {_named(info.label)} {_some(labels(below['name']))} "
                    f"{'is' if len(below) == 1 else 'are'} not distinguishable from the dummy "
                    f"factor (index up to {plain(float(np.nanmax(limit)) * scale)}) "
                    f"(run {b.run_id})."
                )
        if len(out) >= MAX_RESULTS:
            break
    return out


def _case(b: Build) -> list[str]:
    effects = _read(b, "effects.csv")
    if effects is None or "metric" not in effects:
        return []
    metrics = list(case_metrics(effects["metric"].astype(str)))
    return _effects_sentences(b, effects, metrics, "metric", "the case baseline")


def _calibration(b: Build) -> list[str]:
    out = []
    fit = _read(b, "fit_table.csv")
    if fit is not None and {"role", "within_interval"} <= set(fit.columns):
        parts = []
        for role, rows in fit.groupby("role", sort=False):
            if role == "not_modelled":
                continue
            within = int(rows["within_interval"].astype(bool).sum())
            parts.append(f"{within} of {len(rows)} {str(role).replace('_', '-')} targets")
        if parts:
            out.append(
                f"{_join(parts)} lie within the simulated 90% interval at the posterior "
                f"(run {b.run_id})."
            )
    params = pd.DataFrame(b.data["parameters"])
    if not params.empty:
        span = (params["prior_high"] - params["prior_low"]).where(lambda v: v != 0)
        share = (params["q95"] - params["q05"]) / span
        narrow = [str(n) for n in params.loc[share < 0.5, "name"]]
        among = f", among them {_join(labels(narrow[:3]))}" if narrow else ""
        out.append(
            f"The targets narrow {len(narrow)} of {len(params)} parameters' 90% intervals to "
            f"less than half their prior range{among} (run {b.run_id})."
        )
    return out


def _robustness(b: Build) -> list[str]:
    """The two levers with the smallest mean regret, in words (issue 13)."""
    from experiments.report.robustness import lead_sentences

    return lead_sentences(b)


RESULTS: dict[str, Callable[[Build], list[str]]] = {
    "run": _run,
    "compare": _experiment,
    "demo": _experiment,
    "sweep": _sweep,
    "sensitivity": _sensitivity,
    "case": _case,
    "calibration": _calibration,
    "robustness": _robustness,
}


def committed_posterior(directory: Path = POSTERIOR_DIR) -> dict[str, Any]:
    """The committed posterior's manifest (calibrated parameters, targets), {} if unreadable."""
    try:
        data = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def calibrated_and_assumed(b: Build) -> str:
    """What is calibrated (the posterior's parameters and targets) and what is assumed."""
    posterior = committed_posterior()
    names = [
        str(p["name"])
        for p in posterior.get("parameters", [])
        if isinstance(p, dict) and "name" in p
    ]
    assumed = sum(
        "[assume]" in str(meta["source"]) for n, meta in PARAMETER_META.items() if n not in names
    )
    rest = len(PARAMETER_META) - len(names)
    if not names:
        return (
            f"No calibrated posterior was found: all {len(PARAMETER_META)} parameters are "
            f"literature values or assumptions ({assumed} tagged as assumptions)."
        )
    targets = len(posterior.get("targets_fit", []))
    return (
        f"{len(names)} parameters (e.g. {_join(labels(names[:2]))}) are calibrated to "
        f"{targets} survey items (calibration {posterior.get('run_id', 'unknown')}); the other "
        f"{rest} are literature values or assumptions, {assumed} of them our assumptions, and "
        "nothing about the dynamics to 2050 is fitted."
    )


def intervals_cover(b: Build) -> str:
    """What the intervals do and do not include."""
    if b.manifest.kind == "calibration":
        return (
            "The fit is to a survey of cities around 2024, not to their trajectories; a good fit "
            "does not validate the model's projections."
        )
    if b.data.get("posterior"):
        return (
            "The intervals include both chance (seeds) and the calibrated parameters' "
            "uncertainty (posterior draws), not the uncertainty of the assumed ones."
        )
    return (
        "The intervals show chance across seeds only: parameter uncertainty was not sampled "
        "(no posterior draws), so they understate what is not known."
    )


def not_represented() -> str:
    """What the model does not represent, in plain words."""
    return (
        f"The model does not represent {_join(list(NOT_REPRESENTED))}; carbon prices and "
        "technology costs follow set illustrative paths and generated cities and plants are "
        "synthetic, so read results as comparisons of scenarios, not forecasts."
    )


def findings(b: Build) -> list[str]:
    """The report's opening: up to three sentences on the results, then three caveats."""
    results = RESULTS[b.manifest.kind](b)[:MAX_RESULTS]
    return [*results, calibrated_and_assumed(b), intervals_cover(b), not_represented()]
