"""The documentation lists every code, label and definition the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from itb.domain.codes import ALL_CODE_LISTS, CodeList
from itb.registry_io.schema import ALL_FILES, FileSpec

DOCS = Path(__file__).resolve().parents[1] / "docs"
DATA_FORMAT = (DOCS / "data-format.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("code_list", ALL_CODE_LISTS, ids=lambda c: c.name)
def test_every_code_is_documented_with_both_labels(code_list: CodeList) -> None:
    for item in code_list:
        assert f"| `{item.code}` | {item.et} | {item.en} |" in DATA_FORMAT, item.code


@pytest.mark.parametrize("spec", ALL_FILES, ids=lambda s: s.filename)
def test_every_column_is_documented(spec: FileSpec) -> None:
    section = DATA_FORMAT.split(f"### `{spec.filename}`", 1)[1].split("\n### ", 1)[0]
    for column in spec.column_names:
        assert f"| `{column}` |" in section, f"{spec.filename}: {column}"
