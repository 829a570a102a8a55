"""Sweeps: one row per run, identical on every backend, resumable, failures recorded, CLI.

The runs use experiments/studies/smoke.toml (a small EU to 2035, 8 LHS points x 2 seeds, 16 runs of
about 0.1 s), so the file runs in well under a minute including a Dask LocalCluster.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import experiments.sweep as sweep
from abm.config import ScenarioConfig
from abm.outputs import SimulationResult
from experiments.cli import main
from experiments.errors import BadInput
from experiments.experiment import Experiment, design_points, load_experiment
from experiments.results import data_hashes
from experiments.store import RunStore, StoredRun, code_version, run_key, run_keys
from experiments.sweep import backends, worker

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS_DIR = REPO / "experiments"
SMOKE = EXPERIMENTS_DIR / "studies" / "smoke.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke() -> Experiment:
    """The shipped smoke experiment."""
    return load_experiment(SMOKE)


@pytest.fixture(scope="module")
def serial(
    smoke: Experiment, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, pd.DataFrame]:
    """The smoke sweep run in this process (jobs=1): its directory and runs table."""
    out = tmp_path_factory.mktemp("serial")
    return out, sweep.run_sweep(smoke, None, out, jobs=1, progress=False)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Count the simulations of the in-process (jobs=1) path: (config name, seed) per run."""
    calls: list[tuple[str, int]] = []
    real = worker.simulate

    def counting(config: ScenarioConfig, seed: int) -> SimulationResult:
        calls.append((config.name, seed))
        return real(config, seed)

    monkeypatch.setattr(worker, "simulate", counting)
    return calls


def manifest_of(out: Path) -> dict[str, Any]:
    """The sweep's manifest.json."""
    info: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return info


# --- the runs table and files ---------------------------------------------------------------


def test_runs_table_has_one_row_per_point_and_replicate(
    smoke: Experiment, serial: tuple[Path, pd.DataFrame]
) -> None:
    """8 points x 2 replicates; the same seeds at every point; factor values from the design."""
    out, runs = serial
    assert len(runs) == 8 * 2
    assert list(runs.columns) == [
        "point",
        "replicate",
        "seed",
        "run_key",
        "status",
        "error",
        *smoke.factor_names,
        *smoke.outcomes,
    ]
    assert (runs["status"] == "ok").all()
    assert runs["error"].isna().all()
    assert runs["run_key"].is_unique
    for _, rows in runs.groupby("point"):
        assert rows["seed"].tolist() == smoke.seeds()
        assert rows["replicate"].tolist() == [0, 1]
    X = design_points(smoke)
    np.testing.assert_array_equal(runs[smoke.factor_names].to_numpy()[::2], X)
    assert np.isfinite(runs[list(smoke.outcomes)].to_numpy()).all()
    # different points (and seeds) give different outcomes: the factors reach the model
    assert runs["funds_absorbed_eur"].nunique() == len(runs)
    assert_frame_equal(pd.read_parquet(out / "runs.parquet"), runs)


def test_run_keys_match_the_store(smoke: Experiment, serial: tuple[Path, pd.DataFrame]) -> None:
    """Each row's key is the hash of its config, seed and code version; the store has it."""
    out, runs = serial
    X = design_points(smoke)
    first = runs.iloc[3]
    config = smoke.config_for(dict(zip(smoke.factor_names, X[first["point"]], strict=True)))
    assert first["run_key"] == run_key(config, int(first["seed"]))
    with RunStore(out / "store.sqlite") as store:
        assert store.count() == 16
        assert store.count("ok") == 16
        stored = store.get_many([first["run_key"]])[first["run_key"]]
    for outcome in smoke.outcomes:
        assert stored.outcomes[outcome] == first[outcome]


