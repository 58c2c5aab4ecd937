"""Write a registry directory from tables: what ``itb export`` produces and ``itb import`` reads.

The files are those of docs/data-format.md, columns in the documented order, every value
formatted by ``records.cell`` (the one formatting of a value as CSV text), UTF-8 with ``\\n``
line ends. Rows are sorted by patient, then the event's date, then the order they were given
in (for the database: the order they were entered), so that the same registry always gives
the same bytes: a directory written by this module and imported reads back identical.

All or nothing: the files are written into a temporary directory beside the target, which is
then moved into place. A directory that already holds a registry is replaced as a whole (so an
``identity.csv`` of an earlier export does not linger); one holding other files is refused.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from itb.registry_io.loader import DATASET_FILE
from itb.registry_io.records import cell
from itb.registry_io.schema import (
    ALL_FILES,
    EVENT_DATE,
    IDENTITY,
    SCREENING_TRIALS,
    SITES,
    FileSpec,
)

# A row: its values in the order of its FileSpec's columns.
Row = Sequence[Any]
Progress = Callable[[int], None]

SPECS: dict[str, FileSpec] = {spec.table: spec for spec in ALL_FILES}
# Written only when given: identity (asked for), and files added to the format later.
OPTIONAL_TABLES = (IDENTITY.table, SCREENING_TRIALS.table)
REQUIRED_TABLES = tuple(spec.table for spec in ALL_FILES if spec.table not in OPTIONAL_TABLES)
# Everything this module writes: a directory holding only these may be replaced.
REGISTRY_FILES = frozenset({spec.filename for spec in ALL_FILES} | {DATASET_FILE})
_PROGRESS_EVERY = 50_000
# RFC 4180: a value holding one of these is quoted (csv.writer would leave a bare \r as is).
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def dataset_toml(title: str | None, cutoff: date) -> str:
    """The text of a ``dataset.toml`` with this title and data cut-off."""
    lines = [] if title is None else [f"title = {json.dumps(title, ensure_ascii=False)}"]
    # A JSON string is a valid TOML basic string (same escapes).
    lines.append(f"cutoff = {cutoff.isoformat()}")
    return "\n".join(lines) + "\n"


def write_registry(target: Path, tables: Mapping[str, Iterable[Row]], dataset: str,
                   progress: Progress | None = None) -> dict[str, int]:
    """Write the registry ``tables`` (by table name) and the ``dataset.toml`` text into
    ``target``; return the rows written per file name.

    Every table but ``identity`` and ``screening_trials`` is required; those two are
    written only when given. ``progress(n)`` is told of every ``n`` rows written.
    """
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    unknown = [name for name in tables if name not in SPECS]
    if missing or unknown:
        raise ValueError(f"tables missing: {missing}; unknown: {unknown}")
    target = Path(target)
    _check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        counts = {SPECS[name].filename: _write_table(staging, SPECS[name], rows, progress)
                  for name, rows in tables.items()}
        (staging / DATASET_FILE).write_text(dataset, encoding="utf-8", newline="\n")
        _move_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def sort_rows(spec: FileSpec, rows: Iterable[Row]) -> list[Row]:
    """Rows in file order: by patient, then event date; ties keep their given order."""
    if spec is SITES:
        return list(rows)  # in the order the sites were given (entered)
    date_index = spec.column_names.index(EVENT_DATE[spec.table]) if spec.table in EVENT_DATE \
        else None
    if date_index is None:
        return sorted(rows, key=lambda row: str(row[0]))
    return sorted(rows, key=lambda row: (str(row[0]), cell(row[date_index]) or ""))


def _write_table(directory: Path, spec: FileSpec, rows: Iterable[Row],
                 progress: Progress | None) -> int:
    ordered = sort_rows(spec, rows)
    width = len(spec.columns)
    with (directory / spec.filename).open("w", encoding="utf-8", newline="") as handle:
        handle.write(_line(spec.column_names))
        for start in range(0, len(ordered), _PROGRESS_EVERY):
            chunk = ordered[start:start + _PROGRESS_EVERY]
            for row in chunk:
                if len(row) != width:
                    raise ValueError(f"{spec.filename}: a row of {len(row)} values, not {width}")
            handle.writelines(_line(row) for row in chunk)
            if progress is not None:
                progress(len(chunk))
    return len(ordered)


def _line(row: Row) -> str:
    return ",".join(_field(cell(value)) for value in row) + "\n"


def _field(text: str | None) -> str:
    if text is None:
        return ""
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _check_replaceable(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise FileExistsError(errno.EEXIST, "exists and is not a directory", str(target))
    foreign = [p.name for p in target.iterdir() if p.name not in REGISTRY_FILES]
    if foreign:
        raise FileExistsError(errno.ENOTEMPTY,
                              "the directory holds files that are not registry files",
                              str(target))


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename the finished directory to ``target``, swapping out an earlier registry there."""
    if not target.exists():
        os.rename(staging, target)
        return
    # Checked again at the last moment: nothing but registry files is ever removed.
    _check_replaceable(target)
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.rename(target, old / target.name)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old / target.name, target)
        raise
    finally:
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
