"""Results directories as tidy frames for the explorer: find them, load them, slice, export.

A directory is recognised by the ``kind`` in its ``manifest.json`` (read with
:func:`experiments.results.read_manifest`, never guessed from names) and the tables beside it;
each kind opens in one of three views:

- ``experiment``: kinds ``compare`` (``govsim compare --out DIR``) and ``demo`` (``summary.csv``,
  ``comparison.csv`` or ``lever_effects.csv``, ``pathways.csv``, ``runs.csv``);
- ``run``: kind ``run`` (``city_year``, ``installation_year`` and ``eu_year`` as Parquet);
- ``sweep``: kind ``sweep`` (``runs.parquet``);
- ``case``: kind ``case`` (``effects.csv``, ``summary.csv``; ``trajectories.csv`` and
  ``plants.csv`` for the city panels);
- ``calibration``: kind ``calibration`` (``fit_table.csv`` and the manifest's parameters);
- ``sensitivity``: kind ``sensitivity`` (``indices_*.csv``).

Every results kind of :data:`experiments.results.KINDS` has a view; a new kind (the robustness
studies to come) adds its entry to :data:`VIEWS`, its tables to :func:`_has_tables` and
:func:`load`, and a component to ``app.KIND_VIEWS``.

A folder holding several of them (e.g. ``results/`` with ``demo-*`` subfolders) is a root
from which the user picks one. Every view returns the rows it shows, so what the page draws
is what the CSV download holds; :func:`export_csv` writes it with its provenance as
``# key: value`` lines above the header.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import sensitivity as sa
from experiments.errors import BadInput
from experiments.figures import OutcomeInfo, describe_outcome
from experiments.report.case import case_metrics
from experiments.results import MANIFEST, read_manifest
from experiments.runner import PATHWAY_SERIES

EXPERIMENT_DIFF_FILES: tuple[str, ...] = ("comparison.csv", "lever_effects.csv")
# the results kinds (manifest key 'kind') the explorer shows, and the view each opens in
VIEWS: dict[str, str] = {
    "compare": "experiment",
    "demo": "experiment",
    "run": "run",
    "sweep": "sweep",
    "case": "case",
    "calibration": "calibration",
    "sensitivity": "sensitivity",
    "robustness": "robustness",
}
RUN_TABLES: tuple[str, ...] = ("city_year", "installation_year", "eu_year")
SEARCH_DEPTH = 3  # how deep below a root results directories are looked for
SERIES_LABELS: dict[str, str] = dict(
    zip(
        PATHWAY_SERIES,
        ("EU total", "industry", "Mission Cities", "other (non-mission) cities"),
        strict=True,
    )
)
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "summary": ("scenario", "outcome", "n", "mean", "sd", "low", "high"),
    "differences": (
        "scenario",
        "baseline",
        "outcome",
        "n",
        "mean_scenario",
        "mean_baseline",
        "mean_difference",
        "ci_low",
        "ci_high",
    ),
    "pathways": ("scenario", "series", "year", "mean_t", "low_t", "high_t"),
    "runs": ("scenario", "seed", "outcome", "value"),
    "city_year": ("year", "city_id", "city", "country", "mission", "size_class", "population"),
    "eu_year": ("year", "level"),
    "sweep_runs": ("point", "replicate", "seed", "status"),
    "case_effects": ("scenario", "metric", "mean_difference", "ci_low", "ci_high", "n"),
    "case_summary": ("scenario", "metric", "mean", "low", "high"),
    "case_city": ("scenario", "seed", "year", "emissions_with_industry_t", "citizen_support"),
    "case_plants": ("scenario", "seed", "year", "emissions_t", "jobs"),
    "fit": ("item", "role", "observed_mean", "simulated_mean", "q05", "q95", "within_interval"),
    "parameters": ("name", "unit", "prior_low", "prior_high", "posterior_median", "q05", "q95"),
    "indices": sa.INDEX_COLUMNS,
}
CASE_PANEL_FILES: tuple[str, ...] = ("trajectories.csv", "plants.csv")
INDEX_VIEW_COLUMNS: tuple[str, ...] = (
    "outcome", "method", "name", "index", "value", "ci_low", "ci_high", "noise_ci_low",
    "noise_ci_high", "is_dummy",
)  # fmt: skip
ALL = "all"
MISSION_GROUPS: tuple[str, ...] = (ALL, "mission", "non-mission")
# city_year columns summed over cities; every other numeric column is a population-weighted mean
_SUMMED_SUFFIXES = ("_t", "_eur", "_fte")
_SUMMED_PREFIXES = ("projects_", "smes_", "staff_pm_")
_SUMMED_NAMES = frozenset({"applications", "awards", "ccc_signed", "label", "population"})
_CITY_KEYS = frozenset({"year", "city_id", "population_imputed", "target_status_code"})


@dataclass(frozen=True, slots=True, eq=False)
class Results:
    """One loaded results directory: its kind, manifest and tables (keyed by role)."""

    path: Path
    kind: str  # the view: "experiment", "run", "sweep", ... (VIEWS of the manifest's kind)
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The manifest's run ID."""
        return str(self.manifest["run_id"])

    @property
    def results_kind(self) -> str:
        """The manifest's kind: the govsim command that wrote the directory."""
        return str(self.manifest["kind"])

    @property
    def baseline(self) -> str | None:
        """The reference scenario of an experiment (None for runs and sweeps)."""
        if self.kind != "experiment":
            return None
        diffs = self.tables["differences"]
        if "baseline" in self.manifest:
            return str(self.manifest["baseline"])
        return str(diffs["baseline"].iloc[0]) if len(diffs) else None

    def metadata(self) -> dict[str, str]:
        """Provenance of the directory: run id, kind, command, code version, creation time."""
        info = {
            "results_dir": str(self.path),
            "kind": self.results_kind,
            "run_id": self.run_id,
            "command": str(self.manifest.get("command", "unknown")),
            "code_version": str(self.manifest.get("code_version", "unknown")),
        }
        if "created_utc" in self.manifest:
            info["created_utc"] = str(self.manifest["created_utc"])
        if self.kind == "run":
            info["scenario"] = str(self.manifest.get("scenario", ""))
            info["seed"] = str(self.manifest.get("seed", ""))
        return info


