"""Scenario discovery: PRIM recovers a known box, box statistics, plain words, the CLI.

Known answers: with y = (x1 > 0.6) & (x2 < 0.3) and 5% of labels flipped, PRIM must find
x1 >= ~0.6 and x2 <= ~0.3 and leave the other inputs alone; on a ten-run example the peeling
trajectory is worked out by hand.
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import experiments.cli
from abm.config import PARAMETER_META
from experiments.cli import main
from experiments.discovery import (
    PrimResult,
    describe,
    encode_inputs,
    factor_label,
    format_number,
    parse_goal,
    prim,
)
from experiments.errors import BadInput

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OUTCOME = "emissions_reduction_2050_pct"
STAFF = "staff_fte_per_10k_residents"


def known_box(seed: int, n: int = 2000, k: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    """k uniform inputs; success iff x1 > 0.6 and x2 < 0.3, with 5% of the labels flipped."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, k)), columns=[f"x{i}" for i in range(1, k + 1)])
    truth = ((X["x1"] > 0.6) & (X["x2"] < 0.3)).to_numpy()
    return X, truth ^ (rng.uniform(size=n) < 0.05)


@pytest.fixture(scope="module")
def known() -> PrimResult:
    X, y = known_box(seed=1)
    return prim(X, y)


# --- the algorithm -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prim_recovers_the_known_box_and_leaves_the_other_inputs_alone(seed: int) -> None:
    X, y = known_box(seed)
    box = prim(X, y).best()
    limits = box.limits
    assert set(box.restricted) == {"x1", "x2"}
    assert limits.at["x1", "low"] == pytest.approx(0.6, abs=0.05)
    assert limits.at["x2", "high"] == pytest.approx(0.3, abs=0.05)
    # only the sides that matter: no upper limit on x1, no lower limit on x2
    assert limits.at["x1", "high"] == limits.at["x1", "data_high"]
    assert limits.at["x2", "low"] == limits.at["x2", "data_low"]
    for name in ("x3", "x4"):
        assert not limits.at[name, "restricted"]
        assert np.isnan(limits.at[name, "p_value"])
    assert (limits.loc[["x1", "x2"], "p_value"] < 1e-10).all()
    # the true box holds 12% of the runs with 95% success; 4.4% of all runs are false positives
    assert box.density > 0.85
    assert 0.6 < box.coverage < 0.85


def test_statistics_of_a_hand_made_example() -> None:
    """Ten runs; peeling by hand (alpha 0.1) gives five boxes, as listed below."""
    X = pd.DataFrame({"x1": np.arange(10.0), "x2": [0.0] * 3 + [5.0] * 7})
    y = np.array([1, 0, 0, 0, 0, 0, 1, 1, 1, 1], dtype=bool)
    result = prim(X, y, peel_alpha=0.1)
    t = result.trajectory
    # 0: all runs. 1: x2 has ties at its low end, so its whole lowest value goes (runs 0-2:
    # one success, two failures). 2-4: one run at a time off x1's low end (quantile 0.1).
    np.testing.assert_allclose(t["coverage"], [1.0, 0.8, 0.8, 0.8, 0.8])
    np.testing.assert_allclose(t["density"], [5 / 10, 4 / 7, 4 / 6, 4 / 5, 4 / 4])
    np.testing.assert_allclose(t["mass"], [1.0, 0.7, 0.6, 0.5, 0.4])
    assert t["n_in_box"].tolist() == [10, 7, 6, 5, 4]
    assert t["n_restricted"].tolist() == [0, 1, 2, 2, 2]
    assert t["restricted"].tolist() == ["", "x2", "x1,x2", "x1,x2", "x1,x2"]
    np.testing.assert_allclose([low[0] for low in result.lows], [0.0, 0.0, 3.6, 4.5, 5.4])
    assert result.lows[1][1] == 5.0  # the next value above the peeled one
    box = result.select(3)
    assert (box.n_in_box, box.n_successes_in_box, box.n_runs, box.n_successes) == (5, 4, 10, 5)
    assert (box.coverage, box.density, box.mass) == (0.8, 0.8, 0.5)
    assert box.contains(X).tolist() == [False] * 5 + [True] * 5
    assert result.select(-1).step == 4
    # a density threshold stops peeling at the first box that reaches it
    assert len(prim(X, y, peel_alpha=0.1, threshold_density=0.6).trajectory) == 3


