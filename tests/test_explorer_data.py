"""The explorer's data layer, charts, live run and asset cache, on real (tiny) results.

:func:`make_results` writes small results directories with the real commands (a ``govsim
run``, a two-replicate ``govsim compare`` of the baseline and one lever, and a tiny ``govsim
sweep``); the browser test in ``test_serve.py`` uses it too.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report import ISHIGAMI, fake_calibration
from test_text import raw_identifiers

from abm.policies import LEVER_NAMES
from experiments.cli import main
from experiments.errors import BadInput
from experiments.explorer import assets, charts, data, live
from experiments.results import KINDS
from experiments.text import column_label as text_column_label
from experiments.text import label

EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SCENARIO = """\
[scenario]
extends = "{extends}"
name = "{name}"
end_year = 2030

[population]
n_non_mission_cities = 20
residents_per_citizen = 20000.0
generated_installations = 10
"""
LEVER = """
[levers.enhanced_financing]
intensity = 1.0
start_year = 2026
"""
EXPERIMENT = """\
[experiment]
name = "tiny"
scenario = "base.toml"
seed = 1
replicates = 2
design = "lhs"
samples = 3
outcomes = ["emissions_reduction_2030_pct", "funds_absorbed_eur"]

[levers.capacity_building]
low = 0.0
high = 1.0
"""


def make_results(root: Path, sweep: bool = True, others: bool = False) -> Path:
    """Write ``run3`` (govsim run), ``sweep`` (optional) and ``cmp`` (compare) under ``root``;
    with ``others`` also ``case`` (govsim case), ``cal`` (a calibration in the documented
    format) and ``sa`` (govsim sensitivity of the Ishigami function).

    ``cmp`` is written last, so it is the newest directory (the one the page opens on).
    """
    root.mkdir(parents=True, exist_ok=True)
    base = root / "base.toml"
    base.write_text(
        SCENARIO.format(extends=(EXPERIMENTS_DIR / "baseline.toml").as_posix(), name="baseline")
    )
    lever = root / "financing.toml"
    lever.write_text(SCENARIO.format(extends="base.toml", name="enhanced_financing") + LEVER)
    assert main(["run", str(base), "--seed", "3", "--out", str(root / "run3")]) == 0
    if sweep:
        experiment = root / "tiny.toml"
        experiment.write_text(EXPERIMENT)
        command = ["sweep", str(experiment), "--out", str(root / "sweep"), "--jobs", "1"]
        assert main([*command, "--no-progress"]) == 0
    if others:
        write_other_kinds(root)
    compare = ["compare", str(base), str(lever), "--replicates", "2", "--jobs", "1"]
    assert main([*compare, "--no-progress", "--out", str(root / "cmp")]) == 0
    return root


def write_other_kinds(root: Path) -> None:
    """A small case study, a calibration directory and an Ishigami sensitivity study."""
    case = root / "case.toml"
    case.write_text(
        SCENARIO.format(extends=(EXPERIMENTS_DIR / "cases" / "kosice.toml").as_posix(), name="c")
    )
    command = ["case", str(case), "--replicates", "2", "--jobs", "1", "--no-progress"]
    assert main([*command, "--out", str(root / "case")]) == 0
    fake_calibration(root / "cal")
    command = ["sensitivity", "--model", "known_answer:ishigami", "--factors"]
    command += [ISHIGAMI, "--method", "sobol", "--samples", "256", "--bootstrap", "20"]
    assert main([*command, "--no-progress", "--out", str(root / "sa")]) == 0


COMPARE_MANIFEST = json.dumps({"kind": "compare", "run_id": "compare-20260101T0000Z-abc123"})
CALIBRATION_MANIFEST = json.dumps({"kind": "calibration", "run_id": "calibration-x"})
# a kind no command writes yet (every kind of experiments.results.KINDS has a view)
UNSHOWN_MANIFEST = json.dumps({"kind": "robustness", "run_id": "robustness-x"})  # no tables


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one results directory of each kind."""
    return make_results(tmp_path_factory.mktemp("results"), others=True)


# --- finding and loading ------------------------------------------------------------------


