"""Pinned baseline: the small scenario (seed 42) reproduces the stored EU rows and headlines.

The stored files in ``tests/baseline/`` are written only by ``scripts/update_baseline.py``.
Any change to the model's numbers fails here until that script is run and its diff reviewed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd

from abm.config import ScenarioConfig
from abm.outputs import SimulationResult

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "update_baseline.py"
HINT = "run `python scripts/update_baseline.py` if the change is intended"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_baseline", SCRIPT)
    assert spec is not None and spec.loader is not None, f"cannot import {SCRIPT}"
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("update_baseline", module)
    spec.loader.exec_module(module)
    return module


ub = _load_script()


def test_baseline_files_exist() -> None:
    assert ub.EU_CSV.is_file() and ub.HEADLINE_JSON.is_file(), f"no pinned baseline; {HINT}"


def test_baseline_scenario_is_the_small_test_config(small_config: ScenarioConfig) -> None:
    assert ub.baseline_config() == small_config
    assert ub.SEED == 42


def test_model_reproduces_pinned_baseline(small_result: SimulationResult) -> None:
    assert small_result.config == ub.baseline_config() and small_result.seed == ub.SEED
    changes = ub.differences(ub.load(), ub.summarise(small_result))
    listing = "\n  ".join(changes[:40]) + ("\n  ..." if len(changes) > 40 else "")
    assert not changes, (
        f"{len(changes)} pinned value(s) differ from tests/baseline (rtol {ub.RTOL}):\n"
        f"  {listing}\n{HINT}"
    )


def test_pinned_table_covers_every_year_and_key_column() -> None:
    table, headline = ub.load()
    assert list(table.columns) == ["year", *ub.KEY_COLUMNS], HINT
    cfg = ub.baseline_config()
    assert table["year"].tolist() == list(range(cfg.start_year, cfg.end_year + 1)), HINT
    assert table[list(ub.KEY_COLUMNS)].notna().all().all()
    assert headline, HINT
    # the pinned run is not trivial: emissions fall and money flows
    assert table["emissions_total_t"].iloc[-1] < table["emissions_total_t"].iloc[0]
    assert table["funds_awarded_eur"].sum() > 0


def test_comparison_detects_a_change() -> None:
    """The comparison itself can fail: a nudge beyond the tolerance is reported."""
    table, headline = ub.load()
    nudged = table.copy()
    nudged.loc[3, "emissions_total_t"] *= 1 + 10 * ub.RTOL
    head = dict(headline)
    key = next(k for k in sorted(head) if head[k] == head[k])  # first non-NaN outcome
    head[key] = head[key] * (1 + 10 * ub.RTOL) + 1e-6
    changes = ub.differences((table, headline), (nudged, head))
    assert len(changes) == 2, changes
    assert ub.differences((table, headline), (table.copy(), dict(headline))) == []
    dropped = ub.differences((table, headline), (table.iloc[:-1], headline))
    assert any(line.startswith("years:") for line in dropped)


def test_rounding_is_within_tolerance(small_result: SimulationResult) -> None:
    """Storing 12 significant digits loses far less than the comparison tolerance."""
    raw = small_result.eu_year[small_result.eu_year["level"] == "EU"]
    stored, _ = ub.summarise(small_result)
    for col in ub.KEY_COLUMNS:
        pd.testing.assert_series_equal(
            stored[col],
            raw[col].astype(float).reset_index(drop=True),
            check_exact=False,
            rtol=ub.RTOL / 10,
            check_names=False,
        )