# --- finding and loading ------------------------------------------------------------------


def _has_tables(path: Path, view: str) -> bool:
    """Whether ``path`` holds the tables the ``view`` shows."""
    if view == "experiment":
        return (
            any((path / name).is_file() for name in EXPERIMENT_DIFF_FILES)
            and (path / "pathways.csv").is_file()
        )
    if view == "run":
        return all((path / f"{name}.parquet").is_file() for name in RUN_TABLES)
    if view == "case":
        return (path / "effects.csv").is_file() and (path / "summary.csv").is_file()
    if view == "calibration":
        return (path / "fit_table.csv").is_file()
    if view == "sensitivity":
        return any(path.glob("indices_*.csv"))
    if view == "robustness":
        return (path / "ranking.csv").is_file()
    return (path / "runs.parquet").is_file()


def kind_of(path: Path) -> str | None:
    """The view of results directory ``path`` (from its manifest's kind), or None if none fits.

    None when there is no readable manifest of a kind in :data:`VIEWS` or its tables are missing.
    """
    if not (path / MANIFEST).is_file():
        return None
    try:
        view = VIEWS[read_manifest(path, tuple(VIEWS)).kind]
    except BadInput:
        return None
    return view if _has_tables(path, view) else None


def _expected() -> str:
    return (
        "manifest.json of kind compare or demo with comparison.csv or lever_effects.csv and "
        "pathways.csv (govsim compare --out, govsim demo), of kind run with "
        "city_year/installation_year/eu_year.parquet (govsim run), of kind sweep with "
        "runs.parquet (govsim sweep), of kind case with effects.csv and summary.csv (govsim "
        "case), of kind calibration with fit_table.csv (govsim calibrate) or of kind "
        "sensitivity with indices_*.csv (govsim sensitivity) or of kind robustness with "
        "ranking.csv (govsim robustness)"
    )


