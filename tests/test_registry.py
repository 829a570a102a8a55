"""The parameter registry is complete: every behavioural number of the rules is an entry in it.

An entry has a unit, a plausible range around its default and a tagged source; the rule and
agent modules keep no module-level numeric constants except the few unit conversions and indices
listed in ``ALLOWED`` (scanned with ``ast``, so a new constant fails here until it moves to
``abm.config.Parameters`` or is added to the allow-list with its reason).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from abm.config import Parameters, registry
from abm.rules._math import logistic

ROOT = Path(__file__).resolve().parents[1]
SCANNED = (
    *sorted((ROOT / "abm" / "rules").glob("*.py")),
    *sorted((ROOT / "abm" / "agents").glob("*.py")),
    ROOT / "abm" / "model.py",
)
TAGS = ("[src]", "[der]", "[assume", "calibrated:")
# module-level numbers that are not behaviour: unit conversions and array indices
ALLOWED: dict[str, str] = {
    "funding.PROGRAMME_YEARS": "unit of admin_fte_years_per_meur (per EUR 1 M over 7 years)",
    "projects.WASTE": "index of the waste sector in SECTORS_CITY",
}


def _is_number(node: ast.expr) -> bool:
    """A numeric literal or arithmetic on numeric literals (``0.2 / 5``, ``-1``)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return _is_number(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_number(node.left) and _is_number(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in ("sqrt", "float", "int") and all(map(_is_number, node.args))
    return False


def numeric_constants(path: Path) -> list[str]:
    """``module.NAME`` of each module-level assignment of a number in ``path``."""
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if _is_number(value):
            found += [f"{path.stem}.{t.id}" for t in targets if isinstance(t, ast.Name)]
    return found


def test_rules_and_agents_keep_no_behavioural_constants() -> None:
    found = [name for path in SCANNED for name in numeric_constants(path)]
    extra = sorted(set(found) - set(ALLOWED))
    assert not extra, f"move these to abm.config.Parameters (or allow-list them): {extra}"
    assert set(ALLOWED) <= set(found), "allow-list names a constant that no longer exists"


def test_the_scan_finds_a_constant(tmp_path: Path) -> None:
    """The scan itself can fail: literals, negated and computed numbers are all found."""
    module = tmp_path / "rule.py"
    module.write_text("A = 0.3\nB: float = -1\nC = 0.2 / sqrt(5.0)\nD = (1, 2)\nE = 'x'\n")
    assert numeric_constants(module) == ["rule.A", "rule.B", "rule.C"]


def test_every_entry_has_unit_range_and_tagged_source() -> None:
    for row in registry():
        name = row["name"]
        assert row["unit"].strip(), name
        assert row["low"] < row["high"] and row["low"] <= row["value"] <= row["high"], name
        assert any(tag in row["source"] for tag in TAGS), f"{name}: untagged {row['source']!r}"
        assert row["doc"].strip(), name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("award_commitment_gain", 0.02),
        ("adoption_household_cut", 0.3),
        ("city_pressure_capex_share", 0.15),
        ("lead_market_multiplier", 4.0),
        ("national_budget_coordination_gain", 0.5),
        ("carbon_price_persistence_per_year", 0.7),
    ],
)
def test_moved_constants_keep_their_values(name: str, value: float) -> None:
    """Constants moved into the registry keep the values they had in the rules."""
    assert getattr(Parameters(), name) == value


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logistic_is_bit_identical_to_the_inline_form(dtype: type[np.floating]) -> None:
    x = np.linspace(-30.0, 30.0, 2001).astype(dtype)
    got = logistic(x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, 1.0 / (1.0 + np.exp(-x)))