def test_trajectory_is_monotone(known: PrimResult) -> None:
    t = known.trajectory
    assert len(t) > 10
    assert (np.diff(t["coverage"]) <= 0).all()
    assert (np.diff(t["mass"]) < 0).all()
    assert (np.diff(t["density"]) > 0).all()  # a peel is taken only if it raises the density
    assert t["mass"].iloc[-1] >= 0.05
    assert t["step"].tolist() == list(range(len(t)))


def test_pasting_never_lowers_density_and_never_shrinks_the_box(known: PrimResult) -> None:
    for step in range(5, len(known.trajectory), 5):
        raw, pasted = known.select(step), known.select(step, paste=True)
        assert pasted.density >= raw.density
        assert pasted.n_in_box >= raw.n_in_box
        assert (pasted.limits["low"] <= raw.limits["low"]).all()
        assert (pasted.limits["high"] >= raw.limits["high"]).all()


def test_pruning_drops_the_limits_peeled_on_noise(known: PrimResult) -> None:
    """The last boxes are peeled on x3 and x4 by chance; their quasi-p-values are large."""
    last = len(known.trajectory) - 1
    raw = known.select(last)
    assert {"x3", "x4"} <= set(raw.restricted)
    assert (raw.limits.loc[["x3", "x4"], "p_value"] > 0.05).all()
    pruned = known.select(last, max_p=0.05)
    assert set(pruned.restricted) == {"x1", "x2"}
    assert {d.split(" ")[0] for d in pruned.dropped} >= {"x3", "x4"}
    assert pruned.coverage > raw.coverage


def test_best_with_min_density_takes_the_largest_box_reaching_it(known: PrimResult) -> None:
    t = known.trajectory
    box = known.best(min_density=0.9, paste=False, max_p=None)
    assert box.density >= 0.9
    assert box.step == t.index[t["density"] >= 0.9][0]
    with pytest.raises(ValueError, match="reaches density"):
        known.best(min_density=1.0)
    with pytest.raises(IndexError, match="not in the peeling trajectory"):
        known.select(len(t))


def test_boolean_and_text_inputs_are_peeled_as_0_1() -> None:
    rng = np.random.default_rng(5)
    n = 1000
    X = pd.DataFrame(
        {
            "flag": rng.uniform(size=n) < 0.5,
            "region": rng.choice(["north", "south", "east"], size=n),
            "x": rng.uniform(size=n),
        }
    )
    y = (X["flag"] & (X["region"] == "south")).to_numpy()
    encoded, kinds = encode_inputs(X)
    assert kinds == {
        "flag": "binary",
        "region=east": "category",
        "region=north": "category",
        "region=south": "category",
        "x": "numeric",
    }
    assert set(np.unique(encoded.to_numpy())) <= {0.0, 1.0} | set(X["x"])
    box = prim(X, y).best()
    assert box.density == 1.0 and box.coverage == 1.0
    assert box.limits.at["flag", "low"] == 1.0
    assert "x" not in box.restricted
    text = describe(box, OUTCOME, "the goal is met")
    assert "flag is on" in text
    # 'south' is singled out, either directly or as neither north nor east
    assert "region is south" in text or (
        "region is not north" in text and "region is not east" in text
    )


def test_prim_rejects_bad_arguments() -> None:
    X = pd.DataFrame({"x": np.arange(5.0)})
    with pytest.raises(ValueError, match="no run meets the goal"):
        prim(X, np.zeros(5, dtype=bool))
    with pytest.raises(ValueError, match="one value per row"):
        prim(X, np.ones(4, dtype=bool))
    with pytest.raises(ValueError, match="peel_alpha"):
        prim(X, np.ones(5, dtype=bool), peel_alpha=0.6)
    with pytest.raises(ValueError, match="missing values"):
        prim(pd.DataFrame({"x": [1.0, np.nan]}), np.array([True, False]))


# --- plain words ---------------------------------------------------------------------------


def named_runs(seed: int = 7, n: int = 1500) -> pd.DataFrame:
    """Runs over real factor names; success iff staff > 1.4 FTE and financing intensity > 0.5."""
    rng = np.random.default_rng(seed)
    runs = pd.DataFrame(
        {
            STAFF: rng.uniform(0.4, 3.0, n),
            "omega_econ_asset_country": rng.uniform(0.4, 0.9, n),
            "enhanced_financing": rng.uniform(0.0, 1.0, n),
            "full_package": rng.uniform(size=n) < 0.5,
        }
    )
    good = (runs[STAFF] > 1.4) & (runs["enhanced_financing"] > 0.5)
    runs[OUTCOME] = np.where(good, 60.0, 40.0) + rng.normal(0.0, 4.0, n)
    return runs


