"""The results explorer page (Solara): compare scenarios, slice runs, and run levers live.

``govsim serve RESULTS_DIR`` serves this module; it reads the results root from the
environment variable ``GOVSIM_RESULTS_DIR``. Everything on the page comes from the tables the
data layer (:mod:`experiments.explorer.data`) loaded from that root: no route serves its
files, and every download is generated from the rows the view shows, with the provenance of
the results as ``# key: value`` lines above the CSV header.
"""

from __future__ import annotations

import functools
import html
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import solara

from abm.policies import LEVERS
from experiments.explorer import RESULTS_ENV, charts, data, live
from experiments.figures import describe_outcome
from experiments.text import column_label, label

PREFERRED_OUTCOMES: tuple[str, ...] = (
    "emissions_reduction_2050_pct",
    "emissions_reduction_2030_pct",
    "funds_absorbed_eur",
)
CHART_MAX_WIDTH_PX = 960
VIEWS: tuple[str, ...] = ("results", "live run")
LIVE_OUTCOMES: tuple[str, ...] = (
    "emissions_reduction_2030_pct",
    "emissions_reduction_2050_pct",
    "industry_emissions_reduction_2050_pct",
    "funds_absorbed_eur",
    "citizen_support_end",
)


def results_root() -> Path:
    """The directory given to ``govsim serve``."""
    return Path(os.environ.get(RESULTS_ENV, "results"))


@functools.cache
def result_paths(root: str) -> list[Path]:
    """Results directories under ``root``, found once per server process."""
    return data.discover(root)


@functools.lru_cache(maxsize=8)
def load_results(path: str) -> data.Results:
    """A loaded results directory (cached; views must not modify its tables)."""
    return data.load(path)


def newest(paths: Sequence[Path]) -> Path:
    """The results directory whose manifest was written last."""
    return max(paths, key=lambda p: (p / "manifest.json").stat().st_mtime)


def label_of(path: Path, root: Path) -> str:
    """A results directory as shown in the picker: its path relative to the root."""
    return "." if path == root else str(path.relative_to(root))


def first_with_values(frame: pd.DataFrame, key: str, value: str, names: Sequence[str]) -> str:
    """The first preferred name whose rows hold a finite number, else the first name."""
    preferred = [n for n in PREFERRED_OUTCOMES if n in names] + list(names)
    for name in preferred:
        if charts.has_values(frame.loc[frame[key] == name, value]):
            return name
    return names[0]