def test_discover_finds_each_kind_below_a_root(root: Path) -> None:
    found = data.discover(root)
    assert [p.name for p in found] == ["cal", "case", "cmp", "run3", "sa", "sweep"]
    assert [data.kind_of(p) for p in found] == [
        "calibration", "case", "experiment", "run", "sensitivity", "sweep"
    ]  # fmt: skip
    assert set(data.VIEWS) == set(KINDS)  # every kind of results has a view
    assert {data.load(p).results_kind for p in found} == set(KINDS) - {"demo", "robustness"}
    assert data.discover(root / "cmp") == [root / "cmp"]
    assert data.kind_of(root) is None


def test_kind_and_run_id_come_from_the_manifest_not_the_names(root: Path, tmp_path: Path) -> None:
    manifest = json.loads((root / "cmp" / "manifest.json").read_text())
    assert data.load(root / "cmp").metadata()["kind"] == "compare"
    named = tmp_path / "run-20260101T0000Z-ffffff"  # a name that looks like another run
    named.mkdir()
    for name in ("pathways.csv", "comparison.csv", "summary.csv", "runs.csv"):
        (named / name).write_bytes((root / "cmp" / name).read_bytes())
    (named / "manifest.json").write_text(json.dumps({**manifest, "kind": "demo"}))
    results = data.load(named)
    assert results.kind == "experiment" and results.results_kind == "demo"
    assert results.run_id == manifest["run_id"] and results.metadata()["kind"] == "demo"
    assert data.export_name(results, "effects").startswith(manifest["run_id"])
    # the same tables under a manifest of another kind are not an experiment
    for kind in ("sweep", "case"):
        (named / "manifest.json").write_text(json.dumps({**manifest, "kind": kind}))
        assert data.kind_of(named) is None
    with pytest.raises(BadInput, match="holds no govsim results"):
        data.discover(tmp_path)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_text("x"), "is not a directory"),
        (lambda p: p.mkdir(), "holds no govsim results (it has no manifest.json)"),
        (
            lambda p: (p.mkdir(), (p / "manifest.json").write_text(COMPARE_MANIFEST)),
            "has no recognised tables",
        ),
        (
            lambda p: (p.mkdir(), (p / "manifest.json").write_text("{}")),
            "manifest.json: key 'kind' is missing; expected one of compare, demo, run, sweep",
        ),
        (
            lambda p: (p.mkdir(), (p / "manifest.json").write_text(CALIBRATION_MANIFEST)),
            "has no recognised tables",
        ),
        (
            lambda p: (p.mkdir(), (p / "manifest.json").write_text(UNSHOWN_MANIFEST)),
            "has no recognised tables",
        ),
    ],
)
def test_discover_rejects_what_is_not_results(
    tmp_path: Path, setup: Callable[[Path], object], message: str
) -> None:
    target = tmp_path / "target"
    setup(target)
    with pytest.raises(BadInput, match=r"target.*" + re.escape(message)):
        data.discover(target)


def test_load_names_the_bad_file(root: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("pathways.csv", "comparison.csv", "summary.csv", "runs.csv"):
        (broken / name).write_bytes((root / "cmp" / name).read_bytes())
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(BadInput, match=r"broken/manifest.json is not valid JSON"):
        data.load(broken)
    (broken / "manifest.json").write_text(UNSHOWN_MANIFEST)
    with pytest.raises(BadInput, match=r"broken \(kind robustness\) lacks the tables"):
        data.load(broken)
    (broken / "manifest.json").write_text(COMPARE_MANIFEST)
    pd.read_csv(root / "cmp" / "pathways.csv").drop(columns="mean_t").to_csv(
        broken / "pathways.csv", index=False
    )
    with pytest.raises(BadInput, match=r"pathways.csv lacks the column\(s\) mean_t"):
        data.load(broken)
    with pytest.raises(BadInput, match="not a govsim results directory"):
        data.load(tmp_path)


# --- experiment views ----------------------------------------------------------------------


def test_experiment_views_are_the_rows_of_its_tables(root: Path) -> None:
    results = data.load(root / "cmp")
    manifest = json.loads((root / "cmp" / "manifest.json").read_text())
    assert results.kind == "experiment"
    assert results.run_id == manifest["run_id"]
    assert results.baseline == "baseline"
    assert data.scenario_names(results) == ["baseline", "enhanced_financing"]
    diffs = pd.read_csv(root / "cmp" / "comparison.csv")
    assert data.outcome_names(results) == list(dict.fromkeys(diffs["outcome"]))
    rows = data.effects(results, "funds_absorbed_eur", ["enhanced_financing"])
    expected = diffs[diffs["outcome"] == "funds_absorbed_eur"].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows, expected)
    assert data.effects(results, "funds_absorbed_eur", []).empty
    series = data.series_names(results)
    assert series[0] == "emissions_total_t" and "emissions_mission_cities_t" in series
    mission = data.pathways(results, "emissions_mission_cities_t", ["baseline"])
    assert set(mission["series"]) == {"emissions_mission_cities_t"}
    assert set(mission["scenario"]) == {"baseline"}
    assert mission["year"].tolist() == list(range(2025, 2031))
    meta = results.metadata()
    assert meta["command"] == manifest["command"]
    assert meta["code_version"] == manifest["code_version"]