def discover(root: str | Path) -> list[Path]:
    """Results directories at ``root``: itself if it is one, else those below it (sorted).

    Raises :class:`BadInput` if ``root`` is missing, not a directory or holds no results.
    """
    root = Path(root)
    if not root.exists():
        raise BadInput(f"results directory {root} does not exist")
    if not root.is_dir():
        raise BadInput(f"{root} is not a directory")
    if kind_of(root):
        return [root]
    found: list[Path] = []
    level = [root]
    for _ in range(SEARCH_DEPTH):
        children = sorted(
            p
            for d in level
            for p in d.iterdir()
            if p.is_dir() and not p.name.startswith(".") and not p.is_symlink()
        )
        found.extend(p for p in children if kind_of(p))
        level = [p for p in children if not kind_of(p)]
    if not found:
        if not (root / MANIFEST).is_file():
            detail = "it has no manifest.json"
        else:
            try:
                read_manifest(root, tuple(VIEWS))
                detail = "its manifest.json has no recognised tables beside it"
            except BadInput as exc:
                detail = str(exc)
        raise BadInput(
            f"{root} holds no govsim results ({detail}); expected {_expected()}, or "
            "subdirectories that hold them"
        )
    return found


def _read_table(file: Path, role: str) -> pd.DataFrame:
    """Read a CSV or Parquet table and check it has the columns its role needs."""
    try:
        frame = pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)
    except Exception as exc:  # pandas and pyarrow raise many types for a bad file
        raise BadInput(f"{file} cannot be read: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS.get(role, ()) if c not in frame.columns]
    if missing:
        raise BadInput(f"{file} lacks the column(s) {', '.join(missing)}")
    return frame


def load(path: str | Path) -> Results:
    """Load one results directory (see the module docstring for the kinds)."""
    path = Path(path)
    if not (path / MANIFEST).is_file():
        raise BadInput(f"{path} is not a govsim results directory; expected {_expected()}")
    read = read_manifest(path, tuple(VIEWS))
    kind, manifest = VIEWS[read.kind], read.data
    if not _has_tables(path, kind):
        raise BadInput(
            f"{path} (kind {read.kind}) lacks the tables the explorer shows; expected {_expected()}"
        )
    tables: dict[str, pd.DataFrame] = {}
    if kind == "experiment":
        diff_name = str(manifest.get("diff_file", ""))
        if diff_name not in EXPERIMENT_DIFF_FILES or not (path / diff_name).is_file():
            diff_name = next(n for n in EXPERIMENT_DIFF_FILES if (path / n).is_file())
        tables["differences"] = _read_table(path / diff_name, "differences")
        tables["pathways"] = _read_table(path / "pathways.csv", "pathways")
        for name in ("summary", "runs"):
            if (path / f"{name}.csv").is_file():
                tables[name] = _read_table(path / f"{name}.csv", name)
    elif kind == "run":
        for name in RUN_TABLES:
            tables[name] = _read_table(path / f"{name}.parquet", name)
    elif kind == "case":
        tables["case_effects"] = _read_table(path / "effects.csv", "case_effects")
        tables["case_summary"] = _read_table(path / "summary.csv", "case_summary")
        if all((path / name).is_file() for name in CASE_PANEL_FILES):
            tables["case_city"] = _read_table(path / "trajectories.csv", "case_city")
            tables["case_plants"] = _read_table(path / "plants.csv", "case_plants")
    elif kind == "calibration":
        tables["fit"] = _read_table(path / "fit_table.csv", "fit")
        tables["parameters"] = _parameters(path, manifest)
    elif kind == "sensitivity":
        frames = [_read_table(f, "indices") for f in sorted(path.glob("indices_*.csv"))]
        tables["indices"] = pd.concat(frames, ignore_index=True)
    elif kind == "robustness":
        tables["ranking"] = _read_table(path / "ranking.csv", "ranking")
    else:
        tables["sweep_runs"] = _read_table(path / "runs.parquet", "sweep_runs")
    return Results(path=path, kind=kind, manifest=manifest, tables=tables)


def _parameters(path: Path, manifest: Mapping[str, Any]) -> pd.DataFrame:
    """The calibrated parameters of a calibration manifest as a table (BadInput if malformed)."""
    items = manifest.get("parameters")
    frame = pd.DataFrame(items if isinstance(items, list) else [])
    missing = [c for c in REQUIRED_COLUMNS["parameters"] if c not in frame.columns]
    if missing:
        raise BadInput(
            f"{path / MANIFEST}: key 'parameters' lacks {', '.join(missing)}; expected a list of "
            "{name, unit, prior_low, prior_high, posterior_median, q05, q95}"
        )
    return frame[list(REQUIRED_COLUMNS["parameters"])]


# --- experiments (compare, demo) -----------------------------------------------------------


def _unique(values: Iterable[object]) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values))


