"""govsim in the EMA Workbench: the model factory, both evaluators, export and import.

Known answers: ``perform_experiments`` on :func:`experiments.ema.ema_model` with two worker
processes gives, point for point, the numbers ``govsim sweep`` gives for the same design
points and replicate seeds; an export read back with ``load_results`` equals the sweep's
runs table; an EMA archive becomes a sweep directory that ``read_manifest``, ``govsim
report`` and ``govsim discover`` open. The README's example runs on a small population.
"""

from __future__ import annotations

import json
import pickle
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import experiments.cli
from abm.config import PARAMETER_META, ScenarioConfig
from abm.outcomes import OUTCOME_NAMES, outcome
from abm.policies import LEVER_NAMES
from abm.rng import replicate_seeds
from calibration.posterior import load_posterior
from experiments.cli import main
from experiments.ema import (
    ArchiveError,
    GovsimFunction,
    ModelSpecError,
    ema_model,
    ema_to_sweep,
    read_archive,
    sweep_to_ema,
)
from experiments.ema.workbench import ema
from experiments.experiment import Experiment, load_experiment
from experiments.results import read_manifest
from experiments.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "experiments" / "scenarios" / "baseline.toml"
OUTCOMES = ("emissions_reduction_2030_pct", "funds_absorbed_eur")
UNCERTAINTY = "skill_turnover_per_year"
LEVERS = ("capacity_building", "enhanced_financing")
EXPERIMENT_TOML = f"""
[experiment]
name = "ema_check"
scenario = "{BASELINE}"
seed = 3
replicates = 2
design = "lhs"
samples = 3
outcomes = {list(OUTCOMES)!r}

[experiment.population]
n_non_mission_cities = 20
residents_per_citizen = 30000.0
generated_installations = 10

[experiment.time]
end_year = 2032

[uncertainties.{UNCERTAINTY}]
low = 0.05
high = 0.15

[levers.capacity_building]
start_year = 2027

[levers.enhanced_financing]
low = 0.2
high = 0.8
"""


