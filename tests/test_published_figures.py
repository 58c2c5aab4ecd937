"""Every published figure of the study (shared/paper/published-figures.md), reproduced by
``itb report`` from the synthetic reference cohort: one test per figure, named by its id.

The report is produced through the command line, and the figures are read back from the
files it writes (report.json, and the rendered tables where the article prints a rounded
value), so this checks the whole path a user takes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from itb.cli import REFERENCE_COHORT, main
from itb.domain.codes import COMPLICATION_TYPE


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("reference-report")
    assert main(["report", str(REFERENCE_COHORT), "--out", str(directory), "--lang", "et"]) == 0
    return directory


@pytest.fixture(scope="module")
def report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def table1_csv(out: Path) -> dict[str, list[str]]:
    with (out / "table1.csv").open(encoding="utf-8") as handle:
        return {row[0]: row[1:] for row in csv.reader(handle)}


def overall(report: dict[str, Any]) -> dict[str, Any]:
    return report["table1"]["overall"]


def top(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Categories by descending count."""
    return sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: -kv[1])


def pct(part: int, whole: int) -> int:
    return round(100 * part / whole)


# --- Cohort and flow ---------------------------------------------------------------------

def test_F1_patients_with_a_pump(report: dict[str, Any]) -> None:
    assert report["n_patients"] == 43


def test_F2_on_therapy_at_cutoff(report: dict[str, Any]) -> None:
    assert report["cutoff"] == "2024-07-31"
    assert report["flow"]["on_therapy"] == 38


def test_F3_ended_by_death(report: dict[str, Any]) -> None:
    assert report["flow"]["ended"]["death"] == 4


def test_F4_ended_replacement_not_possible(report: dict[str, Any]) -> None:
    assert report["flow"]["ended"]["replacement_not_possible"] == 1


def test_F5_pump_implanted_once_twice_three_times(report: dict[str, Any]) -> None:
    assert overall(report)["pump_implantations"] == {"1": 30, "2": 12, "3": 1}


def test_F6_most_first_implantations_in_2022(report: dict[str, Any]) -> None:
    per_year = report["first_implantations_per_year"]
    assert top(per_year)[0][0] == "2022"
    assert top(per_year)[0][1] > top(per_year)[1][1]


def test_F7_first_implantations_grew_up_to_2024(report: dict[str, Any]) -> None:
    per_year = report["first_implantations_per_year"]
    shown = list(per_year)
    assert shown[0] == "2012" and shown[-1] == "2024"
    # Growth: each three-year window has at least as many first implantations as the last.
    years = [per_year[str(y)] for y in range(2012, 2024)]
    windows = [sum(years[i:i + 3]) for i in range(0, 12, 3)]
    assert windows == sorted(windows) and windows[0] < windows[-1]


def test_F8_most_frequent_age_band_11_to_20(report: dict[str, Any]) -> None:
    assert top(overall(report)["age_bands"])[0][0] == "11-20"


# --- Table 1 -------------------------------------------------------------------------------

def test_F10_median_age_18_iqr_27(report: dict[str, Any],
                                  table1_csv: dict[str, list[str]]) -> None:
    age = overall(report)["age"]
    assert age["median"] == 18
    assert age["iqr"] == 27
    assert table1_csv["Mediaanvanus implantatsioonil, aasta (kvartiilide vahe)"][0] == "18 (27)"


def test_F11_age_range_5_to_67(report: dict[str, Any]) -> None:
    assert (overall(report)["age"]["min"], overall(report)["age"]["max"]) == (5, 67)


def test_F12_usage_time_mean_4_sd_2_7(report: dict[str, Any],
                                      table1_csv: dict[str, list[str]]) -> None:
    usage = overall(report)["usage_years"]
    assert round(usage["mean"]) == 4
    assert round(usage["sd"], 1) == 2.7
    assert table1_csv["Keskmine ITB-pumba kasutusaeg, aasta (SD)"][0].endswith("(2,7)")


def test_F13_male_27_female_16(report: dict[str, Any], table1_csv: dict[str, list[str]]) -> None:
    assert overall(report)["sex"] == {"M": 27, "F": 16}
    assert table1_csv["Mees"][0] == "27 (63)" and table1_csv["Naine"][0] == "16 (37)"


