"""Validation of a registry directory: every rule, reported as ``file:line: column: message``.

Each test spoils the minimal valid registry of ``conftest.py`` and asserts the exact lines.
Line numbers of the valid files (line 1 is the header):

    patients.csv       2 P01 (born 2008-03-14), 3 P02, 4 P03 (therapy ended 2023-05-10, death)
    implantations.csv  2 P01 initial 2015-04-20, 3 P01 replacement 2022-04-12,
                       4 P02 initial 2018-09-05, 5 P02 revision 2020-01-15, 6 P03 initial 2016-02-01
    complications.csv  2 P01 2016-07-01, 3 P02 2019-03-03
    assessments.csv    2..9 (2 and 5 are screening, before the implantation)
    refills.csv        2 P01 2015-10-20, 3 P02 2019-01-10, 4 P03 2017-05-01
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from itb import cli
from itb.registry_io import Problem, Registry, RegistryInvalid, load_registry

SEX_CODES = "M, F"
KIND_CODES = "initial, replacement, revision"
INSTRUMENT_CODES = "mas, tardieu, goniometry, gmfm, penn, pain_nrs, gmfcs"
PHASE_CODES = "screening, follow_up"
REASON_CODES = "death, replacement_not_possible, explanted, other"


def edit(text: str, old: str, new: str) -> str:
    """``text`` with its single occurrence of ``old`` replaced (so a typo fails loudly)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def header(text: str) -> str:
    return text.splitlines(keepends=True)[0]


def problems(directory: Path, lang: str = "en", cutoff: date | None = None) -> list[str]:
    """The rendered problems of an invalid directory (fails if the directory loads)."""
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(directory, cutoff=cutoff)
    return [problem.render(lang) for problem in caught.value.problems]


# --- the valid registry -------------------------------------------------------------------------


def test_minimal_registry_is_valid(make_registry) -> None:
    registry = load_registry(make_registry())
    assert isinstance(registry, Registry)
    heights = [getattr(registry, name).height for name in
               ("patients", "implantations", "complications", "assessments", "refills")]
    assert heights == [3, 5, 2, 8, 3]
    assert registry.cutoff == date(2024, 7, 31)
    assert registry.title == "Minimal test registry"
    assert registry.site_names == {"TLN": "Tallinn Children's Hospital",
                                   "TRT": "Tartu University Hospital"}
    assert registry.patients.get_column("patient_id").to_list() == ["P01", "P02", "P03"]


def test_sites_file_is_optional(make_registry) -> None:
    registry = load_registry(make_registry(sites=None))
    assert registry.site_names == {}
    assert registry.patients.get_column("site").to_list() == ["TLN", "TRT", "TLN"]


def test_values_on_the_edge_of_their_range_are_valid(make_registry, valid_files) -> None:
    rows = [("mas", "0"), ("mas", "4"), ("gmfm", "0"), ("gmfm", "100"), ("goniometry", "-180"),
            ("goniometry", "180"), ("pain_nrs", "0"), ("pain_nrs", "10"), ("gmfcs", "I"),
            ("gmfcs", "V"), ("penn", "0"), ("penn", "4"), ("tardieu", "0"), ("tardieu", "5")]
    assessments = valid_files["assessments"] + "".join(
        f"P03,2017-01-10,{instrument},follow_up,,{value}\n" for instrument, value in rows)
    refills = valid_files["refills"] + "P03,2023-05-10,0,10000,5000\nP03,2017-05-02,100,0,0\n"
    implantations = valid_files["implantations"] + "P03,2018-01-01,TLN,replacement,other,1,,\n"
    registry = load_registry(make_registry(assessments=assessments, refills=refills,
                                           implantations=implantations,
                                           complications=valid_files["complications"]
                                           + "P01,2024-07-31,other,\n"))
    assert registry.assessments.height == 8 + len(rows)


# --- files --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["patients", "implantations", "complications", "assessments",
                                  "refills"])
def test_missing_file(make_registry, name: str) -> None:
    assert problems(make_registry(**{name: None})) == [f"{name}.csv: the file is missing"]


def test_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-registry"
    assert problems(missing) == [f"{missing}: the file is missing"]


@pytest.mark.parametrize("content", [
    pytest.param("", id="zero-bytes"),
    pytest.param(b"\xef\xbb\xbf", id="only-a-bom"),
    pytest.param("\r\n\n  \n", id="only-blank-lines"),
])
def test_empty_file(make_registry, content: str | bytes) -> None:
    assert problems(make_registry(refills=content)) == [
        "refills.csv: the file is empty (no header row)"]


def test_not_utf8_in_a_data_row(make_registry, valid_files) -> None:
    latin1 = edit(valid_files["complications"], "superficial", "süperficial").encode("latin-1")
    assert problems(make_registry(complications=latin1)) == [
        "complications.csv:3: the file is not UTF-8 text (invalid byte 0xfc)"]


def test_not_utf8_in_the_header(make_registry, valid_files) -> None:
    latin1 = edit(valid_files["complications"], "detail", "détail").encode("latin-1")
    assert problems(make_registry(complications=latin1)) == [
        "complications.csv:1: the file is not UTF-8 text (invalid byte 0xe9)"]


def test_utf8_with_bom_and_crlf_as_excel_writes_is_valid(make_registry, valid_files) -> None:
    excel = {name: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
             for name, text in valid_files.items() if name != "dataset"}
    registry = load_registry(make_registry(**excel))
    # The BOM is not part of the first column's name nor of its first value.
    assert registry.patients.columns[0] == "patient_id"
    assert registry.patients.get_column("patient_id").to_list() == ["P01", "P02", "P03"]
    assert registry.site_names["TLN"] == "Tallinn Children's Hospital"
    assert registry.refills.get_column("volume_ml").to_list() == [20.0, 40.0, 40.0]


