"""Plain-text formatting shared by the commands, the report and the explorer.

Numbers for people: :func:`plain` gives a value three significant digits and
:func:`round_to_uncertainty` rounds a value and its interval to the interval's precision.
Names for people: :func:`label` turns a lever, outcome or parameter identifier into the label
its registry gives it (:data:`abm.policies.LEVERS`, :data:`abm.outcomes.OUTCOMES`,
:func:`abm.config.parameter_label`) and :func:`column_label` an output column
(:data:`abm.columns.COLUMNS`), so figures, tables and the explorer never show
``enhanced_financing`` where "Enhanced financing" is meant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from abm.columns import COLUMNS
from abm.config import PARAMETER_META, parameter_label
from abm.outcomes import OUTCOME_BY_NAME
from abm.policies import LEVERS

LEVER_LABELS: dict[str, str] = {info.name: info.label for info in LEVERS}
_COLUMN_UNITS: dict[str, str] = {}
for _column in COLUMNS:  # the first table's unit of a column name (city_year first)
    _COLUMN_UNITS.setdefault(_column.name, _column.unit)
_COLUMN_SUFFIXES = ("_t", "_eur", "_fte")  # unit endings dropped when the unit is shown


def fmt(value: float) -> str:
    """A number with four significant digits (``nan`` for missing)."""
    return "nan" if value != value else f"{value:.4g}"


def ci(record: Mapping[Any, Any], scale: float) -> str:
    """``[low, high]`` of a paired-difference record, scaled for display."""
    return f"[{fmt(record['ci_low'] * scale)}, {fmt(record['ci_high'] * scale)}]"


def format_number(value: float, digits: int = 2) -> str:
    """A number for a sentence: ``digits`` significant digits, no exponent, thousands commas."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")
    if abs(rounded) >= 10 ** (digits - 1) or rounded == int(rounded):
        return f"{rounded:,.0f}"
    decimals = digits - 1 - math.floor(math.log10(abs(rounded)))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def plain(value: float) -> str:
    """A value without an interval, for people: three significant digits (``nan`` if missing)."""
    return format_number(float(value), 3)


def _at_place(value: float, decimals: int) -> str:
    """``value`` rounded to ``decimals`` places (negative: tens, hundreds ...), commas, no -0."""
    rounded = round(value, decimals) + 0.0
    return f"{rounded:,.{max(decimals, 0)}f}"


def with_unit(number: str, unit: str) -> str:
    """A formatted number with its unit after it ("%" without a space)."""
    return number + ("%" if unit == "%" else f" {unit}" if unit else "")


def uncertainty_decimals(low: float, high: float) -> int | None:
    """Decimal places that show an interval's precision, or None for no (finite, wide) interval.

    The half-width is kept to one significant digit, two when that digit is a 1 (1.4 is not
    rounded to 1): the last digit shown is the first uncertain one, as in "88 [85, 91]" for
    85.2 to 91.3 or "11.8 [11.3, 12.2]" for 11.32 to 12.21.
    """
    half = (high - low) / 2.0
    if not (math.isfinite(half) and half > 0):
        return None
    exponent = math.floor(math.log10(half))
    if round(half / 10.0**exponent) >= 10:  # 0.96 -> 1.0: one place up
        exponent += 1
    digits = 2 if round(half / 10.0**exponent, 1) < 2 else 1
    return -(exponent - digits + 1)


def round_to_uncertainty(value: float, low: float, high: float, unit: str = "") -> str:
    """A value and its interval rounded to the interval's precision: "11.8 pp [11.3, 12.2]".

    Without a finite interval of positive width the value is :func:`plain` (three significant
    digits) and no interval is shown. ``unit`` goes after the value (``%`` without a space).
    """
    if not math.isfinite(value):
        return "nan"
    decimals = uncertainty_decimals(low, high)
    if decimals is None:
        return with_unit(plain(value), unit)
    shown = with_unit(_at_place(value, decimals), unit)
    return f"{shown} [{_at_place(low, decimals)}, {_at_place(high, decimals)}]"


def label(name: str) -> str:
    """The label people read for an identifier: lever, outcome or parameter.

    Levers, outcomes and parameters take their registry's label; a scenario named after a
    lever is that lever; any other name is shown with its underscores as spaces.
    """
    name = str(name)
    if name in LEVER_LABELS:
        return LEVER_LABELS[name]
    if name in OUTCOME_BY_NAME:
        return OUTCOME_BY_NAME[name].label
    if name in PARAMETER_META:
        return parameter_label(name)
    return name.replace("_", " ")


def column_label(name: str) -> str:
    """An output-table column for people: its name in words and its unit (``abm.columns``)."""
    unit = _COLUMN_UNITS.get(name, "")
    stem = name
    if unit and unit not in ("-", "bool"):
        stem = next((name.removesuffix(s) for s in _COLUMN_SUFFIXES if name.endswith(s)), name)
        return f"{stem.replace('_', ' ')} ({unit})"
    return stem.replace("_", " ")


def labels(names: Iterable[Any]) -> list[str]:
    """:func:`label` of each name."""
    return [label(str(n)) for n in names]


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A plain text table; ``align`` has one 'l' or 'r' per column (default: first left)."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).ljust(w) if a == "l" else str(c).rjust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])
