"""The output tables' units table matches what a run writes, column for column."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from abm import columns
from abm.outputs import SimulationResult


@pytest.mark.parametrize("table", columns.TABLES)
def test_every_written_column_is_in_the_units_table_in_order(
    small_result: SimulationResult, tmp_path: Path, table: str
) -> None:
    path = tmp_path / f"{table}.parquet"
    getattr(small_result, table).to_parquet(path, index=False)
    schema = pq.read_schema(path)
    listed = [c for c in columns.COLUMNS if c.table == table]
    assert [c.name for c in listed] == list(schema.names)
    for c in listed:
        assert c.unit and c.description, f"{table}.{c.name} lacks a unit or description"
        kind = schema.field(c.name).type
        if c.unit == "bool":
            assert str(kind) == "bool", f"{table}.{c.name} is {kind}, listed as bool"
        elif c.unit not in ("-", "year"):
            assert str(kind) in ("double", "int64"), f"{table}.{c.name} is {kind}, not a number"


def test_lookup_names_the_known_columns() -> None:
    assert columns.column("eu_year", "carbon_price_eur_per_t").unit == "EUR/t CO2"
    with pytest.raises(KeyError, match="no column 'price' in eu_year; known: year, level"):
        columns.column("eu_year", "price")