def test_bom_file_still_reports_problems_on_the_right_line(make_registry, valid_files) -> None:
    patients = "\ufeff" + edit(valid_files["patients"], "P02,TRT,F", "P02,TRT,X")
    assert problems(make_registry(patients=patients)) == [
        f"patients.csv:3: sex: unknown code 'X'; allowed: {SEX_CODES}"]


def test_missing_required_column(make_registry, valid_files) -> None:
    refills = "\n".join(",".join(field for i, field in enumerate(line.split(",")) if i != 3)
                        for line in valid_files["refills"].splitlines()) + "\n"
    assert header(refills) == "patient_id,refill_date,volume_ml,daily_dose_mcg\n"
    assert problems(make_registry(refills=refills)) == [
        "refills.csv:1: concentration_mcg_ml: a required column is missing"]


def test_several_missing_columns_are_all_listed(make_registry) -> None:
    assert problems(make_registry(complications="patient_id,detail\nP01,x\n")) == [
        "complications.csv:1: complication_date: a required column is missing",
        "complications.csv:1: type: a required column is missing",
    ]


def test_duplicate_column(make_registry, valid_files) -> None:
    complications = "patient_id,complication_date,type,detail,type\nP01,2016-07-01,seroma,,x\n"
    assert problems(make_registry(complications=complications)) == [
        "complications.csv:1: type: the column appears more than once"]


def test_extra_columns_are_allowed(make_registry, valid_files) -> None:
    complications = "note," + valid_files["complications"].replace("\nP0", "\nx,P0")
    registry = load_registry(make_registry(complications=complications))
    assert registry.complications.columns == ["patient_id", "complication_date", "type",
                                              "detail"]


def test_row_with_more_fields_than_the_header(make_registry, valid_files) -> None:
    refills = edit(valid_files["refills"], "2000,300.5\n", "2000,300.5,7\n")
    assert problems(make_registry(refills=refills)) == [
        "refills.csv:3: the row has 6 fields, the header has 5"]


def test_every_row_with_too_many_fields_is_listed(make_registry, valid_files) -> None:
    refills = valid_files["refills"].replace("\nP02", "\nP02,,").replace("\nP03", "\nP03,")
    assert problems(make_registry(refills=refills)) == [
        "refills.csv:3: the row has 7 fields, the header has 5",
        "refills.csv:4: the row has 6 fields, the header has 5",
    ]


def test_patients_file_without_rows(make_registry, valid_files) -> None:
    only_headers = {name: header(valid_files[name]) for name in
                    ("patients", "implantations", "complications", "assessments", "refills")}
    assert problems(make_registry(**only_headers)) == ["patients.csv: the file has no data rows"]


# --- line numbers -------------------------------------------------------------------------------


def test_quoted_newlines_keep_line_numbers_right(make_registry, valid_files) -> None:
    # P01's detail spans lines 2-4, so P02 starts on line 5 and P03 on line 6.
    patients = edit(valid_files["patients"], "cerebral_palsy,,",
                    'cerebral_palsy,"spastic\nsince\nbirth",')
    patients = edit(patients, "P02,TRT,F", "P02,TRT,X")
    patients = edit(patients, "2023-05-10,death", "2023-05-10,dead")
    assert problems(make_registry(patients=patients)) == [
        f"patients.csv:5: sex: unknown code 'X'; allowed: {SEX_CODES}",
        f"patients.csv:6: therapy_end_reason: unknown code 'dead'; allowed: {REASON_CODES}",
    ]


def test_quoted_crlf_newlines_keep_line_numbers_right(make_registry, valid_files) -> None:
    complications = edit(valid_files["complications"], "catheter_kink,", 'catheter_kink,"a\nb"')
    complications = (complications + "P01,2017-01-01,kink,\n").replace("\n", "\r\n")
    assert problems(make_registry(complications=complications)) == [
        "complications.csv:5: type: unknown code 'kink'; allowed: csf_leak, catheter_break, "
        "catheter_kink, catheter_occlusion, catheter_disconnection, catheter_migration, "
        "infection, pump_malfunction, wound_dehiscence, seroma, withdrawal, overdose, other"]


def test_quoted_newlines_in_an_extra_column_keep_line_numbers_right(make_registry) -> None:
    refills = ("patient_id,refill_date,note,volume_ml,concentration_mcg_ml,daily_dose_mcg\n"
               'P01,2015-10-20,"two\nlines",20,500,150\n'
               "P02,2019-01-10,,400,2000,300\n")
    assert problems(make_registry(refills=refills)) == [
        "refills.csv:4: volume_ml: 400 is outside the allowed range 0…100"]


