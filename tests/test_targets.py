"""Calibration targets: the committed files load, match their source and reject bad input.

The files in ``calibration/targets/`` are written only by ``scripts/transcribe_targets.py``;
a test here reruns it and requires the same bytes. The rejection tests write small files to a
temporary directory and check that each problem is reported with its file, entry id and key.
"""

from __future__ import annotations

import hashlib
import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from calibration.targets import TARGETS_DIR, TEXT_KEYS, TargetError, TargetSet, load_targets

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "transcribe_targets.py"
SOURCE = ROOT / "calibration" / "survey_targets.json"
HINT = "run `python scripts/transcribe_targets.py` and review the diff"
INSTRUMENTS = {"nmc_survey_2024", "eoi_2021"}


# The script's functions and tables (it is not a package module, so run it as a file).
tt = runpy.run_path(str(SCRIPT))
toml_value = tt["toml_value"]


@pytest.fixture(scope="module")
def targets() -> TargetSet:
    return load_targets()


@pytest.fixture(scope="module")
def source_items() -> dict[str, dict[str, Any]]:
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    return {item["id"]: item for section in data.values() for item in section}


# --- the committed files ---------------------------------------------------------------------


def test_committed_files_load(targets: TargetSet) -> None:
    assert {p.stem for p in TARGETS_DIR.glob("*.toml")} == INSTRUMENTS
    groups = targets.by_instrument()
    assert set(groups) == INSTRUMENTS
    assert (len(groups["nmc_survey_2024"]), len(groups["eoi_2021"])) == (34, 12)
    assert targets.ids == tuple(targets)
    assert set(targets.ids) == set(tt["PICKS"]), "every pick of the script is in the files"


def test_every_entry_has_provenance_and_n(targets: TargetSet) -> None:
    for target in targets.values():
        assert isinstance(target.n, int) and target.n > 0, target.id
        for key in TEXT_KEYS:
            assert getattr(target, key).strip(), f"{target.id}: empty {key}"
        assert target.file.stem == target.instrument
        assert len(target.categories) == len(target.shares) > 0, target.id


