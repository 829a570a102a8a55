"""Numbers and names for people: rounding to the uncertainty, registry labels of identifiers."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import pytest

from abm.config import PARAMETER_META, parameter_label
from abm.outcomes import CASE_OUTCOMES, OUTCOME_NAMES, OUTCOMES
from abm.policies import LEVER_NAMES, LEVERS
from experiments import text
from experiments.runner import PATHWAY_SERIES

# identifiers people should never read in a figure, a table or a picker: lever, outcome,
# parameter and pathway-series names (all with underscores)
IDENTIFIERS: frozenset[str] = frozenset(
    n for n in (*LEVER_NAMES, *OUTCOME_NAMES, *PARAMETER_META, *PATHWAY_SERIES) if "_" in n
)
_IDENTIFIER_RE = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+")


def raw_identifiers(texts: Iterable[str]) -> set[str]:
    """The registry identifiers that occur as whole words in ``texts``."""
    return {w for t in texts for w in _IDENTIFIER_RE.findall(t) if w in IDENTIFIERS}


@pytest.mark.parametrize(
    ("value", "low", "high", "unit", "expected"),
    [
        (88.27, 85.2, 91.33, "EUR bn", "88 EUR bn [85, 91]"),  # half-width 3.1: units
        (11.8, 11.32, 12.21, "pp", "11.8 pp [11.3, 12.2]"),  # 0.45: tenths
        (11.8, 11.32, 12.21, "%", "11.8% [11.3, 12.2]"),
        (0.5, 0.49, 0.51, "", "0.500 [0.490, 0.510]"),  # 0.010 starts with 1: two digits
        (-0.01, -0.9, 0.9, "", "0.0 [-0.9, 0.9]"),  # no "-0.0"
        (1234.0, 1000.0, 1400.0, "", "1,200 [1,000, 1,400]"),  # 200: hundreds
        (3.0, 2.52, 3.48, "", "3.0 [2.5, 3.5]"),  # 0.48 -> 0.5: tenths
        (3.0, 2.04, 3.96, "", "3.0 [2.0, 4.0]"),  # 0.96 -> 1.0 starts with 1: two digits
    ],
)
def test_round_to_uncertainty_keeps_the_first_uncertain_digit(
    value: float, low: float, high: float, unit: str, expected: str
) -> None:
    assert text.round_to_uncertainty(value, low, high, unit) == expected


def test_without_an_interval_a_value_has_three_significant_digits() -> None:
    assert text.round_to_uncertainty(88.27, math.nan, math.nan, "EUR bn") == "88.3 EUR bn"
    assert text.round_to_uncertainty(5.0, 5.0, 5.0, "%") == "5%"
    assert text.round_to_uncertainty(math.nan, 1.0, 2.0) == "nan"
    assert [text.plain(v) for v in (88.27, 1234567.0, 0.0012345, 0.0)] == [
        "88.3",
        "1,230,000",
        "0.00123",
        "0",
    ]


def test_every_lever_outcome_and_parameter_has_a_label_without_underscores() -> None:
    names = [i.name for i in LEVERS] + [o.name for o in OUTCOMES] + list(PARAMETER_META)
    for name in names:
        shown = text.label(name)
        assert shown and "_" not in shown and shown != name, name
    assert {o.label for o in CASE_OUTCOMES if "_" in o.label} == set()


def test_labels_come_from_the_registries() -> None:
    for info in LEVERS:
        assert text.label(info.name) == info.label
        assert len(info.label) <= 30 and not info.label[0].islower()
    assert len({i.label for i in LEVERS}) == len(LEVERS)
    assert text.label("enhanced_financing") == "Enhanced financing"
    assert text.label("predictable_pathway_2040") == "2040 pathway"
    for o in OUTCOMES:
        assert text.label(o.name) == o.label
    # a readable, unique registry doc is the label; otherwise the name in words, unit dropped
    assert parameter_label("mission_call_burden_person_months") == (
        "staff time to write a mission bid"
    )
    assert parameter_label("skill_turnover_per_year") == "skill turnover per year"
    assert parameter_label("decommitment_years") == "decommitment"
    with pytest.raises(KeyError):
        parameter_label("no_such_parameter")
    assert text.label("full_package") == "full package"  # not in a registry: words


def test_column_labels_carry_the_unit_of_the_columns_table() -> None:
    assert text.column_label("emissions_total_t") == "emissions total (t CO2e/yr)"
    assert text.column_label("funds_absorbed_eur") == "funds absorbed (EUR/yr)"
    assert text.column_label("mission") == "mission"


def test_raw_identifiers_finds_registry_names_only() -> None:
    found = raw_identifiers(["lever enhanced_financing on", "nmc_q3_staff", "CO$_2$e", "x1"])
    assert found == {"enhanced_financing"}
    assert raw_identifiers(["funds_absorbed_eur (EUR bn)"]) == {"funds_absorbed_eur"}
    assert raw_identifiers([text.label(n) for n in IDENTIFIERS]) == set()