# --- run views: filters over cities --------------------------------------------------------


def test_city_series_sums_and_weights_the_chosen_cities(root: Path) -> None:
    results = data.load(root / "run3")
    cy = pd.read_parquet(root / "run3" / "city_year.parquet")
    assert results.kind == "run" and results.run_id.startswith("run-")
    columns = data.city_columns(results)
    assert columns[0] == "emissions_total_t"
    assert "mission" not in columns and "year" not in columns and "ccc_signed" in columns

    mission = data.city_series(results, "emissions_total_t", data.CityFilter("mission"))
    expected = cy[cy["mission"]].groupby("year")["emissions_total_t"].sum()
    np.testing.assert_allclose(mission["value"], expected.to_numpy())
    assert set(mission["cities"]) == {int(cy[cy["mission"]]["city_id"].nunique())}
    assert set(mission["aggregate"]) == {"sum"}

    countries = ("DE", "FR")
    size = str(cy["size_class"].astype(str).mode()[0])
    chosen = data.CityFilter("non-mission", size, countries)
    support = data.city_series(results, "citizen_support", chosen)
    picked = cy[
        ~cy["mission"] & (cy["size_class"].astype(str) == size) & cy["country"].isin(countries)
    ]
    if picked.empty:
        assert support.empty
    else:
        weighted = (picked["citizen_support"] * picked["population"]).groupby(picked["year"])
        manual = weighted.sum() / picked.groupby("year")["population"].sum()
        np.testing.assert_allclose(support["value"], manual.to_numpy())
        assert set(support["aggregate"]) == {"population-weighted mean"}
    everything = data.city_series(results, "emissions_total_t", data.CityFilter())
    assert (everything["cities"] == cy["city_id"].nunique()).all()
    assert chosen.describe()["filter_countries"] == "DE,FR"
    choices = data.city_choices(results)
    assert "FR" in choices["country"] and size in choices["size_class"]
    with pytest.raises(ValueError, match="group must be one of"):
        data.city_series(results, "emissions_total_t", data.CityFilter("capitals"))
    with pytest.raises(ValueError, match="not a city_year column"):
        data.city_series(results, "no_such_column", data.CityFilter())


def test_extensive_columns_are_summed_and_the_rest_averaged() -> None:
    assert data.is_summed("emissions_total_t") and data.is_summed("funds_awarded_eur")
    assert data.is_summed("staff_fte") and data.is_summed("projects_completed")
    assert not data.is_summed("citizen_support") and not data.is_summed("skill")


# --- sweeps --------------------------------------------------------------------------------


def test_sweep_views(root: Path) -> None:
    results = data.load(root / "sweep")
    assert results.kind == "sweep"
    assert data.sweep_factor_names(results) == ["capacity_building"]
    assert data.outcome_names(results) == ["emissions_reduction_2030_pct", "funds_absorbed_eur"]
    runs = data.sweep_runs(results, "funds_absorbed_eur", "capacity_building")
    assert len(runs) == 6 and list(runs.columns)[-2:] == ["capacity_building", "funds_absorbed_eur"]
    with pytest.raises(ValueError, match="not a column"):
        data.sweep_runs(results, "nope", "capacity_building")


