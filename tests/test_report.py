"""``govsim report``: every kind of results directory becomes report.html and report.md.

Results directories come from the real commands on a small EU (20 generated cities, 2025-2032)
and, for the calibration, from a small fake directory in the lead's documented format. Each
report is checked for what a policy-brief author relies on: the run ID in every caption and
in the headline table, PNG and SVG of every figure, CSV tables with their columns, the
reproducing command, the methods paragraph and citation, and valid self-contained HTML.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from matplotlib.text import Text
from test_text import raw_identifiers

from abm.outcomes import CASE_OUTCOMES
from calibration.posterior import POSTERIOR_DIR
from experiments import report, text
from experiments.cli import main
from experiments.errors import BadInput
from experiments.figures import OutcomeInfo
from experiments.report import figures as report_figures
from experiments.report.case import case_metrics

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments" / "scenarios"
STUDIES = ROOT / "experiments" / "studies"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HEADLINE_COLUMNS = ["run_id", "quantity", "scenario", "value", "low", "high", "interval", "unit"]
ISHIGAMI = "x1=-3.14159265,3.14159265 x2=-3.14159265,3.14159265 x3=-3.14159265,3.14159265"


def small_scenario(path: Path, extends: Path, name: str) -> Path:
    """A scenario file extending ``extends`` on a small EU to 2032 (runs in a fraction of a s)."""
    population = {"n_non_mission_cities": 20, "residents_per_citizen": 20000.0}
    lines = ["[scenario]", f'name = "{name}"', f'extends = "{extends.as_posix()}"']
    lines += ["end_year = 2032", "", "[population]"]
    lines += [f"{k} = {v}" for k, v in {**population, "generated_installations": 10}.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo scenarios: a small baseline, and the shipped levers and package extending it."""
    root = tmp_path_factory.mktemp("scenarios")
    small_scenario(root / "baseline.toml", EXPERIMENTS / "baseline.toml", "baseline")
    shutil.copytree(EXPERIMENTS / "levers", root / "levers")
    shutil.copy(EXPERIMENTS / "full_package.toml", root / "full_package.toml")
    return root


def run_cli(*argv: str) -> None:
    """Run a govsim command that must succeed."""
    assert main(list(argv)) == 0


