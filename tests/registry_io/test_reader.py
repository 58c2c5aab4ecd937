"""The reader's check of whether rows are lines, read in chunks, at every chunk boundary."""

from __future__ import annotations

from pathlib import Path

import pytest

from itb.registry_io import reader


def whole_file_answer(data: bytes, rows: int) -> bool:
    """The definition: the line count differs from rows + header, or a line is empty."""
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    return lines != rows + 1 or b"\n\n" in data or b"\n\r\n" in data


CASES = [
    (b"a,b\n1,2\n3,4\n", 2),
    (b"a,b\n1,2\n3,4", 2),
    (b"a,b\r\n1,2\r\n3,4\r\n", 2),
    (b"a,b\n1,2\n\n3,4\n", 2),
    (b"a,b\n1,2\r\n\r\n3,4\n", 2),
    (b"a,b\n\"1\n\",2\n3,4\n", 2),
    (b"a,b\n1,2\n3,4\n\n", 2),
    (b"a,b\n1,2\n", 2),
]


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 4, 5, 7, 1 << 24])
@pytest.mark.parametrize(("data", "rows"), CASES)
def test_rows_are_not_lines_agrees_with_the_whole_file_at_any_chunk_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, rows: int,
        chunk_bytes: int) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(data)
    monkeypatch.setattr(reader, "_CHUNK_BYTES", chunk_bytes)
    assert reader._rows_are_not_lines(path, rows) is whole_file_answer(data, rows)
