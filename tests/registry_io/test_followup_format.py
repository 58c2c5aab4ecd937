"""The follow-up columns and file (issue 4): refills.residual_ml, patients.spasticity_origin,
screening_trials.csv; every rule with its exact ``file:line: column: message``.

The minimal valid registry of ``tests/conftest.py`` predates these columns: it must stay valid.
P01 born 2008-03-14, first implantation 2015-04-20; P02 born 2011-11-02, first 2018-09-05.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from itb import cli
from itb.registry_io import RegistryInvalid, load_registry

TRIALS_HEADER = "patient_id,trial_date,dose_mcg,response,side_effects\n"
VALID_TRIALS = TRIALS_HEADER + (
    "P01,2015-03-01,25,no,\n"
    "P01,2015-03-02,50,yes,\"nausea, mild\"\n"
    "P02,2018-08-01,100,yes,\n"
)


def problems(directory: Path, lang: str = "en") -> list[str]:
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(directory)
    return [problem.render(lang) for problem in caught.value.problems]


def with_trials(directory: Path, text: str) -> Path:
    (directory / "screening_trials.csv").write_text(text, encoding="utf-8")
    return directory


def add_column(text: str, name: str, values: list[str]) -> str:
    """``text`` (a CSV) with a last column ``name`` holding ``values`` row by row."""
    lines = text.splitlines()
    assert len(lines) == len(values) + 1
    return "".join(f"{line},{value}\n" for line, value in zip(lines, [name, *values],
                                                                 strict=True))


def test_files_without_the_new_columns_stay_valid(make_registry) -> None:
    registry = load_registry(make_registry())
    assert registry.refills.get_column("residual_ml").null_count() == 3
    assert registry.patients.get_column("spasticity_origin").to_list() == [None] * 3
    assert registry.screening_trials.height == 0
    assert registry.screening_trials.columns == ["patient_id", "trial_date", "dose_mcg",
                                                 "response", "side_effects"]


def test_new_columns_read_typed(make_registry, valid_files) -> None:
    refills = add_column(valid_files["refills"], "residual_ml", ["", "3.5", "0"])
    patients = add_column(valid_files["patients"], "spasticity_origin",
                          ["cerebral", "spinal", ""])
    directory = with_trials(make_registry(refills=refills, patients=patients), VALID_TRIALS)
    registry = load_registry(directory)
    assert registry.refills.get_column("residual_ml").to_list() == [None, 3.5, 0.0]
    assert registry.patients.get_column("spasticity_origin").to_list() == [
        "cerebral", "spinal", None]
    trials = registry.screening_trials
    assert trials.get_column("trial_date").to_list() == [
        date(2015, 3, 1), date(2015, 3, 2), date(2018, 8, 1)]
    assert trials.get_column("dose_mcg").to_list() == [25.0, 50.0, 100.0]
    assert trials.get_column("side_effects").to_list() == [None, "nausea, mild", None]


def test_residual_and_origin_values_are_checked(make_registry, valid_files) -> None:
    refills = add_column(valid_files["refills"], "residual_ml", ["-1", "a lot", "101"])
    patients = add_column(valid_files["patients"], "spasticity_origin",
                          ["brain", "spinal", ""])
    assert problems(make_registry(refills=refills, patients=patients)) == [
        "patients.csv:2: spasticity_origin: unknown code 'brain'; allowed: cerebral, spinal",
        "refills.csv:2: residual_ml: -1 is outside the allowed range 0…100",
        "refills.csv:3: residual_ml: 'a lot' is not a number",
        "refills.csv:4: residual_ml: 101 is outside the allowed range 0…100",
    ]


def test_screening_trial_rules(make_registry) -> None:
    trials = TRIALS_HEADER + (
        "P01,2015-03-01,60,no,\n"          # 2: not a trial dose
        "P01,2015-03-02,150,yes,\n"        # 3: out of range
        "P01,2015-03-03,50,maybe,\n"       # 4: unknown response
        "P01,2016-01-01,50,yes,\n"         # 5: after the first implantation
        "P02,2010-01-01,25,no,\n"          # 6: before birth
        "P09,2018-01-01,25,no,\n"          # 7: unknown patient
        "P02,,,,\n"                        # 8: required values
        f"P02,2018-08-01,25,no,{'x' * 501}\n"  # 9: text too long
    )
    directory = with_trials(make_registry(), trials)
    assert problems(directory) == [
        "screening_trials.csv:2: dose_mcg: 60 µg is not a trial dose; allowed: 25, 50, 75, "
        "100 µg",
        "screening_trials.csv:3: dose_mcg: 150 is outside the allowed range 25…100",
        "screening_trials.csv:4: response: unknown code 'maybe'; allowed: yes, no",
        "screening_trials.csv:5: trial_date: the trial 2016-01-01 is after the first "
        "implantation (2015-04-20); screening precedes the implantation",
        "screening_trials.csv:6: trial_date: the trial date 2010-01-01 is before the birth "
        "date 2011-11-02",
        "screening_trials.csv:7: patient_id: patient_id P09 is not in patients.csv",
        "screening_trials.csv:8: dose_mcg: a value is required",
        "screening_trials.csv:8: response: a value is required",
        "screening_trials.csv:8: trial_date: a value is required",
        "screening_trials.csv:9: side_effects: the text is longer than 500 characters",
    ]


def test_a_trial_on_the_day_of_the_implantation_is_valid(make_registry) -> None:
    directory = with_trials(make_registry(), TRIALS_HEADER + "P01,2015-04-20,25,yes,\n")
    assert load_registry(directory).screening_trials.height == 1


def test_screening_trials_header_is_checked(make_registry) -> None:
    directory = with_trials(make_registry(), "patient_id,trial_date,dose_mcg,side_effects\n")
    assert problems(directory) == [
        "screening_trials.csv:1: response: a required column is missing"]


def test_messages_in_estonian(make_registry, capsys: pytest.CaptureFixture[str]) -> None:
    directory = with_trials(make_registry(), TRIALS_HEADER + "P01,2016-01-01,60,yes,\n")
    assert problems(directory, "et") == [
        "screening_trials.csv:2: dose_mcg: proovidoos 60 µg ei ole lubatud; lubatud: 25, 50, "
        "75, 100 µg",
        "screening_trials.csv:2: trial_date: proovidoos 2016-01-01 on pärast esimest "
        "implantatsiooni (2015-04-20); skriining eelneb implantatsioonile",
    ]
    assert cli.main(["validate", str(directory)]) == cli.EXIT_INVALID
    err = capsys.readouterr().err
    assert "screening_trials.csv:2: dose_mcg: proovidoos 60 µg" in err
    assert "Traceback" not in err
