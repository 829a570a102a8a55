"""Take GB out of the verified-emissions history so every year covers the same countries.

The stored verified series (``abm/data/ets_verified_emissions_history.csv``, EEA aggregate over
the reporting countries) includes the UK's installations in 2013-2020 and not from 2021, when
the UK left the EU ETS. This script reads the European Commission's installation-level file
"Verified emissions for 2018" (Union Registry extract of 1 April 2019, one row per installation
with registry code, main activity code and verified emissions 2008-2018), sums the GB
installations by the activities of the four model sectors, writes those sums to
``abm/data/ets_verified_gb_2013_2018.csv`` and the GB-free column
``verified_emissions_excl_gb_mt`` of the history: the EEA value minus GB for 2013-2018, the EEA
value itself for 2021-2024 (no GB rows then), empty for 2019-2020 (no installation-level file
for those years is stored, so the GB part is unknown and those years are not compared).

The file is ``verified_emissions_2018_en.xlsx`` in github.com/sebwiesel/eu_ets (commit
3304f1f); get it with ``git -C <mirror> show 3304f1f:verified_emissions_2018_en.xlsx > f.xlsx``.
Usage: ``python scripts/ets_gb_share.py f.xlsx`` (``--check`` only compares with the stored
files and exits 1 on a difference). Read with the standard library (an xlsx is zipped XML).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "abm" / "data"
HISTORY_CSV = DATA / "ets_verified_emissions_history.csv"
GB_CSV = DATA / "ets_verified_gb_2013_2018.csv"
SHEET = "xl/worksheets/sheet1.xml"  # the "verified_emissions_2018" sheet
YEARS = range(2013, 2019)
NO_GB_FROM = 2021  # first year without UK installations in the EU ETS
# Model sector -> main activity codes of the file. Phase-3 codes (21, 24, 29, 42) and the
# phase-2 codes a few installations still carry: 2 mineral oil refineries, 5 pig iron or
# steel. Phase-2 code 6 ("cement clinker or lime") is left out: its GB installations are lime
# and mineral works (Lhoist, Whitwell, Lifford) and two cement works reporting 0 and 19 t.
ACTIVITIES: dict[str, tuple[int, ...]] = {
    "steel": (24, 5),
    "cement": (29,),
    "refinery": (21, 2),
    "chemicals": (42,),
}
SOURCE = (
    "European Commission, Verified emissions for 2018 (Union Registry extract of 1 April "
    "2019, verified_emissions_2018_en.xlsx) as stored in github.com/sebwiesel/eu_ets (commit "
    "3304f1f); sum over REGISTRY_CODE GB of VERIFIED_EMISSIONS_<year> for MAIN_ACTIVITY_TYPE_"
    "CODE in {codes}; written by scripts/ets_gb_share.py [src]"
)
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_CELL = re.compile(r"([A-Z]+)(\d+)")


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    """The workbook's shared-string table (cells of type "s" index into it)."""
    root = ET.fromstring(book.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root]


def read_rows(xlsx: Path) -> list[dict[str, object]]:
    """The installation rows of the sheet as dicts keyed by the header row."""
    with zipfile.ZipFile(xlsx) as book:
        if SHEET not in book.namelist():
            raise ValueError(f"{xlsx}: no {SHEET}; expected verified_emissions_2018_en.xlsx")
        strings = _shared_strings(book)
        data = book.read(SHEET)
    header: list[str] | None = None
    rows: list[dict[str, object]] = []
    for _, row in ET.iterparse(io.BytesIO(data)):
        if row.tag != f"{{{NS['m']}}}row":
            continue
        cells: dict[int, object] = {}
        for c in row.findall("m:c", NS):
            match = _CELL.match(c.get("r", ""))
            v = c.find("m:v", NS)
            if match is None or v is None or v.text is None:
                continue
            col = 0
            for ch in match.group(1):
                col = col * 26 + ord(ch) - 64
            kind = c.get("t")
            cells[col] = strings[int(v.text)] if kind == "s" else v.text
        row.clear()
        values = [cells.get(k) for k in range(1, max(cells, default=0) + 1)]
        if header is None:
            if values and values[0] == "REGISTRY_CODE":
                header = [str(h) for h in values]
            continue
        if values and values[0] is not None:
            rows.append(dict(zip(header, values, strict=False)))
    if header is None:
        raise ValueError(f"{xlsx}: no header row starting with REGISTRY_CODE")
    return rows


