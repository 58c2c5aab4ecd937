"""REDCap: dictionary shape, registry -> REDCap -> registry byte for byte, mapping, bad input."""

from __future__ import annotations

import csv
import filecmp
from pathlib import Path

import pytest

from itb.cli import REFERENCE_COHORT, main
from itb.interop import redcap
from itb.interop.common import registry_text
from itb.registry_io import load_registry
from itb.registry_io.schema import ALL_FILES, IDENTITY
from itb.registry_io.writer import dataset_toml, write_registry


def _canonical(source: Path, target: Path) -> Path:
    """The registry as the writer writes it (the reference cohort may predate new columns)."""
    registry = load_registry(source)
    tables = registry_text(registry)
    specs = {spec.table: spec for spec in ALL_FILES}
    files = {name: [[row.get(c) for c in specs[name].column_names] for row in rows]
             for name, rows in tables.items()}
    write_registry(target, files, dataset_toml(registry.title, registry.cutoff))
    return target


def test_dictionary_has_redcaps_18_columns_and_repeating_instruments(tmp_path: Path) -> None:
    out = tmp_path / "dict.csv"
    assert main(["redcap", "dictionary", str(out), "--sites-from", str(REFERENCE_COHORT),
                 "--lang", "en"]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert tuple(rows[0]) == redcap.DICTIONARY_COLUMNS and len(rows[0]) == 18
    by_name = {row[0]: row for row in rows[1:]}
    assert rows[1][0] == "record_id"
    assert {row[1] for row in rows[1:]} >= {"patients", "implantations", "complications",
                                            "assessments", "refills", "identity"}
    assert by_name["sex"][3] == "radio" and by_name["sex"][5] == "M, Male | F, Female"
    assert by_name["birth_date"][7] == "date_ymd" and by_name["birth_date"][10] == "y"
    assert by_name["personal_code"][10] == "y" and by_name["diagnosis"][10] == ""
    assert by_name["site"][5].startswith("TLH, Tallinna Lastehaigla | TUK, ")
    assert by_name["implantations_site"][1] == "implantations"
    assert by_name["reservoir_ml"][7:10] == ["number", "1", "100"]
    assert by_name["pump_model"][11] == "[kind] <> 'revision'"
    assert by_name["therapy_end_reason"][11] == "[therapy_end_date] <> ''"


def test_round_trip_is_byte_identical(tmp_path: Path) -> None:
    original = _canonical(REFERENCE_COHORT, tmp_path / "original")
    records, dictionary = tmp_path / "records.csv", tmp_path / "dict.csv"
    assert main(["redcap", "export", str(original), str(records),
                 "--dictionary", str(dictionary)]) == 0
    header = next(csv.reader(records.open(encoding="utf-8")))
    assert header[:3] == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    assert "refills_complete" in header
    back = tmp_path / "back"
    registry = load_registry(original)
    assert main(["redcap", "import", str(records), "--dictionary", str(dictionary), str(back),
                 "--cutoff", registry.cutoff.isoformat(), "--title", str(registry.title)]) == 0
    names = sorted(p.name for p in original.iterdir())
    assert names == sorted(p.name for p in back.iterdir())
    for name in names:
        assert filecmp.cmp(original / name, back / name, shallow=False), name
    # and the canonical form is the reference cohort itself, for every file already in it
    for name in ("assessments.csv", "complications.csv", "implantations.csv", "sites.csv"):
        if (REFERENCE_COHORT / name).read_text().split("\n")[0] == \
                (original / name).read_text().split("\n")[0]:
            assert (REFERENCE_COHORT / name).read_bytes() == (original / name).read_bytes()


def test_round_trip_keeps_identity(tmp_path: Path) -> None:
    original = _canonical(REFERENCE_COHORT, tmp_path / "original")
    # a synthetic, valid-checksum code for ITB001 (M, born 2001-11-24): 5011124 + serial 001
    from stdnum.ee import ik

    stem = "5011124001"
    code = stem + ik.calc_check_digit(stem + "0")  # the last digit is ignored
    (original / "identity.csv").write_text(
        f"patient_id,personal_code,first_name,last_name\nITB001,{code},Test,Patsient\n",
        encoding="utf-8")
    records, dictionary = tmp_path / "r.csv", tmp_path / "d.csv"
    assert main(["redcap", "export", str(original), str(records), "--dictionary",
                 str(dictionary)]) == 0
    back = tmp_path / "back"
    assert main(["redcap", "import", str(records), "--dictionary", str(dictionary), str(back),
                 "--cutoff", "2024-07-31"]) == 0
    assert (back / "identity.csv").read_bytes() == (original / "identity.csv").read_bytes()
    assert IDENTITY.filename in {p.name for p in back.iterdir()}


def _old_dictionary(source: Path, target: Path) -> None:
    rows = list(csv.reader(source.open(encoding="utf-8")))
    with target.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([row[:15] for row in rows])


def _their_project(tmp_path: Path) -> tuple[Path, Path]:
    """Their project: other field names, numeric sex codes, a checkbox, a yes/no field;
    its (18-column) dictionary and the mapping onto the registry."""
    full = tmp_path / "full.csv"
    redcap.write_dictionary(full, "en", load_registry(REFERENCE_COHORT).site_names)
    rows = list(csv.reader(full.open(encoding="utf-8")))
    renamed = {"record_id": "study_id", "sex": "gender", "birth_date": "dob",
               "contractures_before": "contr", "syndrome": "synd"}
    for row in rows[1:]:
        row[0] = renamed.get(row[0], row[0])
        if row[0] == "gender":
            row[5] = "1, Male | 2, Female"
        if row[0] == "contr":
            row[3], row[5] = "yesno", ""
        if row[0] == "synd":
            row[3] = "checkbox"
    theirs = tmp_path / "their-dict.csv"
    with theirs.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text("""record_id = "study_id"
[fields]
gender = "patients.sex"
dob = "patients.birth_date"
contr = "patients.contractures_before"
synd = "patients.syndrome"
[codes.gender]
"1" = "M"
"2" = "F"
""", encoding="utf-8")
    return theirs, mapping


def test_older_15_column_dictionary_and_mapping(tmp_path: Path) -> None:
    theirs, mapping = _their_project(tmp_path)
    old = tmp_path / "old-dict.csv"
    _old_dictionary(theirs, old)
    records = tmp_path / "records.csv"
    records.write_text(
        "study_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,site,"
        "gender,dob,diagnosis,synd___spastic_tetraparesis,synd___spastic_paraparesis,"
        "functional_level,contr,patients_complete,implant_date,implantations_site,kind\n"
        "P1,baseline_arm_1,,,TLH,2,1990-05-01,multiple_sclerosis,0,1,high,1,2,,,\n"
        "P1,baseline_arm_1,implantations,1,,,,,,,,,,2015-03-02,TLH,initial\n",
        encoding="utf-8")
    out = tmp_path / "out"
    assert main(["redcap", "import", str(records), "--dictionary", str(old), str(out),
                 "--mapping", str(mapping), "--cutoff", "2024-07-31"]) == 0
    registry = load_registry(out)
    patient = registry.patients.row(0, named=True)
    assert (patient["sex"], patient["syndrome"], patient["contractures_before"]) == (
        "F", "spastic_paraparesis", "yes")
    assert registry.implantations.height == 1


def test_bad_records_name_line_and_field_and_write_nothing(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    dictionary = tmp_path / "d.csv"
    redcap.write_dictionary(dictionary, "en")
    records = tmp_path / "records.csv"
    records.write_text(
        "record_id,redcap_repeat_instrument,redcap_repeat_instance,site,sex,birth_date,"
        "diagnosis,syndrome,functional_level,implant_date,implantations_site,kind,nonsense\n"
        "P1,,,TLH,X,1990-02-30,cerebral_palsy,spastic_paraparesis,high,,,,\n"
        "P1,implantations,1,,,,,,,2015-03-02,TLH,initial,\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["redcap", "import", str(records), "--dictionary", str(dictionary), str(out),
                 "--lang", "en"]) == 2
    assert "records.csv:1: nonsense: the column nonsense is not a field of the dictionary" \
        in capsys.readouterr().err
    records.write_text(records.read_text().replace(",nonsense", "").replace(",\n", "\n"),
                       encoding="utf-8")
    assert main(["redcap", "import", str(records), "--dictionary", str(dictionary), str(out),
                 "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "records.csv:2: sex: unknown code 'X'; allowed: M, F" in err
    assert "records.csv:2: birth_date: '1990-02-30' is not a real calendar date" in err
    assert not out.exists()
    assert "Traceback" not in err


def test_not_a_dictionary_and_unmapped_field(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    records = tmp_path / "r.csv"
    records.write_text("record_id\nP1\n", encoding="utf-8")
    assert main(["redcap", "import", str(records), "--dictionary", str(bad),
                 str(tmp_path / "o"), "--lang", "en"]) == 2
    assert ("bad.csv:1: this is not a REDCap data dictionary: the column "
            "'Variable / Field Name' is missing") in capsys.readouterr().err
    dictionary = tmp_path / "d.csv"
    redcap.write_dictionary(dictionary, "en")
    with dictionary.open("a", encoding="utf-8") as out:
        out.write("their_extra,patients,,text,Extra,,,,,,,,,,,,,\n")
    assert main(["redcap", "import", str(records), "--dictionary", str(dictionary),
                 str(tmp_path / "o"), "--lang", "et"]) == 2
    assert "väljal their_extra pole registris vastet" in capsys.readouterr().err


def _dictionary(tmp_path: Path) -> Path:
    dictionary = tmp_path / "d.csv"
    redcap.write_dictionary(dictionary, "en")
    return dictionary


HEAD = ("record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,site,sex,"
        "birth_date,diagnosis,syndrome,functional_level,implant_date,implantations_site,kind\n")


def test_longitudinal_records_merge_and_conflicts_are_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "records.csv"
    records.write_text(
        HEAD + "P1,baseline_arm_1,,,TLH,F,1990-05-01,,,,,,\n"
        "P1,visit_arm_1,,,,,,cerebral_palsy,spastic_paraparesis,high,,,\n"
        "P1,visit_arm_1,implantations,1,,,,,,,2015-03-02,TLH,initial\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["redcap", "import", str(records), "--dictionary", str(_dictionary(tmp_path)),
                 str(out), "--cutoff", "2024-07-31"]) == 0
    assert load_registry(out).patients.row(0, named=True)["diagnosis"] == "cerebral_palsy"
    records.write_text(records.read_text().replace(",,,cerebral_palsy", ",M,,cerebral_palsy"),
                       encoding="utf-8")
    assert main(["redcap", "import", str(records), "--dictionary", str(tmp_path / "d.csv"),
                 str(tmp_path / "o2"), "--lang", "en"]) == 2
    assert ("records.csv:3: sex: the record has different values for this field ('F' and "
            "'M')") in capsys.readouterr().err


def test_mapping_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('colour = "x"\n[fields]\ngender = "patients.gender"\n', encoding="utf-8")
    records = tmp_path / "records.csv"
    records.write_text(HEAD, encoding="utf-8")
    assert main(["redcap", "import", str(records), "--dictionary", str(_dictionary(tmp_path)),
                 str(tmp_path / "o"), "--mapping", str(mapping), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "m.toml: colour: unknown key 'colour'" in err
    assert ("m.toml: fields.gender: 'patients.gender' is not a registry column in the form "
            "table.column") in err
    mapping.write_text("[codes.sex]\n\"1\" = \"M\"\n", encoding="utf-8")
    records.write_text(HEAD + "P1,,,,TLH,2,1990-05-01,cerebral_palsy,spastic_paraparesis,"
                       "high,,,\n", encoding="utf-8")
    assert main(["redcap", "import", str(records), "--dictionary", str(tmp_path / "d.csv"),
                 str(tmp_path / "o"), "--mapping", str(mapping), "--lang", "en"]) == 2
    assert "records.csv:2: sex: the code '2' is not in the mapping file's codes" in \
        capsys.readouterr().err
    mapping.write_text("[fields\n", encoding="utf-8")
    assert main(["redcap", "import", str(records), "--dictionary", str(tmp_path / "d.csv"),
                 str(tmp_path / "o"), "--mapping", str(mapping), "--lang", "et"]) == 2
    assert "m.toml: vastavusfaili ei saa lugeda" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_checkbox_with_two_boxes_ticked(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.reader(_dictionary(tmp_path).open(encoding="utf-8")))
    for row in rows:
        if row[0] == "syndrome":
            row[3] = "checkbox"
    theirs = tmp_path / "theirs.csv"
    with theirs.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    records = tmp_path / "records.csv"
    records.write_text(
        "record_id,site,sex,birth_date,diagnosis,syndrome___spastic_tetraparesis,"
        "syndrome___spastic_paraparesis,functional_level\n"
        "P1,TLH,F,1990-05-01,cerebral_palsy,1,1,high\n", encoding="utf-8")
    assert main(["redcap", "import", str(records), "--dictionary", str(theirs),
                 str(tmp_path / "o"), "--lang", "en"]) == 2
    assert ("records.csv:2: syndrome: several choices are ticked (spastic_tetraparesis, "
            "spastic_paraparesis)") in capsys.readouterr().err


def test_dictionary_in_estonian_and_missing_files(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.csv"
    assert main(["redcap", "dictionary", str(out)]) == 0
    rows = {row[0]: row for row in csv.reader(out.open(encoding="utf-8"))}
    assert rows["sex"][4] == "Sugu" and rows["sex"][5] == "M, Mees | F, Naine"
    assert rows["site"][3] == "text"  # no --sites-from: site codes are typed
    assert main(["redcap", "import", str(tmp_path / "none.csv"), "--dictionary", str(out),
                 str(tmp_path / "o"), "--lang", "en"]) == 2
    assert "none.csv: the file is missing" in capsys.readouterr().err


def test_the_documented_examples_import(tmp_path: Path) -> None:
    """docs/examples: the records and dictionary convert into a valid registry; the mapping
    file reads; the FHIR bundle validates."""
    from fhir.resources.R4B.bundle import Bundle

    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    out = tmp_path / "out"
    assert main(["redcap", "import", str(examples / "redcap-records.csv"), "--dictionary",
                 str(examples / "redcap-dictionary.csv"), str(out),
                 "--cutoff", "2024-07-31"]) == 0
    assert load_registry(out).patients.height == 1
    assert redcap.read_mapping(examples / "redcap-mapping.toml").fields["gender"] == \
        "patients.sex"
    Bundle.model_validate_json((examples / "fhir-bundle.json").read_text(encoding="utf-8"))


def test_round_trip_through_their_project(tmp_path: Path) -> None:
    """Registry -> their project's records (mapping + their dictionary) -> registry."""
    theirs, mapping = _their_project(tmp_path)
    original = _canonical(REFERENCE_COHORT, tmp_path / "original")
    records = tmp_path / "theirs.csv"
    assert main(["redcap", "export", str(original), str(records), "--mapping", str(mapping),
                 "--project-dictionary", str(theirs)]) == 0
    header = next(csv.reader(records.open(encoding="utf-8")))
    assert header[0] == "study_id" and "gender" in header and "sex" not in header
    assert "synd___spastic_paraparesis" in header and "synd" not in header
    rows = list(csv.DictReader(records.open(encoding="utf-8")))
    first = rows[0]
    assert first["gender"] in ("1", "2") and first["contr"] in ("1", "0", "")
    assert [first[c] for c in header if c.startswith("synd___")].count("1") == 1
    back = tmp_path / "back"
    assert main(["redcap", "import", str(records), "--dictionary", str(theirs), str(back),
                 "--mapping", str(mapping), "--cutoff", "2024-07-31",
                 "--title", str(load_registry(original).title)]) == 0
    for path in original.iterdir():
        assert path.read_bytes() == (back / path.name).read_bytes(), path.name
