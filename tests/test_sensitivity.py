"""Known-answer and behaviour tests of the sensitivity analysis (experiments/sensitivity/).

Known answers: the analytic Sobol indices of the Ishigami function (Ishigami and Homma 1990;
Sobol' and Levitan 1999), its grouped indices, its Morris mu* on SALib's 4-level grid (worked
out below), and PAWN ranking an unused dummy lowest. Noise: a function with seed noise of
known variance gives the expected noise share. Then the design properties the convergence
check rests on, factor specifications, and the command line end to end on the function path
and on the governance model (the small smoke experiment).
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from known_answer import ishigami, ishigami_indices

from abm.rng import child_seed
from experiments import sensitivity as sa
from experiments.cli import main
from experiments.errors import BadInput
from experiments.experiment import load_experiment
from experiments.results import data_hashes

PI = math.pi
ISHIGAMI_FACTORS = tuple(sa.FactorSpec(name, -PI, PI) for name in ("x1", "x2", "x3"))
ISHIGAMI_SPEC = "x1=-3.14159265,3.14159265 x2=-3.14159265,3.14159265 x3=-3.14159265,3.14159265"
EXPERIMENTS = Path(sa.__file__).resolve().parents[1]
NOISE_SD = 2.0


def ishigami_study(method: str, samples: int, grouped: bool = False, seed: int = 0) -> sa.Study:
    factors = ISHIGAMI_FACTORS
    if grouped:
        factors = tuple(
            sa.FactorSpec(f.name, f.low, f.high, "A" if f.name in ("x1", "x2") else "B")
            for f in factors
        )
    return sa.Study(method, factors, samples, seed=seed, grouped=grouped)


def values(result: sa.StudyResult, index: str) -> dict[str, float]:
    frame = result.results[0].indices
    rows = frame[frame["index"] == index]
    return dict(zip(rows["name"], rows["value"], strict=True))


def run_ishigami(study: sa.Study, bootstrap: int = 0) -> sa.StudyResult:
    return sa.run_study(study, sa.function_evaluator(ishigami, study, [0]), bootstrap=bootstrap)


def noisy_ishigami(x1: float, x2: float, x3: float, seed: int) -> float:
    """Ishigami plus N(0, NOISE_SD^2) noise, independent across points and seeds."""
    point = np.array([x1, x2, x3]).view(np.uint64)
    rng = np.random.default_rng([seed, *(int(w) for w in point)])
    return ishigami(x1, x2, x3) + NOISE_SD * float(rng.standard_normal())


def seeded_ishigami(x1: float, x2: float, x3: float, seed: int) -> float:
    """Takes a seed but ignores it: no noise."""
    return ishigami(x1, x2, x3)


# --- known answers -------------------------------------------------------------------------------


def test_ishigami_analytic_indices_match_the_literature() -> None:
    exact = ishigami_indices()
    assert exact["S1"] == pytest.approx((0.3139, 0.4424, 0.0), abs=1e-4)
    assert exact["ST"] == pytest.approx((0.5576, 0.4424, 0.2437), abs=1e-4)


def test_sobol_reproduces_the_ishigami_indices() -> None:
    """N = 2048 base points: over 30 seeds the largest error at N = 1024 was 0.042."""
    result = run_ishigami(ishigami_study("sobol", 2048))
    exact = ishigami_indices()
    for index in ("S1", "ST"):
        got = values(result, index)
        assert [got[n] for n in ("x1", "x2", "x3")] == pytest.approx(exact[index], abs=0.05)
        assert got[sa.DUMMY] == 0.0  # runs differing only in the dummy are the same run
    indices = result.results[0].indices
    flagged = indices[(indices["index"] == "ST") & indices["above_dummy"]]
    assert sorted(flagged["name"]) == ["x1", "x2", "x3"]
    s1_x3 = indices[(indices["index"] == "S1") & (indices["name"] == "x3")].iloc[0]
    assert not s1_x3["above_dummy"]  # x3 acts only through its interaction with x1
    assert s1_x3["ci_low"] <= 0.0 <= s1_x3["ci_high"]


def test_grouped_sobol_gives_the_closed_and_total_group_indices() -> None:
    """Groups A = {x1, x2}, B = {x3}: ST_B = ST_x3 = 0.2437, S1_A = S1_x1 + S1_x2 = 0.7563."""
    result = run_ishigami(ishigami_study("sobol", 2048, grouped=True))
    exact = ishigami_indices()
    st, s1 = values(result, "ST"), values(result, "S1")
    assert set(st) == {"A", "B", sa.DUMMY}
    assert st["B"] == pytest.approx(exact["ST"][2], abs=0.05)
    assert s1["A"] == pytest.approx(exact["S1"][0] + exact["S1"][1], abs=0.05)
    assert st["A"] == pytest.approx(1.0, abs=0.05)
    assert set(result.results[0].indices["level"]) == {"group"}
    assert len(result.design) == 2048 * (3 + 2)  # groups A, B and the dummy


def test_morris_mu_star_matches_the_grid_values_of_ishigami() -> None:
    """mu* on SALib's 4-level grid (steps of 2/3 of the range, dividing by 2/3).

    x2 always moves sin^2 between 0 and 3/4: mu* = 7 * 0.75 / (2/3) = 7.875 exactly. x1 moves
    sin(x1) by sqrt(3)/2 and x3^4 is pi^4 or (pi/3)^4 with equal chance; x3 moves x3^4 by
    pi^4 - (pi/3)^4 while |sin x1| is 0 or sqrt(3)/2 with equal chance. So mu*(x1) = 7.70 >
    mu*(x3) = 6.25 > mu*(dummy) = 0 although x3 has no first-order effect. 1000 trajectories:
    the largest error over 20 seeds was 0.41.
    """
    result = run_ishigami(ishigami_study("morris", 1000))
    mu_star = values(result, "mu_star")
    half = math.sqrt(3) / 2
    expected_x1 = half * 1.5 * (1 + 0.1 * (PI**4 + (PI / 3) ** 4) / 2)
    expected_x3 = 0.1 * (PI**4 - (PI / 3) ** 4) * 1.5 * half / 2
    assert mu_star["x2"] == pytest.approx(7.875, abs=1e-9)
    assert mu_star["x1"] == pytest.approx(expected_x1, abs=0.75)
    assert mu_star["x3"] == pytest.approx(expected_x3, abs=0.75)
    assert mu_star["x2"] > mu_star["x3"] and mu_star["x1"] > mu_star["x3"] > mu_star[sa.DUMMY]
    assert mu_star[sa.DUMMY] == 0.0


def test_pawn_ranks_the_dummy_lowest(tmp_path: Path) -> None:
    result = run_ishigami(ishigami_study("pawn", 1024))
    pawn = values(result, "pawn_median")
    assert min(pawn, key=pawn.__getitem__) == sa.DUMMY
    assert 0.0 < pawn[sa.DUMMY] < pawn["x3"] < pawn["x1"] < pawn["x2"]
    files = sa.write_outputs(result, tmp_path, {"purpose": "test"})
    assert {"indices_y.csv", "indices_y.png", "manifest.json"} <= set(files)
    assert all((tmp_path / name).is_file() for name in files)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["purpose"] == "test"


@pytest.mark.slow
def test_sobol_ishigami_indices_tighten_with_a_larger_sample() -> None:
    """N = 16384: every estimate within 0.015 of the analytic value and inside its interval."""
    result = run_ishigami(ishigami_study("sobol", 16384, seed=3))
    exact = ishigami_indices()
    frame = result.results[0].indices.set_index(["index", "name"])
    for index in ("S1", "ST"):
        for name, value in zip(("x1", "x2", "x3"), exact[index], strict=True):
            row = frame.loc[(index, name)]
            assert row["value"] == pytest.approx(value, abs=0.015)
            assert row["ci_low"] <= value <= row["ci_high"]


# --- noise ---------------------------------------------------------------------------------------


def test_seed_noise_shows_in_the_noise_share_and_the_bootstrap_intervals() -> None:
    """Var(noise) = 4 against Var(Ishigami) = 13.84: the noise share should be 4/17.84."""
    study = ishigami_study("sobol", 256)
    seeds = [11, 12, 13, 14]
    noisy = sa.run_study(study, sa.function_evaluator(noisy_ishigami, study, seeds), bootstrap=40)
    clean = sa.run_study(study, sa.function_evaluator(seeded_ishigami, study, seeds), bootstrap=40)
    total = 1 + 7**2 / 8 + 0.1 * PI**4 / 5 + 0.1**2 * PI**8 / 18  # Var(Ishigami), a=7, b=0.1
    share_noisy = noisy.results[0].noise["noise_share"]
    assert share_noisy == pytest.approx(NOISE_SD**2 / (NOISE_SD**2 + total), abs=0.05)
    assert clean.results[0].noise["noise_share"] == 0.0
    assert share_noisy > clean.results[0].noise["noise_share"]
    assert noisy.results[0].noise["noise_share_of_means"] < share_noisy
    assert noisy.seeds == tuple(seeds)
    st = noisy.results[0].indices.query("index == 'ST' and name != @sa.DUMMY")
    width = st["noise_ci_high"] - st["noise_ci_low"]
    assert (width > 0).all()
    assert ((st["noise_ci_low"] <= st["value"]) & (st["value"] <= st["noise_ci_high"])).all()
    clean_st = clean.results[0].indices.query("index == 'ST'")
    assert (clean_st["noise_ci_high"] - clean_st["noise_ci_low"]).abs().max() < 1e-12


def test_grouped_morris_with_replicates_leaves_undefined_group_sigma_empty() -> None:
    """SALib gives no sigma for a group of several factors; the bootstrap must not choke on it."""
    study = ishigami_study("morris", 20, grouped=True)
    result = sa.run_study(
        study, sa.function_evaluator(noisy_ishigami, study, [1, 2, 3]), bootstrap=20
    )
    frame = result.results[0].indices.set_index(["index", "name"])
    assert math.isnan(frame.loc[("sigma", "A"), "value"])
    assert math.isnan(frame.loc[("sigma", "A"), "noise_ci_low"])
    assert frame.loc[("sigma", "B"), "noise_ci_low"] <= frame.loc[("sigma", "B"), "value"]
    assert frame.loc[("mu_star", "A"), "above_dummy"]


def test_noise_summary_is_a_one_way_anova() -> None:
    rng = np.random.default_rng(5)
    means = rng.normal(0.0, 3.0, size=(4000, 1))
    Y = means + rng.normal(0.0, 1.0, size=(4000, 5))
    out = sa.noise_summary(Y)
    assert out["within_point_variance"] == pytest.approx(1.0, rel=0.05)
    assert out["between_point_variance"] == pytest.approx(9.0, rel=0.06)
    assert out["noise_share"] == pytest.approx(0.1, abs=0.01)
    assert out["noise_share_of_means"] == pytest.approx(0.2 / 9.2, abs=0.005)
    Y[0, :] = np.nan
    assert sa.noise_summary(Y)["failed_or_missing_runs"] == 5
    single = sa.noise_summary(Y[:, :1])
    assert math.isnan(single["noise_share"]) and single["replicates"] == 1


def test_failed_runs_are_left_out_of_point_means_and_a_point_without_runs_skips() -> None:
    study = ishigami_study("sobol", 64)
    X = study.design()
    y = np.array([ishigami(*row[:3]) for row in X])
    Y = np.column_stack([y, y + 1.0])
    Y[3, 1] = np.nan  # one failed replicate: the point mean uses the other
    assert not sa.analyse_outcome(study, X, Y, "y", bootstrap=0).skipped
    Y[3, 0] = np.nan  # no run left at that point
    assert "1 design rows" in sa.analyse_outcome(study, X, Y, "y", bootstrap=0).skipped
    constant = sa.analyse_outcome(study, X, np.ones((len(X), 2)), "y", bootstrap=0)
    assert constant.skipped.startswith("constant over the design")


# --- designs and convergence -------------------------------------------------------------------


@pytest.mark.parametrize(("method", "samples"), [("sobol", 64), ("morris", 10), ("pawn", 128)])
def test_first_half_of_a_design_is_the_design_of_half_the_size(method: str, samples: int) -> None:
    """What the N/2-vs-N convergence check relies on (scrambled Sobol' nets, trajectories)."""
    full = ishigami_study(method, samples).design()
    half_n, half_rows = sa.half_design(ishigami_study(method, samples), full)
    assert half_n == samples // 2
    if method == "pawn":  # PAWN's minimum size is larger; check the prefix property directly
        assert np.array_equal(half_rows, full[: samples // 2])
    else:
        assert np.array_equal(half_rows, ishigami_study(method, half_n).design())


def test_design_is_reproducible_and_seed_zero_is_a_seed() -> None:
    a, b = (
        ishigami_study("sobol", 32, seed=0).design(),
        ishigami_study("sobol", 32, seed=0).design(),
    )
    assert np.array_equal(a, b)
    assert not np.array_equal(a, ishigami_study("sobol", 32, seed=1).design())
    seeds = {
        child_seed(s, p)
        for s in range(50)
        for p in ("sensitivity_design", "sensitivity_analysis", "bootstrap")
    }
    assert 0 not in seeds and len(seeds) == 150


def test_convergence_is_reported_for_the_main_index() -> None:
    result = run_ishigami(ishigami_study("sobol", 1024))
    rows = result.results[0].convergence.set_index("index")
    assert rows.loc["ST", "n_half"] == 512 and rows.loc["ST", "n_full"] == 1024
    assert 0.0 < rows.loc["ST", "max_abs_change"] < 0.05


def test_dummy_only_steps_are_not_run() -> None:
    result = run_ishigami(ishigami_study("sobol", 64))
    assert len(result.design) == 64 * 6
    assert result.unique_points == 64 * 5  # the A-with-B's-dummy rows repeat the A rows


def test_study_refuses_bad_definitions() -> None:
    with pytest.raises(BadInput, match="power of two"):
        ishigami_study("sobol", 100)
    with pytest.raises(BadInput, match="reserved"):
        sa.Study("morris", (sa.FactorSpec(sa.DUMMY, 0, 1),), 10)
    with pytest.raises(BadInput, match="low < high"):
        sa.Study("morris", (sa.FactorSpec("x", 1, 1),), 10)


# --- factor specifications and model functions -------------------------------------------------


def test_parse_factors_inline_and_toml(tmp_path: Path) -> None:
    factors = sa.parse_factors("x1=-3.5,3.5 x2=0,1e2@pkg")
    assert factors == (sa.FactorSpec("x1", -3.5, 3.5), sa.FactorSpec("x2", 0.0, 100.0, "pkg"))
    spec = tmp_path / "factors.toml"
    spec.write_text(
        '[factors.a]\nlow = 0\nhigh = 2\ngroup = "g"\n[factors.b]\nlow = -1\nhigh = 1\n'
    )
    assert sa.parse_factors(str(spec)) == (
        sa.FactorSpec("a", 0.0, 2.0, "g"),
        sa.FactorSpec("b", -1.0, 1.0),
    )
    with pytest.raises(BadInput, match="'x1=1'"):
        sa.parse_factors("x1=1")
    spec.write_text("[factors.a]\nlow = 0\nhigh = 2\nspread = 3\n")
    with pytest.raises(BadInput, match="unknown keys spread"):
        sa.parse_factors(str(spec))


def test_model_function_errors_are_bad_input() -> None:
    with pytest.raises(BadInput, match="cannot import"):
        sa.load_function("no_such_module_xyz:f")
    with pytest.raises(BadInput, match="no attribute"):
        sa.load_function("experiments.sensitivity:no_such_function")

    def broken(x: float) -> float:
        raise ZeroDivisionError("boom")

    with pytest.raises(BadInput, match=r"at \(x=0.5\) raised ZeroDivisionError"):
        sa.evaluate_function(broken, ["x"], np.array([[0.5]]), [0])


def test_dict_outputs_become_outcomes() -> None:
    def two(x: float, y: float) -> dict[str, float]:
        return {"sum": x + y, "x_only": 2 * x}

    study = sa.Study("sobol", (sa.FactorSpec("x", 0, 1), sa.FactorSpec("y", 0, 1)), 256)
    result = sa.run_study(study, sa.function_evaluator(two, study, [0]), bootstrap=0)
    assert [r.outcome for r in result.results] == ["sum", "x_only"]
    st = values(result, "ST")  # first outcome: x + y, equal shares
    assert st["x"] == pytest.approx(0.5, abs=0.05) and st["y"] == pytest.approx(0.5, abs=0.05)
    only_x = result.results[1].indices.query("index == 'ST'").set_index("name")["value"]
    assert only_x["x"] == pytest.approx(1.0, abs=0.02) and only_x["y"] == 0.0


# --- command line -------------------------------------------------------------------------------


def test_cli_model_path_writes_every_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sa"
    argv = [
        "sensitivity",
        "--model",
        "known_answer:ishigami",
        "--factors",
        ISHIGAMI_SPEC,
        "--method",
        "sobol",
        "--samples",
        "512",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    expected = {
        "indices_y.csv",
        "indices_y.png",
        "convergence.csv",
        "noise.csv",
        "design.csv",
        "manifest.json",
        "study.json",
    }
    assert expected <= {p.name for p in out.iterdir()}
    indices = pd.read_csv(out / "indices_y.csv")
    assert list(indices.columns) == list(sa.INDEX_COLUMNS)
    st = indices.query("index == 'ST'").set_index("name")["value"]
    assert st["x3"] == pytest.approx(0.2437, abs=0.05)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["study"]["method"] == "sobol" and manifest["design_rows"] == 512 * 6
    assert manifest["model"] == "known_answer:ishigami"
    assert manifest["kind"] == "sensitivity" and manifest["run_id"].startswith("sensitivity-")
    assert manifest["data_sha256"] == {}  # a Python function reads no scenario data
    assert (out / "indices_y.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "x3" in capsys.readouterr().out
    # the same study again resumes into the same directory, leaving nothing of a killed run
    # (whose temporary sibling directory was not renamed into place); a different one is refused
    (tmp_path / ".sa.k1ll3d").mkdir()
    (tmp_path / ".sa.k1ll3d" / "indices_y.csv").write_text("half written")
    assert main(argv) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["sa"]
    changed = [*argv[:-4], "256", "--out", str(out), "--no-progress"]
    assert main(changed) == 2
    assert "holds a different study" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "sobol", "--samples", "100"], "power of two"),
        (["--method", "sobol", "--factors", "x1=1"], "not 'name=low,high'"),
        (["--method", "morris", "--model", "nope_mod:f"], "cannot import"),
        (["--method", "morris", "--groups"], "every factor is its own group"),
    ],
)
def test_cli_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    argv = ["sensitivity", "--out", str(tmp_path / "o"), "--no-progress"]
    if "--model" not in extra:
        argv += ["--model", "known_answer:ishigami"]
    if "--factors" not in extra:
        argv += ["--factors", ISHIGAMI_SPEC]
    assert main(argv + extra) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_needs_an_experiment_or_a_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["sensitivity", "--method", "morris", "--out", str(tmp_path / "o")]) == 2
    assert "EXPERIMENT.toml" in capsys.readouterr().err
    missing = str(tmp_path / "missing.toml")
    assert main(["sensitivity", missing, "--method", "morris", "--out", str(tmp_path)]) == 2