# --- export --------------------------------------------------------------------------------


def test_export_round_trips_table_and_metadata(root: Path) -> None:
    results = data.load(root / "cmp")
    rows = data.effects(results, "funds_absorbed_eur", ["enhanced_financing"])
    meta = data.export_metadata(
        results, "effects", outcome="funds_absorbed_eur", scenarios=["a", "b"], note="x\ny"
    )
    text = data.export_csv(rows, meta)
    assert text.startswith(f"# results_dir: {results.path}\n")
    back_meta, back = data.read_export(text)
    assert back_meta["run_id"] == results.run_id
    assert back_meta["scenarios"] == "a,b" and back_meta["note"] == "x y"
    assert back_meta["outcome_unit"] == "EUR bn (raw value x 1e-09)"
    pd.testing.assert_frame_equal(back, rows)
    assert pd.read_csv(io.StringIO(text), comment="#").shape == rows.shape
    assert data.export_name(results, "effects", "a b/c") == f"{results.run_id}_effects_a-b-c.csv"


# --- charts ----------------------------------------------------------------------------------


def test_case_calibration_and_sensitivity_views_slice_their_tables(root: Path) -> None:
    case = data.load(root / "case")
    metrics = data.case_metric_info(case)
    assert next(iter(metrics)) == "with_industry_cut_2030_pct"  # runs end in 2030
    effects = data.case_effects(case, "with_industry_cut_2030_pct")
    written = pd.read_csv(root / "case" / "effects.csv")
    assert set(effects["scenario"]) == set(
        written.loc[written["metric"] == "with_industry_cut_2030_pct", "scenario"]
    )
    assert effects["mean_difference"].is_monotonic_decreasing
    assert {"case_city", "case_plants"} <= set(case.tables)
    cal = data.load(root / "cal")
    assert list(data.calibration_fit(cal)["item"]) == [
        "nmc_q3_staff",
        "eoi_barriers",
        "nmc_q7_funding",
    ]
    params = data.calibration_parameters(cal)
    assert list(params["name"]) == ["skill_turnover_per_year", "apply_burden_weight"]
    sa = data.load(root / "sa")
    assert data.sensitivity_method(sa) == "sobol" and data.sensitivity_outcomes(sa) == ["y"]
    indices = data.sensitivity_indices(sa, "y")
    assert list(indices["name"])[:3] == ["x1", "x2", "x3"]  # Ishigami: ST x1 > x2 > x3
    assert set(indices["index"]) == {"ST"} and bool(indices["is_dummy"].iloc[-1])
    sweep = data.load(root / "sweep")
    values = data.sweep_distribution(sweep, "funds_absorbed_eur")
    runs = pd.read_parquet(root / "sweep" / "runs.parquet")
    expected = runs.loc[runs["status"] == "ok", "funds_absorbed_eur"] * 1e-9
    np.testing.assert_allclose(values["value"], expected.to_numpy())
    images = [
        charts.case_effects_png(effects, "effects", "pp", case.run_id),
        charts.case_panels_png(case.tables["case_city"], case.tables["case_plants"], "c", ""),
        charts.fit_png(data.calibration_fit(cal), cal.run_id),
        charts.indices_png(indices, "y", sa.run_id),
        charts.distribution_png(values, "funds_absorbed_eur", sweep.run_id),
    ]
    for image in images:
        assert image.startswith(PNG_MAGIC) and len(image) > 5000
    rows = charts.interval_rows(indices, "name", ("value", "ci_low", "ci_high"))
    assert rows[0][""] == "x1" and rows[0]["value [interval]"].startswith("0.")


def test_pickers_show_labels_not_identifiers(root: Path) -> None:
    from experiments.explorer import app

    cmp, run = data.load(root / "cmp"), data.load(root / "run3")
    shown = app.shown_names(data.outcome_names(cmp))
    assert shown["funds_absorbed_eur"] == label("funds_absorbed_eur")
    assert raw_identifiers(shown.values()) == set() and len(set(shown.values())) == len(shown)
    columns = app.shown_names(data.city_columns(run), text_column_label)
    assert raw_identifiers(columns.values()) == set()
    assert columns["emissions_total_t"] == "emissions total (t CO2e/yr)"
    assert app.shown_names(["a_b", "a b"]) == {"a_b": "a b", "a b": "a b (2)"}