def test_transcription_script_reproduces_committed_files(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    written = sorted(p.name for p in tmp_path.glob("*.toml"))
    assert written == sorted(p.name for p in TARGETS_DIR.glob("*.toml")), HINT
    for name in written:
        assert (tmp_path / name).read_bytes() == (TARGETS_DIR / name).read_bytes(), (
            f"{name} is not what the script writes; {HINT}"
        )
    assert tt["main"](["--check", "--out", str(TARGETS_DIR)]) == 0, HINT


def test_file_headers_name_the_source_and_its_hash() -> None:
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    for path in TARGETS_DIR.glob("*.toml"):
        header = path.read_text(encoding="utf-8").splitlines()[:3]
        assert any("calibration/survey_targets.json" in line and digest in line for line in header)


def test_likert_shares_sum_to_one(targets: TargetSet) -> None:
    likert = [t for t in targets.values() if t.kind == "likert"]
    assert len(likert) == 23
    for target in likert:
        assert target.scale == "ordinal" and target.counts is not None
        assert target.shares.sum() == pytest.approx(1.0, abs=1e-12), target.id
        np.testing.assert_allclose(target.expected_counts(), target.counts)


def test_nmc_barrier_counts_equal_the_shared_file(
    targets: TargetSet, source_items: dict[str, dict[str, Any]]
) -> None:
    shared = {
        i: item
        for i, item in source_items.items()
        if i.startswith("barrier_") and item["kind"] == "likert" and item["unit"] == "count"
    }
    assert len(shared) == 14
    for item_id, item in shared.items():
        target = targets[item_id]
        assert target.counts is not None
        assert target.counts.tolist() == item["values"], item_id
        assert target.n == item["n"] == sum(item["values"]), item_id
        assert target.categories == tuple(item["categories"])
    assert targets["barrier_lack_technical_knowledge"].n == 47


def test_barrier_ordering_matches_the_domain_brief(targets: TargetSet) -> None:
    """Shares rating 4-5 equal the pattern (i) percentages of domain brief section 6."""
    brief = {
        "barrier_high_initial_capital_costs": 81,
        "barrier_insufficient_admin_capacity": 68,
        "barrier_market_uncertainties": 66,
        "barrier_fragmentation_multilevel_gov": 65,
        "barrier_lack_funding_schemes": 63,
        "barrier_public_private_collab": 52,
        "barrier_lack_climate_finance_knowledge": 48,
        "barrier_lack_citizen_participation": 45,
        "barrier_lack_available_technologies": 40,
        "barrier_lack_emissions_tools": 37,
        "barrier_lack_political_commitment": 34,
        "barrier_municipal_silos": 34,
        "barrier_geomorphic_climate": 21,
    }
    high = {i: round(100 * targets[i].shares[3:].sum()) for i in brief}
    assert high == brief


def test_transcribed_values_follow_the_source(
    targets: TargetSet, source_items: dict[str, dict[str, Any]]
) -> None:
    """Percent items are the source / 100 (plus any remainder); table counts round to it."""
    for target in targets.values():
        values = [v for v in source_items[target.id]["values"] if v is not None]
        if target.source_unit.startswith("percent"):
            np.testing.assert_allclose(
                100 * target.shares[: len(values)], values, atol=1.0, err_msg=target.id
            )
    region = targets["nmc_by_region"]
    assert region.counts is None and region.n == 62
    np.testing.assert_allclose(region.shares, np.array([30, 16, 16, 6]) / 68, atol=1e-4)
    status = targets["nmc_target_status_count_from_tables"]
    assert status.categories == ("no target", "planned target", "existing target")
    assert status.counts is not None and status.counts.tolist() == [4, 25, 33]
    engagement = targets["nmc_citizen_engagement_modes"]
    assert (engagement.kind, engagement.n, engagement.shares.tolist()) == (
        "multi_select",
        35,
        [0.73, 0.6],
    )
    assert targets["mc_target_status_eoi"].instrument == "eoi_2021"
    assert targets["eoi_key_barriers"].n == 362


# --- the API ---------------------------------------------------------------------------------


def test_select_keeps_order_and_rejects_unknown_ids(targets: TargetSet) -> None:
    chosen = targets.select(["nmc_plan_types", "eoi_key_barriers"])
    assert chosen.ids == ("nmc_plan_types", "eoi_key_barriers")
    assert set(chosen.by_instrument()) == INSTRUMENTS
    with pytest.raises(TargetError, match=r"unknown target id\(s\): no_such_item; allowed: "):
        targets.select(["nmc_plan_types", "no_such_item"])


def test_targets_are_immutable(targets: TargetSet) -> None:
    target = targets["barrier_municipal_silos"]
    with pytest.raises(ValueError, match="read-only"):
        target.shares[0] = 0.5
    with pytest.raises(AttributeError):
        target.n = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        targets.targets["x"] = target  # type: ignore[index]


def test_share_variances_known_answer(targets: TargetSet) -> None:
    """At p = 0.5 and n = 62 the standard error is about 0.064 (domain brief, section 6)."""
    target = targets["nmc_ghg_inventory_status"]
    np.testing.assert_allclose(target.share_variances(), 0.82 * 0.18 / 62)
    assert np.sqrt(0.5 * 0.5 / 62) == pytest.approx(0.0635, abs=5e-4)


def test_target_error_is_a_value_error_and_calibration_does_not_import_experiments() -> None:
    assert issubclass(TargetError, ValueError)
    code = (
        "import sys, calibration.targets; "
        "sys.exit(any(m.split('.')[0] == 'experiments' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


# --- rejection of bad files ------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "id": "item_a",
    "instrument": "inst",
    "kind": "categorical",
    "scale": "nominal",
    "n": 10,
    "categories": ["yes", "no"],
    "counts": [4, 6],
    "source_unit": "count",
    "transcription": "source counts as given",
    "document": "a report",
    "question": "a question?",
    "population": "some cities",
    "caveat": "none",
}


def _write(folder: Path, *entries: dict[str, Any], name: str = "inst") -> Path:
    """A target file of the given entries (a value of None leaves the key out)."""
    lines = []
    for entry in entries:
        lines.append("[[targets]]")
        lines += [f"{k} = {tt['toml_value'](v)}" for k, v in entry.items() if v is not None]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _entry(**changes: Any) -> dict[str, Any]:
    """GOOD with keys replaced (None removes a key)."""
    entry = {**GOOD, **changes}
    if "shares" in changes:
        entry.pop("counts")
    return entry


def _problems(folder: Path, **kwargs: Any) -> str:
    with pytest.raises(TargetError) as info:
        load_targets(folder, **kwargs)
    return str(info.value)


def test_good_file_loads(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, _entry(id="item_b", kind="multi_select", scale=None, shares=[0.9, 0.8]))
    loaded = load_targets(tmp_path, known_items={"item_a", "item_b"})
    assert loaded.ids == ("item_a", "item_b")
    assert loaded["item_a"].shares.tolist() == [0.4, 0.6]
    assert loaded["item_b"].counts is None
    np.testing.assert_allclose(loaded["item_b"].expected_counts(), [9.0, 8.0])


@pytest.mark.parametrize(
    ("changes", "key", "allowed"),
    [
        ({"shares": [0.5, 0.3]}, "shares", "must sum to 1 (tolerance 0.02)"),
        ({"counts": [4, 5]}, "counts", "must sum to n"),
        ({"counts": [-1, 11]}, "counts", "allowed: integers >= 0"),
        ({"shares": [-0.1, 1.1]}, "shares", "allowed: fractions in [0, 1]"),
        ({"counts": [2, 3.5]}, "counts", "expected an array of non-negative integers"),
        ({"kind": "ranking"}, "kind", "allowed: likert, categorical, multi_select"),
        ({"n": None}, "n", "missing; every target needs it"),
        ({"n": 0}, "n", "expected a positive integer"),
        ({"n": 6.5}, "n", "expected a positive integer"),
        ({"n": "62"}, "n", "expected a positive integer"),
        ({"counts": [4, 3, 3]}, "counts", "3 values for 2 categories; lengths must match"),
        ({"sample": 3}, "sample", "unknown key; allowed: id, instrument"),
        ({"scael": "nominal"}, "scael", "did you mean 'scale'?"),
        ({"scale": None}, "scale", "a categorical item needs one of: nominal, ordinal"),
        ({"scale": "interval"}, "scale", "expected one of: nominal, ordinal"),
        ({"caveat": ""}, "caveat", "expected a non-empty string"),
        ({"document": None}, "document", "missing; every target needs it"),
        ({"instrument": "other"}, "instrument", "must be the file's stem"),
        ({"categories": ["yes", "yes"]}, "categories", "labels must be unique"),
        ({"counts": None}, "counts", "give exactly one of 'counts'"),
    ],
)
def test_rejection_names_file_id_and_key(
    tmp_path: Path, changes: dict[str, Any], key: str, allowed: str
) -> None:
    path = _write(tmp_path, _entry(**changes))
    message = _problems(tmp_path)
    assert f"{path}: target 'item_a': {key}: " in message
    assert allowed in message


def test_multi_select_counts_may_not_exceed_n(tmp_path: Path) -> None:
    path = _write(tmp_path, _entry(kind="multi_select", scale=None, counts=[11, 3]))
    assert f"{path}: target 'item_a': counts: a count exceeds n = 10" in _problems(tmp_path)


def test_duplicate_ids_within_and_across_files(tmp_path: Path) -> None:
    first = _write(tmp_path, GOOD, GOOD)
    assert f"{first}: target 'item_a': id: duplicate in this file" in _problems(tmp_path)
    _write(tmp_path, GOOD)
    second = _write(tmp_path, _entry(instrument="more"), name="more")
    message = _problems(tmp_path)
    assert f"{second}: target 'item_a': id: duplicate; also in {first}" in message


def test_unknown_item_ids_are_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD, _entry(id="item_c"))
    message = _problems(tmp_path, known_items={"item_a", "item_b"})
    assert message.startswith("1 problem(s)"), "only the unknown id is reported"
    assert f"{path}: target 'item_c': id: not a known survey item; allowed: item_a, item_b" in (
        message
    )


