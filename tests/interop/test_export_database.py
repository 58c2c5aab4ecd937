"""``itb export --deidentified``: the database through the same de-identification."""

from __future__ import annotations

from pathlib import Path

import pytest

from itb.cli import REFERENCE_COHORT, main
from itb.registry_io import load_registry

pytestmark = pytest.mark.django_db


def test_export_deidentified_from_the_database(database_dir: Path, tmp_path: Path) -> None:
    assert main(["import", str(REFERENCE_COHORT), "--data-dir", str(database_dir)]) == 0
    out = tmp_path / "extract"
    assert main(["export", str(out), "--deidentified", "--data-dir", str(database_dir)]) == 0
    assert (database_dir / "deidentify.key").is_file()
    extract = load_registry(out)
    assert extract.patients.height == 43
    ids = set(load_registry(REFERENCE_COHORT).patients.get_column("patient_id").to_list())
    assert not ids & set(extract.patients.get_column("patient_id").to_list())
    assert "HMAC" in (out / "README.md").read_text(encoding="utf-8")
    assert main(["export", str(tmp_path / "x"), "--deidentified", "--with-identity",
                 "--data-dir", str(database_dir)]) == 2
    assert main(["export", str(tmp_path / "y"), "--excel", "--data-dir",
                 str(database_dir)]) == 2
