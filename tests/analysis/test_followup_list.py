"""The follow-up list (itb.analysis.followup): one entry per patient on therapy, with the
next refill date and how it was computed, days overdue, the pump's age and replacement
window, and the current flags; and the report's follow-up summary."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from itb.analysis.followup import (
    FollowUp,
    due_list,
    follow_up,
    follow_up_summary,
    needs_action,
    patient_follow_up,
)
from itb.cli import REFERENCE_COHORT
from itb.registry_io import Registry, load_registry
from itb.registry_io.loader import empty_table
from itb.registry_io.schema import IMPLANTATIONS, PATIENTS, REFILLS, FileSpec

ON = date(2024, 7, 31)


def frame(spec: FileSpec, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = empty_table(spec).schema
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows],
                        schema=schema, orient="row")


def patient(pid: str, site: str = "TLN", **fields: Any) -> dict[str, Any]:
    return {"patient_id": pid, "site": site, "sex": "F", "birth_date": date(2000, 1, 1),
            "diagnosis": "cerebral_palsy", "syndrome": "spastic_tetraparesis",
            "functional_level": "low", **fields}


def pump(pid: str, when: date, kind: str = "initial", model: str | None = "synchromed_ii",
         reservoir: float = 20.0) -> dict[str, Any]:
    return {"patient_id": pid, "implant_date": when, "site": "TLN", "kind": kind,
            "pump_model": model, "reservoir_ml": reservoir}


def refill(pid: str, when: date, volume: float | None = 20.0, conc: float | None = 2000.0,
           dose: float | None = 400.0, residual: float | None = None) -> dict[str, Any]:
    return {"patient_id": pid, "refill_date": when, "volume_ml": volume,
            "concentration_mcg_ml": conc, "daily_dose_mcg": dose, "residual_ml": residual}


def registry(patients: list[dict[str, Any]], implantations: list[dict[str, Any]],
             refills: list[dict[str, Any]], cutoff: date = ON) -> Registry:
    empty = pl.DataFrame()
    return Registry(patients=frame(PATIENTS, patients),
                    implantations=frame(IMPLANTATIONS, implantations),
                    complications=empty, assessments=empty,
                    refills=frame(REFILLS, refills), cutoff=cutoff)


def one(reg: Registry, on: date = ON) -> FollowUp:
    entries = follow_up(reg, on)
    assert len(entries) == 1
    return entries[0]


# --- the worked checks of the issue ----------------------------------------------------------

def test_20_ml_pump_due_in_90_days_by_the_alarm() -> None:
    reg = registry([patient("P1")], [pump("P1", date(2020, 1, 1))],
                   [refill("P1", date(2024, 6, 1))])
    entry = one(reg, date(2024, 7, 1))
    assert entry.next_refill_due == date(2024, 8, 30)  # 2024-06-01 + 90 days
    assert entry.refill_due is not None
    assert entry.refill_due.limited_by == "alarm"
    assert entry.refill_due.rate_ml_per_day == pytest.approx(0.2)
    assert entry.refill_due.days_to_alarm == pytest.approx(90.0)
    assert entry.days_until_due == 60 and entry.days_overdue == 0 and not entry.overdue
    assert entry.flags == ()
    assert entry.last_fill == date(2024, 6, 1)


def test_40_ml_pump_capped_at_180_days_by_stability() -> None:
    reg = registry([patient("P1")], [pump("P1", date(2020, 1, 1), reservoir=40)],
                   [refill("P1", date(2024, 6, 1), volume=40)])
    entry = one(reg)
    assert entry.refill_due is not None and entry.refill_due.limited_by == "stability"
    assert entry.refill_due.days_to_alarm == pytest.approx(190.0)
    assert entry.next_refill_due == date(2024, 11, 28)  # + 180 days


def test_overdue_patient_listed_first_with_days_and_flag() -> None:
    reg = registry([patient("P1"), patient("P2")],
                   [pump("P1", date(2020, 1, 1)), pump("P2", date(2020, 1, 1))],
                   [refill("P1", date(2024, 7, 1)), refill("P2", date(2024, 4, 1))])
    entries = follow_up(reg, ON)
    assert [e.patient_id for e in entries] == ["P2", "P1"]
    overdue = entries[0]
    assert overdue.next_refill_due == date(2024, 6, 30)
    assert overdue.days_overdue == 31 and overdue.days_until_due == -31
    assert overdue.flag_codes == ["refill_overdue"]
    assert overdue.flags[0].value == 31
    assert overdue.to_json()["days_overdue"] == 31
    assert entries[1].to_json()["days_overdue"] == 0


def test_only_patients_on_therapy_and_only_events_up_to_the_date() -> None:
    reg = registry(
        [patient("P1"), patient("P2", therapy_end_date=date(2024, 1, 1),
                                therapy_end_reason="death"),
         patient("P3"), patient("P4", therapy_end_date=date(2024, 8, 1),
                                therapy_end_reason="explanted")],
        [pump("P1", date(2020, 1, 1)), pump("P2", date(2020, 1, 1)),
         pump("P3", date(2024, 9, 1)), pump("P4", date(2020, 1, 1))],
        [refill("P1", date(2024, 6, 1)), refill("P1", date(2024, 9, 1)),
         refill("P4", date(2024, 6, 1))])
    entries = follow_up(reg, ON)
    # P2 ended before, P3 starts after the date; P4 ends after it, so is still on therapy.
    assert [e.patient_id for e in entries] == ["P1", "P4"]
    assert entries[0].last_refill is not None
    assert entries[0].last_refill.refill_date == date(2024, 6, 1)  # not the later one


def test_pump_placed_after_the_last_refill_is_due_by_stability_from_surgery() -> None:
    reg = registry([patient("P1")],
                   [pump("P1", date(2016, 1, 1)), pump("P1", date(2024, 1, 10), "replacement")],
                   [refill("P1", date(2023, 12, 1))])
    entry = one(reg)
    assert entry.last_fill == date(2024, 1, 10)
    assert entry.pump_implant_date == date(2024, 1, 10)
    assert entry.refill_due is not None and entry.refill_due.limited_by == "stability"
    assert entry.refill_due.alarm_date is None  # the volume filled at surgery is not known
    assert entry.next_refill_due == date(2024, 7, 8)
    assert entry.days_overdue == 23
    assert entry.flag_codes == ["refill_overdue", "no_refill_180d"]  # 203 days since surgery


def test_no_refill_recorded_counts_from_the_implantation() -> None:
    reg = registry([patient("P1")], [pump("P1", date(2024, 1, 1))], [])
    entry = one(reg)
    assert entry.last_refill is None and entry.last_fill == date(2024, 1, 1)
    assert entry.next_refill_due == date(2024, 6, 29)
    assert entry.flag_codes == ["refill_overdue", "no_refill_180d"]


def test_pump_age_and_replacement_window() -> None:
    reg = registry([patient("P1")], [pump("P1", date(2017, 9, 1))],
                   [refill("P1", date(2024, 7, 1))])
    entry = one(reg)
    assert entry.pump_age_days == (ON - date(2017, 9, 1)).days
    assert entry.pump_age_years == pytest.approx(entry.pump_age_days / 365.25)
    assert entry.pump_replacement_due == date(2024, 9, 1)
    assert entry.replacement_window_opens == date(2024, 3, 1)
    assert entry.replacement_status == "replacement_window"
    assert entry.flag_codes == ["pump_replacement_window"]
    data = entry.to_json()
    assert data["pump_replacement_due"] == "2024-09-01"
    assert data["replacement_window_opens"] == "2024-03-01"
    past = one(reg, date(2024, 9, 1))
    assert past.flag_codes == ["pump_past_service_life"]


def test_pump_without_a_battery_has_no_replacement_date() -> None:
    reg = registry([patient("P1")], [pump("P1", date(2010, 1, 1), model="constant_flow")],
                   [refill("P1", date(2024, 7, 1))])
    entry = one(reg)
    assert entry.replacement is None and entry.pump_replacement_due is None
    assert entry.to_json()["pump_replacement_due"] is None
    assert entry.replacement_status == "not_due"


def test_current_flags_are_the_latest_refills_history_keeps_all() -> None:
    refills = [refill("P1", date(2024, 1, 1), volume=20),
               # 60 days at 0.2 mL/day: 8 mL expected, 14 found (tolerance 2.4 mL)
               refill("P1", date(2024, 3, 1), volume=20, residual=14.0),
               refill("P1", date(2024, 5, 1), volume=20, residual=8.0)]
    reg = registry([patient("P1")], [pump("P1", date(2020, 1, 1))], refills)
    entry = one(reg, date(2024, 5, 2))
    assert entry.flag_codes == []
    assert [f.code for f in entry.history] == ["residual_mismatch"]
    assert entry.history[0].on == date(2024, 3, 1)
    latest = one(registry([patient("P1")], [pump("P1", date(2020, 1, 1))], refills[:2]),
                 date(2024, 3, 2))
    assert latest.flag_codes == ["residual_mismatch"]


def test_dose_step_flag_uses_the_spasticity_origin() -> None:
    refills = [refill("P1", date(2024, 1, 1), dose=200), refill("P1", date(2024, 3, 1),
                                                                dose=250)]
    spinal = registry([patient("P1", spasticity_origin="spinal")],
                      [pump("P1", date(2020, 1, 1))], refills)
    unknown = registry([patient("P1")], [pump("P1", date(2020, 1, 1))], refills)
    assert one(spinal, date(2024, 3, 2)).flag_codes == []  # 25 % is within the spinal 30 %
    assert one(unknown, date(2024, 3, 2)).flag_codes == ["dose_step_too_large"]


def test_site_filter_and_the_patient_accessor() -> None:
    reg = registry([patient("P1", "TLN"), patient("P2", "TRT")],
                   [pump("P1", date(2020, 1, 1)), pump("P2", date(2020, 1, 1))],
                   [refill("P1", date(2024, 7, 1)), refill("P2", date(2024, 7, 1))])
    assert [e.patient_id for e in follow_up(reg, ON, site="TRT")] == ["P2"]
    assert follow_up(reg, ON, site="NONE") == []
    entry = patient_follow_up(reg, "P2", ON)
    assert entry == follow_up(reg, ON, site="TRT")[0]
    assert patient_follow_up(reg, "P9", ON) is None
    assert patient_follow_up(reg, "P1", date(2019, 1, 1)) is None  # not on therapy yet


def test_due_list_within_days_overdue_or_flagged() -> None:
    reg = registry([patient("P1"), patient("P2"), patient("P3"), patient("P4")],
                   [pump("P1", date(2020, 1, 1)), pump("P2", date(2020, 1, 1)),
                    pump("P3", date(2020, 1, 1)), pump("P4", date(2018, 3, 1))],
                   [refill("P1", date(2024, 5, 12)),  # due 2024-08-10: in 10 days
                    refill("P2", date(2024, 7, 30)),  # due 2024-10-28
                    refill("P3", date(2024, 4, 1)),  # overdue
                    refill("P4", date(2024, 7, 30))])  # window opens 2024-09-01
    entries = follow_up(reg, ON)
    assert [e.patient_id for e in due_list(entries, 30)] == ["P3", "P1"]
    assert [e.patient_id for e in due_list(entries, 9)] == ["P3"]
    assert [e.patient_id for e in due_list(entries, 32)] == ["P3", "P1", "P4"]
    assert needs_action(entries[-1], 100)
    with pytest.raises(ValueError, match="negative"):
        due_list(entries, -1)


def test_json_object_has_the_documented_keys_and_types() -> None:
    reg = registry([patient("P1")], [pump("P1", date(2020, 1, 1))],
                   [refill("P1", date(2024, 6, 1))])
    data = one(reg).to_json()
    assert {"patient_id", "site", "next_refill_due", "days_overdue", "pump_replacement_due",
            "flags"} <= set(data)
    assert data["patient_id"] == "P1" and data["site"] == "TLN"
    assert data["next_refill_due"] == "2024-08-30"
    assert data["days_overdue"] == 0 and isinstance(data["days_overdue"], int)
    assert data["pump_replacement_due"] == "2027-01-01"
    assert data["flags"] == []
    assert data["limited_by"] == "alarm" and data["alarm_date"] == "2024-08-30"


# --- the report's summary ----------------------------------------------------------------------

def test_summary_counts_refills_on_time_and_pump_lifetimes() -> None:
    reg = registry(
        [patient("P1"), patient("P2")],
        [pump("P1", date(2016, 1, 1)), pump("P1", date(2022, 6, 1), "replacement"),
         pump("P2", date(2017, 1, 1))],
        [refill("P1", date(2022, 1, 1)), refill("P1", date(2022, 3, 1)),  # on time
         refill("P1", date(2022, 7, 1)),  # a new pump in between: not an interval
         refill("P1", date(2022, 12, 1)),  # 153 days after, due after 90: late
         refill("P2", date(2024, 1, 1))],
        cutoff=date(2024, 7, 31))
    summary = follow_up_summary(reg)
    assert summary.patients == 2 and summary.refills == 5
    years = ((date(2024, 7, 31) - date(2016, 1, 1)).days
             + (date(2024, 7, 31) - date(2017, 1, 1)).days) / 365.25
    assert summary.patient_years == pytest.approx(years)
    assert summary.refills_per_patient_year == pytest.approx(5 / years)
    assert (summary.refill_intervals, summary.refills_on_time) == (2, 1)
    assert summary.share_on_time == pytest.approx(0.5)
    assert summary.pump_replacements == 1
    assert summary.pumps_with_service_life == 3
    # P1's first pump was replaced before 2023-01-01; P2's reached 2024-01-01 in place.
    assert summary.pumps_replaced_before_end_of_service == 1
    assert summary.pumps_reached_end_of_service == 1
    assert summary.pumps_past_service_life == 1 and summary.pumps_in_replacement_window == 0


def test_summary_of_an_empty_follow_up() -> None:
    reg = registry([patient("P1")], [pump("P1", date(2024, 7, 1), model=None)], [])
    summary = follow_up_summary(reg)
    assert summary.refills == 0 and summary.refill_intervals == 0
    assert summary.share_on_time is None
    assert summary.pumps_with_service_life == 0  # an unknown pump has no predicted end


# --- the reference cohort at its cut-off: what the demo board shows -------------------------

def test_reference_cohort_at_the_cutoff() -> None:
    cohort = load_registry(REFERENCE_COHORT)
    entries = follow_up(cohort, cohort.cutoff)
    assert len(entries) == 38
    overdue = [e.patient_id for e in entries if e.overdue]
    assert overdue == ["ITB021"] and entries[0].patient_id == "ITB021"
    residual = [e.patient_id for e in entries if "residual_mismatch" in e.flag_codes]
    assert residual == ["ITB024"]
    listed = [e.patient_id for e in due_list(entries, 30)]
    assert listed == ["ITB021", "ITB008", "ITB017", "ITB029", "ITB034", "ITB024"]
    assert all(len(e.history) == len(e.flags) for e in entries)  # no old findings either


@pytest.mark.parametrize("on", [date(2016, 3, 1), date(2021, 11, 15), ON])
def test_current_flags_are_the_full_historys_latest(tmp_path, on: date) -> None:
    """The list reads only each patient's latest refills; the result must be what the whole
    history gives (its state flags and the latest refill date's findings)."""
    from itb.analysis.followup import STATE_FLAGS
    from itb.registry_io.synth import write_synthetic_registry

    write_synthetic_registry(tmp_path / "synth", 300, seed=4)
    reg = load_registry(tmp_path / "synth")
    entries = follow_up(reg, on)
    assert entries
    flagged = 0
    for entry in entries:
        latest = entry.last_refill.refill_date if entry.last_refill else None
        expected = [f for f in entry.history if f.code in STATE_FLAGS or f.on == latest]
        assert sorted(entry.flags, key=repr) == sorted(expected, key=repr), entry.patient_id
        flagged += bool(entry.flags)
    assert flagged  # the comparison is not vacuous


def one_patients_registry(reg: Registry, patient_id: str) -> Registry:
    """The registry of one patient, as the patient page builds it."""
    def rows(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("patient_id") == patient_id)

    return Registry(patients=rows(reg.patients), implantations=rows(reg.implantations),
                    complications=rows(reg.complications), assessments=rows(reg.assessments),
                    refills=rows(reg.refills), cutoff=reg.cutoff)


@pytest.mark.parametrize("on", [date(2016, 3, 1), date(2021, 11, 15), ON])
def test_one_patients_entry_is_the_lists(tmp_path, on: date) -> None:
    """patient_follow_up reads one patient's rows in plain Python (the patient page), the
    list with polars: the same entry and history, from a whole registry or the patient's."""
    from itb.registry_io.synth import write_synthetic_registry

    write_synthetic_registry(tmp_path / "synth", 300, seed=4)
    reg = load_registry(tmp_path / "synth")
    entries = follow_up(reg, on)
    assert len(entries) > 50
    for entry in entries:
        for source in (reg, one_patients_registry(reg, entry.patient_id)):
            alone = patient_follow_up(source, entry.patient_id, on)
            assert alone == entry, entry.patient_id
            assert alone.history == entry.history, entry.patient_id
    listed = {entry.patient_id for entry in entries}
    off = [pid for pid in reg.patients.get_column("patient_id") if pid not in listed]
    assert off and all(patient_follow_up(reg, pid, on) is None for pid in off[:20])