def test_all_problems_of_a_file_are_reported_together(tmp_path: Path) -> None:
    path = _write(tmp_path, _entry(kind="ranking", n=0), _entry(id="item_b", counts=[1, 1]))
    message = _problems(tmp_path)
    assert message.startswith("3 problem(s) in target files:")
    assert f"{path}: target 'item_a': kind: " in message
    assert f"{path}: target 'item_a': n: " in message
    assert f"{path}: target 'item_b': counts: " in message


def test_malformed_or_empty_files_are_reported(tmp_path: Path) -> None:
    assert f"{tmp_path}: no target files" in _problems(tmp_path)
    bad = tmp_path / "inst.toml"
    bad.write_text("[[targets]\n", encoding="utf-8")
    assert f"{bad}: cannot read the file as UTF-8 TOML" in _problems(tmp_path)
    bad.write_text('title = "x"\n', encoding="utf-8")
    message = _problems(tmp_path)
    assert f"{bad}: title: unknown top-level key; allowed: targets" in message
    assert f"{bad}: targets: expected a non-empty array" in message


def test_dynamic_patterns_have_sources_and_n() -> None:
    """The hand-written dynamic targets (issue 12): each with provenance and a positive n."""
    from calibration.targets import DYNAMICS_DIR, load_all_targets

    dynamic = load_targets(DYNAMICS_DIR)
    assert set(dynamic) == {
        "mission_label_timing",
        "mission_ccc_mid_2024",
        "grant_absorption_curve",
    }
    labels = dynamic["mission_label_timing"]
    assert labels.n == 112 and labels.counts is not None and int(labels.counts.sum()) == 112
    for target in dynamic.values():
        assert target.document and target.caveat and target.n > 0
    assert set(dynamic) <= set(load_all_targets())
