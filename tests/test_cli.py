"""The govsim command line and the experiment runner: outputs, provenance, bad input, CRN.

Runs use a small synthetic EU (20 non-mission cities, one citizen agent per 20 000 residents,
10 generated plants, 2025-2032) so the whole file stays fast.
"""

from __future__ import annotations

import ast
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from abm.config import DATA_DIR, registry
from abm.policies import LEVER_NAMES
from abm.population import file_sha256
from abm.rng import replicate_seeds
from experiments import compare, figures
from experiments.cli import main
from experiments.runner import (
    RunSummary,
    paired_differences,
    run_scenarios,
    summary_table,
)
from experiments.scenario import load_scenario
from experiments.text import ci, fmt

EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"
RUN_FILES = {"manifest.json", "city_year.parquet", "installation_year.parquet", "eu_year.parquet"}
SMALL = f"""\
[scenario]
extends = "{(EXPERIMENTS_DIR / "baseline.toml").as_posix()}"
name = "baseline"
start_year = 2025
end_year = 2032

[population]
n_non_mission_cities = 20
residents_per_citizen = 20000.0
generated_installations = 10
"""
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo scenario folder: a small baseline plus the shipped lever and package files.

    The shipped lever files extend '../baseline.toml' and the package 'baseline.toml', so
    copied next to the small baseline they extend it instead of the shipped one.
    """
    root = tmp_path_factory.mktemp("scenarios")
    (root / "baseline.toml").write_text(SMALL, encoding="utf-8")
    shutil.copytree(EXPERIMENTS_DIR / "levers", root / "levers")
    shutil.copy(EXPERIMENTS_DIR / "full_package.toml", root / "full_package.toml")
    return root


@pytest.fixture(scope="module")
def small(small_dir: Path) -> Path:
    """The small baseline scenario file."""
    return small_dir / "baseline.toml"


def write(path: Path, text: str) -> Path:
    """Write a text file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


def no_traceback(err: str) -> None:
    """Bad input is reported as a message, never as a Python traceback."""
    assert "Traceback" not in err


# --- govsim run ------------------------------------------------------------------------------


