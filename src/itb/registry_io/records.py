"""Registry rows held in memory (e.g. one patient's record from a form or a database) checked
by the same validator as a directory of files: one validation path for files and forms.

A row is a mapping from column name to a value; values are turned into CSV cell text exactly
as ``itb export`` writes them, so a row validates the same in memory as it would on disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl

from itb.registry_io.problems import Problem
from itb.registry_io.reader import RawTable
from itb.registry_io.schema import ALL_FILES, FileSpec, Kind
from itb.registry_io.validate import validate_tables

SPECS: dict[str, FileSpec] = {spec.table: spec for spec in ALL_FILES}

Row = Mapping[str, Any]


def cell(value: Any) -> str | None:
    """A value as the text of its CSV cell; None (or empty text) for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def raw_table(spec: FileSpec, rows: Sequence[Row]) -> RawTable:
    """Rows as a RawTable of text columns, as the reader would produce from a file."""
    columns = {
        column.name: pl.Series(column.name, [cell(row.get(column.name)) for row in rows],
                               dtype=pl.String)
        for column in spec.columns
    }
    frame = pl.DataFrame(columns)
    numbers = [c.name for c in spec.columns if c.kind is Kind.NUMBER]
    # The reader gives clean numbers as Float64; text that is no number stays text.
    casts = {name: pl.Float64 for name in numbers
             if frame.get_column(name).cast(pl.Float64, strict=False).null_count()
             == frame.get_column(name).null_count()}
    return RawTable(spec, frame.cast(casts) if casts else frame)  # type: ignore[arg-type]


def validate_rows(tables: Mapping[str, Sequence[Row]], cutoff: date,
                  site_codes: frozenset[str] | None) -> list[Problem]:
    """Every problem in these rows (by table name: ``patients``, ``implantations``, …).

    Row ``i`` of a table is reported on line ``i + 2``, as if it were in a file.
    """
    raw = {name: raw_table(SPECS[name], rows) for name, rows in tables.items()}
    return validate_tables(raw, cutoff, site_codes).problems