def test_blank_lines_are_not_rows(make_registry, valid_files) -> None:
    complications = edit(valid_files["complications"], "\nP02", "\n\nP02") + "\n\n"
    complications = edit(complications, "2019-03-03", "2019-03-3")
    assert problems(make_registry(complications=complications)) == [
        "complications.csv:4: complication_date: '2019-03-3' is not a date in the form "
        "YYYY-MM-DD"]


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "old", "new", "expected"), [
    pytest.param("patients", "P02,TRT,F", "P02,TRT,", "patients.csv:3: sex: a value is required",
                 id="patients-sex"),
    pytest.param("patients", "2005-06-30", "", "patients.csv:4: birth_date: a value is required",
                 id="patients-birth_date"),
    pytest.param("implantations", "TRT,revision", "TRT,",
                 "implantations.csv:5: kind: a value is required", id="implantations-kind"),
    pytest.param("complications", "2016-07-01", "",
                 "complications.csv:2: complication_date: a value is required",
                 id="complications-date"),
    pytest.param("assessments", "gmfcs,follow_up,,IV", "gmfcs,follow_up,,",
                 "assessments.csv:4: value: a value is required", id="assessments-value"),
    pytest.param("sites", "TRT,Tartu University Hospital", "TRT,",
                 "sites.csv:3: name: a value is required", id="sites-name"),
])
def test_required_value(make_registry, valid_files, name, old, new, expected) -> None:
    directory = make_registry(**{name: edit(valid_files[name], old, new)})
    assert problems(directory) == [expected]


def test_empty_patient_id_also_orphans_the_patients_rows(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "\nP03,", "\n,")
    assert problems(make_registry(patients=patients)) == [
        "assessments.csv:8: patient_id: patient_id P03 is not in patients.csv",
        "assessments.csv:9: patient_id: patient_id P03 is not in patients.csv",
        "implantations.csv:6: patient_id: patient_id P03 is not in patients.csv",
        "patients.csv:4: patient_id: a value is required",
        "refills.csv:4: patient_id: patient_id P03 is not in patients.csv",
    ]


def test_excel_quoted_empty_cells_are_empty(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "cerebral_palsy,,spastic_tetraparesis,low,yes,,",
                    'cerebral_palsy,"",spastic_tetraparesis,low,"","",""')
    implantations = edit(valid_files["implantations"], "revision,,,", 'revision,"","",')
    refills = edit(valid_files["refills"], "40,500,\n", '40,500,""\n')
    registry = load_registry(make_registry(patients=patients, implantations=implantations,
                                           refills=refills))
    first = registry.patients.row(0, named=True)
    assert (first["diagnosis_detail"], first["contractures_before"], first["therapy_end_date"],
            first["therapy_end_reason"]) == (None, None, None, None)
    assert registry.refills.get_column("daily_dose_mcg").to_list() == [150.0, 300.5, None]


def test_excel_quoted_empty_cell_in_a_required_column(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "P02,TRT,F", 'P02,"",F')
    assert problems(make_registry(patients=patients)) == [
        "patients.csv:3: site: a value is required"]


@pytest.mark.parametrize(("name", "old", "new", "expected"), [
    pytest.param("patients", "P02,TRT,F", "P02,TRT,f",
                 f"patients.csv:3: sex: unknown code 'f'; allowed: {SEX_CODES}", id="sex"),
    pytest.param("patients", "low,yes", "low,maybe",
                 "patients.csv:2: contractures_before: unknown code 'maybe'; allowed: yes, no",
                 id="contractures_before"),
    pytest.param("implantations", "TRT,revision", "TRT,Revision",
                 f"implantations.csv:5: kind: unknown code 'Revision'; allowed: {KIND_CODES}",
                 id="implantation-kind"),
    pytest.param("implantations", "silicone,C5", "silicone,C8",
                 "implantations.csv:4: catheter_tip_level: unknown code 'C8'; allowed: "
                 "C1, C2, C3, C4, C5, C6, C7, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, "
                 "L1, L2, L3, L4, L5", id="catheter_tip_level"),
    pytest.param("assessments", "penn,follow_up", "spasms,follow_up",
                 f"assessments.csv:8: instrument: unknown code 'spasms'; allowed: "
                 f"{INSTRUMENT_CODES}", id="instrument"),
    pytest.param("assessments", "pain_nrs,screening", "pain_nrs,baseline",
                 f"assessments.csv:5: phase: unknown code 'baseline'; allowed: {PHASE_CODES}",
                 id="phase"),
])
def test_unknown_code_lists_the_allowed_ones(make_registry, valid_files, name, old, new,
                                             expected) -> None:
    assert problems(make_registry(**{name: edit(valid_files[name], old, new)})) == [expected]


@pytest.mark.parametrize("value", ["14.03.2008", "2008-3-14", "2008/03/14", "20080314",
                                   "2008-03-14T00:00", " 2008-03-14", "yesterday",
                                   "2008-03-\u0661\u0664"])  # Arabic-Indic digits
def test_malformed_date(make_registry, valid_files, value: str) -> None:
    patients = edit(valid_files["patients"], "2008-03-14", value)
    assert problems(make_registry(patients=patients)) == [
        f"patients.csv:2: birth_date: '{value}' is not a date in the form YYYY-MM-DD"]


@pytest.mark.parametrize("value", ["2011-02-29", "2011-02-30", "2011-13-01", "2011-00-10",
                                   "2011-04-31"])
def test_impossible_date(make_registry, valid_files, value: str) -> None:
    patients = edit(valid_files["patients"], "2011-11-02", value)
    assert problems(make_registry(patients=patients)) == [
        f"patients.csv:3: birth_date: '{value}' is not a real calendar date"]


def test_leap_day_is_a_real_date(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "2011-11-02", "2012-02-29")
    registry = load_registry(make_registry(patients=patients))
    assert registry.patients.get_column("birth_date")[1] == date(2012, 2, 29)


def test_date_before_1900(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "2005-06-30", "1899-12-31")
    assert problems(make_registry(patients=patients)) == [
        "patients.csv:4: birth_date: the date 1899-12-31 is before 1900"]