def test_run_writes_the_four_files_and_a_full_manifest(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run writes manifest + three tables; the manifest has seed, config, data hashes, packages."""
    out = tmp_path / "run"
    assert main(["run", str(small), "--seed", "3", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 3
    assert man["scenario"] == "baseline"
    assert man["kind"] == "run" and man["run_id"].startswith("run-")
    assert isinstance(man["code_dirty"], bool) and man["command"].startswith("govsim run")
    assert man["config"]["end_year"] == 2032
    assert man["config"]["population"]["n_non_mission_cities"] == 20
    countries = DATA_DIR / "countries.csv"
    assert man["data_sha256"][str(countries)] == file_sha256(countries)
    # cities, countries, grid intensity, plants, announced projects, ETS sector mix, energy
    # prices, demand drivers, steel and chemicals import shares
    assert len(man["data_sha256"]) == 10
    assert {"python", "numpy", "pandas", "mesa"} <= set(man["package_versions"])
    eu = pd.read_parquet(out / "eu_year.parquet")
    assert sorted(eu.loc[eu["level"] == "EU", "year"]) == list(range(2025, 2033))
    stdout = capsys.readouterr().out
    assert str(out) in stdout and man["run_id"] in stdout
    assert "EU emissions cut by 2050" in stdout


def test_run_is_reproducible_for_a_seed_and_differs_across_seeds(
    small: Path, tmp_path: Path
) -> None:
    """Same seed -> identical tables; another seed -> different tables."""
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        assert main(["run", str(small), "--seed", seed, "--out", str(tmp_path / name)]) == 0
    for table in ("city_year", "installation_year", "eu_year"):
        a = pd.read_parquet(tmp_path / "a" / f"{table}.parquet")
        b = pd.read_parquet(tmp_path / "b" / f"{table}.parquet")
        assert_frame_equal(a, b)
    a = pd.read_parquet(tmp_path / "a" / "city_year.parquet")
    c = pd.read_parquet(tmp_path / "c" / "city_year.parquet")
    assert not a["emissions_total_t"].equals(c["emissions_total_t"])


def test_run_bad_scenario_exits_2_naming_file_and_key(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario that does not validate: exit 2, file and dotted key on stderr, no output."""
    bad = write(
        tmp_path / "bad.toml",
        f'[scenario]\nextends = "{small.as_posix()}"\nname = "bad"\n\n'
        "[parameters]\nskill_turnover_per_yr = 0.1\n",
    )
    out = tmp_path / "out"
    assert main(["run", str(bad), "--seed", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "parameters.skill_turnover_per_yr" in err
    assert "skill_turnover_per_year" in err  # the did-you-mean hint
    no_traceback(err)
    assert not out.exists()


def test_run_data_file_missing_a_column_exits_2_without_output(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """countries.csv without 'region': exit 2, the file and column named, nothing written."""
    countries = pd.read_csv(DATA_DIR / "countries.csv", keep_default_na=False)
    broken = tmp_path / "countries_no_region.csv"
    countries.drop(columns=["region"]).to_csv(broken, index=False)
    scenario = write(
        tmp_path / "broken.toml",
        f'[scenario]\nextends = "{small.as_posix()}"\nname = "broken"\n\n'
        f'[population]\ncountries_csv = "{broken.name}"\n',
    )
    out = tmp_path / "results" / "out"
    assert main(["run", str(scenario), "--seed", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad data file" in err
    assert str(broken) in err
    assert "region" in err
    no_traceback(err)
    assert not out.exists()
    assert not (tmp_path / "results").exists()


def test_run_refuses_a_non_empty_out_dir_unless_overwrite(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing output directory is kept (exit 2) unless --overwrite replaces it."""
    out = tmp_path / "out"
    out.mkdir()
    keep = write(out / "keep.txt", "mine")
    assert main(["run", str(small), "--seed", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err
    no_traceback(err)
    assert keep.read_text() == "mine"
    assert main(["run", str(small), "--seed", "0", "--out", str(out), "--overwrite"]) == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directory left


def test_usage_errors_exit_2(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse errors return 2 rather than raising SystemExit."""
    assert main(["run", str(small), "--seed", "-1", "--out", "x"]) == 2
    assert main(["compare", str(small), "--replicates", "1"]) == 2
    assert main(["frobnicate"]) == 2
    assert "expected an integer >= 2" in capsys.readouterr().err


# --- replicate seeds and the runner ----------------------------------------------------------


def test_replicate_seeds_are_deterministic_distinct_and_prefix_stable() -> None:
    """Same master seed, same seeds; distinct; a longer list extends a shorter one."""
    seeds = replicate_seeds(0, 50)
    assert seeds == replicate_seeds(0, 50)
    assert len(set(seeds)) == 50
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in seeds)
    assert replicate_seeds(0, 5) == seeds[:5]
    assert replicate_seeds(1, 5) != seeds[:5]  # seed 0 is a seed, not "no seed"
    assert seeds[:3] == [int(s) for s in np.random.SeedSequence(0).generate_state(3, np.uint32)]
    with pytest.raises(ValueError, match="master_seed"):
        replicate_seeds(-1, 3)
    with pytest.raises(ValueError, match="replicates"):
        replicate_seeds(0, 0)


def test_run_scenarios_is_identical_for_any_n_jobs(small_dir: Path) -> None:
    """n_jobs=1 and n_jobs=2 give the same summaries, in seed order, for every scenario."""
    configs = [
        load_scenario(small_dir / "baseline.toml"),
        load_scenario(small_dir / "full_package.toml"),
    ]
    seeds = replicate_seeds(11, 3)
    serial = run_scenarios(configs, seeds, n_jobs=1, progress=False)
    parallel = run_scenarios(configs, seeds, n_jobs=2, progress=False)
    assert list(serial) == list(parallel) == ["baseline", "full_package"]
    for name in serial:
        assert [r.seed for r in serial[name]] == seeds
        assert all(a.equals(b) for a, b in zip(serial[name], parallel[name], strict=True))
    run = serial["baseline"][0]
    # the mission / non-mission split adds up to the EU total in every year
    path = run.pathways()
    parts = path["emissions_mission_cities_t"] + path["emissions_non_mission_cities_t"]
    np.testing.assert_allclose(parts, path["emissions_total_t"], rtol=1e-12)
    assert set(run.eu_year["level"]) == {"EU"}
    assert serial["full_package"][0].headline != run.headline  # levers change the outcomes


def fake(scenario: str, seed: int, value: float) -> RunSummary:
    """A RunSummary with one headline outcome, for known-answer tests of the statistics."""
    years = pd.DataFrame({"year": [2025]})
    return RunSummary(scenario, seed, {"x": value}, years, years)


def test_paired_differences_known_answer() -> None:
    """Diffs (1, 2, 0): mean 1, sd 1, 95% half-width t(0.975, 2) / sqrt(3) = 2.48414."""
    summaries = {
        "base": [fake("base", s, v) for s, v in ((10, 1.0), (11, 2.0), (12, 3.0))],
        # listed in another seed order: pairing is by seed, not by position
        "lever": [fake("lever", s, v) for s, v in ((12, 3.0), (10, 2.0), (11, 4.0))],
    }
    table = paired_differences(summaries, "base")
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["scenario"], row["baseline"], row["outcome"], row["n"]) == ("lever", "base", "x", 3)
    assert row["mean_scenario"] == pytest.approx(3.0)
    assert row["mean_baseline"] == pytest.approx(2.0)
    assert row["mean_difference"] == pytest.approx(1.0)
    assert row["sd_difference"] == pytest.approx(1.0)
    half = 4.302652729911275 / math.sqrt(3.0)
    assert row["ci_low"] == pytest.approx(1.0 - half)
    assert row["ci_high"] == pytest.approx(1.0 + half)
    summary = summary_table(summaries).set_index("scenario")
    assert summary.loc["lever", "mean"] == pytest.approx(3.0)
    assert summary.loc["lever", "low"] == pytest.approx(2.1)  # 5% quantile of (2, 3, 4)
    assert summary.loc["lever", "high"] == pytest.approx(3.9)
    summaries["lever"][0] = fake("lever", 99, 3.0)
    with pytest.raises(ValueError, match="same seeds"):
        paired_differences(summaries, "base")


# --- govsim compare ------------------------------------------------------------------------


def test_compare_baseline_with_a_renamed_copy_gives_exact_zero_differences(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Common random numbers: the same model under another name differs by exactly 0."""
    copy = write(
        tmp_path / "copy.toml",
        f'[scenario]\nextends = "{small.as_posix()}"\nname = "baseline_copy"\n',
    )
    out = tmp_path / "cmp"
    argv = ["compare", str(small), str(copy), "--replicates", "3", "--seed", "5"]
    assert main([*argv, "--jobs", "1", "--no-progress", "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert {"mean_difference", "ci_low", "ci_high", "n", "mean_baseline"} <= set(table.columns)
    assert set(table["scenario"]) == {"baseline_copy"}
    assert (table["n"] == 3).all()
    # outcomes for years beyond the (short) test horizon are NaN; all others are exactly 0
    beyond = table["outcome"].str.contains("2040|2050")
    assert table.loc[beyond, "mean_difference"].isna().all()
    assert (table.loc[~beyond, "mean_difference"] == 0.0).all()
    inside = table.loc[~beyond]
    assert (inside["ci_low"] == 0.0).all() and (inside["ci_high"] == 0.0).all()
    assert (inside["mean_scenario"] == inside["mean_baseline"]).all()
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["scenario"]) == {"baseline", "baseline_copy"}
    man = json.loads((out / "manifest.json").read_text())
    assert man["seeds"] == replicate_seeds(5, 3)
    assert man["replicates"] == 3 and man["master_seed"] == 5
    assert [s["name"] for s in man["scenarios"]] == ["baseline", "baseline_copy"]
    assert man["scenarios"][0]["config"]["population"]["generated_installations"] == 10
    assert man["command"].startswith("govsim compare ")
    assert str(copy) in man["command"]
    # the ten data files (as in test_run_writes_the_four_files_and_a_full_manifest)
    assert len(man["data_sha256"]) == 10 and "numpy" in man["package_versions"]
    assert (out / "emission_pathways.png").read_bytes()[:8] == PNG_MAGIC
    stdout = capsys.readouterr().out
    assert "baseline_copy" in stdout and "95% CI" in stdout


def test_compare_rejects_duplicate_names_and_bad_files_before_running(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two files with one name, or an invalid file: exit 2 and no output directory."""
    out = tmp_path / "cmp"
    assert main(["compare", str(small), str(small), "--replicates", "2", "--out", str(out)]) == 2
    assert "unique" in capsys.readouterr().err
    bad = write(tmp_path / "bad.toml", '[scenario]\nname = "bad"\nend_year = "2050"\n')
    assert main(["compare", str(small), str(bad), "--replicates", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "scenario.end_year" in err
    no_traceback(err)
    assert not out.exists()


COMPARE_FILES = [
    "summary.csv",
    "comparison.csv",
    "pathways.csv",
    "runs.csv",
    "emission_pathways.png",
    "industry_emissions.png",
    "city_groups.png",
    "effect_emissions_reduction_2050_pct.png",
    "effect_industry_emissions_reduction_2050_pct.png",
    "effect_funds_absorbed_eur.png",
    "manifest.json",
    "README.md",
]
COMPARE_MANIFEST_KEYS = [
    "kind", "run_id", "created_utc", "command", "reproduce", "code_version", "code_dirty",
    "package_versions", "data_sha256", "seeds", "posterior", "argv", "baseline", "diff_file",
    "master_seed", "replicates", "n_jobs", "wall_time_s", "fingerprint_sha256", "scenarios",
    "files",
]  # fmt: skip


def test_compare_writes_the_same_files_and_prints_the_rows_of_its_table(
    small_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The files, manifest keys, printed table and README of compare are those of its CSV."""
    out = tmp_path / "cmp"
    lever = small_dir / "levers" / "enhanced_financing.toml"
    argv = ["compare", str(small_dir / "baseline.toml"), str(lever), "--replicates", "2"]
    assert main([*argv, "--jobs", "1", "--no-progress", "--out", str(out)]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["files"] == COMPARE_FILES
    assert sorted(p.name for p in out.iterdir()) == sorted(COMPARE_FILES)
    assert list(man) == COMPARE_MANIFEST_KEYS
    assert man["kind"] == "compare" and man["diff_file"] == "comparison.csv"
    diffs = pd.read_csv(out / "comparison.csv")
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"paired differences from 'baseline' over 2 replicates \(common seeds from master seed "
        r"0; 95% t-interval\), \d+\.\d s",
        lines[0],
    )
    header = ["outcome", "scenario", "baseline", "scenario mean", "difference", "95% CI"]
    assert re.split(r"\s{2,}", lines[1].strip()) == header
    assert set(lines[2]) == {"-", " "}
    rows = lines[3 : 3 + len(diffs)]
    # then the effects per EUR 1 bn of public money, one row per scenario and per-euro outcome
    per_euro = compare.per_billion_rows(diffs.fillna({"per_euro_note": ""}))
    k = 3 + len(diffs)
    assert lines[k].startswith("effects per EUR 1 bn of extra public money on the levers")
    assert re.split(r"\s{2,}", lines[k + 1].strip()) == compare.PER_EURO_HEADERS
    assert len(per_euro) == len(compare.PER_EURO_OUTCOMES)
    for line, cells in zip(lines[k + 3 : k + 3 + len(per_euro)], per_euro, strict=True):
        assert re.split(r"\s{2,}", line.strip()) == [c for c in cells if c]
    assert lines[k + 3 + len(per_euro)] == f"wrote {out}"
    for line, rec in zip(rows, diffs.to_dict("records"), strict=True):
        info = figures.describe_outcome(rec["outcome"])
        s = info.scale
        cells = [
            f"{info.label} ({info.unit})",
            rec["scenario"],
            fmt(rec["mean_baseline"] * s),
            fmt(rec["mean_scenario"] * s),
            fmt(rec["mean_difference"] * s),
            ci(rec, s),
        ]
        assert re.split(r"\s{2,}", line.strip()) == cells
    readme = (out / "README.md").read_text()
    assert readme.startswith(f"# govsim compare `{man['run_id']}`\n")
    (key,) = diffs[diffs["outcome"] == "emissions_reduction_2050_pct"].to_dict("records")
    row = f"| enhanced_financing | {fmt(key['mean_difference'])} | {ci(key, 1.0)} |\n"
    assert readme.endswith("|---|---|---|\n" + row)


# --- layers: no import cycles ----------------------------------------------------------------


def _internal_imports(path: Path, modules: set[str]) -> set[str]:
    """The experiments modules a file imports (anywhere in it, also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                name = f"{node.module}.{a.name}"
                if name in modules:
                    found.add(name)  # a submodule: from experiments.report import figures
                elif node.module in modules:
                    found.add(node.module)
    return found


def test_experiments_modules_import_each_other_without_cycles() -> None:
    """No experiments module imports, directly or through others, a module importing it."""
    package = EXPERIMENTS_DIR.parent
    root = package.parent
    files = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: _internal_imports(path, set(files)) - {name} for name, path in files.items()}
    assert "experiments.report.schema" in graph["experiments.report"]
    assert "experiments.report" in graph["experiments.compare"]
    for start in graph:
        chains = [[start, name] for name in sorted(graph[start])]
        seen: set[str] = set()
        while chains:
            chain = chains.pop()
            assert chain[-1] != start, "import cycle: " + " -> ".join(chain)
            if chain[-1] not in seen:
                seen.add(chain[-1])
                chains += [[*chain, name] for name in sorted(graph[chain[-1]])]


def test_the_report_does_not_import_the_command_line() -> None:
    """In a fresh interpreter, the report package loads without experiments.cli or compare."""
    code = (
        "import sys, experiments.report.schema, experiments.report; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('experiments'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert {"experiments.report.schema", "experiments.report.command"} <= loaded
    assert not loaded & {"experiments.cli", "experiments.compare", "experiments.commands"}


# --- govsim demo, levers, params -------------------------------------------------------------


def test_demo_writes_tables_figures_manifest_and_readme(
    small_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo runs baseline, every lever and the full package and documents the result."""
    root = tmp_path / "results"
    argv = ["demo", "--replicates", "2", "--seed", "4", "--jobs", "1"]
    assert main([*argv, "--out-root", str(root), "--scenario-dir", str(small_dir)]) == 0
    (out,) = list(root.iterdir())
    assert re.fullmatch(r"demo-\d{8}T\d{4}Z-[0-9a-f]{6}", out.name)
    names = {p.name for p in out.iterdir()}
    assert {"summary.csv", "lever_effects.csv", "manifest.json", "README.md"} <= names
    pngs = {n for n in names if n.endswith(".png")}
    assert {"emission_pathways.png", "effect_emissions_reduction_2050_pct.png"} <= pngs
    assert len(pngs) >= 4
    assert all((out / n).read_bytes()[:8] == PNG_MAGIC for n in pngs)
    scenarios = ["baseline", *LEVER_NAMES, "full_package"]
    summary = pd.read_csv(out / "summary.csv")
    assert list(dict.fromkeys(summary["scenario"])) == scenarios
    # outcomes of 2040 or 2050 are NaN on this short horizon; every other one has a value
    late = summary["outcome"].str.contains("2040|2050")
    covered = summary[~late]
    assert covered["mean"].notna().all() and len(covered) >= len(summary) / 3
    assert (covered["low"] <= covered["mean"] + 1e-9).all()
    assert (covered["mean"] <= covered["high"] + 1e-9).all()
    effects = pd.read_csv(out / "lever_effects.csv")
    assert list(dict.fromkeys(effects["scenario"])) == scenarios[1:]
    assert (effects["n"] == 2).all()
    cut = effects[effects["outcome"] == "emissions_reduction_2030_pct"].set_index("scenario")
    assert (cut["ci_low"] <= cut["mean_difference"]).all()
    assert (cut["mean_difference"] <= cut["ci_high"]).all()
    assert cut.loc["full_package", "mean_difference"] != 0.0
    man = json.loads((out / "manifest.json").read_text())
    assert man["run_id"] == out.name and man["kind"] == "demo"
    assert man["seeds"] == replicate_seeds(4, 2)
    assert [s["name"] for s in man["scenarios"]] == scenarios
    assert {s["config"]["population"]["n_non_mission_cities"] for s in man["scenarios"]} == {20}
    assert out.name.endswith(man["fingerprint_sha256"][:6])
    readme = (out / "README.md").read_text()
    assert "govsim demo --replicates 2 --seed 4" in readme
    captured = capsys.readouterr()
    assert str(out) in captured.out
    assert "full_package" in captured.out
    assert "simulating" in captured.err  # the progress bar


def test_levers_lists_every_lever(capsys: pytest.CaptureFixture[str]) -> None:
    """govsim levers prints each lever with its brief text and what it changes."""
    assert main(["levers"]) == 0
    out = capsys.readouterr().out
    for name in LEVER_NAMES:
        assert re.search(rf"^{name}$", out, flags=re.MULTILINE)
    assert out.count("brief:") == len(LEVER_NAMES)
    assert out.count("changes:") == len(LEVER_NAMES)


def test_params_prints_the_registry_as_table_and_csv(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """govsim params --csv is the registry row for row; the text table names every parameter."""
    rows = registry()
    assert main(["params", "--csv"]) == 0
    from io import StringIO

    table = pd.read_csv(StringIO(capsys.readouterr().out))
    assert list(table.columns) == ["name", "value", "unit", "low", "high", "source", "doc"]
    assert table["name"].tolist() == [r["name"] for r in rows]
    assert table["value"].tolist() == pytest.approx([r["value"] for r in rows])
    assert main(["params"]) == 0
    text = capsys.readouterr().out
    assert all(r["name"] in text for r in rows)


def test_compare_failure_while_writing_leaves_no_output(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Output is written to a temporary directory renamed into place only when complete."""

    def broken(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figures, "plot_lever_effects", broken)
    out = tmp_path / "new" / "cmp"
    argv = ["compare", str(small), str(small.parent / "full_package.toml")]
    with pytest.raises(RuntimeError, match="figure failed"):
        main([*argv, "--replicates", "2", "--jobs", "1", "--no-progress", "--out", str(out)])
    assert list(tmp_path.iterdir()) == []  # neither the directory, its temp copy nor its parent
