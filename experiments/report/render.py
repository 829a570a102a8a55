"""Rendering a built report: Markdown with linked figures, self-contained HTML embedding them."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.report.document import (
    FIGURES,
    HEADLINE_FIELDS,
    INLINE_ROWS,
    TABLES,
    Build,
    FigureRef,
    Headline,
    Section,
    TableRef,
)
from experiments.report.methods import Front
from experiments.text import label, plain, round_to_uncertainty

# table columns whose cells are identifiers (scenario, lever, outcome, parameter names), shown
# by their labels; the CSV files keep the identifiers
LABELLED_COLUMNS = frozenset(
    {"scenario", "baseline", "outcome", "name", "factor", "parameter", "group"}
)


def _cell(value: Any, labelled: bool = False) -> str:
    """A table cell for people: yes/no, three significant digits, identifiers as labels."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return plain(float(value))
    return label(str(value)) if labelled else str(value)


def _headers(frame: pd.DataFrame) -> list[str]:
    """Column names in words (``ci_low`` -> ``ci low``)."""
    return [str(c).replace("_", " ") for c in frame.columns]


def _rows(frame: pd.DataFrame) -> list[list[str]]:
    flags = [str(c) in LABELLED_COLUMNS for c in frame.columns]
    return [
        [_cell(v, f) for v, f in zip(row, flags, strict=True)]
        for row in frame.head(INLINE_ROWS).itertuples(index=False)
    ]


def headline_table(b: Build) -> pd.DataFrame:
    """The headline numbers as a table, each row with the run ID."""
    rows = [[b.run_id, *(getattr(h, k) for k in HEADLINE_FIELDS)] for h in b.headline]
    return pd.DataFrame(rows, columns=["run_id", *HEADLINE_FIELDS])


def _value(h: Headline) -> str:
    """The value rounded to its interval's precision (three significant digits without one)."""
    return round_to_uncertainty(float(h.value), h.low, h.high)


def _headline_display(b: Build) -> tuple[list[str], list[list[str]]]:
    rows = [
        [label(h.quantity), label(h.scenario), _value(h), h.unit, h.interval] for h in b.headline
    ]
    return ["quantity", "scenario", "value [interval]", "unit", "interval"], rows


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(headers), "|" + "---|" * len(headers), *(line(r) for r in rows), ""]


def _md_section(s: Section, run_id: str) -> list[str]:
    out = [f"## {s.title}", "", *(t + "\n" for t in s.text)]
    for f in s.figures:
        out += [
            f"![{f.alt}]({FIGURES}/{f.stem}.png)",
            "",
            f"*Figure {f.number}. {f.caption} Run ID: `{run_id}`.* "
            f"Vector: [{f.stem}.svg]({FIGURES}/{f.stem}.svg)",
            "",
        ]
    for t in s.tables:
        link = f"[{t.name}]({TABLES}/{t.name})"
        out += [f"Table {t.number}. {t.caption} Run ID: `{run_id}`. CSV: {link}", ""]
        if t.preview is not None:
            out += _md_table(_headers(t.preview), _rows(t.preview))
            if len(t.preview) > INLINE_ROWS:
                out += [f"(first {INLINE_ROWS} of {len(t.preview)} rows; all in {link})", ""]
    out += [f"> Note: {n}\n" for n in s.notes]
    return out


def render_markdown(b: Build, front: Front) -> str:
    """The report as Markdown, figures and tables linked relative to the report."""
    headers, rows = _headline_display(b)
    out = [
        f"# {front.title}",
        "",
        f"Results directory: `{b.source.resolve()}`. Run ID: `{b.run_id}`.",
        "",
        "## Findings",
        "",
        *(f"- {sentence}" for sentence in b.findings),
        "",
        "## Reproduce",
        "",
        "```",
        front.reproduce,
        "```",
        "",
        "## Headline numbers",
        "",
        f"Headline numbers of run `{b.run_id}`. CSV: [headline.csv]({TABLES}/headline.csv)",
        "",
        *(_md_table(headers, rows) if rows else ["No headline numbers could be computed.", ""]),
    ]
    for s in b.sections:
        out += _md_section(s, b.run_id)
    out += ["## Methods", "", front.methods, "", "## How to cite", "", front.cite_message, ""]
    out += [front.cite_line, "", "```bibtex", front.bibtex, "```", ""]
    return "\n".join(out)


CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem;
       line-height: 1.45; color: #222; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
caption { caption-side: top; text-align: left; font-size: 0.9rem; padding-bottom: 0.3rem; }
figure { margin: 1rem 0 2rem; }
figcaption, .table-ref { font-size: 0.9rem; }
.note { color: #8a4b00; }
pre { background: #f4f4f4; padding: 0.6rem; overflow-x: auto; }
"""


def _inline(text: str) -> str:
    """Escape text for HTML and turn `code` spans into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def _html_table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in rows
    )
    return (
        f"<table>\n<caption>{caption}</caption>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{body}</tbody>\n</table>\n"
    )


def _html_figure(f: FigureRef, out: Path, run_id: str) -> str:
    data = base64.b64encode((out / FIGURES / f"{f.stem}.png").read_bytes()).decode("ascii")
    svg = f"{FIGURES}/{f.stem}.svg"
    return (
        f'<figure id="figure-{f.number}">\n'
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(f.alt)}">\n'
        f"<figcaption>Figure {f.number}. {_inline(f.caption)} Run ID: "
        f'<code>{html.escape(run_id)}</code>. Vector: <a href="{svg}">{f.stem}.svg</a>'
        "</figcaption>\n</figure>\n"
    )


def _html_table_ref(t: TableRef, run_id: str) -> str:
    link = f'<a href="{TABLES}/{html.escape(t.name)}">{html.escape(t.name)}</a>'
    caption = (
        f"Table {t.number}. {_inline(t.caption)} Run ID: <code>{html.escape(run_id)}</code>. "
        f"CSV: {link}"
    )
    if t.preview is None:
        return f'<p class="table-ref">{caption}</p>\n'
    if len(t.preview) > INLINE_ROWS:
        caption += f" (first {INLINE_ROWS} of {len(t.preview)} rows)"
    return _html_table(caption, _headers(t.preview), _rows(t.preview))


def _html_section(s: Section, out: Path, run_id: str) -> str:
    parts = [f"<section>\n<h2>{html.escape(s.title)}</h2>\n"]
    parts += [f"<p>{_inline(t)}</p>\n" for t in s.text]
    parts += [_html_figure(f, out, run_id) for f in s.figures]
    parts += [_html_table_ref(t, run_id) for t in s.tables]
    parts += [f'<p class="note">Note: {_inline(n)}</p>\n' for n in s.notes]
    return "".join(parts) + "</section>\n"


def render_html(b: Build, front: Front) -> str:
    """The report as one HTML file with the PNG figures embedded as data URIs."""
    headers, rows = _headline_display(b)
    run_id = html.escape(b.run_id)
    caption = (
        f"Headline numbers of run <code>{run_id}</code>. "
        f'CSV: <a href="{TABLES}/headline.csv">headline.csv</a>'
    )
    headline = _html_table(caption, headers, rows) if rows else "<p>No headline numbers.</p>\n"
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f"<title>{html.escape(front.title)}</title>\n<style>{CSS}</style>\n</head>\n",
            f"<body>\n<main>\n<h1>{html.escape(front.title)}</h1>\n",
            f"<p>Results directory: <code>{html.escape(str(b.source.resolve()))}</code>. ",
            f"Run ID: <code>{run_id}</code>.</p>\n",
            "<h2>Findings</h2>\n<ul>\n",
            *(f"<li>{_inline(sentence)}</li>\n" for sentence in b.findings),
            "</ul>\n",
            f"<h2>Reproduce</h2>\n<pre><code>{html.escape(front.reproduce)}</code></pre>\n",
            f"<h2>Headline numbers</h2>\n{headline}",
            *(_html_section(s, b.out, b.run_id) for s in b.sections),
            f"<h2>Methods</h2>\n<p>{_inline(front.methods)}</p>\n",
            f"<h2>How to cite</h2>\n<p>{_inline(front.cite_message)}</p>\n",
            f"<p>{_inline(front.cite_line)}</p>\n",
            f"<pre><code>{html.escape(front.bibtex)}</code></pre>\n",
            "</main>\n</body>\n</html>\n",
        ]
    )