def test_the_first_and_last_valid_days_are_dates(make_registry, valid_files) -> None:
    # The screen of a date column looks texts up among the days from 1900-01-01 to the
    # cut-off: both ends are valid, and read as those very days.
    patients = edit(valid_files["patients"], "2005-06-30", "1900-01-01")
    refills = edit(valid_files["refills"], "2019-01-10", "2024-07-31")
    registry = load_registry(make_registry(patients=patients, refills=refills))
    assert registry.patients.get_column("birth_date")[2] == date(1900, 1, 1)
    assert registry.refills.get_column("refill_date")[1] == date(2024, 7, 31)


def test_date_after_the_cutoff(make_registry, valid_files) -> None:
    refills = edit(valid_files["refills"], "2019-01-10", "2024-08-01")
    complications = valid_files["complications"] + "P01,2024-07-31,seroma,\n"  # on it: fine
    assert problems(make_registry(refills=refills, complications=complications)) == [
        "refills.csv:3: refill_date: the date 2024-08-01 is after the data cut-off 2024-07-31"]


def test_cutoff_argument_wins_over_dataset_toml(make_registry) -> None:
    assert problems(make_registry(), cutoff=date(2022, 1, 1)) == [
        "implantations.csv:3: implant_date: the date 2022-04-12 is after the data cut-off "
        "2022-01-01",
        "patients.csv:4: therapy_end_date: the date 2023-05-10 is after the data cut-off "
        "2022-01-01",
    ]


@pytest.mark.parametrize(("old", "new", "expected"), [
    pytest.param("20,500,150", "20 ml,500,150",
                 "refills.csv:2: volume_ml: '20 ml' is not a number", id="unit-in-value"),
    pytest.param("40,2000,300.5", "40,\"2000,5\",300.5",
                 "refills.csv:3: concentration_mcg_ml: '2000,5' is not a number",
                 id="decimal-comma"),
    pytest.param("40,500,\n", "40,500,nan\n",
                 "refills.csv:4: daily_dose_mcg: 'nan' is not a number", id="nan"),
])
def test_number_that_is_not_a_number(make_registry, valid_files, old, new, expected) -> None:
    assert problems(make_registry(refills=edit(valid_files["refills"], old, new))) == [expected]


def test_numbers_out_of_range(make_registry, valid_files) -> None:
    refills = edit(valid_files["refills"], "20,500,150", "101,-1,5000.5")
    implantations = edit(valid_files["implantations"], "prometra_ii,40", "prometra_ii,0.5")
    assert problems(make_registry(refills=refills, implantations=implantations)) == [
        "implantations.csv:4: reservoir_ml: 0.5 is outside the allowed range 1…100",
        "refills.csv:2: concentration_mcg_ml: -1 is outside the allowed range 0…10000",
        "refills.csv:2: daily_dose_mcg: 5000.5 is outside the allowed range 0…5000",
        "refills.csv:2: volume_ml: 101 is outside the allowed range 0…100",
    ]


@pytest.mark.parametrize(("instrument", "value", "allowed"), [
    pytest.param("mas", "5", "0, 1, 1+, 2, 3, 4", id="mas-5"),
    pytest.param("mas", "1.5", "0, 1, 1+, 2, 3, 4", id="mas-1.5"),
    pytest.param("mas", "+1", "0, 1, 1+, 2, 3, 4", id="mas-plus-1"),
    pytest.param("gmfm", "100.5", "0…100 %", id="gmfm-100.5"),
    pytest.param("gmfm", "-1", "0…100 %", id="gmfm-negative"),
    pytest.param("goniometry", "-181", "-180…180 °", id="goniometry-minus-181"),
    pytest.param("goniometry", "181", "-180…180 °", id="goniometry-181"),
    pytest.param("goniometry", "ninety", "-180…180 °", id="goniometry-text"),
    pytest.param("pain_nrs", "11", "0, 1, …, 10", id="pain_nrs-11"),
    pytest.param("pain_nrs", "-1", "0, 1, …, 10", id="pain_nrs-negative"),
    pytest.param("gmfcs", "VI", "I, II, III, IV, V", id="gmfcs-VI"),
    pytest.param("gmfcs", "3", "I, II, III, IV, V", id="gmfcs-arabic"),
    pytest.param("penn", "5", "0, 1, …, 4", id="penn-5"),
    pytest.param("penn", "2.5", "0, 1, …, 4", id="penn-fraction"),
    pytest.param("tardieu", "6", "0, 1, …, 5", id="tardieu-6"),
    pytest.param("tardieu", "2.5", "0, 1, …, 5", id="tardieu-fraction"),
    pytest.param("tardieu", "-1", "0, 1, …, 5", id="tardieu-negative"),
])
def test_assessment_value_outside_its_scale(make_registry, valid_files, instrument, value,
                                            allowed) -> None:
    assessments = valid_files["assessments"] + f"P03,2017-01-10,{instrument},follow_up,,{value}\n"
    assert problems(make_registry(assessments=assessments)) == [
        f"assessments.csv:10: value: '{value}' is not on the {instrument} scale "
        f"(allowed: {allowed})"]


# --- sites and dataset.toml ---------------------------------------------------------------------


def test_site_not_in_sites_csv(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "P02,TRT", "P02,PRN")
    assert problems(make_registry(patients=patients)) == [
        "patients.csv:3: site: site 'PRN' is not in sites.csv; allowed: TLN, TRT"]


