"""identity.csv: validated like every file, each problem named, never a code or a name shown.

The personal codes are synthetic, built with their check digit for the minimal registry's
patients (P01: M 2008-03-14, P02: F 2011-11-02, P03: F 2005-06-30).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from stdnum.ee import ik

from itb.registry_io import RegistryInvalid, load_registry
from itb.registry_io.records import validate_rows
from tests.conftest import MakeRegistry

HEADER = "patient_id,personal_code,first_name,last_name\n"


def code(sex: str, born: date, serial: int = 1) -> str:
    first = {1900: 3, 2000: 5}[born.year // 100 * 100] + (sex == "F")
    stem = f"{first}{born:%y%m%d}{serial:03d}"
    return stem + ik.calc_check_digit(stem + "0")


P01 = code("M", date(2008, 3, 14))
P02 = code("F", date(2011, 11, 2))
P03 = code("F", date(2005, 6, 30))
NAMES = ("Mart", "Tamm", "Anu", "Kask", "Liis", "Mets")


def with_identity(make_registry: MakeRegistry, text: str) -> Path:
    directory = make_registry()
    (directory / "identity.csv").write_text(text, encoding="utf-8")
    return directory


def problems(directory: Path) -> list[str]:
    with pytest.raises(RegistryInvalid) as raised:
        load_registry(directory)
    return [p.render("en") for p in raised.value.problems]


def test_valid_identity_is_loaded_apart(make_registry: MakeRegistry) -> None:
    directory = with_identity(make_registry, HEADER + f"P01,{P01},Mart,Tamm\n"
                              f"P02,{P02},Anu,Kask\nP03,,Liis,\n")
    registry = load_registry(directory)
    assert registry.identity is not None
    assert registry.identity.columns == ["patient_id", "personal_code", "first_name",
                                         "last_name"]
    assert registry.identity.row(2) == ("P03", None, "Liis", None)
    assert "personal_code" not in registry.patients.columns


def test_without_identity_file(make_registry: MakeRegistry) -> None:
    assert load_registry(make_registry()).identity is None


def test_every_problem_named_without_the_code_or_name(make_registry: MakeRegistry) -> None:
    wrong_check = P03[:-1] + str((int(P03[-1]) + 1) % 10)
    other_birth = code("F", date(2011, 11, 3))
    no_such_date = "6080230" + "123"
    no_such_date += ik.calc_check_digit(no_such_date + "0")
    text = (HEADER
            + f"P01,{code('F', date(2008, 3, 14))},Mart,Tamm\n"  # line 2: sex
            + f"P02,{other_birth},Anu,Kask\n"                    # line 3: birth date
            + f"P03,{wrong_check},Liis,Mets\n"                   # line 4: check digit
            + "P09,,Mart,\n"                                     # line 5: unknown patient
            + f"P01,{other_birth},,\n"                           # line 6: P01 again, P02's code
            + "P02,3080314001,,\n"                               # line 7: format
            + f"P03,{no_such_date},,\n")                         # line 8: 2008-02-30
    found = problems(with_identity(make_registry, text))
    assert found == [
        "identity.csv:2: personal_code: the personal code gives the patient the other sex",
        "identity.csv:3: personal_code: the personal code's birth date differs from the "
        "patient's birth date",
        "identity.csv:4: personal_code: the check digit (the last digit) of the personal code "
        "does not match; is a digit wrong?",
        "identity.csv:5: patient_id: patient_id P09 is not in patients.csv",
        "identity.csv:6: patient_id: patient_id P01 appears more than once (first on line 2)",
        "identity.csv:6: personal_code: the same personal code is already given for "
        "patient_id P02 (line 3)",
        "identity.csv:6: personal_code: the personal code gives the patient the other sex",
        "identity.csv:6: personal_code: the personal code's birth date differs from the "
        "patient's birth date",
        "identity.csv:7: patient_id: patient_id P02 appears more than once (first on line 3)",
        "identity.csv:7: personal_code: the personal code must be 11 digits",
        "identity.csv:8: patient_id: patient_id P03 appears more than once (first on line 4)",
        "identity.csv:8: personal_code: digits 2–7 of the personal code are not a real "
        "calendar date of birth",
    ]
    text_of_all = "\n".join(found)
    for secret in (P01, P02, P03, wrong_check, other_birth, no_such_date, *NAMES):
        assert secret not in text_of_all


def test_same_code_for_two_patients(make_registry: MakeRegistry) -> None:
    # P02 and P03 are both women; give them one code (P02's, which then disagrees on birth).
    found = problems(with_identity(make_registry, HEADER + f"P02,{P02},,\nP03,{P02},,\n"))
    assert found[0] == ("identity.csv:3: personal_code: the same personal code is already "
                        "given for patient_id P02 (line 2)")


def test_names_too_long(make_registry: MakeRegistry) -> None:
    long_name = "K" * 101
    found = problems(with_identity(make_registry, HEADER + f"P01,{P01},{long_name},Tamm\n"))
    assert found == ["identity.csv:2: first_name: the text is longer than 100 characters"]


def test_header_checked(make_registry: MakeRegistry) -> None:
    found = problems(with_identity(make_registry, "patient_id,first_name,last_name\nP01,A,B\n"))
    assert found == ["identity.csv:1: personal_code: a required column is missing"]


def test_identity_rows_in_memory_validate_alike() -> None:
    """A form's identity row, checked by the one validator, against its patient's row."""
    patient = {"patient_id": "P01", "site": "TLN", "sex": "M", "birth_date": date(2008, 3, 14),
               "diagnosis": "cerebral_palsy", "syndrome": "spastic_tetraparesis",
               "functional_level": "low"}
    implant = {"patient_id": "P01", "implant_date": date(2015, 4, 20), "site": "TLN",
               "kind": "initial"}
    tables = {"patients": [patient], "implantations": [implant]}
    ok = validate_rows({**tables, "identity": [{"patient_id": "P01", "personal_code": P01}]},
                       date(2024, 7, 31), None)
    assert ok == []
    wrong = validate_rows({**tables, "identity": [{"patient_id": "P01", "personal_code": P02}]},
                          date(2024, 7, 31), None)
    assert [p.code for p in wrong] == ["personal_code_sex_mismatch",
                                       "personal_code_birth_mismatch"]
