"""The results layer: atomic directories and files, manifests with kind and run ID, reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from abm.config import ScenarioConfig
from experiments import results
from experiments.errors import BadInput


def test_atomic_dir_leaves_nothing_when_the_block_fails(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er" / "out"
    with pytest.raises(RuntimeError, match="boom"), results.atomic_dir(out) as tmp:
        (tmp / "half.csv").write_text("a,b\n")
        raise RuntimeError("boom")
    assert not (tmp_path / "deep").exists()


def test_atomic_dir_replaces_only_with_overwrite_and_clears_a_killed_runs_debris(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    with results.atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("first")
    debris = tmp_path / ".out.abc123"  # what kill -9 in the middle of a write leaves
    debris.mkdir()
    (debris / "partial.parquet").write_text("x")
    with (
        pytest.raises(BadInput, match="exists and is not empty; use --overwrite"),
        results.atomic_dir(out),
    ):
        pass
    with results.atomic_dir(out, overwrite=True) as tmp:
        (tmp / "b.txt").write_text("second")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]


def test_atomic_file_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    results.write_text(target, "old\n")
    with pytest.raises(ValueError, match="bad"), results.atomic_file(target) as tmp:
        tmp.write_text("new, half")
        raise ValueError("bad")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
    (tmp_path / ".table.csv.x1y2").write_text("half")  # a killed write's temporary
    results.write_text(target, "new\n")
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_staged_files_replace_all_or_none_and_clear_a_killed_runs_stage(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("old a")
    (tmp_path / ".staged.killed").mkdir()
    with pytest.raises(RuntimeError), results.staged_files(tmp_path, ["a.csv", "b.csv"]) as tmp:
        (tmp / "a.csv").write_text("new a")
        raise RuntimeError("stop")
    assert (tmp_path / "a.csv").read_text() == "old a"
    with results.staged_files(tmp_path, ["a.csv", "b.csv"]) as tmp:
        (tmp / "a.csv").write_text("new a")
        (tmp / "b.csv").write_text("new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]
    assert (tmp_path / "a.csv").read_text() == "new a"


def test_manifest_has_the_shared_provenance_keys_and_refuses_clashes() -> None:
    config = ScenarioConfig()
    run_id = results.make_run_id("compare", [config], [1, 2])
    info = results.new_manifest(
        "compare", run_id, command="govsim compare x", configs=[config], seeds=[1, 2], extra=3
    )
    for key in (
        "kind",
        "run_id",
        "created_utc",
        "command",
        "reproduce",
        "code_version",
        "code_dirty",
        "package_versions",
        "data_sha256",
        "seeds",
        "posterior",
    ):
        assert key in info, key
    assert info["extra"] == 3 and info["reproduce"] == "govsim compare x"
    # cities, countries, grid intensity, plants, announced projects, ETS sector mix, energy
    # prices, demand drivers, steel and chemicals import shares
    assert len(info["data_sha256"]) == 10 and "numpy" in info["package_versions"]
    with pytest.raises(ValueError, match="set by new_manifest"):
        results.new_manifest("compare", run_id, command="c", code_version="mine")
    with pytest.raises(ValueError, match="unknown results kind 'forecast'"):
        results.new_manifest("forecast", run_id, command="c")


def test_run_ids_end_with_the_inputs_hash() -> None:
    config = ScenarioConfig()
    a = results.make_run_id("demo", [config], [1, 2])
    b = results.make_run_id("demo", [config], [1, 2])
    c = results.make_run_id("demo", [config], [1, 3])
    assert a.split("-")[-1] == b.split("-")[-1] != c.split("-")[-1]
    assert a.startswith("demo-")


def test_read_manifest_reads_the_kind_and_never_guesses(tmp_path: Path) -> None:
    info = {"kind": "run", "run_id": "run-x", "seed": 1}
    results.write_manifest(tmp_path, info)
    manifest = results.read_manifest(tmp_path)
    assert (manifest.kind, manifest.run_id, manifest.directory) == ("run", "run-x", tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"seed": 1, "headline": {}}))
    with pytest.raises(BadInput, match="key 'kind' is missing; expected one of run, compare"):
        results.read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "sweep"}))
    with pytest.raises(BadInput, match="key 'run_id' is missing"):
        results.read_manifest(tmp_path)
    with pytest.raises(BadInput, match="expected one of calibration"):
        results.read_manifest(tmp_path, kinds=("calibration",))
    with pytest.raises(ValueError, match="needs a non-empty string 'run_id'"):
        results.write_manifest(tmp_path, {"kind": "run"})