def test_malformed_site_code_without_sites_csv(make_registry, valid_files) -> None:
    implantations = edit(valid_files["implantations"], "2018-09-05,TRT", "2018-09-05,Tartu ÜK")
    assert problems(make_registry(sites=None, implantations=implantations)) == [
        "implantations.csv:4: site: site code 'Tartu ÜK' must be 1–16 capital letters, "
        "digits, - or _"]


def test_malformed_and_duplicate_codes_in_sites_csv(make_registry, valid_files) -> None:
    sites = valid_files["sites"] + "TLN,Tallinn again\ntartu,Tartu\n"
    assert problems(make_registry(sites=sites)) == [
        "sites.csv:4: code: the code TLN appears more than once",
        "sites.csv:5: code: site code 'tartu' must be 1–16 capital letters, digits, - or _",
    ]


@pytest.mark.parametrize(("toml", "shown"), [
    pytest.param("cutoff = '2024-02-30'\n", "2024-02-30", id="impossible-date-string"),
    pytest.param("cutoff = '31.07.2024'\n", "31.07.2024", id="malformed-date-string"),
    pytest.param("cutoff = 2024\n", "2024", id="a-number"),
    pytest.param("cutoff = 2024-07-31T00:00:00\n", "2024-07-31 00:00:00", id="a-datetime"),
])
def test_dataset_toml_with_a_bad_cutoff(make_registry, toml: str, shown: str) -> None:
    assert problems(make_registry(dataset=toml)) == [
        f"dataset.toml: cutoff: the data cut-off '{shown}' is not a date in the form YYYY-MM-DD"]


def test_dataset_toml_that_is_not_toml(make_registry) -> None:
    assert problems(make_registry(dataset="cutoff = [\n")) == [
        "dataset.toml: dataset.toml cannot be read: Invalid value (at end of document)"]


def test_cutoff_as_a_toml_string_is_accepted(make_registry) -> None:
    registry = load_registry(make_registry(dataset='cutoff = "2024-07-31"\n'))
    assert registry.cutoff == date(2024, 7, 31)
    assert registry.title is None


# --- patients and their rows in other files ------------------------------------------------------


def test_duplicate_patient_id(make_registry, valid_files) -> None:
    patients = valid_files["patients"] + edit(valid_files["patients"].splitlines(True)[2],
                                              "P02,TRT,F", "P02,TRT,M")
    assert problems(make_registry(patients=patients)) == [
        "patients.csv:5: patient_id: patient_id P02 appears more than once (first on line 3)"]


@pytest.mark.parametrize(("name", "row", "line"), [
    pytest.param("implantations", "P09,2020-01-01,TRT,initial,,,,", 7, id="implantations"),
    pytest.param("complications", "P09,2020-01-01,seroma,", 4, id="complications"),
    pytest.param("assessments", "P09,2020-01-01,mas,follow_up,,2", 10, id="assessments"),
    pytest.param("refills", "P09,2020-01-01,20,500,150", 5, id="refills"),
])
def test_row_of_an_unknown_patient(make_registry, valid_files, name, row, line) -> None:
    directory = make_registry(**{name: valid_files[name] + row + "\n"})
    assert problems(directory) == [
        f"{name}.csv:{line}: patient_id: patient_id P09 is not in patients.csv"]


def test_end_reason_without_end_date(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "high,no,,", "high,no,,explanted")
    assert problems(make_registry(patients=patients)) == [
        "patients.csv:3: therapy_end_reason: therapy_end_reason is set but therapy_end_date "
        "is empty"]


def test_end_date_without_reason(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "2023-05-10,death", "2023-05-10,")
    assert problems(make_registry(patients=patients)) == [
        "patients.csv:4: therapy_end_reason: therapy_end_date is set but therapy_end_reason "
        "is empty"]


def test_malformed_end_date_with_reason_is_reported_once(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "2023-05-10,death", "10.05.2023,death")
    assert problems(make_registry(patients=patients)) == [
        "patients.csv:4: therapy_end_date: '10.05.2023' is not a date in the form YYYY-MM-DD"]


# --- implantations ------------------------------------------------------------------------------


def test_no_initial_implantation(make_registry, valid_files) -> None:
    implantations = edit(valid_files["implantations"], "P03,2016-02-01,TLN,initial",
                         "P03,2016-02-01,TLN,replacement")
    assert problems(make_registry(implantations=implantations)) == [
        "patients.csv:4: patient_id: the patient has no initial implantation (kind = initial)"]


def test_patient_without_any_implantation(make_registry, valid_files) -> None:
    implantations = edit(valid_files["implantations"], "P03,2016-02-01,TLN,initial,synchromed_ii,"
                         "40,,\n", "")
    assert problems(make_registry(implantations=implantations)) == [
        "patients.csv:4: patient_id: the patient has no initial implantation (kind = initial)"]


def test_more_than_one_initial_implantation(make_registry, valid_files) -> None:
    implantations = edit(valid_files["implantations"], "2022-04-12,TLN,replacement",
                         "2022-04-12,TLN,initial")
    implantations += "P01,2023-01-01,TLN,initial,,,,\n"
    assert problems(make_registry(implantations=implantations)) == [
        "implantations.csv:3: kind: the patient has 3 initial implantations; exactly one is "
        "allowed",
        "implantations.csv:7: kind: the patient has 3 initial implantations; exactly one is "
        "allowed",
    ]


def test_initial_implantation_not_the_earliest(make_registry, valid_files) -> None:
    implantations = edit(valid_files["implantations"], "2022-04-12", "2014-04-12")
    assert problems(make_registry(implantations=implantations)) == [
        "implantations.csv:3: implant_date: this implantation (2014-04-12) is earlier than the "
        "initial implantation (2015-04-20)"]