def test_every_chart_is_a_png(root: Path) -> None:
    cmp = data.load(root / "cmp")
    rows = data.effects(cmp, "funds_absorbed_eur", ["enhanced_financing"])
    path_rows = data.pathways(cmp, "emissions_total_t", ["baseline", "enhanced_financing"])
    run = data.load(root / "run3")
    city = data.city_series(run, "emissions_total_t", data.CityFilter())
    sweep = data.load(root / "sweep")
    runs = data.sweep_runs(sweep, "funds_absorbed_eur", "capacity_building")
    images = [
        charts.effects_png(rows, "funds_absorbed_eur", cmp.run_id),
        charts.pathways_png(path_rows, "emissions_total_t", "baseline", 2, cmp.run_id),
        charts.pathways_png(path_rows[path_rows["scenario"] == "baseline"], "x", None, 2, ""),
        charts.city_png(city, "emissions_total_t", "all cities", run.run_id),
        charts.sweep_png(runs, "capacity_building", "funds_absorbed_eur", sweep.run_id),
    ]
    for image in images:
        assert image.startswith(PNG_MAGIC) and len(image) > 5000
    table = charts.effects_rows(rows, "funds_absorbed_eur")
    assert table[0]["scenario"] == "Enhanced financing" and "EUR bn" in " ".join(table[0])
    assert charts.scaled(float("nan"), 1.0) == "–" and charts.scaled(2.5e9, 1e-9) == "2.5"


# --- live run ------------------------------------------------------------------------------


def test_live_run_pairs_the_levers_with_the_same_seed_baseline() -> None:
    live.baseline_run.cache_clear()
    off = live.run_live({}, seed=5, start_year=2026)
    assert (off.differences["mean_difference"] == 0.0).all()  # same seed, no lever: no change
    on = live.run_live({"enhanced_financing": 1.0}, seed=5, start_year=2026)
    assert live.baseline_run.cache_info().hits == 1
    funds = on.differences.set_index("outcome").loc["funds_absorbed_eur", "mean_difference"]
    assert funds > 0.0
    table = on.pathways()
    assert set(table["scenario"]) == {live.BASELINE, live.WITH_LEVERS}
    assert on.metadata()["lever_enhanced_financing"] == "1"
    assert set(on.intensities) == set(LEVER_NAMES)
    assert charts.live_png(on).startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="unknown lever"):
        live.lever_config({"free_lunch": 1.0}, 2026)


# --- browser assets ------------------------------------------------------------------------


def _tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def test_assets_are_the_packages_of_solaras_page(tmp_path: Path) -> None:
    specs = assets.required_packages()
    assert any(s.startswith("requirejs@") for s in specs)
    assert any(s.startswith("font-awesome@") for s in specs)
    assert sum(s.startswith(("@widgetti/solara-vuetify-app@", assets.VUE3_APP)) for s in specs) == 1
    (tmp_path / specs[0]).mkdir(parents=True)
    assert assets.missing_packages(specs, tmp_path) == specs[1:]
    with pytest.raises(BadInput, match="npm, which fetches them, is not installed"):
        assets.fetch_packages(specs, tmp_path, npm="no-such-npm-here")


def test_unpack_keeps_only_the_package_folder(tmp_path: Path) -> None:
    good = _tarball(tmp_path / "good.tgz", {"package/dist/app.js": b"js", "other/readme": b"no"})
    assets.unpack(good, tmp_path / "cache" / "pkg@1.0.0")
    assert (tmp_path / "cache" / "pkg@1.0.0" / "dist" / "app.js").read_bytes() == b"js"
    assert not (tmp_path / "cache" / "pkg@1.0.0" / "readme").exists()
    evil = _tarball(tmp_path / "evil.tgz", {"package/../../escape.txt": b"x"})
    with pytest.raises(tarfile.TarError):
        assets.unpack(evil, tmp_path / "cache" / "evil@1.0.0")
    assert (
        not (tmp_path / "escape.txt").exists() and not (tmp_path / "cache" / "evil@1.0.0").exists()
    )