def test_manifest_and_replicate_adequacy_files(
    smoke: Experiment, serial: tuple[Path, pd.DataFrame]
) -> None:
    """The manifest records inputs, design, seeds, versions and counts; adequacy CSV and PNG."""
    out, _ = serial
    info = manifest_of(out)
    assert info["experiment"] == "smoke"
    assert info["experiment_toml"] == SMOKE.read_text(encoding="utf-8")
    assert len(info["experiment_sha256"]) == 64
    assert info["seeds"] == smoke.seeds()
    assert info["design"]["method"] == "lhs"
    assert info["design"]["samples"] == 8
    assert info["design"]["points"] == 8
    assert [f["name"] for f in info["factors"]] == smoke.factor_names
    assert info["runs"] == {
        "rows": 16,
        "distinct": 16,
        "reused": 0,
        "simulated": 16,
        "failed_now": 0,
        "failed": 0,
    }
    assert info["backend"]["kind"] == "in-process"
    assert info["code_version"] == code_version()["git"]
    assert {"numpy", "dask", "distributed"} <= set(info["package_versions"])
    assert info["kind"] == "sweep" and info["run_id"].startswith("sweep-")
    assert info["data_sha256"] == data_hashes([smoke.base])  # the scenario the runs read
    assert info["packages"] == {name: list(levers) for name, levers in smoke.packages.items()}
    assert info["posterior"] is None and info["reproduce"] == info["command"]
    adequacy = pd.read_csv(out / "replicate_adequacy.csv")
    assert len(adequacy) == len(smoke.outcomes) * 2
    assert set(adequacy["replicates"]) == {1, 2}
    assert adequacy.loc[adequacy["replicates"] == 1, "mean_half_width"].isna().all()
    emissions = adequacy[
        (adequacy["outcome"] == "emissions_reduction_2030_pct") & (adequacy["replicates"] == 2)
    ]
    assert float(emissions["mean_half_width"].iloc[0]) > 0
    assert (out / "replicate_adequacy.png").read_bytes()[:8] == PNG_MAGIC


# --- identical results on every backend ------------------------------------------------------