def html_table(rows: Sequence[dict[str, str]]) -> str:
    """A small HTML table (values escaped)."""
    if not rows:
        return "<p>no rows</p>"
    cell = 'style="padding:3px 10px;border-bottom:1px solid #ddd;text-align:left"'
    head = "".join(f"<th {cell}>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td {cell}>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    style = "border-collapse:collapse;font-size:0.9em;margin:8px 0"
    return f'<table style="{style}"><tr>{head}</tr>{body}</table>'


def shown_names(names: Sequence[str], show: Callable[[str], str] = label) -> dict[str, str]:
    """Each name's label for a picker (:func:`experiments.text.label`), made unique."""
    out: dict[str, str] = {}
    for name in names:
        text, k = show(name), 2
        while text in out.values():
            text, k = f"{show(name)} ({k})", k + 1
        out[name] = text
    return out


@solara.component
def LabelledSelect(
    title: str,
    names: Sequence[str],
    value: solara.Reactive[str],
    show: Callable[[str], str] = label,
) -> None:
    """A drop-down listing labels for people that sets the identifier behind the chosen one."""
    shown = shown_names(names, show)
    by_text = {text: name for name, text in shown.items()}
    solara.Select(
        label=title,
        values=list(by_text),
        value=shown.get(value.value, ""),
        on_value=lambda text: value.set(by_text[text]),
    )


@solara.component
def Chart(make: Callable[[], bytes], alt: str, deps: Sequence[object]) -> None:
    """A chart image, drawn again only when ``deps`` change, with a caption naming it."""
    image = solara.use_memo(make, dependencies=list(deps))
    with solara.Column(style={"max-width": f"{CHART_MAX_WIDTH_PX}px"}, gap="0px"):
        solara.Image(image, width="100%", classes=["govsim-chart"])
        solara.Text(alt, style={"font-size": "0.8em", "color": "#555"})


@solara.component
def Download(label: str, filename: str, make: Callable[[], str]) -> None:
    """A button that downloads CSV text generated when it is clicked."""
    solara.FileDownload(make, filename=filename, label=label, mime_type="text/csv")


@solara.component
def Provenance(results: data.Results) -> None:
    """What the loaded directory is and the command that made it."""
    with solara.Card("Results", margin=0):
        for key, value in results.metadata().items():
            solara.Text(f"{key}: {value}", style={"font-size": "0.85em", "display": "block"})


@solara.component
def ExperimentView(results: data.Results) -> None:
    """Compare and demo directories: lever effects with 95% CI and emission pathways."""
    baseline = results.baseline or ""
    names = data.scenario_names(results)
    others = [n for n in names if n != baseline]
    outcomes = data.outcome_names(results)
    diffs = results.tables["differences"]
    chosen = solara.use_reactive(others)
    outcome = solara.use_reactive(first_with_values(diffs, "outcome", "mean_difference", outcomes))
    series_names = data.series_names(results)
    series = solara.use_reactive(series_names[0])
    replicates = int(results.manifest.get("replicates") or diffs["n"].max())
    picked = [n for n in others if n in chosen.value]

    def toggle(name: str) -> Callable[[bool], None]:
        def set_one(on: bool) -> None:
            current = [n for n in chosen.value if n != name]
            chosen.set([n for n in others if n in current or (on and n == name)])

        return set_one

    with solara.Card("Scenarios", margin=0):
        solara.Text(f"baseline: {label(baseline)} (always shown); compare:")
        with solara.Row(style={"flex-wrap": "wrap"}):
            for name in others:
                solara.Checkbox(label=label(name), value=name in picked, on_value=toggle(name))
    with solara.Card("Difference from the baseline", margin=0):
        LabelledSelect("outcome", outcomes, outcome)
        info = describe_outcome(outcome.value)
        solara.Text(f"{info.label} ({info.unit}); paired same-seed differences, 95% CI")
        rows = data.effects(results, outcome.value, picked)
        if rows.empty:
            solara.Info("Tick at least one scenario to compare with the baseline.")
        elif not charts.has_values(rows["mean_difference"]):
            solara.Warning(f"{info.label} has no values in these runs (e.g. a year not run).")
        else:
            Chart(
                lambda: charts.effects_png(rows, outcome.value, results.run_id),
                f"chart: effects on {info.label}",
                (results.path, outcome.value, *picked),
            )
        solara.HTML(unsafe_innerHTML=html_table(charts.effects_rows(rows, outcome.value)))
        Download(
            "Download effects CSV",
            data.export_name(results, "effects", outcome.value),
            lambda: data.export_csv(
                rows,
                data.export_metadata(
                    results, "effects", outcome=outcome.value, baseline=baseline, scenarios=picked
                ),
            ),
        )
    with solara.Card("Emission pathways", margin=0):
        LabelledSelect(
            "series (city group)",
            series_names,
            series,
            lambda s: data.SERIES_LABELS.get(s, label(s)),
        )
        path_rows = data.pathways(results, series.value, [baseline, *picked])
        Chart(
            lambda: charts.pathways_png(
                path_rows, series.value, baseline, replicates, results.run_id
            ),
            f"chart: pathways of {data.SERIES_LABELS.get(series.value, label(series.value))}",
            (results.path, series.value, *picked),
        )
        Download(
            "Download pathways CSV",
            data.export_name(results, "pathways", series.value),
            lambda: data.export_csv(
                path_rows,
                data.export_metadata(
                    results,
                    "pathways",
                    series=series.value,
                    baseline=baseline,
                    scenarios=[baseline, *picked],
                ),
            ),
        )


@solara.component
def RunView(results: data.Results) -> None:
    """A single run: any city quantity by year for a group of cities."""
    columns = data.city_columns(results)
    choices = data.city_choices(results)
    column = solara.use_reactive(columns[0])
    group = solara.use_reactive(data.ALL)
    size = solara.use_reactive(data.ALL)
    countries: solara.Reactive[list[str]] = solara.use_reactive([])
    chosen = data.CityFilter(group.value, size.value, tuple(sorted(countries.value)))
    with solara.Card("Cities", margin=0):
        LabelledSelect("quantity", columns, column, column_label)
        solara.ToggleButtonsSingle(value=group, values=list(data.MISSION_GROUPS))
        solara.Select(label="size class", values=[data.ALL, *choices["size_class"]], value=size)
        solara.SelectMultiple(
            "countries (none = all)", countries.value, choices["country"], on_value=countries.set
        )
        table = data.city_series(results, column.value, chosen)
        described = ", ".join(f"{k[7:]} {v}" for k, v in chosen.describe().items())
        if table.empty:
            solara.Warning("No city matches these filters.")
        else:
            Chart(
                lambda: charts.city_png(table, column.value, described, results.run_id),
                f"chart: {column_label(column.value)} for {described}",
                (results.path, column.value, described),
            )
        Download(
            "Download cities CSV",
            data.export_name(results, "cities", column.value),
            lambda: data.export_csv(
                table,
                data.export_metadata(
                    results, "cities", quantity=column.value, filters=chosen.describe()
                ),
            ),
        )


@solara.component
def SweepView(results: data.Results) -> None:
    """A sweep: one outcome against one factor over all design points and replicates."""
    outcomes = data.outcome_names(results)
    factors = data.sweep_factor_names(results)
    outcome = solara.use_reactive(outcomes[0] if outcomes else "")
    factor = solara.use_reactive(factors[0] if factors else "")
    with solara.Card("Sweep", margin=0):
        if not outcomes or not factors:
            solara.Warning("This sweep has no factor or outcome columns to show.")
            return
        LabelledSelect("outcome", outcomes, outcome)
        LabelledSelect("factor", factors, factor)
        runs = data.sweep_runs(results, outcome.value, factor.value)
        if runs.empty:
            solara.Warning("No successful runs in this sweep.")
        else:
            Chart(
                lambda: charts.sweep_png(runs, factor.value, outcome.value, results.run_id),
                f"chart: {label(outcome.value)} by {label(factor.value)}",
                (results.path, outcome.value, factor.value),
            )
            SweepDistribution(results, outcome.value)
        Download(
            "Download sweep CSV",
            data.export_name(results, "sweep", outcome.value, factor.value),
            lambda: data.export_csv(
                runs,
                data.export_metadata(results, "sweep", outcome=outcome.value, factor=factor.value),
            ),
        )


@solara.component
def SweepDistribution(results: data.Results, outcome: str) -> None:
    """The distribution of one outcome over all runs of a sweep, and its download."""
    values = data.sweep_distribution(results, outcome)
    if values.empty:
        return
    Chart(
        lambda: charts.distribution_png(values, outcome, results.run_id),
        f"chart: distribution of {label(outcome)} over {len(values)} runs",
        (results.path, outcome),
    )
    Download(
        "Download distribution CSV",
        data.export_name(results, "distribution", outcome),
        lambda: data.export_csv(
            values, data.export_metadata(results, "distribution", outcome=outcome)
        ),
    )


def focus_city(results: data.Results) -> str:
    """The focus city of a case directory, as its manifest names it."""
    case = (results.manifest.get("config") or {}).get("case") or {}
    return str(case.get("focus_city") or results.manifest.get("scenario") or "the case city")


@solara.component
def CaseView(results: data.Results) -> None:
    """A case study: the levers' effects on one metric of the focus city, and its panels."""
    metrics = data.case_metric_info(results)
    names = list(metrics)
    metric = solara.use_reactive(names[0] if names else "")
    focus = focus_city(results)
    with solara.Card(f"Case city: {focus}", margin=0):
        if not names:
            solara.Warning("This case directory has no case metrics to show.")
            return
        LabelledSelect("metric", names, metric, lambda n: metrics[n].label)
        info = metrics[metric.value]
        solara.Text(f"{info.label} ({info.diff_unit}); paired differences from the case baseline")
        rows = data.case_effects(results, metric.value)
        if rows.empty:
            solara.Warning(f"{info.label} has no values in these runs.")
        else:
            Chart(
                lambda: charts.case_effects_png(
                    rows, f"{focus}: {info.label}", info.diff_unit, results.run_id
                ),
                f"chart: effects on {info.label} in {focus}",
                (results.path, metric.value),
            )
        table = charts.interval_rows(rows, "scenario", ("mean_difference", "ci_low", "ci_high"))
        solara.HTML(unsafe_innerHTML=html_table(table), attributes={"id": "case-effects"})
        Download(
            "Download case effects CSV",
            data.export_name(results, "case", metric.value),
            lambda: data.export_csv(
                rows, data.export_metadata(results, "case", metric=metric.value, city=focus)
            ),
        )
    city, plants = results.tables.get("case_city"), results.tables.get("case_plants")
    if city is not None and plants is not None and set(cases_shown()) <= set(city["scenario"]):
        with solara.Card("Case-city panels", margin=0):
            Chart(
                lambda: charts.case_panels_png(
                    city, plants, f"{focus}: case baseline vs full package", results.run_id
                ),
                f"chart: {focus}, case baseline against the full package",
                (results.path,),
            )


def cases_shown() -> tuple[str, ...]:
    """The variants the case panels draw (``experiments.cases.plot_case``)."""
    return ("baseline", "full_package")


@solara.component
def CalibrationView(results: data.Results) -> None:
    """A calibration: each target's fit at the posterior and the calibrated parameters."""
    fit = data.calibration_fit(results)
    params = data.calibration_parameters(results)
    with solara.Card("Fit to targets", margin=0):
        solara.Text(
            "Each target's observed value (open diamond) against its simulated 90% interval at "
            "the posterior; held-out targets were not used in fitting."
        )
        Chart(
            lambda: charts.fit_png(fit, results.run_id),
            f"chart: fit to {len(fit)} targets",
            (results.path,),
        )
        rows = [
            {
                "target": str(r["item"]),
                "role": str(r["role"]).replace("_", "-"),
                "observed": charts.scaled(float(r["observed_mean"]), 1.0),
                "simulated [90%]": charts.scaled_interval(
                    float(r["simulated_mean"]), float(r["q05"]), float(r["q95"]), 1.0
                ),
                "within": "yes" if bool(r["within_interval"]) else "no",
            }
            for r in fit.to_dict("records")
        ]
        solara.HTML(unsafe_innerHTML=html_table(rows), attributes={"id": "fit-table"})
        Download(
            "Download fit CSV",
            data.export_name(results, "fit"),
            lambda: data.export_csv(fit, data.export_metadata(results, "fit")),
        )
    with solara.Card("Posterior parameters", margin=0):
        rows = [
            {
                "parameter": label(str(r["name"])),
                "unit": str(r["unit"]),
                "prior range": f"{charts.scaled(float(r['prior_low']), 1.0)} to "
                f"{charts.scaled(float(r['prior_high']), 1.0)}",
                "posterior median [90%]": charts.scaled_interval(
                    float(r["posterior_median"]), float(r["q05"]), float(r["q95"]), 1.0
                ),
            }
            for r in params.to_dict("records")
        ]
        solara.HTML(unsafe_innerHTML=html_table(rows), attributes={"id": "posterior-table"})
        Download(
            "Download posterior CSV",
            data.export_name(results, "posterior"),
            lambda: data.export_csv(params, data.export_metadata(results, "posterior")),
        )


@solara.component
def SensitivityView(results: data.Results) -> None:
    """A sensitivity study: each factor's main index for one outcome against the dummy's."""
    outcomes = data.sensitivity_outcomes(results)
    outcome = solara.use_reactive(outcomes[0] if outcomes else "")
    with solara.Card("Sensitivity indices", margin=0):
        if not outcomes:
            solara.Warning("This study has no indices to show.")
            return
        LabelledSelect("outcome", outcomes, outcome)
        rows = data.sensitivity_indices(results, outcome.value)
        method = data.sensitivity_method(results)
        solara.Text(
            f"{method} analysis: main index of each factor with its 95% interval; factors at or "
            "below the dummy factor's bound are indistinguishable from no effect"
        )
        if rows.empty:
            solara.Warning(f"{label(outcome.value)} has no main index in this study.")
        else:
            Chart(
                lambda: charts.indices_png(rows, outcome.value, results.run_id),
                f"chart: sensitivity of {label(outcome.value)}",
                (results.path, outcome.value),
            )
        table = charts.interval_rows(rows, "name", ("value", "ci_low", "ci_high"))
        solara.HTML(unsafe_innerHTML=html_table(table), attributes={"id": "indices-table"})
        Download(
            "Download indices CSV",
            data.export_name(results, "indices", outcome.value),
            lambda: data.export_csv(
                rows, data.export_metadata(results, "indices", outcome=outcome.value)
            ),
        )


@solara.component
def LiveView() -> None:
    """Set the eight levers and a seed, run, and see EU emissions against the baseline."""
    intensities = solara.use_reactive({info.name: 0.0 for info in LEVERS})
    seed = solara.use_reactive(0)
    start = solara.use_reactive(live.DEFAULT_START_YEAR)
    posterior = solara.use_reactive(False)
    result: solara.Reactive[Any] = solara.use_reactive(None)
    error = solara.use_reactive("")

    def setter(name: str) -> Callable[[float], None]:
        return lambda value: intensities.set({**intensities.value, name: float(value)})

    def run() -> None:
        try:
            result.set(
                live.run_live(intensities.value, int(seed.value), int(start.value), posterior.value)
            )
            error.set("")
        except (ValueError, OSError) as exc:
            error.set(str(exc))

    with solara.Card("Live run", margin=0):
        solara.Text(
            f"{live.LIVE_SCENARIO_FILE.name}: the EU at calibration scale, yearly. The run "
            "with these levers and the baseline use the same seed."
        )
        with solara.GridFixed(columns=2, column_gap="40px", row_gap="0px"):
            for info in LEVERS:
                value = intensities.value[info.name]
                solara.SliderFloat(
                    f"{info.label} = {value:.2f}",
                    value=value,
                    on_value=setter(info.name),
                    min=0.0,
                    max=1.0,
                    step=0.05,
                )
        with solara.Row(style={"align-items": "center"}):
            solara.InputInt("seed", value=seed, style={"max-width": "160px"})
            solara.SliderInt(
                f"levers act from {start.value}",
                value=start,
                min=live.LEVER_YEARS[0],
                max=live.LEVER_YEARS[1],
            )
            solara.Checkbox(label="posterior draw of the calibrated parameters", value=posterior)
            solara.Button("Run", on_click=run, color="primary")
        if error.value:
            solara.Error(error.value)
        if result.value is not None:
            LiveResultView(result.value)


@solara.component
def LiveResultView(result: live.LiveResult) -> None:
    """The live run's pathways, its key differences and their download."""
    Chart(lambda: charts.live_png(result), "chart: live run against the baseline", (result,))
    key = charts.effect_rows_for(LIVE_OUTCOMES, result.differences)
    rows = []
    for record in key.to_dict("records"):
        info = describe_outcome(str(record["outcome"]))
        rows.append(
            {
                "outcome": f"{info.label} ({info.unit})",
                "baseline": charts.scaled(float(record["mean_baseline"]), info.scale),
                "with levers": charts.scaled(float(record["mean_scenario"]), info.scale),
                "difference": charts.scaled(float(record["mean_difference"]), info.scale),
            }
        )
    used = ", ".join(f"{label(k)} {v:.2f}" for k, v in result.intensities.items() if v > 0)
    used = used or "none"
    solara.Text(
        f"seed {result.seed}; levers {used} from {result.start_year}; {result.seconds:.1f} s"
    )
    solara.HTML(unsafe_innerHTML=html_table(rows), attributes={"id": "live-result"})
    Download(
        "Download live run CSV",
        f"live_seed{result.seed}.csv",
        lambda: data.export_csv(result.pathways(), result.metadata()),
    )


@solara.component
def RobustnessView(results: data.Results) -> None:
    """A robustness study: each lever's and package's rank probabilities and regret."""
    with solara.Card("Robust lever rankings", margin=0):
        summary = results.path / "summary.md"
        if summary.is_file():
            solara.Markdown(summary.read_text(encoding="utf-8"))
        rows = [
            {str(k): f"{v:.3g}" if isinstance(v, float) else str(v) for k, v in rec.items()}
            for rec in results.tables["ranking"].to_dict("records")
        ]
        solara.HTML(unsafe_innerHTML=html_table(rows), attributes={"id": "ranking-table"})


# the component of each view of :data:`experiments.explorer.data.VIEWS`
KIND_VIEWS: dict[str, Callable[[data.Results], Any]] = {
    "experiment": ExperimentView,
    "run": RunView,
    "sweep": SweepView,
    "case": CaseView,
    "calibration": CalibrationView,
    "sensitivity": SensitivityView,
    "robustness": RobustnessView,
}


@solara.component
def ResultsView(results: data.Results) -> None:
    """The view that fits the kind of results directory."""
    KIND_VIEWS[results.kind](results)


@solara.component
def Page() -> None:
    """The explorer: pick a results directory, explore it, or run levers live."""
    root = results_root()
    paths = result_paths(str(root))
    labels = [label_of(p, root) for p in paths]
    picked = solara.use_reactive(label_of(newest(paths), root))
    results = load_results(str(paths[labels.index(picked.value)]))
    solara.Title("govsim results explorer")
    with solara.AppBarTitle():
        solara.Text("govsim results explorer")
    with solara.Sidebar():
        if len(paths) > 1:
            solara.Select(label="results directory", values=labels, value=picked)
        Provenance(results)
    view = solara.use_reactive(VIEWS[0])
    solara.ToggleButtonsSingle(value=view, values=list(VIEWS))
    if view.value == VIEWS[0]:
        ResultsView(results).key(str(results.path))
    else:
        LiveView()