def test_describe_names_the_restricted_factors_with_their_numbers_and_units() -> None:
    runs = named_runs()
    inputs = [STAFF, "omega_econ_asset_country", "enhanced_financing", "full_package"]
    box = prim(runs[inputs], (runs[OUTCOME] >= 50).to_numpy()).best()
    assert set(box.restricted) == {STAFF, "enhanced_financing"}
    text = describe(box, OUTCOME, "the full package halves city emissions by 2040")
    assert text.startswith("The full package halves city emissions by 2040 in ")
    staff_label, staff_unit = factor_label(STAFF)
    assert staff_unit == PARAMETER_META[STAFF]["unit"] == "FTE per 10k residents"
    low = format_number(box.limits.at[STAFF, "low"])
    assert low in {"1.3", "1.4", "1.5"}
    assert f"{staff_label} is above {low} FTE per 10k residents" in text
    financing = format_number(box.limits.at["enhanced_financing", "low"])
    assert f"the intensity of enhanced financing mechanisms for cities is above {financing}" in text
    assert f"coverage {box.coverage:.0%}, density {box.density:.0%}, {box.mass:.0%} of runs" in text
    assert f"in {box.density:.0%} of runs when" in text
    assert "national weight" not in text and "package" not in text.split(" in ", 1)[1]


def test_factor_labels_and_number_format() -> None:
    # registry docs that name the parameter are used; cryptic ones fall back to the name
    assert factor_label("mission_call_burden_person_months") == (
        "staff time to write a mission bid",
        "person-months",
    )
    assert factor_label("mission_call_delay_months") == ("mission call delay", "months")
    assert factor_label("om_abandon_probability")[0] == "om abandon probability"
    assert factor_label("enhanced_financing") == (
        "enhanced financing mechanisms for cities",
        "intensity",
    )
    assert factor_label("full", kind="package") == ("the full package", "intensity")
    assert factor_label("some_column") == ("some column", "")
    cases = [(0.6012, "0.6"), (0.2987, "0.3"), (1.45, "1.4"), (12.34, "12"), (1234.5, "1,200")]
    assert [format_number(v) for v, _ in cases] == [s for _, s in cases]
    assert format_number(0.00123) == "0.0012"
    assert format_number(0.0) == "0"


def test_goal_parsing() -> None:
    goal = parse_goal(f" {OUTCOME} >= 50 ")
    assert (goal.outcome, goal.op, goal.value) == (OUTCOME, ">=", 50.0)
    assert goal.test(pd.Series([49.0, 50.0, 51.0])).tolist() == [False, True, True]
    assert parse_goal("x<0.5").test(pd.Series([0.5, 0.4])).tolist() == [False, True]
    with pytest.raises(BadInput, match="COLUMN OP VALUE"):
        parse_goal("x == 3")
    with pytest.raises(BadInput, match="not a number"):
        parse_goal("x >= lots")


# --- command line --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def only_discover(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register only ``discover``, so these tests do not depend on other subcommands."""
    monkeypatch.setattr(experiments.cli, "EXTRA_COMMAND_MODULES", ("experiments.discovery",))


def write_sweep(folder: Path, manifest: bool = True) -> Path:
    """A sweep's runs.parquet (with 10 failed runs) and, optionally, its manifest.json."""
    folder.mkdir(parents=True, exist_ok=True)
    runs = named_runs(n=1200)
    runs["full_package"] = runs["full_package"].astype(float)
    n = len(runs)
    meta: dict[str, Any] = {
        "point": np.arange(n) // 2,
        "replicate": np.arange(n) % 2,
        "seed": np.arange(n) + 1000,
        "run_key": [f"key{i}" for i in range(n)],
        "status": ["failed"] * 10 + ["ok"] * (n - 10),
        "error": ["RuntimeError: boom"] * 10 + [""] * (n - 10),
    }
    runs = pd.concat([pd.DataFrame(meta), runs], axis=1)
    runs.loc[:9, OUTCOME] = np.nan
    runs["funds_absorbed_eur"] = 2e9
    path = folder / "runs.parquet"
    runs.to_parquet(path)
    if manifest:
        factors = [
            {"name": STAFF, "kind": "parameter", "low": 0.4, "high": 3.0, "group": STAFF},
            {
                "name": "omega_econ_asset_country",
                "kind": "parameter",
                "low": 0.4,
                "high": 0.9,
                "group": "omega",
            },
            {"name": "enhanced_financing", "kind": "lever", "low": 0, "high": 1, "group": "f"},
            {"name": "full_package", "kind": "package", "low": 0, "high": 1, "group": "full"},
        ]
        manifest_data = {
            "kind": "sweep",
            "run_id": "sweep-20260101T0000Z-abc123",
            "factors": factors,
            "outcomes": [OUTCOME, "funds_absorbed_eur"],
        }
        (folder / "manifest.json").write_text(json.dumps(manifest_data))
    return path


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("sweep"))