def manifest_of(results: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((results / "manifest.json").read_text())
    return data


class HtmlCheck(HTMLParser):
    """Collects unbalanced tags and every image of an HTML document."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.doctype = ""
        self.open: list[str] = []
        self.unbalanced: list[str] = []
        self.images: list[dict[str, str | None]] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.unbalanced.append(tag)


@contextmanager
def figure_texts() -> Iterator[list[str]]:
    """Collect every text (titles, axis and tick labels, legends) of the figures saved inside."""
    texts: list[str] = []
    save = Figure.savefig

    def recording(fig: Figure, *args: Any, **kwargs: Any) -> None:
        texts.extend(t.get_text() for t in fig.findobj(Text))
        save(fig, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Figure, "savefig", recording)
        yield texts


def assert_readable(texts: list[str], md: str) -> None:
    """No lever, outcome or parameter identifier in the figures' texts or the tables' cells."""
    assert texts, "no figure texts recorded"
    assert raw_identifiers(texts) == set(), "identifiers in figures"
    table_lines = [line for line in md.splitlines() if line.startswith("|")]
    assert table_lines and raw_identifiers(table_lines) == set(), "identifiers in tables"


def check_report(results: Path, out: Path | None = None) -> tuple[str, str, str]:
    """Write the report with the command line and check it (see ``verify_report``), and that
    its figures and tables show labels, not identifiers."""
    with figure_texts() as texts:
        run_cli("report", str(results), *(["--out", str(out)] if out else []))
    checked = verify_report(results, out or results / "report")
    assert_readable(texts, checked[1])
    return checked


def verify_report(results: Path, where: Path) -> tuple[str, str, str]:
    """Check what every report must hold; return its run ID, Markdown and HTML."""
    md = (where / "report.md").read_text(encoding="utf-8")
    page = (where / "report.html").read_text(encoding="utf-8")
    info = manifest_of(results)
    stated = re.search(r"Run ID: `([^`]+)`", md)
    assert stated is not None
    run_id = str(info.get("run_id") or stated.group(1))
    # figures: PNG and SVG of each, each captioned with the run ID in both documents
    stems = sorted(p.stem for p in (where / "figures").glob("*.png"))
    assert stems, "a report without figures"
    assert stems == sorted(p.stem for p in (where / "figures").glob("*.svg"))
    for stem in stems:
        assert (where / "figures" / f"{stem}.png").read_bytes()[:8] == PNG_MAGIC
        assert "<svg" in (where / "figures" / f"{stem}.svg").read_text()[:2000]
    captions = [line for line in md.splitlines() if line.startswith("*Figure ")]
    assert len(captions) == len(stems)
    assert all(f"Run ID: `{run_id}`" in c for c in captions)
    figcaptions = re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)
    assert len(figcaptions) == len(stems)
    assert all(f"<code>{run_id}</code>" in c for c in figcaptions)
    # tables: the headline table carries the run ID; every linked file exists
    headline = pd.read_csv(where / "tables" / "headline.csv")
    assert list(headline.columns) == HEADLINE_COLUMNS
    assert len(headline) > 0 and set(headline["run_id"]) == {run_id}
    assert f"Headline numbers of run `{run_id}`" in md
    for link in re.findall(r"\]\(((?:figures|tables)/[^)]+)\)", md):
        assert (where / link).is_file(), link
    # the reproducing command, methods and citation
    command = info.get("reproduce") or info.get("command") or "(not recorded in manifest.json)"
    assert f"```\n{command}\n```" in md
    assert html.escape(command) in page
    assert "## Methods" in md and f"run ID `{run_id}`" in md
    assert "code version" in md and "Wall time" in md
    assert "govsim contributors" in md and "(version 0.1.0)" in md
    assert f"note    = {{Results run ID {run_id}" in md
    # valid, self-contained HTML: balanced tags, every image embedded with alt text
    parser = HtmlCheck()
    parser.feed(page)
    assert parser.doctype.lower() == "doctype html"
    assert parser.unbalanced == [] and parser.open == []
    assert len(parser.images) == len(stems)
    for image in parser.images:
        assert (image.get("src") or "").startswith("data:image/png;base64,")
        assert len(image.get("alt") or "") > 20
    assert not list(where.parent.glob(f".{where.name}.*")), "temporary directory left behind"
    # the report opens with 3-6 findings: results with the run ID, then the caveats
    shown = findings_of(md)
    assert 3 <= len(shown) <= 6 and raw_identifiers(shown) == set()
    assert any(f"(run {run_id})." in f for f in shown), shown
    assert "calibrated to" in " ".join(shown) and "does not represent" in shown[-1]
    assert page.index("<h2>Findings</h2>") < page.index("<h2>Reproduce</h2>")
    return run_id, md, page


def findings_of(md: str) -> list[str]:
    """The sentences under a report's "Findings" heading."""
    block = md.split("## Findings\n\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()
    assert all(line.startswith("- ") for line in lines)
    return [line[2:] for line in lines]


# --- the kinds of results directories ------------------------------------------------------


def test_compare_report_shows_effects_pathways_methods_and_tables(
    scenario_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "compare"
    lever = scenario_dir / "levers" / "enhanced_financing.toml"
    run_cli(
        "compare", str(scenario_dir / "baseline.toml"), str(lever), "--replicates", "2",
        "--jobs", "1", "--no-progress", "--out", str(results),
    )  # fmt: skip
    run_id, md, _ = check_report(results)
    tables = results / "report" / "tables"
    # copied tables are byte-for-byte the directory's; derived ones have their columns
    for name in ("summary.csv", "comparison.csv", "pathways.csv", "runs.csv"):
        assert (tables / name).read_bytes() == (results / name).read_bytes()
    effects = pd.read_csv(tables / "effects_key_outcomes.csv")
    assert list(effects.columns) == ["outcome", "scenario", "centre", "low", "high", "unit"]
    assert set(effects["scenario"]) == {"enhanced_financing"}
    assert (effects["low"] <= effects["centre"]).all() and (
        effects["centre"] <= effects["high"]
    ).all()
    figures = {p.stem for p in (results / "report" / "figures").glob("*.png")}
    assert {"effects_emissions_reduction_2030_pct", "effects_funds_absorbed_eur"} <= figures
    assert {"pathway_emissions_total_t", "pathway_emissions_industry_t"} <= figures
    # the run ends in 2032: the 2050 outcomes have no value and say so instead of a chart
    assert "no value of `emissions_reduction_2050_pct`" in md
    # the headline's lever effect is the difference table's number, scaled to EUR bn
    diffs = pd.read_csv(results / "comparison.csv").set_index("outcome")["mean_difference"]
    headline = pd.read_csv(tables / "headline.csv")
    funds = headline[headline["quantity"].str.startswith("funds absorbed")]
    effect = funds[funds["scenario"] == "enhanced_financing"].iloc[0]
    expected = diffs.to_dict()["funds_absorbed_eur"] / 1e9
    assert effect["value"] == pytest.approx(expected)
    assert effect["unit"] == "EUR bn"
    seeds = manifest_of(results)["seeds"]
    assert f"same 2 replicate seeds ({seeds[0]}, {seeds[1]}" in md
    # the first finding is the lever's effect on the first key outcome with values, rounded to
    # its interval from the difference table
    row = pd.read_csv(results / "comparison.csv").set_index("outcome").loc["funds_absorbed_eur"]
    number = text.round_to_uncertainty(
        row["mean_difference"] / 1e9, row["ci_low"] / 1e9, row["ci_high"] / 1e9, "EUR bn"
    )
    first = findings_of(md)[0]
    assert first.startswith("Enhanced financing ") and f"by {number} against baseline" in first
    assert f"(run {run_id})" in first
    calibrated = json.loads((POSTERIOR_DIR / "manifest.json").read_text())["parameters"]
    assert f"{len(calibrated)} parameters (e.g. " in md
    assert "registry defaults" in md and "no `--posterior`" in md
    run_ids = set(report.calibrated_defaults().values())
    assert len(run_ids) == 1 and f"posterior medians of calibration `{run_ids.pop()}`" in md
    assert run_id.startswith("compare-")


def test_demo_ends_by_writing_its_report(
    scenario_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "results"
    with figure_texts() as texts:
        run_cli(
            "demo", "--replicates", "2", "--seed", "3", "--jobs", "1", "--no-progress",
            "--out-root", str(root), "--scenario-dir", str(scenario_dir),
        )  # fmt: skip
    (results,) = list(root.iterdir())
    page = results / "report" / "report.html"
    assert f"report: {page}" in capsys.readouterr().out
    md = (results / "report" / "report.md").read_text()
    assert "# govsim demo report: " + results.name in md
    assert "`full_package`" in md and "govsim demo --replicates 2 --seed 3" in md
    verify_report(results, results / "report")
    assert_readable(texts, md)  # the demo's figures and its report's: labels only
    for lever in ("Enhanced financing", "2040 pathway"):
        assert f"| {lever} |" in md


def test_run_report_shows_the_manifests_run_id_and_the_pathway(
    scenario_dir: Path, tmp_path: Path
) -> None:
    results = tmp_path / "run"
    run_cli("run", str(scenario_dir / "baseline.toml"), "--seed", "5", "--out", str(results))
    run_id, md, _ = check_report(results)
    manifest = manifest_of(results)
    assert manifest["kind"] == "run" and run_id == manifest["run_id"]
    assert re.fullmatch(r"run-\d{8}T\d{4}Z-[0-9a-f]{6}", run_id)
    assert f"run ID `{run_id}`" in md and "One run of scenario `baseline` with seed 5." in md
    pathway = pd.read_csv(results / "report" / "tables" / "pathway.csv")
    assert list(pathway.columns) == ["year", "emissions_total_t", "emissions_industry_t"]
    assert pathway["year"].tolist() == list(range(2025, 2033))
    outcomes = pd.read_csv(results / "report" / "tables" / "headline_outcomes.csv")
    assert set(manifest_of(results)["headline"]) == set(outcomes["outcome"])


def test_sweep_report_shows_outcome_distributions_and_the_design(tmp_path: Path) -> None:
    results = tmp_path / "sweep"
    smoke = STUDIES / "smoke.toml"
    run_cli(
        "sweep", str(smoke), "--samples", "3", "--jobs", "1", "--no-progress", "--out", str(results)
    )
    _, md, _ = check_report(results)
    tables = results / "report" / "tables"
    dist = pd.read_csv(tables / "outcome_distribution.csv")
    assert list(dist.columns) == ["outcome", "unit", "runs", "mean", "sd", "q05", "median", "q95"]
    assert (dist["runs"] == 6).all()  # 3 points x 2 seeds
    assert (dist["q05"] <= dist["median"]).all() and (dist["median"] <= dist["q95"]).all()
    factors = pd.read_csv(tables / "factors.csv")
    assert set(factors["name"]) == {"skill_turnover_per_year", "capacity_building", "finance"}
    assert (tables / "replicate_adequacy.csv").is_file()
    assert "6 of 6 runs finished" in md and "Experiment `smoke`: 3 design points" in md


def test_sensitivity_report_ranks_factors_against_the_dummy(tmp_path: Path) -> None:
    results = tmp_path / "sa"
    run_cli(
        "sensitivity", "--model", "known_answer:ishigami", "--factors", ISHIGAMI,
        "--method", "sobol", "--samples", "512", "--bootstrap", "20", "--no-progress",
        "--out", str(results),
    )  # fmt: skip
    _, md, _ = check_report(results)
    assert (results / "report" / "figures" / "indices_y.svg").is_file()
    assert (results / "report" / "tables" / "indices_y.csv").is_file()
    headline = pd.read_csv(results / "report" / "tables" / "headline.csv").iloc[0]
    assert headline["quantity"] == "y: most influential factor (ST)"
    assert headline["scenario"] == "x1"  # Ishigami: ST of x1 0.56 > x2 0.44 > x3 0.24
    assert findings_of(md)[0].startswith("For y the most influential factor is x1 (sobol ST 0.")
    assert "sobol sensitivity analysis of 3 factors plus a dummy (N = 512" in md


def test_benchmark_sensitivity_study_is_recognised_and_left_untouched(
    tmp_path: Path, load_benchmark: Callable[[str], ModuleType]
) -> None:
    """The reduced Sobol study of benchmarks/bench_sobol.py (its smoke size), made here."""
    from experiments.experiment import load_experiment

    bench_sobol = load_benchmark("bench_sobol")
    results = tmp_path / "bench_sobol_reduced"
    experiment = load_experiment(bench_sobol.EXPERIMENT_TOML)
    bench_sobol.reduced_study(experiment, bench_sobol.QUICK_REDUCED_SAMPLES, 1, results)
    before = sorted(p.name for p in results.iterdir())
    _, md, _ = check_report(results, out=tmp_path / "bench_report")
    assert sorted(p.name for p in results.iterdir()) == before
    assert "# govsim sensitivity report: sensitivity-" in md
    assert len(list((tmp_path / "bench_report" / "figures").glob("indices_*.png"))) == 5


def test_case_report_shows_the_city_panels_and_lever_effects(
    scenario_dir: Path, tmp_path: Path
) -> None:
    case = tmp_path / "case.toml"
    small_scenario(case, EXPERIMENTS / "cases" / "kosice.toml", "small_case")
    results = tmp_path / "case"
    run_cli(
        "case",
        str(case),
        "--replicates",
        "2",
        "--jobs",
        "1",
        "--no-progress",
        "--out",
        str(results),
    )
    _, md, _ = check_report(results)
    figures = {p.stem for p in (results / "report" / "figures").glob("*.svg")}
    # the runs end in 2032: the latest cut is 2030's, the latest jobs 2032's
    assert figures == {
        "case_panels",
        "case_effects_with_industry_cut_2030_pct",
        "case_effects_city_scope_cut_2030_pct",
        "case_effects_plant_jobs_2032",
    }
    assert "Košice" in md or "Kosice" in md
    assert (results / "report" / "tables" / "effects.csv").is_file()
    assert "each with the same 2 seeds" in md
    # the case metrics' labels are the outcomes table's, with the latest year filled in
    quantities = set(pd.read_csv(results / "report" / "tables" / "headline.csv")["quantity"])
    for label in (
        "territorial emissions cut by 2030, incl. industry",
        "city-scope emissions cut by 2030",
        "direct jobs at the city's large plants in 2032",
    ):
        assert label in quantities and f"{label}: largest difference" in " ".join(quantities)


def test_case_metrics_come_from_the_outcomes_table_latest_year_first() -> None:
    names = [
        "plant_jobs_2025", "with_industry_cut_2030_pct", "route_decision_year",
        "with_industry_cut_2050_pct", "plant_jobs_2050", "industry_share_2050_pct",
    ]  # fmt: skip
    metrics = case_metrics(names)
    assert list(metrics) == ["with_industry_cut_2050_pct", "plant_jobs_2050", "route_decision_year"]
    table = {o.name: o for o in CASE_OUTCOMES}
    jobs = table["plant_jobs_{year}"]
    assert metrics["plant_jobs_2050"] == OutcomeInfo(
        jobs.label.replace("{year}", "2050"), jobs.unit, jobs.diff_unit
    )
    assert metrics["with_industry_cut_2050_pct"].diff_unit == "percentage points"
    assert metrics["route_decision_year"].label == "first year a local plant changes route"
    for o in CASE_OUTCOMES:
        assert o.group == "case" and o.label and o.unit and o.description and o.computed
        assert ("{year}" in o.name) == ("{year}" in o.label), o.name


# --- calibration: a fake directory in the documented format --------------------------------


def fake_calibration(root: Path) -> Path:
    """A calibration directory: manifest, generations, posterior, fit table and PPC."""
    root.mkdir()
    parameters = [
        {"name": "skill_turnover_per_year", "unit": "1/year", "prior_low": 0.05,
         "prior_high": 0.15, "posterior_median": 0.08, "q05": 0.06, "q95": 0.11},
        {"name": "apply_burden_weight", "unit": "dimensionless", "prior_low": 0.5,
         "prior_high": 3.0, "posterior_median": 1.9, "q05": 1.2, "q95": 2.7},
    ]  # fmt: skip
    manifest = {
        "kind": "calibration",
        "run_id": "calibration-20261122T0300Z-abc123",
        "command": "govsim calibrate calibration/calibration.toml --out results/cal",
        "reproduce": "govsim calibrate calibration/calibration.toml --out results/cal",
        "code_version": "abc1234",
        "created_utc": "2026-11-22T03:00:00+00:00",
        "parameters": parameters,
        "generations": 3,
        "population_size": 50,
        "wall_time_s": 12.5,
        "targets_fit": ["nmc_q3_staff", "eoi_barriers"],
        "targets_held_out": ["nmc_q7_funding"],
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    pd.DataFrame(
        {"generation": [0, 1, 2], "epsilon": [40.0, 18.0, 9.5], "ess": [50.0, 41.0, 37.0],
         "n_simulations": [50, 120, 210], "acceptance_rate": [1.0, 0.42, 0.24],
         "wall_s": [3.0, 4.0, 5.5]}
    ).to_csv(root / "generations.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"skill_turnover_per_year": [0.07, 0.09], "apply_burden_weight": [1.5, 2.2],
         "weight": [0.5, 0.5]}
    ).to_csv(root / "posterior.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"item": ["nmc_q3_staff", "eoi_barriers", "nmc_q7_funding"],
         "instrument": ["NMC survey 2024", "EoI 2021", "NMC survey 2024"],
         "role": ["fit", "fit", "held_out"], "n": [62, 377, 62],
         "distance": [1.2, 3.4, 2.2], "observed_mean": [0.42, 0.31, 3.1],
         "simulated_mean": [0.40, 0.45, 2.9], "q05": [0.33, 0.38, 2.5],
         "q95": [0.48, 0.52, 3.3], "within_interval": [True, False, True]}
    ).to_csv(root / "fit_table.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"item": ["nmc_q3_staff", "nmc_q3_staff", "nmc_q7_funding"],
         "category": ["yes", "no", "agree"], "observed_share": [0.42, 0.58, 0.5],
         "sim_mean": [0.4, 0.6, 0.45], "sim_q05": [0.33, 0.52, 0.35],
         "sim_q95": [0.48, 0.67, 0.55], "role": ["fit", "fit", "held_out"]}
    ).to_csv(root / "ppc.csv", index=False)  # fmt: skip
    return root


def test_calibration_report_renders_its_fit_table(tmp_path: Path) -> None:
    results = fake_calibration(tmp_path / "calibration")
    run_id, md, page = check_report(results)
    assert run_id == "calibration-20261122T0300Z-abc123"
    for item in ("nmc_q3_staff", "eoi_barriers", "nmc_q7_funding"):
        assert f"<td>{item}</td>" in page and f"| {item} |" in md
    assert "<td>NMC survey 2024</td>" in page
    headline = pd.read_csv(results / "report" / "tables" / "headline.csv").set_index("quantity")
    assert headline.loc["fit targets within the simulated 90% interval", "value"] == 1
    assert headline.loc["fit targets within the simulated 90% interval", "unit"] == "of 2 targets"
    assert headline.loc["held_out targets within the simulated 90% interval", "value"] == 1
    assert headline.loc["final tolerance epsilon", "value"] == 9.5
    assert headline.loc["skill_turnover_per_year", "low"] == 0.06
    figures = {p.stem for p in (results / "report" / "figures").glob("*.png")}
    assert figures == {"posterior", "fit_targets", "ppc", "epsilon_trace"}
    params = pd.read_csv(results / "report" / "tables" / "parameters.csv")
    assert list(params.columns) == list(report.PARAMETER_KEYS)
    assert "3 generations of 50 particles; 2 targets fitted (nmc_q3_staff, eoi_barriers)" in md
    assert "1 held out (nmc_q7_funding)" in md
    assert findings_of(md)[0].startswith(
        "1 of 2 fit targets and 1 of 1 held-out targets lie within the simulated 90% interval"
    )


def test_calibration_report_skips_missing_files_with_a_note(tmp_path: Path) -> None:
    results = fake_calibration(tmp_path / "calibration")
    (results / "ppc.csv").unlink()
    (results / "generations.csv").unlink()
    _, md, _ = check_report(results)
    assert "> Note: `ppc.csv` is not in the results directory; left out." in md
    assert "> Note: `generations.csv` is not in the results directory; left out." in md
    figures = {p.stem for p in (results / "report" / "figures").glob("*.png")}
    assert figures == {"posterior", "fit_targets"}


# --- bad input, atomic output, citation ----------------------------------------------------


def _bad(root: Path, case: str) -> Path:
    """A results directory broken in one way."""
    results = root / "results"
    if case == "missing directory":
        return results
    results.mkdir()
    if case == "no manifest":
        return results
    calibration = json.loads((fake_calibration(root / "good") / "manifest.json").read_text())
    texts = {
        "malformed JSON": '{"kind": "compare", "run_id": ',
        "not an object": "[1, 2]",
        "unknown kind": json.dumps({"kind": "forecast", "run_id": "x"}),
        "missing key": json.dumps({"kind": "compare", "run_id": "x", "baseline": "b"}),
        "mistyped parameter": json.dumps(
            {**calibration, "parameters": [{**calibration["parameters"][0], "q05": "low"}]}
        ),
    }
    (results / "manifest.json").write_text(texts[case])
    return results


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing directory", "results directory"),
        ("no manifest", "manifest.json not found"),
        ("malformed JSON", "manifest.json is not valid JSON"),
        ("not an object", "expected a JSON object"),
        ("unknown kind", "key 'kind' is \"forecast\"; expected one of run, compare, demo"),
        ("missing key", "key 'diff_file' is missing; expected a string"),
        ("mistyped parameter", "key 'parameters[0].q05' is \"low\"; expected a number"),
    ],
)
def test_bad_input_exits_2_naming_file_and_key_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, message: str
) -> None:
    results = _bad(tmp_path, case)
    before = sorted(tmp_path.rglob("*"))
    out = tmp_path / "new" / "report"
    assert main(["report", str(results), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("govsim report: error: ") and "Traceback" not in err
    assert message in err and str(results) in err
    assert sorted(tmp_path.rglob("*")) == before  # no report, no temporary or parent directory
    assert main(["report", str(results)]) == 2
    assert not (results / "report").exists()


def test_a_failure_while_writing_leaves_no_partial_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = fake_calibration(tmp_path / "calibration")
    report.write_report(results)
    earlier = (results / "report" / "report.md").read_text()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_figures, "plot_trace", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        report.write_report(results)
    assert (results / "report" / "report.md").read_text() == earlier  # the old report stays
    assert sorted(p.name for p in results.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(RuntimeError):
        report.write_report(results, out=tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()


def test_out_must_be_new_empty_or_an_earlier_report(tmp_path: Path) -> None:
    results = fake_calibration(tmp_path / "calibration")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("keep me")
    with pytest.raises(BadInput, match="holds no earlier report"):
        report.write_report(results, out=taken)
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    path = report.write_report(results, out=tmp_path / "fresh")
    assert path == tmp_path / "fresh" / "report.html" and path.is_file()
    (tmp_path / "fresh" / "figures" / "stale.png").write_bytes(b"old")
    assert report.write_report(results, out=tmp_path / "fresh") == path  # replaced as a whole
    assert not (tmp_path / "fresh" / "figures" / "stale.png").exists()


def test_citation_file_is_cff_1_2_0_with_the_package_version() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert cff["cff-version"] == "1.2.0"
    assert {"cff-version", "message", "title", "authors"} <= set(cff)  # required by CFF 1.2.0
    allowed = {
        "abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi",
        "identifiers", "keywords", "license", "license-url", "message", "preferred-citation",
        "references", "repository", "repository-artifact", "repository-code", "title", "type",
        "url", "version",
    }  # fmt: skip
    assert set(cff) <= allowed
    assert cff["title"] == "govsim" and cff["type"] == "software" and cff["license"] == "MIT"
    assert cff["version"] == version == "0.1.0"
    assert cff["authors"] == [{"name": "govsim contributors"}]
    assert report.load_citation() == cff


def test_methods_name_the_posterior_a_run_used(tmp_path: Path) -> None:
    data = {
        "kind": "compare",
        "run_id": "compare-x",
        "baseline": "baseline",
        "scenarios": [{"name": "baseline"}, {"name": "capacity_building"}],
        "replicates": 2,
        "seeds": [11, 12],
        "master_seed": 0,
        "posterior": {
            "directory": "calibration/posterior",
            "run_id": "calibration-20261122T0300Z-abc123",
            "parameters": ["skill_turnover_per_year", "apply_burden_weight"],
            "n_draws": 1000,
        },
    }
    manifest = report.Manifest(tmp_path / "manifest.json", data, "compare", "compare-x")
    text = report.methods(report.Build(tmp_path, tmp_path, manifest))
    assert (
        "(`skill_turnover_per_year`, `apply_burden_weight`) were drawn from the posterior" in text
    )
    assert "calibration `calibration-20261122T0300Z-abc123`" in text and "1000 draws" in text
    assert "no calibrated posterior" not in text
    data["posterior"] = None
    unsampled = report.methods(report.Build(tmp_path, tmp_path, manifest))
    assert f"the {len(report.calibrated_defaults())} calibrated ones at the posterior" in unsampled
    assert "parameter uncertainty was not sampled" in unsampled
