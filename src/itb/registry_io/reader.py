"""Read one CSV file of a registry directory into a frame of raw (mostly text) columns.

Reading is strict about structure (UTF-8, a header with every column, rows as wide as the
header) and lenient about values: values are checked afterwards, all at once, by
``itb.registry_io.validate`` so that every problem in a file is reported together.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from itb.registry_io.problems import Problem
from itb.registry_io.schema import FileSpec, Kind

UTF8_BOM = b"\xef\xbb\xbf"
_CHUNK_BYTES = 1 << 24
_NEWLINE, _RETURN = ord("\n"), ord("\r")


@dataclass(slots=True)
class RawTable:
    """One file's rows. Number columns are Float64 when they parsed cleanly, else text."""

    spec: FileSpec
    frame: pl.DataFrame
    # The file line each row starts on; None when row i is simply on line i + 2.
    row_lines: np.ndarray | None = None
    # The file whose lines ``row_lines`` is still to be read from: only a problem's message
    # needs a line, and finding them re-reads the file (a second a gigabyte).
    lines_from: Path | None = None

    @property
    def filename(self) -> str:
        return self.spec.filename

    def line(self, row: int) -> int:
        if self.lines_from is not None:
            self.row_lines = _row_lines(self.lines_from, self.frame.height)
            self.lines_from = None
        return int(self.row_lines[row]) if self.row_lines is not None else row + 2


def read_table(directory: Path, spec: FileSpec) -> tuple[RawTable | None, list[Problem]]:
    path = directory / spec.filename
    name = spec.filename
    if not path.is_file():
        return None, ([Problem(name, None, None, "file_missing")] if spec.required_file else [])
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError as error:
        return None, [Problem(name, None, None, "file_unreadable", {"detail": error.strerror})]
    if not head.removeprefix(UTF8_BOM).strip():
        return None, [Problem(name, None, None, "file_empty")]

    header, problems = _read_header(name, head, spec)
    if problems:
        return None, problems

    wanted = list(spec.column_names)
    present = [column for column in wanted if column in header]
    number_columns = {c.name: pl.Float64 for c in spec.columns
                      if c.kind is Kind.NUMBER and c.name in header}
    frame: pl.DataFrame | None = None
    for overrides in (number_columns, {}):
        try:
            frame = pl.read_csv(path, infer_schema=False, schema_overrides=overrides,
                                columns=present, encoding="utf8", raise_if_empty=False)
            break
        except pl.exceptions.PolarsError:
            continue  # A number that is not one: read as text and let validation name it.
    if frame is None:
        return None, _structural_problems(path, name, len(header))

    # An optional column left out of the header: all its values are empty.
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.Float64 if c.kind is Kind.NUMBER else pl.String).alias(c.name)
        for c in spec.columns if c.name not in header)
    # Excel writes "" for an empty cell; the format says an empty cell means unknown.
    text_columns = [n for n, dtype in frame.schema.items() if dtype == pl.String]
    columns = frame.with_columns(
        pl.when(pl.col(n).str.len_bytes() == 0).then(None).otherwise(pl.col(n)).alias(n)
        for n in text_columns
    ).select(wanted).get_columns()
    del frame  # the list is the columns' only holder: each piece is freed once copied whole
    frame = _contiguous(columns)
    # A blank line is not a row, but polars reads it as a row of empty cells: only a file
    # with an empty cell in its first column can have one.
    if frame.get_column(present[0]).null_count() == 0:
        return RawTable(spec, frame, lines_from=path), []
    if _rows_are_not_lines(path, frame.height):
        starts = _row_starts(path)
        if starts is not None and len(starts[0]) == frame.height:
            lines, blank = starts
            return RawTable(spec, frame.filter(pl.Series(~blank)), lines[~blank]), []
    return RawTable(spec, frame), []


def _contiguous(columns: list[pl.Series]) -> pl.DataFrame:
    """The columns, each in one piece, as a frame. The reader leaves a large file's columns
    in hundreds of pieces, and a column computed from one (a parsed date) comes out whole:
    an operation on columns cut differently first copies them all alike, which at 10^6
    patients cost more than this one copy. A column at a time (each replaced in the list it
    is taken from), to copy no more than one at once."""
    for i, column in enumerate(columns):
        columns[i] = column.rechunk()
    return pl.DataFrame(columns)


def _row_lines(path: Path, rows: int) -> np.ndarray | None:
    """The line each of ``rows`` rows of a file without blank lines starts on, or None
    when row i is on line i + 2 (or the file is not parsable CSV)."""
    if not _rows_are_not_lines(path, rows):
        return None
    starts = _row_starts(path)
    return starts[0] if starts is not None and len(starts[0]) == rows else None


def _read_header(name: str, head: bytes, spec: FileSpec) -> tuple[list[str], list[Problem]]:
    first_line = head.removeprefix(UTF8_BOM).split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = f"0x{first_line[error.start]:02x}"
        return [], [Problem(name, 1, None, "file_not_utf8", {"byte": byte})]
    header = next(csv.reader([text]), [])
    problems = [Problem(name, 1, column.name, "column_missing")
                for column in spec.columns
                if column.name not in header and not column.optional_column]
    problems += [Problem(name, 1, column, "column_duplicate")
                 for column in sorted({c for c in header if header.count(c) > 1})]
    return header, problems


def _structural_problems(path: Path, name: str, width: int) -> list[Problem]:
    """Find why a file is not readable CSV: the slow, exact path, taken only on failure."""
    data = path.read_bytes().removeprefix(UTF8_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return [Problem(name, line, None, "file_not_utf8", {"byte": f"0x{data[error.start]:02x}"})]
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for row in reader:
            if reader.line_num > 1 and len(row) > width:
                problems.append(Problem(name, start, None, "row_field_count",
                                        {"found": len(row), "expected": width}))
            start = reader.line_num + 1
    except csv.Error as error:
        problems.append(Problem(name, start, None, "file_not_csv", {"detail": str(error)}))
    return problems or [Problem(name, None, None, "file_not_csv", {"detail": "unknown layout"})]


def _rows_are_not_lines(path: Path, rows: int) -> bool:
    """Whether row i may not be on line i + 2: quoted values span lines, or blank lines.

    Read in chunks with numpy: a whole-file copy, and ``bytes.count`` and ``in`` over it,
    cost seconds and a file's size of memory for the largest registries.
    """
    lines = 0
    tail = b""  # the last bytes of the previous chunk, for a blank line across chunks
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            window = np.frombuffer(tail + chunk, dtype=np.uint8)
            newlines = np.flatnonzero(window == _NEWLINE)
            lines += int(np.count_nonzero(newlines >= len(tail)))
            gaps = np.diff(newlines)
            # "\n\n" or "\n\r\n": an empty line.
            if np.any(gaps == 1) or np.any((gaps == 2) & (window[newlines[:-1] + 1] == _RETURN)):
                return True
            tail = chunk[-2:]
    lines += not tail.endswith(b"\n")
    return lines != rows + 1


def _row_starts(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The line each data row starts on and whether it is blank, or None if unparsable."""
    text = path.read_bytes().removeprefix(UTF8_BOM).decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    starts: list[int] = []
    blank: list[bool] = []
    start = 1
    try:
        for row in reader:
            starts.append(start)
            blank.append(not row)
            start = reader.line_num + 1
    except csv.Error:
        return None
    return np.asarray(starts[1:], dtype=np.int64), np.asarray(blank[1:], dtype=bool)
