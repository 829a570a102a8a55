"""What a report holds while it is built: sections of text, figures, tables and headline numbers.

A :class:`Build` knows the results directory it reads, the temporary directory it writes and
the manifest; the builders of each kind add :class:`Section` s to it, register figures and
copy or derive tables. Rendering (``render.py``) turns the finished build into HTML and
Markdown.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.results import Manifest

REPORT_DIR = "report"
FIGURES = "figures"
TABLES = "tables"
INLINE_ROWS = 30  # rows of a table shown in the report; the CSV has all


@dataclass(frozen=True, slots=True)
class FigureRef:
    """A figure in ``figures/<stem>.png|svg`` with its number, caption and alt text."""

    number: int
    stem: str
    caption: str
    alt: str


@dataclass(frozen=True, slots=True)
class TableRef:
    """A table in ``tables/<name>``; ``preview`` is shown in the report when given."""

    number: int
    name: str
    caption: str
    preview: pd.DataFrame | None = None


@dataclass(slots=True)
class Section:
    """A part of the report: text, figures, tables and notes on what was left out and why."""

    title: str
    text: list[str] = field(default_factory=list)
    figures: list[FigureRef] = field(default_factory=list)
    tables: list[TableRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Headline:
    """A headline number: value with its interval (NaN if none), what the interval is, unit."""

    quantity: str
    scenario: str
    value: float
    low: float
    high: float
    interval: str
    unit: str


HEADLINE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Headline))


@dataclass(slots=True)
class Build:
    """A report being built: what it reads, where it writes, and what it has collected."""

    source: Path
    out: Path
    manifest: Manifest
    headline: list[Headline] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # the sentences the report opens with
    sections: list[Section] = field(default_factory=list)
    n_figures: int = 0
    n_tables: int = 0

    @property
    def data(self) -> dict[str, Any]:
        return self.manifest.data

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    def add_headline(
        self, quantity: str, scenario: Any, bounds: Iterable[Any], interval: str, unit: Any
    ) -> None:
        """Record a headline number; ``bounds`` is (value,) or (value, low, high)."""
        value, low, high = (*(float(v) for v in bounds), math.nan, math.nan)[:3]
        self.headline.append(
            Headline(quantity, str(scenario), value, low, high, interval, str(unit))
        )

    def section(self, title: str, *text: str) -> Section:
        """Start a new section of the report."""
        self.sections.append(Section(title, list(text)))
        return self.sections[-1]

    def read(self, section: Section, name: str, columns: Iterable[str]) -> pd.DataFrame | None:
        """A CSV or Parquet file of the directory, or None with a note if missing or malformed."""
        path = self.source / name
        if not path.is_file():
            section.notes.append(f"`{name}` is not in the results directory; left out.")
            return None
        try:
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        except (OSError, ValueError) as exc:
            section.notes.append(f"`{name}` could not be read ({exc}); left out.")
            return None
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            section.notes.append(f"`{name}` lacks column(s) {', '.join(missing)}; left out.")
            return None
        return frame

    def copy(
        self, section: Section, name: str, caption: str, preview: pd.DataFrame | None = None
    ) -> None:
        """Copy a CSV of the directory into ``tables/`` (a note if it is missing)."""
        if not (self.source / name).is_file():
            section.notes.append(f"`{name}` is not in the results directory; left out.")
            return
        shutil.copyfile(self.source / name, self.out / TABLES / name)
        self.n_tables += 1
        section.tables.append(TableRef(self.n_tables, name, caption, preview))

    def derive(
        self, section: Section, frame: pd.DataFrame, name: str, caption: str, inline: bool
    ) -> None:
        """Write a table derived from the directory into ``tables/``; shown if ``inline``."""
        frame.to_csv(self.out / TABLES / name, index=False)
        self.n_tables += 1
        section.tables.append(TableRef(self.n_tables, name, caption, frame if inline else None))

    def figure(self, section: Section, stem: str, caption: str, alt: str) -> Path:
        """Register a figure; returns the path stem (no suffix) to draw it to."""
        self.n_figures += 1
        section.figures.append(FigureRef(self.n_figures, stem, caption, alt))
        return self.out / FIGURES / stem


def interval_frame(
    labels: Iterable[Any], centre: Any, low: Any, high: Any, scale: float = 1.0
) -> pd.DataFrame:
    """The label/centre/low/high table ``experiments.report.figures.plot_intervals`` draws."""
    return pd.DataFrame(
        {
            "label": [str(v) for v in labels],
            "centre": np.asarray(centre, dtype=float) * scale,
            "low": np.asarray(low, dtype=float) * scale,
            "high": np.asarray(high, dtype=float) * scale,
        }
    )


def finite(value: Any) -> bool:
    """True for a finite number (a table cell may be NaN or None)."""
    return value is not None and math.isfinite(float(value))


def code_names(values: Sequence[Any]) -> str:
    """``a, b and c`` in code style."""
    quoted = [f"`{v}`" for v in values]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1] if len(quoted) > 1 else "".join(quoted)
