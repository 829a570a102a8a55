"""The Python API (``import govsim``): strict changes, runs, paired comparisons, directories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import govsim
from abm.config import ScenarioConfig
from abm.outcomes import OUTCOME_NAMES
from abm.rng import replicate_seeds
from experiments import runner
from experiments.cli import main
from experiments.report import read_manifest

SMALL = {"n_non_mission_cities": 10, "residents_per_citizen": 50000.0, "generated_installations": 5}


@pytest.fixture(scope="module")
def base() -> ScenarioConfig:
    return govsim.change(govsim.scenario("baseline"), population=SMALL, end_year=2031)


def test_shipped_scenarios_load_by_name_and_unknown_names_list_them() -> None:
    names = govsim.scenarios()
    assert "baseline" in names and "levers/enhanced_financing" in names
    assert govsim.scenario("levers/simplification").name
    with pytest.raises(
        govsim.ScenarioError, match=r"no shipped scenario named 'basline'.*baseline"
    ):
        govsim.scenario("basline")


def test_changes_are_validated_like_a_file(base: ScenarioConfig) -> None:
    changed = govsim.change(
        base,
        name="funded",
        parameters={"apply_intercept": -0.5},
        levers={
            "enhanced_financing": 1.0,
            "simplification": {"intensity": 0.5, "start_year": 2027},
        },
    )
    assert changed.name == "funded" and changed.parameters.apply_intercept == -0.5
    lever = {s.name: s for s in changed.levers}
    assert lever["enhanced_financing"].intensity == 1.0
    assert (lever["simplification"].intensity, lever["simplification"].start_year) == (0.5, 2027)
    assert changed.population == base.population and changed.end_year == 2031
    with pytest.raises(govsim.ScenarioError) as bad:
        govsim.change(base, parameters={"apply_intercpt": 0.0}, levers={"enhanced_financing": 1.5})
    text = str(bad.value)
    assert "<govsim.change()>" in text and "parameters.apply_intercpt" in text
    assert "apply_intercept" in text  # the suggestion
    assert "levers.enhanced_financing.intensity" in text and "[0, 1]" in text
    with pytest.raises(govsim.ScenarioError, match="end_year"):
        govsim.change(base, end_year=2020)


def test_a_run_gives_labelled_headlines_size_classes_and_a_run_directory(
    base: ScenarioConfig, tmp_path: Path
) -> None:
    one = govsim.run(base, seed=3)
    headline = one.headline()
    assert tuple(headline["outcome"]) == OUTCOME_NAMES
    awarded = headline.set_index("outcome").loc["funds_awarded_eur"]
    assert awarded["unit"] == "EUR bn" and awarded["value"] == pytest.approx(
        awarded["raw_value"] * 1e-9
    )
    sizes = one.by_size_class()
    assert sizes["cities"].sum() == one.city_year["city_id"].nunique()
    assert {"own_sector_cut_pct", "median_workload", "staff_fte_per_100k"} <= set(sizes)
    assert (sizes["median_workload"] >= 0).all()
    out = one.write(tmp_path / "run")
    manifest = read_manifest(out)
    assert manifest.kind == "run" and manifest.data["seed"] == 3
    assert main(["report", str(out)]) == 0


def test_compare_equals_the_runner_with_common_seeds_and_writes_a_directory(
    base: ScenarioConfig, tmp_path: Path
) -> None:
    funded = govsim.change(base, name="funded", levers={"enhanced_financing": 1.0})
    cmp = govsim.compare(base, funded, replicates=2, seed=7, jobs=1)
    assert list(cmp.seeds) == replicate_seeds(7, 2)
    direct = runner.run_scenarios([base, funded], list(cmp.seeds), n_jobs=1, progress=False)
    assert all(
        a.equals(b)
        for name in ("baseline", "funded")
        for a, b in zip(cmp.summaries[name], direct[name], strict=True)
    )
    diffs = cmp.differences.set_index("outcome")
    raw = cmp.raw_differences.set_index("outcome")
    row = diffs.loc["funds_awarded_eur"]
    assert row["unit"] == "EUR bn" and row["label"] == "funds awarded to cities, all years"
    assert row["mean_difference"] == pytest.approx(
        raw.loc["funds_awarded_eur", "mean_difference"] * 1e-9
    )
    assert row["ci_low"] <= row["mean_difference"] <= row["ci_high"]
    out = cmp.write(tmp_path / "cmp")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["seeds"] == list(cmp.seeds)
    assert main(["report", str(out)]) == 0
    with pytest.raises(govsim.ScenarioError, match="unique"):
        govsim.compare(base, base)


def test_replicates_give_one_row_per_seed(base: ScenarioConfig) -> None:
    runs = govsim.replicate(base, replicates=2, seed=1)
    assert len(runs) == 2 and set(OUTCOME_NAMES) <= set(runs.columns)
    assert not np.isclose(
        runs["emissions_reduction_2030_pct"].iloc[0], runs["emissions_reduction_2030_pct"].iloc[1]
    )


def test_tables_behind_the_labels() -> None:
    assert list(govsim.outcomes()["name"]) == list(OUTCOME_NAMES)
    assert {"name", "value", "unit", "low", "high", "source"} <= set(govsim.parameters())
    levers = govsim.levers()
    assert len(levers) == 8 and levers["label"].str.contains("_").sum() == 0
    assert set(govsim.columns("eu_year")["table"]) == {"eu_year"}


def test_version_everywhere() -> None:
    assert govsim.__version__ != "unknown"
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith(f"govsim {govsim.__version__}")


def test_the_ema_factory_is_part_of_the_api(base: ScenarioConfig) -> None:
    model = govsim.ema_model(
        base,
        uncertainties={"skill_turnover_per_year": (0.05, 0.15)},
        levers=["capacity_building"],
        outcomes=["emissions_reduction_2030_pct"],
    )
    assert [u.name for u in model.uncertainties] == ["skill_turnover_per_year"]
    assert [lv.name for lv in model.levers] == ["capacity_building"]
    assert [o.name for o in model.outcomes] == ["emissions_reduction_2030_pct"]