def scenario_names(results: Results) -> list[str]:
    """Scenarios of an experiment, the baseline first, then in the order of the tables."""
    found = _unique(results.tables["pathways"]["scenario"])
    found += _unique(results.tables["differences"]["scenario"])
    baseline = results.baseline
    rest = [s for s in dict.fromkeys(found) if s != baseline]
    return ([baseline] if baseline else []) + rest


def outcome_names(results: Results) -> list[str]:
    """Headline outcomes of an experiment, or the outcome columns of a sweep."""
    if results.kind == "experiment":
        return _unique(results.tables["differences"]["outcome"])
    if results.kind == "sweep":
        frame = results.tables["sweep_runs"]
        listed = [str(o) for o in results.manifest.get("outcomes", [])]
        return [o for o in listed if o in frame.columns] or [
            c
            for c in frame.columns
            if c not in sweep_factor_names(results)
            and c not in REQUIRED_COLUMNS["sweep_runs"]
            and pd.api.types.is_float_dtype(frame[c])
        ]
    return city_columns(results)


def effects(results: Results, outcome: str, scenarios: Sequence[str]) -> pd.DataFrame:
    """Paired differences from the baseline for ``outcome``, one row per chosen scenario."""
    diffs = results.tables["differences"]
    rows = diffs[(diffs["outcome"] == outcome) & diffs["scenario"].isin(list(scenarios))]
    order = {name: i for i, name in enumerate(scenarios)}
    return rows.sort_values("scenario", key=lambda s: s.map(order)).reset_index(drop=True)


def pathways(results: Results, series: str, scenarios: Sequence[str]) -> pd.DataFrame:
    """Yearly pathway rows (mean, band, paired difference) of one series and some scenarios."""
    table = results.tables["pathways"]
    rows = table[(table["series"] == series) & table["scenario"].isin(list(scenarios))]
    return rows.sort_values(["scenario", "year"], kind="stable").reset_index(drop=True)


def series_names(results: Results) -> list[str]:
    """The pathway series of an experiment (EU total, industry, Mission Cities, others)."""
    present = set(results.tables["pathways"]["series"].astype(str))
    return [s for s in PATHWAY_SERIES if s in present] + sorted(present - set(PATHWAY_SERIES))


# --- runs: per-city tables -----------------------------------------------------------------


def city_columns(results: Results) -> list[str]:
    """city_year columns that can be shown as a yearly series, total emissions first."""
    frame = results.tables["city_year"]
    names = [
        str(c)
        for c in frame.columns
        if c not in _CITY_KEYS
        and (
            c in _SUMMED_NAMES
            or (
                pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
            )
        )
    ]
    first = [c for c in ("emissions_total_t",) if c in names]
    return first + [c for c in names if c not in first]


def is_summed(column: str) -> bool:
    """True if a city_year column is added up over cities (else a population-weighted mean)."""
    return (
        column.endswith(_SUMMED_SUFFIXES)
        or column.startswith(_SUMMED_PREFIXES)
        or column in _SUMMED_NAMES
    )


@dataclass(frozen=True, slots=True)
class CityFilter:
    """Which cities a run view covers: mission status, size class and countries."""

    group: str = ALL  # one of MISSION_GROUPS
    size_class: str = ALL
    countries: tuple[str, ...] = ()  # empty: all countries

    def describe(self) -> dict[str, str]:
        """The filter as export metadata."""
        return {
            "filter_group": self.group,
            "filter_size_class": self.size_class,
            "filter_countries": ",".join(self.countries) if self.countries else ALL,
        }