@pytest.mark.parametrize(("figure", "code", "count", "label"), [
    pytest.param("F14", "spastic_tetraparesis", 24, "Spastiline tetraparees", id="F14"),
    pytest.param("F15", "spastic_paraparesis", 12, "Spastiline paraparees", id="F15"),
    pytest.param("F16", "spastic_hemiparesis", 1, "Spastiline hemiparees", id="F16"),
    pytest.param("F17", "generalised_dystonia", 1, "Generaliseerunud düstoonia", id="F17"),
    pytest.param("F18", "spastic_tetraparesis_dystonia", 5,
                 "Spastiline tetraparees + düstoonia", id="F18"),
])
def test_F14_to_F18_syndromes(report: dict[str, Any], table1_csv: dict[str, list[str]],
                              figure: str, code: str, count: int, label: str) -> None:
    assert overall(report)["syndrome"][code] == count, figure
    assert table1_csv[label][0] == f"{count} ({pct(count, 43)})", figure


@pytest.mark.parametrize(("figure", "code", "count", "label"), [
    pytest.param("F19", "cerebral_palsy", 19, "Laste tserebraalparalüüs", id="F19"),
    pytest.param("F20", "hereditary_spastic_paraplegia", 2,
                 "Hereditaarne spastiline parapleegia", id="F20"),
    pytest.param("F21", "multiple_sclerosis", 4, "Sclerosis multiplex", id="F21"),
    pytest.param("F22", "brain_spinal_cord_injury", 5, "Pea- või seljaaju trauma", id="F22"),
    pytest.param("F23", "neuroinfection", 1, "Neuroinfektsioon", id="F23"),
    pytest.param("F24", "autoimmune_encephalitis", 1, "Autoimmuunne entsefaliit", id="F24"),
    pytest.param("F25", "other", 11, "Muu*", id="F25"),
])
def test_F19_to_F25_diagnoses(report: dict[str, Any], table1_csv: dict[str, list[str]],
                              figure: str, code: str, count: int, label: str) -> None:
    assert overall(report)["diagnosis"][code] == count, figure
    assert table1_csv[label][0] == f"{count} ({pct(count, 43)})", figure


def test_F25_other_diagnoses_are_listed(report: dict[str, Any]) -> None:
    listed = set(report["other_diagnoses"])
    assert {"Rett syndrome", "Labrune syndrome", "transverse myelitis",
            "cervical epidural abscess"} <= {d.lower() if d[0].islower() else d for d in listed}
    assert len(listed) == 10


def test_F26_contractures_before_27_yes_16_no(report: dict[str, Any]) -> None:
    assert overall(report)["contractures_before"] == {"yes": 27, "no": 16, "unknown": 0}


# --- By functional level -------------------------------------------------------------------

def test_F30_low_26_high_17(report: dict[str, Any]) -> None:
    assert report["table1"]["low"]["n"] == 26
    assert report["table1"]["high"]["n"] == 17


def test_F31_age_by_functional_level(report: dict[str, Any]) -> None:
    low, high = report["table1"]["low"]["age"], report["table1"]["high"]["age"]
    assert (low["median"], low["min"], low["max"]) == (15, 5, 63)
    assert (high["median"], high["min"], high["max"]) == (33, 7, 67)


def test_F32_most_frequent_syndrome_by_functional_level(report: dict[str, Any]) -> None:
    low = top(report["table1"]["low"]["syndrome"])
    high = top(report["table1"]["high"]["syndrome"])
    assert low[0] == ("spastic_tetraparesis", 18) and low[1][1] < 18
    assert high[:2] == [("spastic_paraparesis", 9), ("spastic_tetraparesis", 6)]
    assert high[2][1] < 6


def test_F33_most_frequent_diagnosis_by_functional_level(report: dict[str, Any]) -> None:
    low = top(report["table1"]["low"]["diagnosis"])
    high = top(report["table1"]["high"]["diagnosis"])
    assert low[0] == ("cerebral_palsy", 15) and low[1][1] < 15
    assert high[:2] == [("brain_spinal_cord_injury", 5), ("cerebral_palsy", 4)]
    assert high[2][1] < 4