def _number(value: object) -> float:
    """A verified-emissions cell in tonnes; -1 (blank), "Excluded" and empty count as 0."""
    try:
        x = float(str(value))
    except (TypeError, ValueError):
        return 0.0
    return x if x > 0 else 0.0


def gb_by_sector(rows: list[dict[str, object]]) -> dict[tuple[str, int], float]:
    """GB verified emissions (Mt CO2e) by model sector and year 2013-2018."""
    sums: dict[tuple[str, int], float] = defaultdict(float)
    for row in rows:
        if row.get("REGISTRY_CODE") != "GB":
            continue
        code = int(float(str(row["MAIN_ACTIVITY_TYPE_CODE"])))
        for sector, codes in ACTIVITIES.items():
            if code in codes:
                for year in YEARS:
                    sums[(sector, year)] += _number(row.get(f"VERIFIED_EMISSIONS_{year}")) / 1e6
    # rounded as stored, so the history column follows from the stored GB table
    return {(s, y): round(sums[(s, y)], 3) for s in ACTIVITIES for y in YEARS}


def gb_table(gb: dict[tuple[str, int], float]) -> str:
    """The GB csv text: sector, year, Mt and the source."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["sector", "year", "gb_verified_emissions_mt", "source"])
    for (sector, year), mt in gb.items():
        codes = ", ".join(str(c) for c in ACTIVITIES[sector])
        w.writerow([sector, year, f"{mt:.3f}", SOURCE.format(codes=codes)])
    return out.getvalue()


def read_gb_csv(path: Path = GB_CSV) -> dict[tuple[str, int], float]:
    """The stored GB sums (Mt) by sector and year, as ``gb_by_sector`` returns them."""
    with path.open(newline="") as f:
        return {
            (r["sector"], int(r["year"])): float(r["gb_verified_emissions_mt"])
            for r in csv.DictReader(f)
        }


def history_table(gb: dict[tuple[str, int], float], path: Path = HISTORY_CSV) -> str:
    """The history csv text with ``verified_emissions_excl_gb_mt`` (re)computed."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    fields = ["sector", "activity", "year", "verified_emissions_mt"]
    fields += ["verified_emissions_excl_gb_mt", "source"]
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for row in rows:
        year, sector = int(row["year"]), row["sector"]
        total = float(row["verified_emissions_mt"])
        if year >= NO_GB_FROM:
            excl: str = f"{total:.2f}"
        elif (sector, year) in gb:
            excl = f"{total - gb[(sector, year)]:.2f}"
        else:
            excl = ""  # GB part unknown (no installation-level file stored for the year)
        w.writerow(
            {**{k: row[k] for k in fields if k in row}, "verified_emissions_excl_gb_mt": excl}
        )
    return out.getvalue()


def main() -> None:
    """Write (or check) the GB table and the GB-free history column."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("xlsx", type=Path, help="verified_emissions_2018_en.xlsx")
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = ap.parse_args()
    if not args.xlsx.is_file():
        sys.exit(f"{args.xlsx}: no such file (see the module docstring for where to get it)")
    gb = gb_by_sector(read_rows(args.xlsx))
    texts = {GB_CSV: gb_table(gb), HISTORY_CSV: history_table(gb)}
    changed = [p for p, t in texts.items() if not p.is_file() or p.read_text() != t]
    for (sector, year), mt in gb.items():
        print(f"GB {sector:9s} {year}: {mt:7.3f} Mt")
    if args.check:
        for p in changed:
            print(f"differs: {p.relative_to(ROOT)}")
        sys.exit(1 if changed else 0)
    for p in changed:
        p.write_text(texts[p])
        print(f"wrote {p.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