def test_implantation_before_birth(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "2011-11-02", "2018-10-01")
    assert problems(make_registry(patients=patients)) == [
        "implantations.csv:4: implant_date: the implantation 2018-09-05 is before the birth "
        "date 2018-10-01"]


@pytest.mark.parametrize("column", ["pump_model", "reservoir_ml"])
def test_pump_field_on_a_revision(make_registry, valid_files, column: str) -> None:
    new = "TRT,revision,other,," if column == "pump_model" else "TRT,revision,,20,"
    implantations = edit(valid_files["implantations"], "TRT,revision,,,", new)
    assert problems(make_registry(implantations=implantations)) == [
        f"implantations.csv:5: {column}: a revision places no new pump: leave {column} empty"]


# --- chronology ---------------------------------------------------------------------------------


def test_complication_before_the_first_implantation(make_registry, valid_files) -> None:
    complications = edit(valid_files["complications"], "2019-03-03", "2018-09-04")
    assert problems(make_registry(complications=complications)) == [
        "complications.csv:3: complication_date: the date 2018-09-04 is before the first "
        "implantation (2018-09-05)"]


def test_refill_before_the_first_implantation(make_registry, valid_files) -> None:
    refills = edit(valid_files["refills"], "2017-05-01", "2016-01-31")
    assert problems(make_registry(refills=refills)) == [
        "refills.csv:4: refill_date: the date 2016-01-31 is before the first implantation "
        "(2016-02-01)"]


def test_follow_up_assessment_before_the_first_implantation(make_registry, valid_files) -> None:
    assessments = edit(valid_files["assessments"], "P01,2016-04-20,mas", "P01,2015-04-19,mas")
    assert problems(make_registry(assessments=assessments)) == [
        "assessments.csv:3: assessment_date: the date 2015-04-19 is before the first "
        "implantation (2015-04-20)"]


def test_screening_assessment_may_precede_the_implantation(make_registry, valid_files) -> None:
    assessments = edit(valid_files["assessments"], "2015-03-01,mas,screening",
                       "2009-01-01,mas,screening")
    registry = load_registry(make_registry(assessments=assessments))
    assert registry.assessments.get_column("assessment_date")[0] == date(2009, 1, 1)


def test_therapy_end_before_the_first_implantation(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "2023-05-10,death", "2016-01-31,death")
    refills = edit(valid_files["refills"], "P03,2017-05-01,", "P03,2016-01-20,")
    assessments = edit(valid_files["assessments"], "P03,2017-01-10,penn", "P03,2016-01-10,penn")
    assessments = edit(assessments, "P03,2017-01-10,tardieu", "P03,2016-01-10,tardieu")
    assert problems(make_registry(patients=patients, refills=refills,
                                  assessments=assessments)) == [
        "assessments.csv:8: assessment_date: the date 2016-01-10 is before the first "
        "implantation (2016-02-01)",
        "assessments.csv:9: assessment_date: the date 2016-01-10 is before the first "
        "implantation (2016-02-01)",
        "implantations.csv:6: implant_date: the date 2016-02-01 is after the end of therapy "
        "(2016-01-31)",
        "patients.csv:4: therapy_end_date: the date 2016-01-31 is before the first "
        "implantation (2016-02-01)",
        "refills.csv:4: refill_date: the date 2016-01-20 is before the first implantation "
        "(2016-02-01)",
    ]


def test_events_after_the_end_of_therapy(make_registry, valid_files) -> None:
    directory = make_registry(
        complications=valid_files["complications"] + "P03,2023-05-11,seroma,\n",
        refills=valid_files["refills"] + "P03,2024-01-02,40,500,\n",
        implantations=valid_files["implantations"] + "P03,2023-06-01,TLN,revision,,,,\n",
        # An assessment after the end of therapy is not an error.
        assessments=valid_files["assessments"] + "P03,2024-01-01,gmfcs,follow_up,,V\n",
    )
    assert problems(directory) == [
        "complications.csv:4: complication_date: the date 2023-05-11 is after the end of "
        "therapy (2023-05-10)",
        "implantations.csv:7: implant_date: the date 2023-06-01 is after the end of therapy "
        "(2023-05-10)",
        "refills.csv:5: refill_date: the date 2024-01-02 is after the end of therapy "
        "(2023-05-10)",
    ]


def test_event_times_are_checked_on_every_row_of_a_patients_runs(make_registry,
                                                                   valid_files) -> None:
    # The rules of event times are first checked per run of one patient's rows (earliest and
    # latest date): a bad row inside a long run, and a patient listed in two runs, are found.
    refills = header(valid_files["refills"]) + "".join([
        "P03,2017-05-01,40,500,\n",
        "P03,2016-01-31,40,500,\n",  # line 3: before P03's implantation, mid-run
        "P03,2018-05-01,40,500,\n",
        "P01,2015-10-20,20,500,150\n",
        "P99,2016-01-01,20,500,150\n",  # line 6: no such patient, between two runs
        "P01,2016-01-20,20,500,150\n",
        "P03,2023-05-11,40,500,\n",  # line 8: P03's second run, after the end of therapy
        "P03,2019-05-01,40,500,\n",
        "P02,2019-01-10,40,2000,300.5\n",
    ])
    assert problems(make_registry(refills=refills)) == [
        "refills.csv:3: refill_date: the date 2016-01-31 is before the first implantation "
        "(2016-02-01)",
        "refills.csv:6: patient_id: patient_id P99 is not in patients.csv",
        "refills.csv:8: refill_date: the date 2023-05-11 is after the end of therapy "
        "(2023-05-10)",
    ]


