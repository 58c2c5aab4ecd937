"""The registry writer: documented order and formatting, all or nothing, exact round trips."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from itb.registry_io import load_registry
from itb.registry_io.loader import Registry
from itb.registry_io.synth import write_synthetic_registry
from itb.registry_io.writer import (
    REQUIRED_TABLES,
    SPECS,
    Row,
    dataset_toml,
    write_registry,
)

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference-cohort"


def tables_of(registry: Registry) -> dict[str, list[Row]]:
    tables: dict[str, list[Row]] = {
        name: list(getattr(registry, name).select(SPECS[name].column_names).iter_rows())
        for name in REQUIRED_TABLES if name != "sites"}
    tables["sites"] = list(registry.site_names.items())
    if registry.source is not None and (registry.source / "screening_trials.csv").is_file():
        tables["screening_trials"] = list(registry.screening_trials.iter_rows())
    if registry.identity is not None:
        tables["identity"] = list(registry.identity.iter_rows())
    return tables


def registry_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.name != "README.md"}


@pytest.mark.parametrize("source", ["reference", "synthetic"])
def test_loaded_registry_written_back_byte_for_byte(source: str, tmp_path: Path) -> None:
    directory = REFERENCE
    if source == "synthetic":
        directory = tmp_path / "synth"
        write_synthetic_registry(directory, 150, seed=3)
    registry = load_registry(directory)
    out = tmp_path / "out"
    dataset = (directory / "dataset.toml").read_text(encoding="utf-8")
    counts = write_registry(out, tables_of(registry), dataset)
    assert registry_files(out) == registry_files(directory)
    assert counts["patients.csv"] == registry.patients.height


def minimal_tables(**changes: list[Row]) -> dict[str, list[Row]]:
    tables: dict[str, list[Row]] = {
        "sites": [("TRT", "Tartu"), ("TLN", "Tallinn")],
        "patients": [
            ("P2", "TRT", "F", date(2011, 11, 2), "other", 'spastic, "severe"',
             "generalised_dystonia", "low", "", None, "", ""),
            ("P1", "TLN", "M", date(2008, 3, 14), "cerebral_palsy", "line\r\nbreak",
             "spastic_tetraparesis", "high", "yes", None, None, "cerebral"),
        ],
        "implantations": [
            ("P2", date(2019, 1, 1), "TRT", "replacement", "synchromed_ii", Decimal("40.00"),
             "", "", ),
            ("P2", date(2018, 9, 5), "TRT", "initial", "prometra_ii", 20.0, "silicone", "C5"),
            ("P1", date(2015, 4, 20), "TLN", "initial", "synchromed_ii", Decimal("20.5"),
             None, None),
        ],
        "complications": [],
        "assessments": [
            ("P1", date(2016, 4, 20), "mas", "follow_up", "left knee", "1"),
            ("P1", date(2015, 3, 1), "mas", "screening", "left knee", "1+"),
            ("P1", date(2016, 4, 20), "gmfcs", "follow_up", None, "IV"),
        ],
        "refills": [("P1", date(2015, 10, 20), 20.0, Decimal("500.00"), 150.25, None),
                    ("P1", date(2015, 9, 1), 20.0, 500, 150, Decimal("3.50"))],
    }
    return {**tables, **changes}


def test_order_formatting_and_quoting(tmp_path: Path) -> None:
    out = tmp_path / "out"
    counts = write_registry(out, minimal_tables(), dataset_toml("Test", date(2024, 7, 31)))
    assert counts == {"sites.csv": 2, "patients.csv": 2, "implantations.csv": 3,
                      "complications.csv": 0, "assessments.csv": 3, "refills.csv": 2}
    assert sorted(p.name for p in out.iterdir()) == [
        "assessments.csv", "complications.csv", "dataset.toml", "implantations.csv",
        "patients.csv", "refills.csv", "sites.csv"]
    read = {p.name: p.read_bytes().decode("utf-8") for p in out.iterdir()}
    # Sites keep their given order; patients sort by id; events by patient, date, given order.
    assert read["sites.csv"] == "code,name\nTRT,Tartu\nTLN,Tallinn\n"
    assert read["patients.csv"].splitlines(keepends=True)[1:] == [
        'P1,TLN,M,2008-03-14,cerebral_palsy,"line\r\n',
        'break",spastic_tetraparesis,high,yes,,,cerebral\n',
        'P2,TRT,F,2011-11-02,other,"spastic, ""severe""",generalised_dystonia,low,,,,\n']
    assert read["implantations.csv"].splitlines()[1:] == [
        "P1,2015-04-20,TLN,initial,synchromed_ii,20.5,,",
        "P2,2018-09-05,TRT,initial,prometra_ii,20,silicone,C5",
        "P2,2019-01-01,TRT,replacement,synchromed_ii,40,,"]
    assert read["assessments.csv"].splitlines()[1:] == [
        "P1,2015-03-01,mas,screening,left knee,1+",
        "P1,2016-04-20,mas,follow_up,left knee,1",
        "P1,2016-04-20,gmfcs,follow_up,,IV"]
    assert read["refills.csv"] == ("patient_id,refill_date,volume_ml,concentration_mcg_ml,"
                                   "daily_dose_mcg,residual_ml\nP1,2015-09-01,20,500,150,3.5\n"
                                   "P1,2015-10-20,20,500,150.25,\n")
    assert read["complications.csv"] == "patient_id,complication_date,type,detail\n"
    assert read["dataset.toml"] == 'title = "Test"\ncutoff = 2024-07-31\n'
    # And what was written reads back as written.
    registry = load_registry(out)
    assert registry.patients.get_column("diagnosis_detail").to_list() == [
        "line\r\nbreak", 'spastic, "severe"']


