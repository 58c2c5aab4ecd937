"""``itb due`` without a directory: the follow-up list of the database, the same as of the
directory it was imported from (one code path: itb.analysis.followup)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itb.cli import EXIT_OK, EXIT_OS_ERROR, REFERENCE_COHORT, main
from itb.web.registry.models import Patient, Refill
from itb.web.registry.services.importing import import_registry

pytestmark = pytest.mark.django_db


def due_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["due", *args, "--on", "2024-07-31", "--format", "json", "--all"]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def test_database_gives_the_directorys_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import_registry(REFERENCE_COHORT)
    # Django is already set up on the test database; the command only needs the file to
    # exist where --data-dir points (it refuses to create an empty database by a typo).
    monkeypatch.setenv("ITB_DATA_DIR", str(tmp_path))
    (tmp_path / "registry.sqlite3").touch()
    from_database = due_json(capsys, "--data-dir", str(tmp_path))
    from_directory = due_json(capsys, str(REFERENCE_COHORT))
    assert from_database == from_directory
    assert from_database[0]["patient_id"] == "ITB021"

    # A refill recorded in the database takes the patient off the overdue list.
    patient = Patient.objects.get(patient_id="ITB021")
    last = Refill.objects.filter(patient=patient).latest("refill_date")
    Refill.objects.create(patient=patient, refill_date="2024-07-30", volume_ml=last.volume_ml,
                          concentration_mcg_ml=last.concentration_mcg_ml,
                          daily_dose_mcg=last.daily_dose_mcg, residual_ml=2)
    after = {e["patient_id"]: e for e in due_json(capsys, "--data-dir", str(tmp_path))}
    assert after["ITB021"]["days_overdue"] == 0 and after["ITB021"]["flags"] == []


def test_refuses_a_directory_without_a_database(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    missing = tmp_path / "typo"
    assert main(["due", "--data-dir", str(missing)]) == EXIT_OS_ERROR
    assert "no registry database" in capsys.readouterr().err
    assert not missing.exists()
