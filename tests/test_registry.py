"""The parameter registry is complete: every behavioural number of the rules is an entry in it.

An entry has a unit, a plausible range around its default and a tagged source; the rule and
agent modules keep no module-level numeric constants except the few unit conversions and indices
listed in ``ALLOWED``, and no numeric literals in their function bodies except the structural
numbers in ``STRUCTURAL`` and the sites in ``INLINE_ALLOWED`` (both scanned with ``ast``, so a
new constant fails here until it moves to ``abm.config.Parameters`` or is allow-listed with its
reason).
"""

from __future__ import annotations

import ast
from collections import Counter
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
    "industry_tech.CBAM_FIRST_YEAR": "legal date: CBAM's definitive period starts in 2026 [src]",
    "model.COMPACT_MIN_ROWS": "project rows before compaction is considered (no effect on results)",
    "model.COMPACT_FINISHED_SHARE": "finished share that starts compaction (no effect on results)",
    "funding.PREFIX_CANDIDATES": "candidates ranked before a full ranking (no effect on results)",
}
# numbers in rule arithmetic that are not behaviour, wherever they appear: identities (0, 1),
# halves and doubles and the top code of the three-level scales (2), months per year (12),
# percentage points (100), per 10k / 100k residents and per Mt or EUR 1 M (1e4, 1e5, 1e6), and
# guards against division by zero (1e-9, 1e-12)
STRUCTURAL: frozenset[float] = frozenset({0, 1, 2, 12, 100, 1e4, 1e5, 1e6, 1e-9, 1e-12})
# other literals in function bodies, by (module.function, value): how often, and why not a parameter
INLINE_ALLOWED: dict[tuple[str, float], tuple[int, str]] = {
    # centring of a weighted term: a shift is absorbed by the intercept (logits) or is the same for
    # every applicant (award scores, so the ranking does not change)
    ("alignment.hold_dialogues", 0.5): (1, "centre of council openness in the CCC logit"),
    ("alignment.hold_dialogues", 0.3): (1, "centre of skill in the CCC logit"),
    ("funding._run_call", 0.5): (1, "centre of skill in the award score"),
    ("funding._run_call", 0.3): (1, "centre of finance skill in the award score"),
    ("procurement.adopt_green_procurement", 0.3): (1, "centre of the peer share in the GPP logit"),
    ("citizens.update_opinions", 0.5): (1, "neutral trust in the trust driver a_tr (trust - 0.5)"),
    # the midpoint of the [0, 1] openness and support scales: the side a majority leans to
    ("politics.update_commitment", 0.5): (1, "elections shift openness towards the majority"),
    ("silos.effective_coordination", 0.5): (1, "a mayor backs coordination above the midpoint"),
    # bounds and indices
    ("capacity.learn_and_hire", 0.01): (3, "skills stay inside (0, 1)"),
    ("capacity.learn_and_hire", 0.99): (3, "skills stay inside (0, 1)"),
    ("projects._add_ideas", 3): (1, "index of the last city sector"),
    ("state.Projects.__init__", 4096): (1, "initial buffer size (no effect on results)"),
    # calendar: the year the *_2025 parameters refer to, and the legal CBAM phase-out [src]
    ("industry._opex", 2025.0): (1, "clean-route cost learning counts from 2025"),
    ("industry.ccs_headroom", 2030.0): (1, "year of ccs_storage_share_2030"),
    ("industry.ccs_headroom", 2050.0): (1, "year of ccs_storage_share_2050"),
    ("eu.EUPlatform.expected_carbon_price", 2025.0): (2, "year of carbon_price_2025_eur_per_t"),
    ("eu.EUPlatform.expected_carbon_price", 25.0): (1, "2025 to 2050 (carbon_price_2050)"),
    ("eu.EUPlatform.expected_carbon_price", 15.0): (1, "2025 to 2040 (lever_pathway_price_2040)"),
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


def _functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef]]:
    """Module-level functions and class methods, by name (nested functions count as their host)."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef):
            found += [
                (f"{node.name}.{item.name}", item)
                for item in node.body
                if isinstance(item, ast.FunctionDef)
            ]
    return found


def inline_literals(path: Path) -> Counter[tuple[str, float]]:
    """How often each non-structural number appears in each function of ``path``."""
    found: Counter[tuple[str, float]] = Counter()
    for name, function in _functions(ast.parse(path.read_text(encoding="utf-8"))):
        for node in ast.walk(function):
            number = isinstance(node, ast.Constant) and type(node.value) in (int, float)
            if number and node.value not in STRUCTURAL:
                found[(f"{path.stem}.{name}", node.value)] += 1
    return found


def test_rule_arithmetic_keeps_no_inline_parameters() -> None:
    found: Counter[tuple[str, float]] = Counter()
    for path in SCANNED:
        found += inline_literals(path)
    allowed = {site: count for site, (count, _why) in INLINE_ALLOWED.items()}
    extra = {site: n for site, n in found.items() if n > allowed.get(site, 0)}
    assert not extra, f"move these literals to abm.config.Parameters (or allow-list them): {extra}"
    stale = {site: n for site, n in allowed.items() if found.get(site, 0) != n}
    assert not stale, f"INLINE_ALLOWED names literals that are no longer there: {stale}"


def test_the_inline_scan_finds_a_literal(tmp_path: Path) -> None:
    """The inline scan itself can fail: literals in functions, methods and nested functions."""
    module = tmp_path / "rule.py"
    module.write_text(
        "def f(x):\n    return 0.3 * x + 1.0 - 1e6 * 0.3\n"
        "class A:\n    def g(self, x):\n        def h():\n            return -4.0\n"
        "        return x / 12.0 + h() + 2\n"
    )
    assert inline_literals(module) == Counter({("rule.f", 0.3): 2, ("rule.A.g", 4.0): 1})


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
        # inline literals of the rules, moved with their values
        ("skill_capacity_floor", 0.5),
        ("equity_retention_share", 0.3),
        ("loss_memory_per_year", 0.9),
        ("acceptance_at_zero_support", 0.6),
        ("extra_departments_max", 3.0),
        ("project_cost_max_eur", 5e8),
        ("target_adoption_intercept", -3.0),
        ("participation_offset_weight", 0.5),
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
