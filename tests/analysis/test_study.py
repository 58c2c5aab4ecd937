"""The study analysis on the minimal registry of tests/conftest.py, checked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from itb.analysis import StudyResult, analyse
from itb.analysis.study import age_band
from itb.registry_io import load_registry
from tests.conftest import VALID_FILES, MakeRegistry

CUTOFF = date(2024, 7, 31)


@pytest.fixture
def result(make_registry: MakeRegistry) -> StudyResult:
    return analyse(load_registry(make_registry()))


def test_age_is_completed_years_at_the_initial_implantation(result: StudyResult) -> None:
    # P01 2008-03-14 → 2015-04-20: 7; P02 2011-11-02 → 2018-09-05: 6; P03 2005-06-30 →
    # 2016-02-01: 10.
    age = result.table1["overall"].age
    assert (age.min, age.max, age.median) == (6, 10, 7)
    assert (age.q1, age.q3, age.iqr) == (6.5, 8.5, 2.0)
    assert result.table1["low"].age.median == 8.5  # P01 7, P03 10
    assert result.table1["high"].age.median == 6


def test_a_december_birthday_not_yet_reached(make_registry: MakeRegistry) -> None:
    patients = VALID_FILES["patients.csv"].replace("P02,TRT,F,2011-11-02", "P02,TRT,F,2000-12-11")
    result = analyse(load_registry(make_registry(patients=patients)))
    assert result.table1["high"].age.median == 17  # 2018-09-05 is before 11 December


def test_usage_time_runs_to_therapy_end_or_cutoff(result: StudyResult) -> None:
    usage = [(CUTOFF - date(2015, 4, 20)).days, (CUTOFF - date(2018, 9, 5)).days,
             (date(2023, 5, 10) - date(2016, 2, 1)).days]
    years = [days / 365.25 for days in usage]
    mean = sum(years) / 3
    sd = (sum((y - mean) ** 2 for y in years) / 2) ** 0.5
    assert result.table1["overall"].usage_years.mean == pytest.approx(mean)
    assert result.table1["overall"].usage_years.sd == pytest.approx(sd)


def test_pump_implantations_count_initial_and_replacement_not_revision(
        result: StudyResult) -> None:
    assert result.table1["overall"].pump_implantations == {"1": 2, "2": 1}


def test_catheter_of_the_initial_implantation(result: StudyResult) -> None:
    overall = result.table1["overall"]
    assert overall.catheter_tip_level == {"C5": 1, "T10": 1, "unknown": 1}
    assert overall.catheter_type["ascenda"] == 1 and overall.catheter_type["silicone"] == 1
    assert overall.catheter_type["unknown"] == 1


def test_counts_keep_every_code_and_unknowns(result: StudyResult) -> None:
    overall = result.table1["overall"]
    assert overall.sex == {"M": 1, "F": 2}
    assert overall.contractures_before == {"yes": 1, "no": 1, "unknown": 1}
    assert overall.diagnosis["hereditary_spastic_paraplegia"] == 0
    assert result.other_diagnoses == ["anoxic injury"]


def test_flow(result: StudyResult) -> None:
    assert result.flow == {"implanted": 3, "on_therapy": 2,
                           "ended": {"death": 1, "replacement_not_possible": 0, "explanted": 0,
                                     "other": 0}}


def test_months_to_onset_count_from_the_latest_surgery_on_or_before(
        make_registry: MakeRegistry) -> None:
    complications = ("patient_id,complication_date,type,detail\n"
                     "P01,2016-07-01,catheter_kink,\n"
                     "P02,2019-03-03,infection,\n"
                     "P02,2020-01-15,csf_leak,on the day of the revision\n"
                     "P02,2020-03-15,csf_leak,\n")
    result = analyse(load_registry(make_registry(complications=complications)))
    by_type = result.complications.by_type
    assert by_type["catheter_kink"].mean_months_to_onset == pytest.approx(438 / 30.4375)
    assert by_type["infection"].mean_months_to_onset == pytest.approx(179 / 30.4375)
    # After the revision of 2020-01-15: 0 and 60 days.
    assert by_type["csf_leak"].mean_months_to_onset == pytest.approx(30 / 30.4375)
    assert (by_type["csf_leak"].events, by_type["csf_leak"].patients) == (2, 1)
    summary = result.complications
    assert (summary.patients, summary.events) == (2, 4)
    assert summary.patients_by_count == {"1": 1, "3": 1}
    assert summary.proportion == pytest.approx(2 / 3)
    assert summary.by_group["catheter"].events == 1
    assert summary.by_group["procedure"].events == 2


def test_no_complications(make_registry: MakeRegistry) -> None:
    result = analyse(load_registry(make_registry(
        complications="patient_id,complication_date,type,detail\n")))
    assert (result.complications.patients, result.complications.events) == (0, 0)
    assert result.complications.by_type == {}
    assert result.complications.ci95["wilson"].low == 0.0


def test_assessment_combinations(result: StudyResult) -> None:
    assert result.assessment_combinations == {
        "gmfcs+mas": 1, "gmfm+goniometry+pain_nrs": 1, "penn+tardieu": 1}


def test_patients_without_assessment_are_none(make_registry: MakeRegistry) -> None:
    assessments = ("patient_id,assessment_date,instrument,phase,body_site,value\n"
                   "P01,2015-03-01,mas,screening,,1\n")
    result = analyse(load_registry(make_registry(assessments=assessments)))
    assert result.assessment_combinations == {"mas": 1, "none": 2}


def test_first_implantations_per_year_fill_every_year_to_the_cutoff(
        result: StudyResult) -> None:
    per_year = result.first_implantations_per_year
    assert list(per_year) == [str(y) for y in range(2015, 2025)]
    assert per_year["2015"] == 1 and per_year["2016"] == 1 and per_year["2018"] == 1
    assert sum(per_year.values()) == 3
    # Sites in the order they started implanting.
    assert list(result.first_implantations_by_site) == ["TLN", "TRT"]
    assert result.first_implantations_by_site["TRT"]["2018"] == 1


@pytest.mark.parametrize(("age", "band"), [(0, "0-10"), (10, "0-10"), (11, "11-20"),
                                           (20, "11-20"), (21, "21-30"), (67, "61-70")])
def test_age_bands(age: int, band: str) -> None:
    assert age_band(age) == band


def test_age_bands_of_a_young_cohort(result: StudyResult) -> None:
    assert result.table1["overall"].age_bands == {"0-10": 3}
