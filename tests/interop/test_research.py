"""De-identified extract, codebook, workbook, FHIR bundle, small-cell suppression."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from stdnum.ee import ik

from itb.cli import REFERENCE_COHORT, main
from itb.interop.common import registry_text
from itb.interop.deidentify import OLDEST_AGE, Options, deidentify, shift_days
from itb.registry_io import load_registry
from itb.reports.suppression import suppress_table
from itb.reports.tables import DisplayTable, Row


def _with_identity(tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of the reference cohort with synthetic identities for two patients."""
    data = tmp_path / "data"
    data.mkdir()
    for path in REFERENCE_COHORT.iterdir():
        if path.suffix in (".csv", ".toml"):
            (data / path.name).write_bytes(path.read_bytes())
    stem = "5011124001"  # ITB001: male, born 2001-11-24
    code = stem + ik.calc_check_digit(stem + "0")
    (data / "identity.csv").write_text(
        "patient_id,personal_code,first_name,last_name\n"
        f"ITB001,{code},Juhan,Testjuhtum\nITB002,,Mari,Näidisnimi\n", encoding="utf-8")
    return data, [code, "Juhan", "Testjuhtum", "Mari", "Näidisnimi"]


def test_extract_has_no_identity_and_keeps_intervals(tmp_path: Path) -> None:
    data, secrets = _with_identity(tmp_path)
    out = tmp_path / "extract"
    key = tmp_path / "k.key"
    assert main(["deidentify", str(data), str(out), "--key-file", str(key), "--excel",
                 "--lang", "en"]) == 0
    original = load_registry(data)
    ids = original.patients.get_column("patient_id").to_list()
    everything = b"".join(p.read_bytes() for p in out.iterdir() if p.suffix != ".xlsx")
    book = load_workbook(out / "extract.xlsx")
    cells = " ".join(str(c) for sheet in book for row in sheet.iter_rows(values_only=True)
                     for c in row if c is not None)
    for value in [*secrets, *ids]:
        assert value.encode() not in everything, value
        assert value not in cells, value
    assert not (out / "identity.csv").exists()
    assert "HMAC" in (out / "README.md").read_text(encoding="utf-8")

    # every interval between two dates of one patient is what it was
    extract = load_registry(out)
    table = registry_text(original)
    shifted = deidentify(table, original.cutoff, bytes.fromhex(key.read_text().strip()),
                         Options())
    assert sorted(r["birth_date"] for r in shifted.tables["patients"]) == sorted(
        extract.patients.get_column("birth_date").cast(str).to_list())
    for before, after in zip(table["refills"], shifted.tables["refills"], strict=True):
        first = next(r for r in table["patients"] if r["patient_id"] == before["patient_id"])
        moved = next(r for r in shifted.tables["patients"]
                     if r["patient_id"] == after["patient_id"])
        assert (date.fromisoformat(before["refill_date"]) -
                date.fromisoformat(first["birth_date"])) == (
            date.fromisoformat(after["refill_date"]) - date.fromisoformat(moved["birth_date"]))
        shift = (date.fromisoformat(before["refill_date"]) -
                 date.fromisoformat(after["refill_date"])).days
        assert 0 <= shift <= 364 and shift == shift_days(
            bytes.fromhex(key.read_text().strip()), before["patient_id"])
    # the same key gives the same pseudonyms
    again = tmp_path / "again"
    assert main(["deidentify", str(data), str(again), "--key-file", str(key)]) == 0
    assert (again / "patients.csv").read_bytes() == (out / "patients.csv").read_bytes()
    assert sorted(book.sheetnames) == sorted(
        [p.stem for p in out.glob("*.csv") if p.stem not in ("codebook", "sites")]
        + ["data dictionary"])


def test_days_since_first_implantation_and_old_ages_grouped(tmp_path: Path) -> None:
    registry = load_registry(REFERENCE_COHORT)
    tables = registry_text(registry)
    tables["patients"][0] = tables["patients"][0] | {"birth_date": "1920-01-01"}
    extract = deidentify(tables, registry.cutoff, b"k" * 32, Options(dates="days"))
    patient = extract.tables["patients"][0]
    assert patient["age_over_89"] == "yes" and extract.grouped_ages == 1
    surgeries = [r for r in extract.tables["implantations"]
                 if r["patient_id"] == patient["patient_id"]]
    assert min(int(str(r["implant_date_days"])) for r in surgeries) == 0
    # 90 years before the patient's latest date (therapy ended 2019-06-18)
    assert -int(str(patient["birth_date_days"])) < (OLDEST_AGE + 2) * 366
    assert "birth_date" not in extract.columns["patients"]
    assert all(r["detail"] is None for r in extract.tables["complications"])


def test_codebook_lists_every_column_and_code(tmp_path: Path) -> None:
    out = tmp_path / "x"
    assert main(["deidentify", str(REFERENCE_COHORT), str(out), "--lang", "en"]) == 0
    rows = list(csv.DictReader((out / "codebook.csv").open(encoding="utf-8")))
    registry = load_registry(REFERENCE_COHORT)
    header = next(csv.reader((out / "patients.csv").open(encoding="utf-8")))
    variables = {r["variable"] for r in rows if r["file"] == "patients.csv" and not r["code"]}
    assert variables == set(header)
    assert {r["code"] for r in rows if r["variable"] == "sex" and r["code"]} == {"M", "F"}
    assert registry.patients.height == len((out / "patients.csv").read_text().splitlines()) - 1