def test_cli_writes_tables_report_and_figures(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "disc"
    argv = ["discover", str(sweep), "--outcome", OUTCOME, "--above", "50", "--out", str(out)]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "1190 runs" in stdout and "10 failed left out" in stdout
    assert "peeling trajectory" in stdout and "<- chosen" in stdout
    files = {p.name for p in out.iterdir()}
    assert files == {
        "prim_trajectory.csv",
        "prim_box.csv",
        "discovery.md",
        "prim_trajectory.png",
        "prim_box.png",
    }
    for name in ("prim_trajectory.png", "prim_box.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC
    box = pd.read_csv(out / "prim_box.csv")
    assert box.columns[:5].tolist() == ["dimension", "low", "high", "restricted", "p_value"]
    assert set(box.loc[box["restricted"], "dimension"]) == {STAFF, "enhanced_financing"}
    staff = box.set_index("dimension").loc[STAFF]
    assert staff["low"] == pytest.approx(1.4, abs=0.1)
    trajectory = pd.read_csv(out / "prim_trajectory.csv")
    assert trajectory.columns[:6].tolist() == [
        "step",
        "coverage",
        "density",
        "mass",
        "n_in_box",
        "n_restricted",
    ]
    report = (out / "discovery.md").read_text()
    sentence = report.splitlines()[2]
    assert sentence.startswith("EU emissions cut by 2050 (vs start year) is above 50% in ")
    assert "FTE per 10k residents" in sentence and "enhanced financing" in sentence
    assert sentence in " ".join(stdout.split())  # printed too (wrapped)
    assert f"govsim discover {sweep} --outcome {OUTCOME} --above 50 --out {out}" in report
    for word in ("Coverage", "Density", "Mass"):
        assert f"- {word} " in report
    # a given box of the trajectory, a --goal, and the sweep directory instead of the file
    argv = ["discover", str(sweep.parent), "--goal", f"{OUTCOME} >= 50", "--box", "3"]
    assert main([*argv, "--no-paste", "--max-p", "1", "--out", str(out), "--overwrite"]) == 0
    chosen = pd.read_csv(out / "prim_box.csv")
    assert chosen["restricted"].sum() == trajectory.loc[3, "n_restricted"]
    assert "number 3 of the" in (out / "discovery.md").read_text()


def test_cli_uses_inputs_when_there_is_no_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = write_sweep(tmp_path / "sweep", manifest=False)
    out = tmp_path / "disc"
    argv = ["discover", str(runs), "--outcome", OUTCOME, "--below", "50", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "--inputs" in err and "Traceback" not in err
    assert not out.exists()
    assert main([*argv, "--inputs", f"{STAFF},enhanced_financing"]) == 0
    assert "2 inputs" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "no_such_outcome", "--above", "50"], "no outcome column 'no_such_outcome'"),
        (["--outcome", OUTCOME, "--above", "50", "--inputs", f"{STAFF},nope"], "no column 'nope'"),
        (["--outcome", OUTCOME, "--above", "1000"], "no run in"),
        (["--outcome", OUTCOME, "--above", "-1000"], "every run in"),
        (["--outcome", OUTCOME, "--above", "50", "--box", "999"], "--box 999"),
        (["--above", "50"], "need --outcome"),
        (["--goal", "whatever"], "COLUMN OP VALUE"),
    ],
)
def test_cli_bad_input_exits_2_naming_the_problem(
    sweep: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "disc"
    assert main(["discover", str(sweep), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert err.startswith("govsim discover: error:") and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"kind": "case", "run_id": "case-x"}, "key 'kind' is \"case\"; expected one of sweep"),
        ({"factors": []}, "key 'kind' is missing"),
        ("{not json", "is not valid JSON"),
    ],
)
def test_cli_reads_the_manifest_kind_and_refuses_what_is_not_a_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], manifest: Any, message: str
) -> None:
    runs = write_sweep(tmp_path / "sweep", manifest=False)
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    (runs.parent / "manifest.json").write_text(text)
    out = tmp_path / "disc"
    argv = ["discover", str(runs), "--outcome", OUTCOME, "--above", "50", "--out", str(out)]
    assert main([*argv, "--inputs", f"{STAFF},enhanced_financing"]) == 2
    err = capsys.readouterr().err
    assert f"{runs.parent / 'manifest.json'}" in err and message in err, err
    assert "Traceback" not in err and not out.exists()