def city_choices(results: Results) -> dict[str, list[str]]:
    """Values a :class:`CityFilter` can take in a run: size classes and countries."""
    frame = results.tables["city_year"]
    return {
        "size_class": sorted(_unique(frame["size_class"].dropna())),
        "country": sorted(_unique(frame["country"].dropna())),
    }


def filter_cities(frame: pd.DataFrame, chosen: CityFilter) -> pd.DataFrame:
    """The city_year rows of the cities ``chosen`` selects."""
    if chosen.group not in MISSION_GROUPS:
        raise ValueError(f"group must be one of {', '.join(MISSION_GROUPS)}, not {chosen.group!r}")
    mask = np.ones(len(frame), dtype=bool)
    if chosen.group != ALL:
        mask &= frame["mission"].to_numpy(dtype=bool) == (chosen.group == "mission")
    if chosen.size_class != ALL:
        mask &= frame["size_class"].astype(str).to_numpy() == chosen.size_class
    if chosen.countries:
        mask &= frame["country"].astype(str).isin(list(chosen.countries)).to_numpy()
    return frame.loc[mask]


def city_series(results: Results, column: str, chosen: CityFilter) -> pd.DataFrame:
    """Yearly total (or population-weighted mean) of a city_year column over chosen cities.

    Columns: year, cities (how many cities), value, aggregate ("sum" or "population-weighted
    mean").
    """
    frame = results.tables["city_year"]
    if column not in frame.columns:
        raise ValueError(f"{column!r} is not a city_year column")
    rows = filter_cities(frame, chosen)
    values = rows[column].astype(float)
    summed = is_summed(column)
    work = pd.DataFrame(
        {
            "year": rows["year"].to_numpy(),
            "value": values.to_numpy(),
            "weight": rows["population"].to_numpy(dtype=float),
        }
    )
    work["weighted"] = work["value"] * work["weight"]
    grouped = work.groupby("year", sort=True)
    out = pd.DataFrame({"cities": grouped.size()})
    if summed:
        out["value"] = grouped["value"].sum()
    else:
        out["value"] = grouped["weighted"].sum() / grouped["weight"].sum()
    out["aggregate"] = "sum" if summed else "population-weighted mean"
    return out.reset_index()


# --- sweeps --------------------------------------------------------------------------------


def sweep_factor_names(results: Results) -> list[str]:
    """The factors of a sweep (from its manifest), as columns of runs.parquet."""
    frame = results.tables["sweep_runs"]
    names = [str(f.get("name")) for f in results.manifest.get("factors", []) if isinstance(f, dict)]
    return [n for n in names if n in frame.columns]


def sweep_runs(results: Results, outcome: str, factor: str) -> pd.DataFrame:
    """Successful runs of a sweep: point, replicate, seed, the factor and the outcome."""
    frame = results.tables["sweep_runs"]
    for name in (outcome, factor):
        if name not in frame.columns:
            raise ValueError(f"{name!r} is not a column of runs.parquet")
    ok = frame[frame["status"].astype(str) == "ok"]
    return ok[["point", "replicate", "seed", factor, outcome]].reset_index(drop=True)


def sweep_distribution(results: Results, outcome: str) -> pd.DataFrame:
    """One outcome over all successful runs of a sweep, in display units (value column)."""
    frame = results.tables["sweep_runs"]
    if outcome not in frame.columns:
        raise ValueError(f"{outcome!r} is not a column of runs.parquet")
    ok = frame[frame["status"].astype(str) == "ok"]
    info = describe_outcome(outcome)
    values = ok[outcome].astype(float) * info.scale
    out = ok[["point", "replicate", "seed"]].assign(value=values.to_numpy(), unit=info.unit)
    return out[np.isfinite(out["value"])].reset_index(drop=True)


# --- case studies --------------------------------------------------------------------------


def case_metric_info(results: Results) -> dict[str, OutcomeInfo]:
    """The case metrics of a case directory (latest year of each) with label and units."""
    return case_metrics(results.tables["case_effects"]["metric"].astype(str))