@pytest.fixture(autouse=True)
def only_export_and_discover(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register only the subcommands these tests use."""
    monkeypatch.setattr(
        experiments.cli,
        "EXTRA_COMMAND_MODULES",
        ("experiments.export", "experiments.discovery", "experiments.report"),
    )


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Experiment:
    path = tmp_path_factory.mktemp("exp") / "ema_check.toml"
    path.write_text(EXPERIMENT_TOML, encoding="utf-8")
    return load_experiment(path)


def model_of(exp: Experiment, replications: int) -> Any:
    """The EMA model with the experiment's base, factors, outcomes and master seed."""
    return ema_model(
        exp.base,
        outcomes=exp.outcomes,
        uncertainties={UNCERTAINTY: (0.05, 0.15)},
        levers={"capacity_building": {"start_year": 2027}, "enhanced_financing": (0.2, 0.8)},
        replications=replications,
        master_seed=exp.seed,
        name="ema_check",
    )


@pytest.fixture(scope="module")
def ema_runs(experiment: Experiment) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """2 scenarios x 2 policies x 2 replications on two worker processes."""
    model = model_of(experiment, replications=2)
    with ema.MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        return evaluator.perform_experiments(scenarios=2, policies=2)


@pytest.fixture(scope="module")
def sweep_dir(
    experiment: Experiment,
    ema_runs: tuple[pd.DataFrame, dict[str, np.ndarray]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """``govsim sweep`` of the experiment at the EMA experiments' points."""
    out = tmp_path_factory.mktemp("sweep")
    X = ema_runs[0][experiment.factor_names].to_numpy(dtype=float)
    run_sweep(experiment, X, out, jobs=1, progress=False, command="govsim sweep (test)")
    return out


def test_model_is_built_from_the_registry_the_briefs_and_the_outcomes_table(
    experiment: Experiment,
) -> None:
    model = model_of(experiment, replications=1)
    assert isinstance(model, ema.Model) and not isinstance(model, ema.ReplicatorModel)
    (unc,) = list(model.uncertainties)
    assert (unc.name, unc.lower_bound, unc.upper_bound) == (UNCERTAINTY, 0.05, 0.15)
    assert PARAMETER_META[UNCERTAINTY]["unit"] in unc.description
    assert unc.default == getattr(experiment.base.parameters, UNCERTAINTY)
    levers = {lever.name: lever for lever in model.levers}
    assert set(levers) == set(LEVERS)
    assert (levers["capacity_building"].lower_bound, levers["capacity_building"].upper_bound) == (
        0.0,
        1.0,
    )
    assert "from 2027" in levers["capacity_building"].description
    assert (levers["enhanced_financing"].lower_bound, levers["enhanced_financing"].upper_bound) == (
        0.2,
        0.8,
    )
    outs = {o.name: o for o in model.outcomes}
    assert tuple(outs) == OUTCOMES
    assert outs[OUTCOMES[0]].description == f"{outcome(OUTCOMES[0]).label} (%)"
    (seed,) = list(model.constants)
    assert seed.value == replicate_seeds(experiment.seed, 1)[0]
    replicated = model_of(experiment, replications=3)
    assert isinstance(replicated, ema.ReplicatorModel)
    assert [r["seed"] for r in replicated.replications] == replicate_seeds(experiment.seed, 3)
    # the function is picklable (MultiprocessingEvaluator, MPIEvaluator)
    assert isinstance(pickle.loads(pickle.dumps(model.function)), GovsimFunction)


def test_defaults_come_from_the_registry_and_the_posterior() -> None:
    everything = ema_model(BASELINE)
    assert len(list(everything.uncertainties)) == len(PARAMETER_META)
    assert [lever.name for lever in everything.levers] == list(LEVER_NAMES)
    assert [o.name for o in everything.outcomes] == list(OUTCOME_NAMES)
    post = load_posterior()
    calibrated = ema_model(BASELINE, outcomes=OUTCOMES[:1], posterior=post, levers=[])
    summary = post.summary.set_index("name")
    ranges = {u.name: (u.lower_bound, u.upper_bound) for u in calibrated.uncertainties}
    assert set(ranges) == set(post.names)
    for name, (low, high) in ranges.items():
        assert (low, high) == (summary.at[name, "q05"], summary.at[name, "q95"])
    # an explicit range wins over the posterior's
    explicit = ema_model(
        BASELINE, posterior=post, uncertainties={"skill_initial_mean": (0.3, 0.5)}, levers=[]
    )
    assert [(u.lower_bound, u.upper_bound) for u in explicit.uncertainties] == [(0.3, 0.5)]


@pytest.mark.parametrize(
    ("kwargs", "messages"),
    [
        (
            {"uncertainties": ["staff_fte_per_10k_residentz"]},
            [
                "ema_model: uncertainties.staff_fte_per_10k_residentz: unknown parameter",
                "did you mean 'staff_fte_per_10k_residents'?",
            ],
        ),
        (
            {"uncertainties": {UNCERTAINTY: (0.0, 0.9)}},
            [f"ema_model: uncertainties.{UNCERTAINTY}.low: 0.0 out of range; expected a number in"],
        ),
        ({"levers": ["capacity"]}, ["ema_model: levers.capacity: unknown lever 'capacity'"]),
        ({"levers": {"capacity_building": (0.0, 1.5)}}, ["levers.capacity_building.high"]),
        (
            {"levers": {"capacity_building": {"start_year": 1990}}},
            ["levers.capacity_building.start_year"],
        ),
        ({"outcomes": ["emissions_cut"]}, ["ema_model: outcomes[0]: unknown outcome"]),
        ({"replications": 0}, ["ema_model: replications: expected an integer >= 1"]),
        ({"uncertainties": [], "levers": []}, ["no uncertainties and no levers"]),
    ],
)
def test_bad_names_and_ranges_fail_like_experiment_files(
    kwargs: dict[str, Any], messages: list[str]
) -> None:
    with pytest.raises(ModelSpecError) as info:
        ema_model(BASELINE, **kwargs)
    text = str(info.value)
    assert text.startswith("invalid EMA model specification:")
    for message in messages:
        assert message in text, text


def test_a_bad_scenario_file_fails_with_the_scenario_message(tmp_path: Path) -> None:
    from experiments.scenario import ScenarioError

    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\n[levers.nope]\nintensity = 1\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=re.escape(f"{bad}: levers.nope")):
        ema_model(bad, uncertainties=[UNCERTAINTY])


def test_two_worker_processes_give_the_numbers_of_govsim_sweep(
    experiment: Experiment,
    ema_runs: tuple[pd.DataFrame, dict[str, np.ndarray]],
    sweep_dir: Path,
) -> None:
    experiments_table, outcomes = ema_runs
    assert len(experiments_table) == 4
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    assert (runs["status"] == "ok").all()
    assert sorted(set(runs["seed"])) == sorted(replicate_seeds(experiment.seed, 2))
    for name in OUTCOMES:
        per_point = runs.pivot(index="point", columns="replicate", values=name).to_numpy()
        # the ReplicatorModel's outcome is the mean over the same two replicate seeds
        expected = np.mean(per_point, axis=1)
        np.testing.assert_array_equal(outcomes[name], expected)
        assert np.ptp(outcomes[name]) > 0  # the points differ, so the match is not trivial


def test_one_replication_in_this_process_matches_replicate_zero(
    experiment: Experiment,
    ema_runs: tuple[pd.DataFrame, dict[str, np.ndarray]],
    sweep_dir: Path,
) -> None:
    model = model_of(experiment, replications=1)
    table = ema_runs[0].head(2)
    scenarios = [ema.Sample(**{UNCERTAINTY: row[UNCERTAINTY]}) for _, row in table.iterrows()]
    policies = [ema.Sample(**{lv: row[lv] for lv in LEVERS}) for _, row in table.iterrows()]
    _, outcomes = ema.perform_experiments(
        model, scenarios, policies, evaluator=ema.SequentialEvaluator(model), combine="cycle"
    )
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    first = runs[(runs["replicate"] == 0) & (runs["point"] < 2)].sort_values("point")
    for name in OUTCOMES:
        np.testing.assert_array_equal(outcomes[name], first[name].to_numpy())


def test_export_round_trip_through_load_results(sweep_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "sweep.tar.gz"
    argv = ["export", str(sweep_dir), "--format", "ema", "--out", str(archive)]
    assert main(argv) == 0
    experiments_table, outcomes = ema.load_results(str(archive))
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    assert len(experiments_table) == len(runs) == 8
    factors = [UNCERTAINTY, *LEVERS]
    np.testing.assert_allclose(experiments_table[factors], runs[factors], rtol=1e-15)
    assert experiments_table["seed"].tolist() == runs["seed"].tolist()
    assert experiments_table["scenario"].tolist() == runs["point"].tolist()
    assert set(experiments_table["model"].astype(str)) == {"ema_check"}
    for name in OUTCOMES:
        np.testing.assert_allclose(outcomes[name], runs[name], rtol=1e-15)
    # the file exists: refused without --overwrite, nothing else written next to it
    assert main(argv) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.tar.gz"]


def test_archive_becomes_a_sweep_directory_that_report_and_discover_open(
    sweep_dir: Path,
    ema_runs: tuple[pd.DataFrame, dict[str, np.ndarray]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a round trip keeps points, replicates and seeds
    archive = tmp_path / "sweep.tar.gz"
    assert main(["export", str(sweep_dir), "--format", "ema", "--out", str(archive)]) == 0
    back = tmp_path / "back"
    assert main(["export", str(archive), "--format", "govsim", "--out", str(back)]) == 0
    manifest = read_manifest(back, ("sweep",))
    assert manifest.kind == "sweep" and manifest.run_id.startswith("sweep-")
    assert manifest.data["package_versions"]["govsim"]
    runs, original = (
        pd.read_parquet(back / "runs.parquet"),
        pd.read_parquet(sweep_dir / "runs.parquet"),
    )
    same = ["point", "replicate", "seed", "status", UNCERTAINTY, *LEVERS, *OUTCOMES]
    pd.testing.assert_frame_equal(runs[same], original[same], check_dtype=False)
    assert manifest.data["seeds"] == json.loads((sweep_dir / "manifest.json").read_text())["seeds"]
    # an archive straight from perform_experiments: one point per experiment, seeds unknown
    ema.save_results(ema_runs, str(tmp_path / "ema.tar.gz"))
    direct = tmp_path / "direct"
    assert (
        main(["export", str(tmp_path / "ema.tar.gz"), "--format", "govsim", "--out", str(direct)])
        == 0
    )
    table = pd.read_parquet(direct / "runs.parquet")
    assert table["point"].tolist() == [0, 1, 2, 3] and (table["seed"] == -1).all()
    assert [f["kind"] for f in read_manifest(direct).data["factors"]] == [
        "parameter",
        "lever",
        "lever",
    ]
    assert main(["report", str(direct), "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report").is_dir()
    goal = ["--goal", f"{OUTCOMES[0]} >= {np.median(ema_runs[1][OUTCOMES[0]])}"]
    capsys.readouterr()
    assert main(["discover", str(back), *goal, "--out", str(tmp_path / "disc")]) == 0
    assert "meet" in capsys.readouterr().out


def test_bad_archives_fail_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.tar.gz"
    with pytest.raises(ArchiveError, match=re.escape(f"{missing} not found")):
        read_archive(missing)
    text = tmp_path / "text.tar.gz"
    text.write_text("not an archive")
    out = tmp_path / "out"
    assert main(["export", str(text), "--format", "govsim", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{text} is not a tar archive" in err and "Traceback" not in err
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz"):
        pass
    assert main(["export", str(empty), "--format", "govsim", "--out", str(out)]) == 2
    assert f"{empty} is not an EMA results archive" in capsys.readouterr().err
    assert not out.exists()
    # --format ema needs a sweep directory with a manifest of kind sweep or sensitivity
    assert main(["export", str(text), "--format", "ema", "--out", str(out)]) == 2
    assert "--format ema reads a sweep or sensitivity directory" in capsys.readouterr().err
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "case", "run_id": "case-x"}))
    assert main(["export", str(folder), "--format", "ema", "--out", str(out)]) == 2
    assert "key 'kind' is \"case\"; expected one of sweep, sensitivity" in capsys.readouterr().err
    assert not out.exists()


def test_a_non_scalar_outcome_is_left_out_and_listed(tmp_path: Path) -> None:
    from experiments.ema.convert import EmaResults

    experiments_table = pd.DataFrame({"x": [0.1, 0.2, 0.3], "scenario": [0, 1, 2]})
    outcomes = {"y": np.array([1.0, 2.0, 3.0]), "series": np.zeros((3, 4))}
    table = ema_to_sweep(EmaResults(experiments_table, outcomes, tmp_path / "a.tar.gz"))
    assert table.outcomes == ["y"] and "series" in table.left_out
    assert table.factors[0]["kind"] == "uncertainty"
    with pytest.raises(ArchiveError, match="no outcome with one number per experiment"):
        ema_to_sweep(EmaResults(experiments_table, {"series": outcomes["series"]}, tmp_path))


def readme_example() -> str:
    """The Python block of the README section 'Using govsim from the EMA Workbench'."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using govsim from the EMA Workbench", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_example_runs_on_a_small_population(small_config: ScenarioConfig) -> None:
    code = readme_example()
    line = 'SCENARIO = "experiments/scenarios/baseline.toml"'
    assert line in code
    namespace: dict[str, Any] = {"small_config": small_config}
    exec(compile(code.replace(line, "SCENARIO = small_config"), "README.md", "exec"), namespace)
    experiments_table, outcomes = namespace["results"]
    assert len(experiments_table) == 8
    assert set(outcomes) == {"emissions_reduction_2030_pct", "funds_absorbed_eur"}
    assert np.isfinite(outcomes["emissions_reduction_2030_pct"]).all()


def test_sweep_to_ema_leaves_out_failed_runs(sweep_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    folder.mkdir()
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    runs.loc[0, "status"] = "failed"
    runs.to_parquet(folder / "runs.parquet")
    (folder / "manifest.json").write_bytes((sweep_dir / "manifest.json").read_bytes())
    results = sweep_to_ema(folder)
    assert len(results.experiments) == len(runs) - 1
    assert results.left_out == {"failed runs": "1"}