def test_screening_trials_only_when_given(tmp_path: Path) -> None:
    trials = [("P1", date(2015, 3, 2), 50, "yes", None),
              ("P1", date(2015, 3, 1), Decimal("25.00"), "no", "nausea, mild")]
    counts = write_registry(tmp_path / "b", minimal_tables(screening_trials=trials), "")
    assert counts["screening_trials.csv"] == 2
    assert (tmp_path / "b" / "screening_trials.csv").read_text(encoding="utf-8") == (
        "patient_id,trial_date,dose_mcg,response,side_effects\n"
        'P1,2015-03-01,25,no,"nausea, mild"\nP1,2015-03-02,50,yes,\n')
    registry = load_registry(tmp_path / "b", cutoff=date(2024, 7, 31))
    assert registry.screening_trials.get_column("dose_mcg").to_list() == [25.0, 50.0]


def test_dataset_toml_escapes_the_title() -> None:
    text = dataset_toml('Tartu "Ülikool" \\ 2024', date(2024, 7, 31))
    assert text == 'title = "Tartu \\"Ülikool\\" \\\\ 2024"\ncutoff = 2024-07-31\n'
    assert dataset_toml(None, date(2020, 1, 2)) == "cutoff = 2020-01-02\n"


def test_identity_only_when_given(tmp_path: Path) -> None:
    write_registry(tmp_path / "a", minimal_tables(), "")
    assert not (tmp_path / "a" / "identity.csv").exists()
    tables = {**minimal_tables(), "identity": [("P2", None, "Anu", "Kask"),
                                               ("P1", "50803140014", None, "Tamm")]}
    counts = write_registry(tmp_path / "b", tables, "")
    assert counts["identity.csv"] == 2
    assert (tmp_path / "b" / "identity.csv").read_text(encoding="utf-8") == (
        "patient_id,personal_code,first_name,last_name\n"
        "P1,50803140014,,Tamm\nP2,,Anu,Kask\n")


def test_replaces_an_earlier_registry_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_registry(out, {**minimal_tables(), "identity": [("P1", None, "A", "B")]}, "")
    write_registry(out, minimal_tables(refills=[]), "")
    assert not (out / "identity.csv").exists()  # an earlier identity file does not linger
    assert (out / "refills.csv").read_text(encoding="utf-8").count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directory left


def test_refuses_a_directory_with_other_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_registry(out, minimal_tables(), "")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_registry(out, minimal_tables(), "")
    before = registry_files(out)
    broken = minimal_tables(refills=[("P1", date(2015, 10, 20), 20.0)])  # a row too short
    with pytest.raises(ValueError, match=r"refills\.csv"):
        write_registry(out, broken, "")
    assert registry_files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_tables_checked(tmp_path: Path) -> None:
    tables = minimal_tables()
    del tables["refills"]
    with pytest.raises(ValueError, match="refills"):
        write_registry(tmp_path / "out", tables, "")
    with pytest.raises(ValueError, match="unknown"):
        write_registry(tmp_path / "out", {**minimal_tables(), "notes": []}, "")
    assert not (tmp_path / "out").exists()
