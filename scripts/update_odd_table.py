"""Rewrite the parameter table in docs/ODD.md (section 10) from abm.config.registry()."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from abm.config import registry  # noqa: E402

ODD = ROOT / "docs" / "ODD.md"
HEADER = "| name | value | unit | prior range | basis | source | meaning |"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("*", "\\*")


def basis(source: str) -> str:
    """Where a value comes from: calibrated posterior, literature, derived, or assumption."""
    if source.startswith("calibrated:"):
        return "calibrated posterior"
    kind = "assumption"
    if "[src]" in source:
        kind = "literature"
    elif "[der]" in source:
        kind = "derived"
    lowered = source.lower()
    if "survey" in lowered or "nmc_" in lowered or "eoi" in lowered:
        kind += "; survey item"
    return kind


def table_rows() -> list[str]:
    """The markdown rows of the registry, in the order of abm/config.py."""
    rows = [HEADER, "|---|---|---|---|---|---|---|"]
    for r in registry():
        rows.append(
            f"| `{r['name']}` | {r['value']:g} | {_cell(r['unit'])} | "
            f"[{r['low']:g}, {r['high']:g}] | {basis(str(r['source']))} | "
            f"{_cell(r['source'])} | {_cell(r['doc'])} |"
        )
    return rows


def current_rows(text: str) -> list[str]:
    """The table rows now in the ODD (from the header to the first non-table line)."""
    lines = text.splitlines()
    start = lines.index(HEADER)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return lines[start:end]


def main() -> int:
    """Rewrite the table; print whether it changed."""
    text = ODD.read_text(encoding="utf-8")
    old = current_rows(text)
    new = table_rows()
    if old == new:
        print("docs/ODD.md parameter table is up to date")
        return 0
    ODD.write_text(text.replace("\n".join(old), "\n".join(new)), encoding="utf-8")
    print(f"rewrote docs/ODD.md parameter table ({len(new) - 2} parameters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