# --- Catheter ------------------------------------------------------------------------------

def test_F40_ascenda_catheter_in_all(report: dict[str, Any]) -> None:
    assert overall(report)["catheter_type"]["ascenda"] == 43


def test_F41_most_frequent_tip_level_T10(report: dict[str, Any]) -> None:
    levels = {k: v for k, v in overall(report)["catheter_tip_level"].items() if k != "unknown"}
    assert top(levels)[0] == ("T10", 9) and top(levels)[1][1] < 9


def test_F42_tip_level_unknown_for_2(report: dict[str, Any]) -> None:
    assert overall(report)["catheter_tip_level"]["unknown"] == 2


# --- Complications (Table 2) ---------------------------------------------------------------

def test_F50_seven_patients_16_percent_wald_ci(report: dict[str, Any]) -> None:
    complications = report["complications"]
    assert complications["patients"] == 7
    assert round(100 * complications["proportion"]) == 16
    low, high = complications["ci95"]["wald"]
    assert (round(100 * low), round(100 * high)) == (5, 27)
    assert (round(100 * low, 1), round(100 * high, 1)) == (5.2, 27.3)


def test_F51_three_patients_with_two_complications(report: dict[str, Any]) -> None:
    complications = report["complications"]
    assert complications["patients_by_count"] == {"1": 4, "2": 3}
    assert complications["events"] == 10


@pytest.mark.parametrize(("figure", "code", "events", "months"), [
    pytest.param("F52", "csf_leak", 3, 1.2, id="F52"),
    pytest.param("F53", "catheter_break", 2, 16.6, id="F53"),
    pytest.param("F54", "catheter_kink", 2, 46.5, id="F54"),
    pytest.param("F55", "catheter_occlusion", 1, 10.7, id="F55"),
    pytest.param("F56", "catheter_disconnection", 1, 22.4, id="F56"),
    pytest.param("F57", "infection", 1, 12.4, id="F57"),
])
def test_F52_to_F57_complication_types_and_timing(report: dict[str, Any], out: Path, figure: str,
                                                  code: str, events: int, months: float) -> None:
    by_type = report["complications"]["by_type"][code]
    assert by_type["events"] == events, figure
    assert round(by_type["mean_months_to_onset"], 1) == months, figure
    with (out / "table2.csv").open(encoding="utf-8") as handle:
        rows = {row[0]: row[2:] for row in csv.reader(handle)}
    label = COMPLICATION_TYPE.label(code, "et")
    assert rows[label] == [str(events), str(by_type["patients"]),
                           f"{months:.1f}".replace(".", ",")], figure


def test_table2_has_no_other_complication_types(report: dict[str, Any]) -> None:
    assert set(report["complications"]["by_type"]) == {
        "csf_leak", "catheter_break", "catheter_kink", "catheter_occlusion",
        "catheter_disconnection", "infection"}


def test_F58_literature_range_41_to_78_percent_quoted_with_its_sources(out: Path) -> None:
    """A quotation, not a figure of the data: the report's literature panel carries it."""
    with (out / "literature.csv").open(encoding="utf-8") as handle:
        quoted = [row for row in csv.reader(handle) if "41–78%" in row]
    assert len(quoted) == 1
    assert all(ref in quoted[0][-1] for ref in ("[5]", "[15]", "[16]"))


# --- Spasticity assessment -----------------------------------------------------------------

@pytest.mark.parametrize(("figure", "combination", "patients"), [
    pytest.param("F60", "mas", 19, id="F60"),
    pytest.param("F61", "goniometry+mas", 5, id="F61"),
    pytest.param("F62", "gmfm+mas", 5, id="F62"),
    pytest.param("F63", "goniometry", 4, id="F63"),
    pytest.param("F64", "gmfm", 1, id="F64"),
    pytest.param("F65", "none", 9, id="F65"),
])
def test_F60_to_F65_assessment_combinations(report: dict[str, Any], figure: str,
                                            combination: str, patients: int) -> None:
    assert report["assessment_combinations"][combination] == patients, figure


def test_assessment_combinations_cover_every_patient(report: dict[str, Any]) -> None:
    assert sum(report["assessment_combinations"].values()) == 43
