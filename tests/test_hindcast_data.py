"""The GB-free verified series: the script's known answers and the stored files' consistency."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from experiments import hindcast

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gb() -> ModuleType:
    """scripts/ets_gb_share.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "ets_gb_share", ROOT / "scripts" / "ets_gb_share.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    """A minimal workbook with the Commission file's layout: notes, header row, data rows."""
    strings: list[str] = []

    def cell(ref: str, value: object) -> str:
        if isinstance(value, str):
            strings.append(value)
            return f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>'
        return f'<c r="{ref}"><v>{value}</v></c>'

    xml_rows = []
    for i, row in enumerate(rows, start=1):
        cells = "".join(cell(f"{chr(65 + j)}{i}", v) for j, v in enumerate(row) if v is not None)
        xml_rows.append(f'<row r="{i}">{cells}</row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet = f"<worksheet {ns}><sheetData>{''.join(xml_rows)}</sheetData></worksheet>"
    sst = f"<sst {ns}>" + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", sst)
    return path


def test_gb_sums_follow_registry_and_activity_codes(gb: ModuleType, tmp_path: Path) -> None:
    """Known answer: GB rows of the sector's codes summed; other countries, codes, blanks not."""
    years = [f"VERIFIED_EMISSIONS_{y}" for y in range(2018, 2012, -1)]
    header: list[object] = ["REGISTRY_CODE", "IDENTIFIER_IN_REG", "MAIN_ACTIVITY_TYPE_CODE", *years]
    rows: list[list[object]] = [
        ["Date of Extraction", "1 April 2019"],
        header,
        ["GB", "kiln", 29, 1_000_000, 2_000_000, 0, 0, 0, 3_000_000],
        ["GB", "old-code refinery", 2, 500_000, -1, -1, -1, -1, "Excluded"],
        ["GB", "refinery", 21, 1_500_000, 0, 0, 0, 0, 4_000_000],
        ["GB", "lime works", 6, 9_000_000, 0, 0, 0, 0, 9_000_000],
        ["FR", "kiln", 29, 7_000_000, 0, 0, 0, 0, 7_000_000],
    ]
    sums = gb.gb_by_sector(gb.read_rows(_xlsx(tmp_path / "f.xlsx", rows)))
    assert sums[("cement", 2018)] == pytest.approx(1.0)
    assert sums[("cement", 2017)] == pytest.approx(2.0)
    assert sums[("cement", 2013)] == pytest.approx(3.0)
    assert sums[("refinery", 2018)] == pytest.approx(2.0)  # codes 21 and 2
    assert sums[("refinery", 2013)] == pytest.approx(4.0)  # "Excluded" counts as 0
    assert sums[("steel", 2013)] == 0.0 and sums[("chemicals", 2016)] == 0.0


def test_a_file_without_the_header_is_refused(gb: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="REGISTRY_CODE"):
        gb.read_rows(_xlsx(tmp_path / "g.xlsx", [["something else", 1]]))


def test_the_stored_history_column_is_what_the_script_writes(gb: ModuleType) -> None:
    """The GB-free column equals the EEA value minus the stored GB sums (2013-2018)."""
    text = gb.history_table(gb.read_gb_csv())
    assert text == hindcast.VERIFIED_CSV.read_text()


def test_gb_free_series_covers_2013_2018_and_2021_2024() -> None:
    data = pd.read_csv(hindcast.VERIFIED_CSV)
    excl, total = data["verified_emissions_excl_gb_mt"], data["verified_emissions_mt"]
    early, gap, late = data["year"] <= 2018, data["year"].isin([2019, 2020]), data["year"] >= 2021
    assert (excl[early] < total[early]).all()  # GB had installations in every sector
    assert excl[gap].isna().all()
    np.testing.assert_allclose(excl[late], total[late])
    gb_rows = pd.read_csv(ROOT / "abm" / "data" / "ets_verified_gb_2013_2018.csv")
    assert gb_rows["source"].str.contains(r"\[src\]").all()
    assert set(gb_rows["year"]) == set(range(2013, 2019))


def test_uncompared_years_keep_the_model_and_drop_from_the_gaps() -> None:
    verified = hindcast.verified_emissions()
    assert verified.loc[[2019, 2020]].isna().all().all()
    assert verified.loc[2013, "steel"] == pytest.approx(129.47 - 13.704, abs=0.006)


def test_sensitivity_overrides_replace_registry_values_and_refuse_unknown_names() -> None:
    from experiments.scenario import load_scenario

    config = load_scenario(hindcast.SCENARIO)
    changed = hindcast.with_parameters(config, {"start_output_headroom_cement": 1.0})
    assert changed.parameters.start_output_headroom_cement == 1.0
    assert config.parameters.start_output_headroom_cement > 1.0  # the original is untouched
    with pytest.raises(ValueError, match="unknown parameter"):
        hindcast.with_parameters(config, {"no_such_parameter": 1.0})
