"""Plain-text formatting shared by the commands and the report: numbers, intervals, tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def fmt(value: float) -> str:
    """A number with four significant digits (``nan`` for missing)."""
    return "nan" if value != value else f"{value:.4g}"


def ci(record: Mapping[Any, Any], scale: float) -> str:
    """``[low, high]`` of a paired-difference record, scaled for display."""
    return f"[{fmt(record['ci_low'] * scale)}, {fmt(record['ci_high'] * scale)}]"


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