def test_cli_missing_or_unreadable_runs_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "runs.parquet"
    assert main(["discover", str(missing), "--outcome", OUTCOME, "--above", "1"]) == 2
    assert f"runs file {missing} not found" in capsys.readouterr().err
    broken = tmp_path / "runs.parquet"
    broken.write_text("not parquet")
    assert main(["discover", str(broken), "--outcome", OUTCOME, "--above", "1"]) == 2
    assert f"cannot read {broken}" in capsys.readouterr().err


def test_cli_refuses_a_non_empty_out_dir_unless_overwrite(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    argv = ["discover", str(sweep), "--outcome", OUTCOME, "--above", "50", "--out", str(out)]
    assert main(argv) == 2
    assert "not empty" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


# --- the package ---------------------------------------------------------------------------

SUBMODULES = ("prim", "describe", "figures", "inputs", "command")


@pytest.mark.parametrize("first", SUBMODULES)
def test_each_submodule_imports_first_without_an_import_cycle(first: str) -> None:
    """A fresh interpreter imports one submodule first, then the package (a cycle would fail)."""
    code = (
        f"import experiments.discovery.{first}\n"
        "import experiments.discovery as d\n"
        "assert all(hasattr(d, name) for name in d.__all__), 'missing re-export'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_prim_depends_on_no_other_govsim_module() -> None:
    """prim.py stays self-contained, so a different PRIM can replace it as one module."""
    # the package re-exports the function prim, which shadows the submodule as an attribute
    source = Path(importlib.import_module("experiments.discovery.prim").__file__ or "").read_text(
        encoding="utf-8"
    )
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports and not [i for i in imports if "experiments" in i or "abm" in i], imports


# --- our PRIM against the EMA Workbench's ----------------------------------------------------


def _f_score_step(trajectory: pd.DataFrame, min_coverage: float = 0.5) -> int:
    """The box of highest F-score among those with coverage >= min_coverage."""
    coverage = trajectory["coverage"].to_numpy(dtype=float)
    density = trajectory["density"].to_numpy(dtype=float)
    ok = np.flatnonzero(coverage >= min_coverage)
    score = 2 * coverage[ok] * density[ok] / (coverage[ok] + density[ok])
    return int(ok[np.argmax(score)])


@pytest.mark.parametrize("dataset", ["known_box", "named_runs"])
def test_our_prim_and_ema_prim_agree_within_one_peeling_step(dataset: str) -> None:
    """On one fixed dataset both choose the same restrictions, limits one peel apart."""
    with warnings.catch_warnings():  # ema_workbench warns that ipyparallel and altair are missing
        warnings.simplefilter("ignore")
        Prim = importlib.import_module("ema_workbench.analysis.prim").Prim

    if dataset == "known_box":
        X, y = known_box(seed=1)
    else:
        runs = named_runs()
        X = runs[[STAFF, "omega_econ_asset_country", "enhanced_financing"]]
        y = (runs[OUTCOME] >= 50).to_numpy()
    ours = prim(X, y).best(paste=False, max_p=None)
    with warnings.catch_warnings():  # pandas deprecations inside ema_workbench
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="ema_workbench")
        theirs = Prim(X, y.astype(int), peel_alpha=0.05, paste_alpha=0.01, mass_min=0.05)
        theirs = theirs.find_box()
    step = _f_score_step(theirs.peeling_trajectory)
    theirs.select(step)
    limits, initial = theirs.box_lims[step], theirs.box_lims[0]
    restricted = [c for c in X.columns if (limits[c] != initial[c]).any()]
    assert set(restricted) == set(ours.restricted)
    for stat in ("coverage", "density", "mass"):
        assert getattr(theirs, stat) == pytest.approx(
            getattr(ours, stat), abs=0.05 * ours.mass + 0.01
        )
    inside = ours.contains(X)
    for name in restricted:
        for side, row in (("low", 0), ("high", 1)):
            a, b = sorted((float(limits.at[row, name]), ours.limits.at[name, side]))
            between = int(((X[name] >= a) & (X[name] <= b) & inside).sum())
            # one peel removes peel_alpha of the box's runs: the limits are at most that apart
            assert between <= math.ceil(0.05 * ours.n_in_box) + 1, (name, side, a, b, between)