def test_bad_key_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k"
    key.write_text("short\n")
    out = tmp_path / "x"
    assert main(["deidentify", str(REFERENCE_COHORT), str(out), "--key-file", str(key),
                 "--lang", "en"]) == 2
    assert "k: the key file must hold at least 32 bytes" in capsys.readouterr().err
    assert not out.exists()


def test_workbook_has_a_sheet_per_table_and_typed_cells(tmp_path: Path) -> None:
    out = tmp_path / "w.xlsx"
    assert main(["workbook", str(REFERENCE_COHORT), str(out), "--lang", "en"]) == 0
    book = load_workbook(out)
    assert "data dictionary" in book.sheetnames and "refills" in book.sheetnames
    refills = book["refills"]
    assert isinstance(refills["C2"].value, int | float)
    assert refills["B2"].is_date


def test_fhir_bundle_validates_and_references_resolve(tmp_path: Path) -> None:
    from fhir.resources.R4B.bundle import Bundle

    data, secrets = _with_identity(tmp_path)
    for extra in ([], ["--deidentified", "--key-file", str(tmp_path / "k")]):
        out = tmp_path / "bundle.json"
        assert main(["fhir", "export", str(data), str(out), *extra, "--lang", "en"]) == 0
        text = out.read_text(encoding="utf-8")
        bundle = json.loads(text)
        Bundle.model_validate(bundle)  # raises on anything not FHIR
        urls = {entry["fullUrl"] for entry in bundle["entry"]}
        references = []

        def walk(node: object, found: list[str] = references) -> None:
            if isinstance(node, dict):
                if "reference" in node:
                    found.append(node["reference"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(bundle)
        assert references and set(references) <= urls
        kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
        assert kinds >= {"Patient", "Condition", "Procedure", "Device", "Observation",
                         "AdverseEvent", "DeviceUseStatement", "Organization"}
        patients = [e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "Patient"]
        first = patients[0]
        # one patient's resources all point at that patient
        mine = [e["resource"] for e in bundle["entry"]
                if e["resource"].get("subject", {}).get("reference") ==
                f"urn:uuid:{first['id']}"]
        assert {r["resourceType"] for r in mine} >= {"Condition", "Procedure", "Observation"}
        if extra:
            assert all("name" not in p and "identifier" not in p for p in patients)
            for value in [*secrets, "ITB001", "ITB002"]:
                assert value not in text
        else:
            assert patients[0]["identifier"][0]["value"] == "ITB001"
            assert patients[0]["name"][0]["family"] == "Testjuhtum"


def test_suppression_masks_small_counts_and_their_complements() -> None:
    table = DisplayTable("t", "T", ["", "All", "A", "B"], [
        Row(["median", "3 (2)", "2 (1)", "4 (3)"]),
        Row(["Sex"], section=True),
        Row(["M", "10 (50)", "7 (70)", "3 (30)"]),
        Row(["F", "10 (50)", "8 (80)", "2 (20)"]),
    ])
    out = suppress_table(table, 5, "en")
    assert out.rows[0].cells == ["median", "3 (2)", "2 (1)", "4 (3)"]  # not counts
    assert out.rows[2].cells[3] == "<5" and out.rows[3].cells[3] == "<5"
    # M: 10 = 7 + B; B masked alone in its row, so the row's smallest other is withheld
    assert out.rows[2].cells[2] == "‡" and out.rows[3].cells[2] == "‡"
    assert "<5" in out.notes[-1]
    for row in out.rows[2:]:
        hidden = [c for c in row.cells[1:] if c in ("<5", "‡")]
        assert len(hidden) != 1


def test_report_with_suppression(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["report", str(REFERENCE_COHORT), "--out", str(out), "--lang", "en",
                 "--suppress-below", "5"]) == 0
    assert not (out / "report.json").exists() and not (out / "figure2.svg").exists()
    flow = (out / "flow.csv").read_text(encoding="utf-8")
    assert "<5" in flow and ",1 (" not in flow
    assert "Small-cell suppression" in (out / "report.md").read_text(encoding="utf-8")


def test_suppression_of_the_proportion_note_and_other_diagnoses(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["report", str(REFERENCE_COHORT), "--out", str(out), "--lang", "en",
                 "--suppress-below", "8"]) == 0
    markdown = (out / "report.md").read_text(encoding="utf-8")
    # 7 of 43 patients had a complication: the count, its percentage and intervals go
    assert "<8 of 43 patients (‡)" in markdown and "7 of 43" not in markdown
    proportion = (out / "complication_proportion.csv").read_text(encoding="utf-8")
    assert "%" not in proportion.split("\n", 1)[1]
    assert "Other diagnoses:" not in markdown  # free-text rare diseases
    plain = tmp_path / "plain"
    assert main(["report", str(REFERENCE_COHORT), "--out", str(plain), "--lang", "en"]) == 0
    assert "7 of 43 patients" in (plain / "report.md").read_text(encoding="utf-8")


def test_fhir_bundle_of_one_patient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "one.json"
    assert main(["fhir", "export", str(REFERENCE_COHORT), str(out), "--patient", "ITB006",
                 "--lang", "en"]) == 0
    bundle = json.loads(out.read_text(encoding="utf-8"))
    patients = [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient"]
    assert [p["identifier"][0]["value"] for p in patients] == ["ITB006"]
    assert main(["fhir", "export", str(REFERENCE_COHORT), str(out), "--patient", "NOPE",
                 "--lang", "en"]) == 2
    assert "NOPE: no such patient in the registry" in capsys.readouterr().err