def test_two_loky_workers_give_identical_results(
    smoke: Experiment, serial: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """jobs=2 (joblib/loky) gives exactly the rows of jobs=1."""
    runs = sweep.run_sweep(smoke, None, tmp_path, jobs=2, progress=False)
    assert_frame_equal(runs, serial[1])
    assert manifest_of(tmp_path)["backend"]["kind"] == "loky"


def test_dask_local_cluster_gives_identical_results(
    smoke: Experiment, serial: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A Dask LocalCluster with 2 worker processes gives exactly the rows of jobs=1.

    Its nannies must not leave MALLOC_TRIM_THRESHOLD_ (which slows the model 2-3 times) in
    this process's environment, where later worker processes would inherit it.
    """
    before = os.environ.get(sweep.MALLOC_TRIM)
    runs = sweep.run_sweep(smoke, None, tmp_path, jobs=2, scheduler="local", progress=False)
    assert os.environ.get(sweep.MALLOC_TRIM) == before
    assert_frame_equal(runs, serial[1])
    backend = manifest_of(tmp_path)["backend"]
    assert (backend["kind"], backend["workers"], backend["scheduler"]) == ("dask", 2, "local")


# --- resume and reuse -------------------------------------------------------------------------


def test_repeated_sweep_runs_nothing_new(
    smoke: Experiment,
    serial: tuple[Path, pd.DataFrame],
    tmp_path: Path,
    counted: list[tuple[str, int]],
) -> None:
    """A second sweep into the same directory reuses every run and returns the same rows;
    with nothing to run, it starts no pool or cluster even when asked for Dask."""
    out = tmp_path / "again"
    shutil.copytree(serial[0], out)
    runs = sweep.run_sweep(smoke, None, out, jobs=2, scheduler="local", progress=False)
    assert counted == []
    assert_frame_equal(runs, serial[1])
    info = manifest_of(out)
    assert (info["runs"]["reused"], info["runs"]["simulated"]) == (16, 0)
    assert info["backend"]["kind"] == "in-process"


def test_interrupted_sweep_resumes(
    smoke: Experiment,
    serial: tuple[Path, pd.DataFrame],
    tmp_path: Path,
    counted: list[tuple[str, int]],
) -> None:
    """After a sweep of the first 3 points, the full sweep runs only the other 5 points."""
    X = design_points(smoke)
    sweep.run_sweep(smoke, X[:3], tmp_path, jobs=1, progress=False)
    assert len(counted) == 3 * 2
    counted.clear()
    runs = sweep.run_sweep(smoke, X, tmp_path, jobs=1, progress=False)
    assert sorted(name for name, _ in counted) == sorted(
        f"smoke-p{i}" for i in range(3, 8) for _ in range(2)
    )
    info = manifest_of(tmp_path)
    assert (info["runs"]["reused"], info["runs"]["simulated"]) == (6, 10)
    assert info["design"]["method"] == "given"
    assert_frame_equal(runs, serial[1])


def test_a_rerun_removes_what_a_killed_write_left(
    smoke: Experiment, serial: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """Temporaries of a sweep killed while writing its files are gone after the next sweep."""
    shutil.copy(serial[0] / "store.sqlite", tmp_path / "store.sqlite")
    debris = [tmp_path / ".runs.parquet.k1ll3d", tmp_path / ".manifest.json.k1ll3d"]
    for path in debris:
        path.write_text("half written", encoding="utf-8")
    runs = sweep.run_sweep(smoke, None, tmp_path, jobs=1, progress=False)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert manifest_of(tmp_path)["runs"]["reused"] == 16
    assert_frame_equal(runs, serial[1])


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(
    smoke: Experiment,
    serial: tuple[Path, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One run raising leaves a 'failed' row with its error; a later sweep retries it."""
    real = worker.simulate
    bad_seed = smoke.seeds()[1]

    def flaky(config: ScenarioConfig, seed: int) -> SimulationResult:
        if config.name == "smoke-p4" and seed == bad_seed:
            raise FloatingPointError("overflow in the test")
        return real(config, seed)

    monkeypatch.setattr(worker, "simulate", flaky)
    runs = sweep.run_sweep(smoke, None, tmp_path, jobs=1, progress=False)
    failed = runs[runs["status"] == "failed"]
    assert failed[["point", "replicate"]].values.tolist() == [[4, 1]]
    error = str(failed["error"].iloc[0])
    assert error.startswith("FloatingPointError: overflow in the test (at test_sweep.py:")
    assert np.isnan(failed[list(smoke.outcomes)].to_numpy()).all()
    ok = runs["status"] == "ok"
    assert ok.sum() == 15
    assert_frame_equal(
        runs[ok].drop(columns="error"), serial[1][ok].drop(columns="error"), check_dtype=False
    )
    assert manifest_of(tmp_path)["runs"]["failed"] == 1
    monkeypatch.setattr(worker, "simulate", real)
    rerun = sweep.run_sweep(smoke, None, tmp_path, jobs=1, progress=False)
    assert_frame_equal(rerun, serial[1])
    assert manifest_of(tmp_path)["runs"]["simulated"] == 1


# --- store and run keys -----------------------------------------------------------------------


def test_run_key_changes_with_config_seed_and_code(smoke: Experiment) -> None:
    """Same config, seed and code: same key; the name does not matter, everything else does."""
    values = {"skill_turnover_per_year": 0.1, "capacity_building": 0.5, "finance": 0.0}
    config = smoke.config_for(values, index=1)
    code = {"git": "abc1234", "model_sha256": "0" * 64}
    key = run_key(config, 7, code)
    assert len(key) == 64
    assert run_key(smoke.config_for(values, index=2), 7, code) == key
    assert run_keys(config, [7, 8], code)[0] == key
    assert run_key(config, 8, code) != key
    assert run_key(config, 7, {**code, "git": "abc1234-dirty"}) != key
    assert run_key(config, 7, {**code, "model_sha256": "1" * 64}) != key
    changed = smoke.config_for({**values, "capacity_building": 0.6})
    assert run_key(changed, 7, code) != key


def test_store_round_trip(tmp_path: Path) -> None:
    """Rows come back as written, NaN included; put_many replaces; unknown keys are absent."""
    rows = [
        StoredRun("a", "ok", {"x": 1.5, "y": math.nan}, None, 0.25),
        StoredRun("b", "failed", {}, "ValueError: no", 0.1),
    ]
    with RunStore(tmp_path / "s.sqlite") as store:
        assert store.put_many(rows) == 2
        got = store.get_many(["a", "b", "c"])
        assert set(got) == {"a", "b"}
        assert got["a"].outcomes["x"] == 1.5 and math.isnan(got["a"].outcomes["y"])
        assert (got["b"].status, got["b"].error) == ("failed", "ValueError: no")
        store.put_many([StoredRun("b", "ok", {"x": 2.0}, None, 0.2)])
        assert store.count() == 2 and store.count("ok") == 2
        many = [StoredRun(f"k{i}", "ok", {}, None, 0.0) for i in range(1200)]
        store.put_many(many)
        assert len(store.get_many(f"k{i}" for i in range(1200))) == 1200


# --- chunks, workers and adequacy -------------------------------------------------------------


def test_chunk_size() -> None:
    """Guided: a shrinking share of what is left, within 0.2-10 s of work and >= 3 runs."""
    assert sweep.chunk_size(1000, None, 2) == 3  # run time not known yet
    assert sweep.chunk_size(15, 0.1, 2) == 3  # at least MIN_RUNS_PER_CHUNK runs
    assert sweep.chunk_size(15, 0.01, 2) == 20  # at least 0.2 s of work
    assert sweep.chunk_size(200, 0.3, 2) == 25  # an eighth of what is left (4 x 2 workers)
    assert sweep.chunk_size(100_000, 0.3, 2) == 33  # at most 10 s of work


def test_chunker_covers_every_task_once_with_shrinking_chunks() -> None:
    """Chunks partition the tasks in order; their size follows the observed run time."""
    tasks = [(f"k{i}", i, (0.0,), 1) for i in range(100)]
    chunker = backends._Chunker(tasks, workers=2)
    chunks = []
    for chunk in chunker:
        chunks.append(chunk)
        chunker.observe([StoredRun(t[0], "ok", {}, None, 0.05) for t in chunk])
    assert [t for chunk in chunks for t in chunk] == tasks
    sizes = [len(c) for c in chunks]
    assert sizes[0] == 3 and max(sizes) == sizes[1] and sizes[-1] <= 4
    assert sizes[1:-1] == sorted(sizes[1:-1], reverse=True)


class _StubClient:
    """Answers client.run like distributed.Client for check_workers."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def run(
        self, function: Callable[..., Any], *args: Any, on_error: str = "raise"
    ) -> dict[str, Any]:
        assert function is sweep.worker_probe and on_error == "return"
        return self.answers


def test_workers_that_cannot_import_the_model_fail_loudly() -> None:
    """A worker raising on import, or with other model code, stops the sweep with BadInput."""
    mine = sweep.worker_probe()
    good = _StubClient({"tcp://a:1": mine})
    assert sweep.check_workers(good, mine["model_sha256"]) == {"tcp://a:1": mine}  # type: ignore[arg-type]
    broken = _StubClient(
        {"tcp://a:1": mine, "tcp://b:2": ModuleNotFoundError("No module named 'abm'")}
    )
    with pytest.raises(BadInput, match="tcp://b:2: cannot import the model: ModuleNotFoundError"):
        sweep.check_workers(broken, mine["model_sha256"])  # type: ignore[arg-type]
    other = _StubClient({"tcp://c:3": {**mine, "model_sha256": "f" * 64}})
    with pytest.raises(BadInput, match="tcp://c:3: runs other model code"):
        sweep.check_workers(other, mine["model_sha256"])  # type: ignore[arg-type]
    elsewhere = _StubClient({"tcp://d:4": {**mine, "missing_files": ["/data/countries.csv"]}})
    with pytest.raises(BadInput, match="tcp://d:4: cannot find the data files /data/countries"):
        sweep.check_workers(elsewhere, mine["model_sha256"])  # type: ignore[arg-type]


def test_worker_probe_reports_missing_data_files(tmp_path: Path) -> None:
    """The probe run on each worker lists the data files it cannot find."""
    present = tmp_path / "a.csv"
    present.write_text("x\n", encoding="utf-8")
    answer = sweep.worker_probe([str(present), str(tmp_path / "b.csv")])
    assert answer["missing_files"] == [str(tmp_path / "b.csv")]


def test_workers_with_malloc_trim_get_a_warning() -> None:
    """Workers with Dask's MALLOC_TRIM_THRESHOLD_ (and no mmap threshold) run slowly: warn."""
    mine = {**sweep.worker_probe(), sweep.MALLOC_TRIM: "65536", sweep.MALLOC_MMAP: ""}
    slow = _StubClient({"tcp://a:1": mine})
    with pytest.warns(sweep.SlowWorkerWarning, match="MALLOC_MMAP_THRESHOLD_=33554432"):
        sweep.check_workers(slow, mine["model_sha256"])  # type: ignore[arg-type]
    fixed = _StubClient({"tcp://a:1": {**mine, sweep.MALLOC_MMAP: "33554432"}})
    sweep.check_workers(fixed, mine["model_sha256"])  # type: ignore[arg-type]


def test_worker_with_other_model_code_refuses_to_run(smoke: Experiment) -> None:
    """run_chunk checks the model fingerprint before running anything."""
    with pytest.raises(sweep.WorkerMismatchError, match="install the same govsim"):
        sweep.run_chunk(smoke, [("k", 0, (0.1, 0.5, 0.5), 1)], fingerprint="0" * 64)


def test_replicate_adequacy_known_answer() -> None:
    """Two points with replicates (1, 3) and (2, 2, 5): t-interval half-widths, averaged."""
    runs = pd.DataFrame(
        {
            "point": [0, 0, 0, 1, 1, 1],
            "replicate": [0, 1, 2, 0, 1, 2],
            "status": ["ok", "ok", "failed", "ok", "ok", "ok"],
            "y": [1.0, 3.0, math.nan, 2.0, 2.0, 5.0],
        }
    )
    table = sweep.replicate_adequacy(runs, ["y"]).set_index("replicates")
    t1 = 12.706204736174698  # t(0.975, 1)
    t2 = 4.302652729749464  # t(0.975, 2)
    assert math.isnan(table.loc[1, "mean_half_width"])
    assert table.loc[2, "mean_half_width"] == pytest.approx((t1 * 1.0 + 0.0) / 2)
    # at 3 replicates point 0 still has 2 values, point 1 has 3 (sd sqrt(3))
    assert table.loc[3, "mean_half_width"] == pytest.approx((t1 * 1.0 + t2 * 1.0) / 2)
    assert table.loc[3, "points"] == 2
    between = float(np.std([2.0, 3.0], ddof=1))
    assert table.loc[3, "between_point_sd"] == pytest.approx(between)
    assert table.loc[3, "relative_half_width"] == pytest.approx((t1 + t2) / 2 / between)


def test_bad_design_matrix_and_scheduler_are_bad_input(smoke: Experiment, tmp_path: Path) -> None:
    """A matrix of the wrong width or out of range, or an unknown scheduler, is BadInput."""
    with pytest.raises(BadInput, match=r"expected \(points >= 1, 3\)"):
        sweep.run_sweep(smoke, np.zeros((2, 2)), tmp_path, jobs=1, progress=False)
    with pytest.raises(BadInput, match="design point 0"):
        sweep.run_sweep(smoke, np.array([[0.9, 0.5, 0.5]]), tmp_path, jobs=1, progress=False)
    with pytest.raises(BadInput, match="scheduler 'localhost' not understood"):
        sweep.run_sweep(
            smoke, np.array([[0.1, 0.5, 0.5]]), tmp_path, scheduler="localhost", progress=False
        )


# --- command line -----------------------------------------------------------------------------


def test_cli_sweep_writes_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], serial: tuple[Path, pd.DataFrame]
) -> None:
    """`govsim sweep experiments/studies/smoke.toml --out DIR --jobs 1` exits 0 and writes DIR."""
    out = tmp_path / "cli"
    argv = ["sweep", str(SMOKE), "--out", str(out), "--jobs", "1", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "8 points x 2 replicates = 16 runs" in printed
    assert "16 simulated, 0 reused" in printed
    assert "replicate adequacy at 2 replicates" in printed
    for name in ("runs.parquet", "manifest.json", "store.sqlite", "replicate_adequacy.csv"):
        assert (out / name).is_file()
    assert manifest_of(out)["command"] == "govsim " + " ".join(argv)
    assert_frame_equal(pd.read_parquet(out / "runs.parquet"), serial[1])
    grid = ["--design", "grid", "--samples", "2"]
    assert main([*argv, *grid]) == 0
    assert "8 points x 2 replicates" in capsys.readouterr().out
    assert manifest_of(out)["design"] == {
        **manifest_of(out)["design"],
        "method": "grid",
        "samples": 2,
    }


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        (["--samples", "6", "--design", "sobol"], "power of 2"),
        (["--scheduler", "nowhere"], "scheduler 'nowhere' not understood"),
    ],
)
def test_cli_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv_tail: list[str], message: str
) -> None:
    """Options that cannot work end with exit code 2 and a message, before any run."""
    argv = ["sweep", str(SMOKE), "--out", str(tmp_path / "o"), "--no-progress", *argv_tail]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_bad_experiment_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad experiment file: exit code 2, every problem on stderr, no traceback, no output."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[experiment]\nname = "b"\nseed = -1\n', encoding="utf-8")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("govsim sweep: error: invalid experiment file:\n")
    assert f"{bad}: experiment.seed: -1 out of range" in err
    assert f"{bad}: experiment.scenario: required" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.fixture(autouse=True)
def _no_env_scheduler(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI reads DASK_SCHEDULER_ADDRESS; the tests must not pick up a real cluster."""
    monkeypatch.delenv(sweep.SCHEDULER_ENV, raising=False)
    yield


def test_bench_sweep_quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The sweep benchmark runs its three backends and reports identical tables (no timing)."""
    monkeypatch.syspath_prepend(str(REPO))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if var in os.environ:  # the benchmark sets them to 1; restored after the test
            monkeypatch.setenv(var, os.environ[var])
        else:
            monkeypatch.delenv(var, raising=False)
    bench = importlib.import_module("benchmarks.bench_sweep")
    out = tmp_path / "bench_sweep.json"
    argv = ["--quick", "--size", "smoke", "--points", "2", "--repeats", "1", "--output", str(out)]
    result = bench.main(argv)
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert result["identical_results"] is True
    for key in ("one_worker", "loky_2", "dask_local_2"):
        assert result[key]["runs"] == 4 and result[key]["runs_per_s"] > 0
    assert result["loky_2"]["efficiency"] > 0 and result["dask_local_2"]["efficiency"] > 0