# --- all problems at once -----------------------------------------------------------------------


def test_all_problems_across_files_are_listed_at_once(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "P02,TRT,F", "P02,TRT,X")
    patients = edit(patients, "2005-06-30", "2005-06-31")
    implantations = edit(valid_files["implantations"], "TRT,revision,,,", "TRT,revision,,20,")
    complications = valid_files["complications"] + "P07,2020-01-01,seroma,\n"
    assessments = edit(valid_files["assessments"], "gmfm,follow_up,,45.5", "gmfm,follow_up,,145")
    refills = edit(valid_files["refills"], "2019-01-10", "2025-01-10")
    directory = make_registry(patients=patients, implantations=implantations,
                              complications=complications, assessments=assessments,
                              refills=refills)
    assert problems(directory) == [
        "assessments.csv:6: value: '145' is not on the gmfm scale (allowed: 0…100 %)",
        "complications.csv:4: patient_id: patient_id P07 is not in patients.csv",
        "implantations.csv:5: reservoir_ml: a revision places no new pump: leave reservoir_ml "
        "empty",
        f"patients.csv:3: sex: unknown code 'X'; allowed: {SEX_CODES}",
        "patients.csv:4: birth_date: '2005-06-31' is not a real calendar date",
        "refills.csv:3: refill_date: the date 2025-01-10 is after the data cut-off 2024-07-31",
    ]


def test_file_problems_and_value_problems_are_listed_together(make_registry,
                                                              valid_files) -> None:
    directory = make_registry(
        dataset="cutoff = '2024-31-07'\n",
        complications=None,
        refills=b"",
        assessments="patient_id,assessment_date,instrument,phase,value\n",
        patients=edit(valid_files["patients"], "low,yes", "medium,yes"),
        implantations=edit(valid_files["implantations"], "2016-02-01", "2016-02-01,9"),
    )
    assert problems(directory) == [
        "dataset.toml: cutoff: the data cut-off '2024-31-07' is not a date in the form "
        "YYYY-MM-DD",
        "implantations.csv:6: the row has 9 fields, the header has 8",
        "complications.csv: the file is missing",
        "assessments.csv:1: body_site: a required column is missing",
        "refills.csv: the file is empty (no header row)",
        "patients.csv:2: functional_level: unknown code 'medium'; allowed: low, high",
    ]


def test_every_bad_value_in_one_file_is_listed(make_registry, valid_files) -> None:
    refills = ("patient_id,refill_date,volume_ml,concentration_mcg_ml,daily_dose_mcg\n"
               "P01,2015-10-20,x,500,150\n"
               "P01,2015-13-20,20,500,150\n"
               "P01,,20,500,-5\n"
               "P01,2015-10-21,20,y,150\n")
    assert problems(make_registry(refills=refills)) == [
        "refills.csv:2: volume_ml: 'x' is not a number",
        "refills.csv:3: refill_date: '2015-13-20' is not a real calendar date",
        "refills.csv:4: daily_dose_mcg: -5 is outside the allowed range 0…5000",
        "refills.csv:4: refill_date: a value is required",
        "refills.csv:5: concentration_mcg_ml: 'y' is not a number",
    ]


def test_registry_invalid_renders_every_problem_on_its_own_line(make_registry,
                                                                valid_files) -> None:
    patients = edit(valid_files["patients"], "P02,TRT,F", "P02,TRT,X")
    with pytest.raises(RegistryInvalid) as caught:
        load_registry(make_registry(patients=patients, refills=None))
    assert str(caught.value) == "2 problem(s) in the registry data"
    assert caught.value.render("en") == (
        "refills.csv: the file is missing\n"
        f"patients.csv:3: sex: unknown code 'X'; allowed: {SEX_CODES}")


# --- Estonian -----------------------------------------------------------------------------------


def test_messages_in_estonian(make_registry, valid_files) -> None:
    patients = edit(valid_files["patients"], "P02,TRT,F", "P02,TRT,X")
    patients = edit(patients, "2023-05-10,death", "2023-05-10,")
    assessments = valid_files["assessments"] + "P03,2017-01-10,mas,follow_up,,5\n"
    refills = edit(valid_files["refills"], "2019-01-10", "2024-08-01")
    directory = make_registry(patients=patients, assessments=assessments, refills=refills,
                              complications=None)
    assert problems(directory, lang="et") == [
        "complications.csv: fail puudub",
        "assessments.csv:10: value: „5“ ei sobi skaalale mas (lubatud: 0, 1, 1+, 2, 3, 4)",
        "patients.csv:3: sex: tundmatu kood „X“; lubatud: M, F",
        "patients.csv:4: therapy_end_reason: ravi lõpu kuupäev on antud, kuid "
        "therapy_end_reason on tühi",
        "refills.csv:3: refill_date: kuupäev 2024-08-01 on pärast andmete lõppkuupäeva "
        "2024-07-31",
    ]