def case_effects(results: Results, metric: str) -> pd.DataFrame:
    """Paired differences of every variant from the case baseline for one metric, largest first."""
    effects = results.tables["case_effects"]
    rows = effects[(effects["metric"] == metric) & np.isfinite(effects["mean_difference"])]
    return rows.sort_values("mean_difference", ascending=False, kind="stable").reset_index(
        drop=True
    )


# --- calibrations --------------------------------------------------------------------------


def calibration_fit(results: Results) -> pd.DataFrame:
    """The fit of every calibration target: observed against the simulated 90% interval."""
    return results.tables["fit"].reset_index(drop=True)


def calibration_parameters(results: Results) -> pd.DataFrame:
    """The calibrated parameters: prior range, posterior median and 90% interval."""
    return results.tables["parameters"].reset_index(drop=True)


# --- sensitivity studies -------------------------------------------------------------------


def sensitivity_method(results: Results) -> str:
    """The method of a sensitivity study (sobol, morris or pawn), from its indices."""
    return str(results.tables["indices"]["method"].iloc[0])


def sensitivity_outcomes(results: Results) -> list[str]:
    """The outcomes a sensitivity study has indices of."""
    return _unique(results.tables["indices"]["outcome"])


def sensitivity_indices(results: Results, outcome: str) -> pd.DataFrame:
    """The main index of every factor of one outcome, largest first, the dummy factor last."""
    frame = results.tables["indices"]
    main = sa.MAIN_INDEX[sensitivity_method(results)]
    rows = frame[(frame["outcome"] == outcome) & (frame["index"] == main)]
    rows = rows.assign(is_dummy=rows["is_dummy"].astype(bool))
    rows = rows.sort_values(["is_dummy", "value"], ascending=[True, False], kind="stable")
    return rows[list(INDEX_VIEW_COLUMNS)].reset_index(drop=True)


# --- export --------------------------------------------------------------------------------


def export_metadata(results: Results, view: str, **choices: object) -> dict[str, str]:
    """Provenance of a download: the directory's metadata, the view and the user's choices."""
    info = results.metadata()
    info["view"] = view
    for key, value in choices.items():
        if isinstance(value, list | tuple):
            info[key] = ",".join(str(v) for v in value)
        elif isinstance(value, Mapping):
            info.update({str(k): str(v) for k, v in value.items()})
        else:
            info[key] = str(value)
    outcome = choices.get("outcome")
    if isinstance(outcome, str) and view != "cities":
        described = describe_outcome(outcome)
        info["outcome_label"] = described.label
        info["outcome_unit"] = f"{described.unit} (raw value x {described.scale:g})"
    info["exported_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    return info


TEXT_COLUMNS_KEY = "text_columns"


def export_csv(frame: pd.DataFrame, metadata: Mapping[str, str]) -> str:
    """CSV text: ``# key: value`` lines (one per metadata entry), then the table.

    A ``# text_columns:`` line names the text columns, so that :func:`read_export` reads them
    back as text even when every value is empty (CSV alone would make them missing numbers).
    """
    text = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    entries = {**metadata, TEXT_COLUMNS_KEY: ",".join(text)}
    lines = [f"# {key}: {' '.join(str(value).splitlines())}" for key, value in entries.items()]
    body = frame.to_csv(index=False, lineterminator="\n")
    return "\n".join(lines) + "\n" + body


def read_export(text: str) -> tuple[dict[str, str], pd.DataFrame]:
    """Inverse of :func:`export_csv`: the metadata and the table of an exported CSV."""
    lines = text.splitlines(keepends=True)
    metadata: dict[str, str] = {}
    start = 0
    while start < len(lines) and lines[start].startswith("# "):
        key, _, value = lines[start][2:].rstrip("\n").partition(": ")
        metadata[key] = value
        start += 1
    names = [c for c in metadata.pop(TEXT_COLUMNS_KEY, "").split(",") if c]
    dtypes = dict.fromkeys(names, str)
    return metadata, pd.read_csv(io.StringIO("".join(lines[start:])), dtype=dtypes)


def export_name(results: Results, view: str, *parts: str) -> str:
    """A download file name: ``<run id>_<view>_<parts>.csv`` with safe characters only."""
    raw = "_".join([results.run_id, view, *parts])
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in raw) + ".csv"
