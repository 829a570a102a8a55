"""Transcribe the calibration targets from ``calibration/survey_targets.json`` to TOML files.

Writes one file per survey instrument into ``calibration/targets/`` (``nmc_survey_2024.toml``,
``eoi_2021.toml``), keeping only the items a city-level model can be calibrated to (``PICKS``).
Each pick says how its item is transcribed: percentages become fractions, counts stay counts,
counts printed in the report's tables replace rounded percentages, a remainder the source
leaves unnamed becomes its own category, a category without a value is dropped, and the
caveat is a hand-written summary of the source's notes. The output is deterministic, so
``tests/test_targets.py`` checks that the committed files are exactly what this script writes;
edit the script, not the files, and rerun it.

Usage::

    python scripts/transcribe_targets.py            # rewrite calibration/targets/*.toml
    python scripts/transcribe_targets.py --check    # exit 1 if the committed files differ
    python scripts/transcribe_targets.py --out DIR  # write elsewhere
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from calibration.targets import SCALES, TARGETS_DIR, load_targets  # noqa: E402
from experiments.scenario import toml_string  # noqa: E402

SOURCE = ROOT / "calibration" / "survey_targets.json"
NMC = "nmc_survey_2024"
EOI = "eoi_2021"
INSTRUMENT_TITLES = {
    NMC: "2024 NetZeroCities survey of 62 Non-Mission Cities (report D1.1)",
    EOI: "2021 Cities Mission Expression of Interest (362 applicants; 112 selected Mission Cities)",
}
SHARE_DIGITS = 4
PERCENT_TOLERANCE = 1.0  # printed percentages are rounded to whole points
MAX_INLINE_ARRAY = 100


@dataclass(frozen=True)
class Pick:
    """How one item of the shared file becomes a target (defaults: transcribe as printed)."""

    caveat: str
    instrument: str = NMC
    scale: str | None = None
    n: int | None = None  # the base, where the source gives none
    categories: tuple[str, ...] | None = None  # relabelled categories
    table_counts: tuple[int, ...] | None = None  # counts from the report's tables (in notes)
    remainder: str | None = None  # label of the unprinted rest of a percentage distribution
    drop_missing: bool = False  # drop categories the source leaves without a value
    normalise: bool = False  # printed counts that do not sum to n: keep them only as shares


BARRIER_CAVEAT = (
    "Counts reconstructed from the flattened stacked chart of Figure 32; the mapping is "
    "confirmed by the finance items repeating in Figure 23 and by cross-table column totals."
)
SUPPORT_CAVEAT = (
    "Counts reconstructed from the flattened Figure 24 (each item sums to 62). Reversed scale: "
    "1 = highly valuable, 5 = least valuable; every item has 6-11 answers of 5, so some "
    "respondents may have reversed the scale or answered carelessly."
)
ONE_OPTION_CAVEAT = (
    "Preliminary EoI infographic: only this option of the item's list is printed; the base of "
    "362 applicants is assumed, not stated. Multi-select: the share stands alone."
)
BARRIERS = (
    "barrier_public_private_collab",
    "barrier_fragmentation_multilevel_gov",
    "barrier_geomorphic_climate",
    "barrier_high_initial_capital_costs",
    "barrier_insufficient_admin_capacity",
    "barrier_lack_available_technologies",
    "barrier_lack_citizen_participation",
    "barrier_lack_emissions_tools",
    "barrier_lack_funding_schemes",
    "barrier_lack_political_commitment",
    "barrier_lack_climate_finance_knowledge",
    "barrier_market_uncertainties",
    "barrier_municipal_silos",
)
SUPPORT_VALUES = (
    "support_value_emissions_reporting",
    "support_value_coordination",
    "support_value_dissemination_outreach",
    "support_value_technical_strategic_assistance",
    "support_value_tools_skills",
    "support_value_policy_regulation",
    "support_value_capacity_building",
    "support_value_financial_advisory",
)
PICKS: dict[str, Pick] = {
    **{item: Pick(BARRIER_CAVEAT, scale="ordinal") for item in BARRIERS},
    "barrier_lack_technical_knowledge": Pick(
        BARRIER_CAVEAT + " This item sums to 47, not 62 (15 answers missing or misprinted), "
        "so its base is 47.",
        scale="ordinal",
    ),
    **{item: Pick(SUPPORT_CAVEAT, scale="ordinal") for item in SUPPORT_VALUES},
    "support_value_financial_support_projects": Pick(
        SUPPORT_CAVEAT + " Bimodal: 39 rate it 1 and 11 rate it 5.", scale="ordinal"
    ),
    "nmc_admin_structure": Pick(
        "Counts are the column totals of Table 6; the printed shares (32/19/15/24%) agree. "
        "'Other' (6 cities, 10%) is the remainder the text leaves unnamed.",
        scale="nominal",
        table_counts=(20, 12, 9, 15, 6),
    ),
    "nmc_staff_sufficiency": Pick(
        "Shares as printed. '39% plan to allocate additional trained staff' has an unclear "
        "base, so Figure 27 may have had three answers (yes / no but planning / no).",
        scale="nominal",
    ),
    "nmc_climate_budget": Pick(
        "Counts from Tables 18 and 19; the printed shares (44/32/14/10%) agree. 'Other' "
        "covers budgets not guaranteed every year and one budget set in CO2e.",
        scale="nominal",
        table_counts=(27, 20, 9, 6),
    ),
    "nmc_capacity_to_identify_capital_needs": Pick(
        "Shares as printed; the report finds no link between this capacity and city size.",
        scale="nominal",
    ),
    "nmc_target_status_count_from_tables": Pick(
        "Derived from row totals of Tables 7 and 11, not printed as a distribution. Figure 6 "
        "gives 53% existing, 28% planning, 6% none and 13% unstated instead, so 'planned "
        "target' probably includes cities in the process of adopting one. Respondents confuse "
        "absolute-zero, net-zero and reduction targets.",
        scale="ordinal",
        categories=("no target", "planned target", "existing target"),
    ),
    "nmc_ghg_inventory_status": Pick(
        "82% as printed ('under preparation' counts as undertaken); 18% is the remainder. "
        "The key findings say 66% and Table 26 implies about 55% already undertaken.",
        scale="nominal",
    ),
    "nmc_plan_types": Pick(
        "Shares from the pie labels of Figure 18. The text's 49% for sectoral-only plans is "
        "probably a typo for 39%; the key findings give 52% instead of 47% with cross-sectoral "
        "plans.",
        scale="nominal",
    ),
    "nmc_citizen_engagement_modes": Pick(
        "Base not stated: taken as the 35 cities (56% of 62) that involve citizens; it may be "
        "all 62. Empowering practices (co-creation, co-design, deliberation, pacts) are "
        "dropped: the text gives only '15-20 cities' for them. Multi-select: shares are "
        "independent.",
        n=35,
        drop_missing=True,
    ),
    "nmc_by_size_class_count_derived": Pick(
        "Derived from row totals of Tables 3 and 6; agrees with the printed 42% small, 21% "
        "medium and 23% towns. The towns bound is inconsistent in the report (<50k in the "
        "text, <20k in a footnote).",
        scale="ordinal",
    ),
    "nmc_by_region": Pick(
        "The printed counts (30/16/16/6) sum to 68, not 62, so only their proportions are "
        "kept (counts / 68). One '16' is probably wrong (Western Europe = 10 would give 62). "
        "Southern Europe includes Türkiye and Israel.",
        scale="nominal",
        normalise=True,
    ),
    "nmc_international_initiatives_participation": Pick(
        "Shares as printed; Table 8 gives 10 cities (16%) in no initiative. Participants are "
        "in 3 initiatives on average (up to 10): the sample leans towards networked cities.",
        scale="nominal",
    ),
    "mc_target_status_eoi": Pick(
        "Mission Cities only (112 selected of 362 applicants). 100 is derived (112 - 9 - 3; "
        "printed as 89%). The EoI question differs from the NMC target question, and MCs (2021) "
        "and NMCs (2024) are different cohorts.",
        instrument=EOI,
        scale="ordinal",
    ),
    "mc_capacity_building_needs_eoi": Pick(
        "Mission Cities only. The third need listed (project-development skills) has no "
        "printed share and is dropped. Multi-select: shares are independent.",
        instrument=EOI,
        drop_missing=True,
    ),
    "eoi_key_barriers": Pick(
        "Preliminary EoI infographic: only three options of the barrier list are printed; the "
        "base of 362 applicants is assumed, not stated. Multi-select: shares are independent.",
        instrument=EOI,
    ),
    "eoi_staff_cross_sectoral_skills": Pick(
        "Only the 12% 'yes' is printed; 'no' is its complement. Asks about skills across all "
        "sectors, a stricter wording than the NMC staff item.",
        instrument=EOI,
        scale="nominal",
        remainder="not sufficiently trained and skilled (complement, not printed)",
    ),
    "eoi_energy_barrier_capital_costs": Pick(ONE_OPTION_CAVEAT, instrument=EOI),
    "eoi_mobility_barrier_time_economic": Pick(ONE_OPTION_CAVEAT, instrument=EOI),
    "eoi_waste_barrier_behavioural": Pick(ONE_OPTION_CAVEAT, instrument=EOI),
    "eoi_citizen_engagement_practices": Pick(
        "Shares from separate infographic boxes, presumably one multi-select question (not "
        "confirmed); base of 362 assumed. Wording differs from the NMC engagement item.",
        instrument=EOI,
    ),
    "eoi_stakeholder_groups_engaged": Pick(
        "Base of 362 assumed; the private-sector share is not printed. Multi-select: shares "
        "are independent.",
        instrument=EOI,
    ),
    "eoi_vulnerable_groups_engaged": Pick(
        "Only the 31% 'yes' is printed; 'no' is its complement. Base of 362 assumed.",
        instrument=EOI,
        scale="nominal",
        remainder="do not engage vulnerable groups (complement, not printed)",
    ),
    "eoi_private_sector_collaboration_area": Pick(
        "Only the main area is printed (79%: research and innovation); the other areas are "
        "pooled as the remainder. Base of 362 assumed.",
        instrument=EOI,
        scale="nominal",
        remainder="other main area (remainder, not printed)",
    ),
    "eoi_cobenefit_assessment_share": Pick(
        "Only the 48% 'yes' is printed; 'no' is its complement. Base of 362 assumed.",
        instrument=EOI,
        scale="nominal",
        remainder="not assessing co-benefits or adverse impacts (complement, not printed)",
    ),
}


def transcribe(item: dict[str, Any], pick: Pick) -> dict[str, Any]:
    """The target entry for one shared-file item, checked against what the source prints."""
    item_id = item["id"]
    categories = list(item["categories"])
    values = list(item["values"])
    if pick.drop_missing:
        kept = [i for i, v in enumerate(values) if v is not None]
        categories, values = [categories[i] for i in kept], [values[i] for i in kept]
    if pick.categories is not None:
        assert len(pick.categories) == len(categories), item_id
        categories = list(pick.categories)
    n = pick.n if pick.n is not None else item["n"]
    assert isinstance(n, int) and None not in values, f"{item_id}: no base or a missing value"
    unit = item["unit"]
    percent = unit.startswith("percent")
    assert percent or unit.startswith("count"), f"{item_id}: unexpected unit {unit!r}"
    entry: dict[str, Any] = {
        "id": item_id,
        "instrument": pick.instrument,
        "kind": item["kind"],
        "scale": pick.scale,
        "n": n,
        "categories": categories,  # a remainder category is appended below
    }
    if pick.table_counts is not None:
        printed = [100 * c / n for c in pick.table_counts]
        assert all(abs(p - v) <= PERCENT_TOLERANCE for p, v in zip(printed, values, strict=True))
        entry["counts"] = list(pick.table_counts)
        how = "counts from the report's tables (see caveat), within a point of the source percent"
    elif percent:
        shares = [v / 100 for v in values]
        how = "source percent / 100"
        if pick.remainder is not None:
            categories.append(pick.remainder)
            shares.append(1 - sum(shares))
            how += f"; the unprinted remainder added as '{pick.remainder}'"
        entry["shares"] = [round(s, SHARE_DIGITS) for s in shares]
    elif pick.normalise:
        total = sum(values)
        entry["shares"] = [round(v / total, SHARE_DIGITS) for v in values]
        how = f"source counts {values} divided by their sum {total} (not n)"
    else:
        entry["counts"] = values
        how = "source counts as given"
    if pick.categories is not None:
        how += f"; source labels {item['categories']} renamed"
    if pick.drop_missing and len(categories) < len(item["categories"]):
        how += "; categories without a printed value dropped"
    if pick.n is not None:
        how += f"; n = {pick.n} chosen here (the source gives none)"
    entry.update(
        source_unit=unit,
        transcription=how,
        document=item["source_document"],
        question=item["question"],
        population=item["population"],
        caveat=pick.caveat,
    )
    return entry


def toml_value(value: object) -> str:
    """A TOML literal for a string, number or flat array (long arrays one element a line)."""
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        parts = [toml_value(v) for v in value]
        inline = "[" + ", ".join(parts) + "]"
        if len(inline) <= MAX_INLINE_ARRAY:
            return inline
        return "[\n" + "".join(f"    {p},\n" for p in parts) + "]"
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return repr(value)


def render(source: Path = SOURCE) -> dict[str, str]:
    """The text of each instrument's target file, by file name."""
    data = source.read_bytes()
    items = [item for section in json.loads(data).values() for item in section]
    by_id = {item["id"]: item for item in items}
    missing = sorted(PICKS.keys() - by_id.keys())
    assert not missing, f"picked items not in {source}: {missing}"
    try:
        shown = source.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        shown = source.name
    digest = hashlib.sha256(data).hexdigest()
    files = {}
    for instrument, title in INSTRUMENT_TITLES.items():
        lines = [
            f"# Calibration targets: {title}.",
            f"# Transcribed from {shown} (sha256 {digest})",
            "# by scripts/transcribe_targets.py; hand-checked. Edit the script, not this file.",
        ]
        for item in items:
            pick = PICKS.get(item["id"])
            if pick is None or pick.instrument != instrument:
                continue
            assert (pick.scale is not None) == bool(SCALES[item["kind"]]), item["id"]
            lines += ["", "[[targets]]"]
            entry = transcribe(item, pick)
            lines += [f"{k} = {toml_value(v)}" for k, v in entry.items() if v is not None]
        files[f"{instrument}.toml"] = "\n".join(lines) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="the shared survey JSON")
    parser.add_argument("--out", type=Path, default=TARGETS_DIR, help="directory to write")
    parser.add_argument("--check", action="store_true", help="only compare with --out")
    args = parser.parse_args(argv)
    files = render(args.source)
    if args.check:
        stale = [name for name, text in files.items() if _read(args.out / name) != text.encode()]
        for name in stale:
            print(f"{args.out / name} differs from what the script writes")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_bytes(text.encode())
    targets = load_targets(args.out)
    for instrument, group in targets.by_instrument().items():
        print(f"{instrument}: {len(group)} targets -> {args.out / (instrument + '.toml')}")
    return 0


def _read(path: Path) -> bytes | None:
    """The file's bytes, or None if there is no such file."""
    return path.read_bytes() if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