@pytest.mark.parametrize(("problem", "et", "en"), [
    pytest.param(Problem("patients.csv", 5, "patient_id", "duplicate_patient",
                         {"value": "P02", "first_line": 3}),
                 "patients.csv:5: patient_id: patient_id P02 esineb mitu korda (esmakordselt "
                 "real 3)",
                 "patients.csv:5: patient_id: patient_id P02 appears more than once (first on "
                 "line 3)", id="duplicate_patient"),
    pytest.param(Problem("implantations.csv", 5, "pump_model", "pump_field_on_revision"),
                 "implantations.csv:5: pump_model: revisioonil uut pumpa ei paigaldata: jäta "
                 "pump_model tühjaks",
                 "implantations.csv:5: pump_model: a revision places no new pump: leave "
                 "pump_model empty", id="pump_field_on_revision"),
    pytest.param(Problem("refills.csv", 7, None, "file_not_utf8", {"byte": "0xe9"}),
                 "refills.csv:7: fail ei ole UTF-8 kodeeringus (vigane bait 0xe9)",
                 "refills.csv:7: the file is not UTF-8 text (invalid byte 0xe9)",
                 id="file_not_utf8"),
    pytest.param(Problem("sites.csv", 4, "code", "site_malformed", {"code": "a b", "value": "a b"}),
                 "sites.csv:4: code: haigla kood „a b“ peab olema 1–16 suurtähte, numbrit, - "
                 "või _",
                 "sites.csv:4: code: site code 'a b' must be 1–16 capital letters, digits, - or _",
                 id="param-named-code"),
])
def test_problem_renders_in_both_languages(problem: Problem, et: str, en: str) -> None:
    assert problem.render("et") == et
    assert problem.render("en") == en


# --- the command line ---------------------------------------------------------------------------


def _spoilt(make_registry, valid_files) -> Path:
    """A registry with two problems in two files."""
    patients = edit(valid_files["patients"], "P02,TRT,F", "P02,TRT,X")
    refills = edit(valid_files["refills"], "2019-01-10", "2019-01-32")
    return make_registry(patients=patients, refills=refills)


SPOILT_EN = (
    f"patients.csv:3: sex: unknown code 'X'; allowed: {SEX_CODES}\n"
    "refills.csv:3: refill_date: '2019-01-32' is not a real calendar date\n"
    "2 problem(s); nothing was written.\n"
)


def test_cli_validate_valid_registry(make_registry, capsys) -> None:
    directory = make_registry()
    assert cli.main(["validate", str(directory), "--lang", "en"]) == 0
    out, err = capsys.readouterr()
    assert out == (f"{directory}: OK (3 patients, 5 implantations, 2 complications, "
                   "8 assessments, 3 refills; cut-off 2024-07-31)\n")
    assert err == ""


def test_cli_validate_lists_every_problem_and_exits_2(make_registry, valid_files,
                                                      capsys) -> None:
    directory = _spoilt(make_registry, valid_files)
    assert cli.main(["validate", str(directory), "--lang", "en"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == SPOILT_EN
    assert "Traceback" not in err


def test_cli_validate_in_estonian_by_default(make_registry, valid_files, capsys,
                                             monkeypatch) -> None:
    monkeypatch.delenv("ITB_LANG", raising=False)
    directory = _spoilt(make_registry, valid_files)
    assert cli.main(["validate", str(directory)]) == 2
    assert capsys.readouterr().err == (
        "patients.csv:3: sex: tundmatu kood „X“; lubatud: M, F\n"
        "refills.csv:3: refill_date: „2019-01-32“ ei ole kalendris olemas olev kuupäev\n"
        "2 viga; midagi ei kirjutatud.\n"
    )


def test_cli_validate_unreadable_files_without_traceback(make_registry, valid_files,
                                                         capsys) -> None:
    directory = make_registry(patients=valid_files["patients"].encode("utf-16"),
                              refills="", assessments=None)
    assert cli.main(["validate", str(directory), "--lang", "en"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "patients.csv:1: the file is not UTF-8 text (invalid byte 0xff)\n"
        "assessments.csv: the file is missing\n"
        "refills.csv: the file is empty (no header row)\n"
        "3 problem(s); nothing was written.\n"
    )


def test_cli_validate_missing_directory(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    assert cli.main(["validate", str(missing), "--lang", "en"]) == 2
    assert capsys.readouterr().err == (f"{missing}: the file is missing\n"
                                       "1 problem(s); nothing was written.\n")


def test_cli_report_on_invalid_registry_writes_nothing(make_registry, valid_files, tmp_path,
                                                       capsys) -> None:
    directory = _spoilt(make_registry, valid_files)
    out_dir = tmp_path / "report"
    out_dir.mkdir()
    assert cli.main(["report", str(directory), "--out", str(out_dir), "--lang", "en"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", SPOILT_EN)
    assert list(out_dir.iterdir()) == []


def test_cli_report_on_invalid_registry_creates_no_out_dir(make_registry, valid_files,
                                                           tmp_path, capsys) -> None:
    directory = _spoilt(make_registry, valid_files)
    out_dir = tmp_path / "new" / "report"
    assert cli.main(["report", str(directory), "--out", str(out_dir), "--lang", "en"]) == 2
    assert capsys.readouterr().err == SPOILT_EN
    assert not (tmp_path / "new").exists()


def test_cli_cutoff_option_wins_over_dataset_toml(make_registry, capsys) -> None:
    directory = make_registry()
    assert cli.main(["validate", str(directory), "--lang", "en", "--cutoff", "2022-01-01"]) == 2
    assert capsys.readouterr().err == (
        "implantations.csv:3: implant_date: the date 2022-04-12 is after the data cut-off "
        "2022-01-01\n"
        "patients.csv:4: therapy_end_date: the date 2023-05-10 is after the data cut-off "
        "2022-01-01\n"
        "2 problem(s); nothing was written.\n"
    )