def test_cli_runs_the_model_through_the_sweep_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Morris on the smoke experiment (3 factors, 2 seeds, small EU to 2035): 32 runs."""
    out = tmp_path / "smoke"
    exp = load_experiment(EXPERIMENTS / "studies" / "smoke.toml")
    argv = [
        "sensitivity",
        str(EXPERIMENTS / "studies" / "smoke.toml"),
        "--method",
        "morris",
        "--samples",
        "4",
        "--jobs",
        "1",
        "--bootstrap",
        "20",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    sweep = json.loads((out / "sweep" / "manifest.json").read_text())
    assert sweep["runs"]["simulated"] == 4 * 4 * 2  # 4 trajectories x 4 points x 2 seeds
    noise = pd.read_csv(out / "noise.csv").set_index("outcome")
    assert noise.loc["funds_absorbed_eur", "replicates"] == 2
    assert 0.0 <= noise.loc["funds_absorbed_eur", "noise_share"] <= 1.0
    indices = pd.read_csv(out / "indices_funds_absorbed_eur.csv")
    mu_star = indices.query("index == 'mu_star'").set_index("name")
    assert mu_star.loc["finance", "above_dummy"]  # the finance package moves absorbed funds
    assert mu_star.loc["finance", "noise_ci_low"] <= mu_star.loc["finance", "value"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["seeds"] == exp.seeds()
    assert manifest["data_sha256"] == data_hashes([exp.base])  # the scenario actually run
    # what a run killed while writing leaves: a staging directory and temporary files
    (out / ".staged.k1ll3d").mkdir()
    (out / ".staged.k1ll3d" / "manifest.json").write_text("{")
    (out / ".study.json.k1ll3d").write_text("{")
    (out / "sweep" / ".runs.parquet.k1ll3d").write_text("")
    assert main(argv) == 0  # rerun: every run comes from the store
    again = json.loads((out / "sweep" / "manifest.json").read_text())
    assert again["runs"]["simulated"] == 0 and again["runs"]["reused"] == 32
    for directory in (out, out / "sweep"):
        assert not [p.name for p in directory.iterdir() if p.name.startswith(".")]
    capsys.readouterr()


def test_sa_levers_experiment_is_a_valid_twenty_factor_study() -> None:
    exp = load_experiment(EXPERIMENTS / "studies" / "sa_levers.toml")
    factors = sa.factors_of(exp)
    assert len(factors) == 20 and exp.replicates in (2, 3, 4)
    levers = {f.name for f in exp.factors if f.kind == "lever"}
    assert len(levers) == 8
    assert set(exp.outcomes) == {
        "emissions_reduction_2050_pct",
        "industry_emissions_reduction_2050_pct",
        "funds_absorbed_eur",
        "citizen_support_end",
        "mission_gap_reduction_2050_pp",
    }
    grouped = sa.Study("sobol", factors, exp.samples, exp.seed, grouped=True)
    # four packages, three deep-uncertainty blocks, the calibrated posterior, the dummy
    assert grouped.units == 4 + 3 + 1 + 1
    assert [f.kind for f in exp.factors].count("posterior") == 1
    assert sa.Study("sobol", factors, 1024).design_rows() == 1024 * 23


@pytest.mark.slow
def test_bench_sobol_quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The benchmark runs end to end in --quick mode and labels its full-study estimate."""
    monkeypatch.syspath_prepend(str(EXPERIMENTS.parent))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")  # the benchmark sets these at import; restored after
    bench = importlib.import_module("benchmarks.bench_sobol")
    out = tmp_path / "bench.json"
    argv = ["--quick", "--jobs", "1", "--output", str(out), "--reduced-out", str(tmp_path / "r")]
    result = bench.main(argv)
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert result["reduced_study"]["runs"] == 4 * (20 + 2)
    assert result["throughput"]["runs_per_s"] > 0
    estimate = result["estimate"]
    assert estimate["runs_one_replicate"] == 22_528 and "ESTIMATE" in estimate["label"]
    assert (tmp_path / "r" / "manifest.json").is_file()
