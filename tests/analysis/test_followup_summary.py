"""The report's follow-up summary (``follow_up_summary``) is computed on whole columns; here it
must equal the per-patient path through the domain functions (``next_refill_due``,
``current_pump``, ``replacement_schedule``, ``pump_replacement``), which are the spec: on the
reference cohort and on a synthetic registry of 2000 patients salted with edge cases."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import astuple, replace
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from itb.analysis import followup
from itb.analysis.followup import FollowUpSummary, _add_years, follow_up_summary
from itb.cli import REFERENCE_COHORT
from itb.domain.codes import PUMP_KINDS
from itb.domain.dates import DAYS_PER_YEAR
from itb.domain.followup import FollowUpRules, Refill, next_refill_due
from itb.domain.pumps import (
    DEFAULT_CATALOGUE,
    IN_REPLACEMENT_WINDOW,
    PAST_SERVICE_LIFE,
    Implantation,
    PumpCatalogue,
    add_months,
    add_years,
    current_pump,
    pump_replacement,
    replacement_schedule,
    replacement_status,
)
from itb.registry_io import Registry, load_registry
from itb.registry_io.synth import write_synthetic_registry

DEFAULT_RULES = FollowUpRules()


def scalar_summary(registry: Registry, catalogue: PumpCatalogue = DEFAULT_CATALOGUE,
                   rules: FollowUpRules = DEFAULT_RULES) -> tuple[object, ...]:
    """The summary patient by patient, refill interval by interval, with the domain functions
    (the implementation the column-wise one replaced), as the tuple of the summary's fields."""
    cutoff = registry.cutoff
    implants: defaultdict[str, list[Implantation]] = defaultdict(list)
    for pid, day, kind, model in registry.implantations.select(
            "patient_id", "implant_date", "kind", "pump_model").iter_rows():
        implants[pid].append(Implantation(day, kind, model))
    refills: defaultdict[str, list[Refill]] = defaultdict(list)
    for pid, *values in registry.refills.select(
            "patient_id", "refill_date", "volume_ml", "concentration_mcg_ml",
            "daily_dose_mcg").iter_rows():
        refills[pid].append(Refill(*values))
    patient_years = 0.0
    n_refills = intervals = on_time = replacements = with_life = early = reached = 0
    window = past = 0
    rows = registry.patients.select("patient_id", "therapy_end_date").iter_rows()
    for pid, therapy_end in rows:
        implantations = implants[pid]
        starts = [i.implant_date for i in implantations if i.kind == "initial"]
        if not starts:
            continue
        end = min(therapy_end or cutoff, cutoff)
        patient_years += max((end - starts[0]).days, 0) / DAYS_PER_YEAR
        # In date order; a day's refills in the order recorded.
        done = [r for r in sorted(refills[pid], key=lambda r: r.refill_date)
                if r.refill_date <= end]
        n_refills += len(done)
        pumps = sorted((i for i in implantations
                        if i.kind in PUMP_KINDS and i.implant_date <= end),
                       key=lambda i: i.implant_date)
        replacements += sum(1 for i in pumps if i.kind == "replacement")
        pump_dates = [i.implant_date for i in pumps]
        for previous, current in pairwise(done):
            if any(previous.refill_date < d <= current.refill_date for d in pump_dates):
                continue
            pump = current_pump(pumps, previous.refill_date)
            alarm = catalogue.model_for(pump.pump_model if pump else None).alarm_volume_ml
            due = next_refill_due(previous, alarm, safety_margin_days=rules.safety_margin_days,
                                  stability_days=rules.stability_days)
            intervals += 1
            on_time += current.refill_date <= due.due_date
        for index, pump in enumerate(pumps):
            schedule = replacement_schedule(pump.implant_date,
                                            catalogue.model_for(pump.pump_model),
                                            rules.replacement_window_months)
            if schedule is None:
                continue
            with_life += 1
            following = pumps[index + 1].implant_date if index + 1 < len(pumps) else None
            if following is not None and following < schedule.due_date:
                early += 1
            elif schedule.due_date <= end:
                reached += 1
        if therapy_end is None or therapy_end > cutoff:
            status = replacement_status(
                pump_replacement(implantations, cutoff, catalogue,
                                 rules.replacement_window_months), cutoff)
            window += status == IN_REPLACEMENT_WINDOW
            past += status == PAST_SERVICE_LIFE
    return (registry.patients.height, patient_years, n_refills,
            n_refills / patient_years if patient_years > 0 else None, intervals, on_time,
            on_time / intervals if intervals else None, replacements, with_life, early,
            reached, window, past)


def fields(summary: FollowUpSummary) -> tuple[object, ...]:
    return astuple(summary)


def test_reference_cohort_equals_the_per_patient_rules() -> None:
    cohort = load_registry(REFERENCE_COHORT)
    summary = follow_up_summary(cohort)
    assert fields(summary) == scalar_summary(cohort)
    assert summary.refill_intervals > 0 and summary.pumps_with_service_life > 0


def salted(directory: Path, seed: int, shuffle: bool) -> Registry:
    """A 2000-patient synthetic registry with the cases the rules treat apart: zero, missing
    and tiny doses, missing volumes, missing and zero concentrations, a reservoir at the
    alarm volume, concentration changes, pumps replaced between refills and on a refill's
    day, two pumps on one day, models without a service life or unknown, 29 February
    implantations, two refills on one day, refills after the end of therapy, a patient
    without an initial implantation, rows of an unknown patient, and (``shuffle``) rows in
    no order."""
    write_synthetic_registry(directory, 2000, seed=seed)
    reg = load_registry(directory)
    rng = np.random.default_rng(seed)
    refills = reg.refills.select("patient_id", "refill_date", "volume_ml",
                                 "concentration_mcg_ml", "daily_dose_mcg")
    n = refills.height

    def pick(share: float) -> pl.Series:
        return pl.Series(rng.random(n) < share)

    dose, volume = pl.col("daily_dose_mcg"), pl.col("volume_ml")
    concentration = pl.col("concentration_mcg_ml")
    refills = refills.with_columns(
        pl.when(pick(0.05)).then(0.0).when(pick(0.05)).then(None).when(pick(0.01)).then(1e-6)
        .otherwise(dose).alias("daily_dose_mcg"),
        pl.when(pick(0.03)).then(None).when(pick(0.03)).then(2.0).when(pick(0.03)).then(2.5)
        .otherwise(volume).alias("volume_ml"),
        pl.when(pick(0.03)).then(None).when(pick(0.01)).then(0.0).when(pick(0.1)).then(
            pl.Series(rng.choice([500.0, 1000.0, 2000.0, 750.0], n)))
        .otherwise(concentration).alias("concentration_mcg_ml"))
    # Two refills on one day (the second recorded is the previous of the next one).
    twice = refills.filter(pick(0.02)).with_columns(
        (volume * 0.5).alias("volume_ml"), (dose * 1.3).alias("daily_dose_mcg"))
    unknown = refills.head(5).with_columns(pl.lit("NOSUCH01").alias("patient_id"))
    refills = pl.concat([refills, twice, unknown])

    implants = reg.implantations.select("patient_id", "implant_date", "site", "kind",
                                        "pump_model")
    pids = reg.patients.get_column("patient_id").to_list()
    chosen = rng.choice(len(pids), 400, replace=False)
    extra = []
    by_patient = refills.group_by("patient_id").agg(pl.col("refill_date").sort())
    dates = dict(by_patient.iter_rows())
    models = ["synchromed_ii", "prometra_ii", "constant_flow", None, "acme_pump_x"]
    for number, index in enumerate(chosen):
        pid = pids[index]
        days = dates.get(pid) or []
        if len(days) < 3:
            continue
        k = int(rng.integers(1, len(days) - 1))
        if number % 4 == 0:  # on the day of a refill: that refill fills the new pump
            when = days[k]
        else:  # between two refills
            gap = (days[k + 1] - days[k]).days
            when = days[k] + timedelta(days=int(rng.integers(1, gap + 1))) if gap else days[k]
        model = models[number % len(models)]
        extra.append((pid, when, "TLN", "replacement", model))
        if number % 10 == 0:  # a second pump on the same day, another model
            extra.append((pid, when, "TLN", "replacement", models[(number + 1) % 5]))
    for pid, when in zip(pids[:6], [date(2016, 2, 29), date(2020, 2, 29), date(2012, 2, 29),
                                    date(2016, 2, 29), date(2008, 2, 29), date(2020, 2, 29)],
                         strict=True):
        extra.append((pid, when, "TLN", "replacement", "synchromed_ii"))
    implants = pl.concat([implants, pl.DataFrame(extra, schema=implants.schema, orient="row")])
    # A patient whose initial implantation is missing: not followed up at all.
    implants = implants.filter(~((pl.col("patient_id") == pids[7]) &
                                 (pl.col("kind") == "initial")))
    patients = reg.patients.with_columns(
        pl.when(pl.col("patient_id").is_in(pids[10:60]))
        .then(pl.col("therapy_end_date").fill_null(date(2019, 6, 30)))
        .otherwise(pl.col("therapy_end_date")).alias("therapy_end_date"))
    if shuffle:
        refills = refills.sample(fraction=1.0, shuffle=True, seed=seed)
        implants = implants.sample(fraction=1.0, shuffle=True, seed=seed)
        patients = patients.sample(fraction=1.0, shuffle=True, seed=seed)
    return Registry(patients=patients, implantations=implants,
                    complications=reg.complications, assessments=reg.assessments,
                    refills=refills, cutoff=reg.cutoff)


SITE_RULES = FollowUpRules(safety_margin_days=7, stability_days=120,
                           replacement_window_months=9)
SITE_CATALOGUE = (DEFAULT_CATALOGUE.replace("synchromed_ii", alarm_volume_ml=3.5,
                                            service_life_years=6)
                  .replace("other", alarm_volume_ml=1.0))


@pytest.mark.parametrize(("seed", "shuffle", "catalogue", "rules"), [
    (7, False, DEFAULT_CATALOGUE, DEFAULT_RULES),
    (8, True, SITE_CATALOGUE, SITE_RULES),
])
def test_synthetic_registry_with_edge_cases_equals_the_per_patient_rules(
        tmp_path: Path, seed: int, shuffle: bool, catalogue: PumpCatalogue,
        rules: FollowUpRules) -> None:
    reg = salted(tmp_path / "synth", seed, shuffle)
    summary = follow_up_summary(reg, catalogue=catalogue, rules=rules)
    assert fields(summary) == scalar_summary(reg, catalogue, rules)
    # Not vacuous: both outcomes of each count occur.
    assert 0 < summary.refills_on_time < summary.refill_intervals < summary.refills
    assert summary.pumps_replaced_before_end_of_service > 0
    assert summary.pumps_reached_end_of_service > 0
    assert summary.pumps_in_replacement_window > 0 and summary.pumps_past_service_life > 0


@pytest.mark.parametrize("grouped", [False, True])
def test_refills_taken_in_blocks_of_whole_patients(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grouped: bool) -> None:
    """Small blocks (the refills are taken a block of whole patients at a time): the same
    result, whether each patient's rows are together (their days in no order) or not."""
    reg = salted(tmp_path / "synth", 9, shuffle=False)
    if grouped:  # the same-day refills appended at the end moved to their patient's rows
        reg = replace(reg, refills=reg.refills.sort("patient_id", maintain_order=True))
    expected = scalar_summary(reg)
    monkeypatch.setattr(followup, "_BLOCK_ROWS", 97)
    assert fields(follow_up_summary(reg)) == expected


def test_pump_changes_at_the_edges_of_an_interval_and_of_a_service_life() -> None:
    reg = salted_small()
    summary = follow_up_summary(reg)
    assert fields(summary) == scalar_summary(reg)
    # P1: 3 refills, a pump between the 2nd and 3rd -> 1 interval; P2: a pump on the 2nd
    # refill's day counts as filled at it (the interval before it is not counted), 1 more.
    assert (summary.refills, summary.refill_intervals) == (8, 3)
    assert summary.refills_on_time == 3
    # P1's and P2's first pumps were replaced early; P3's on its due date: it reached it.
    assert summary.pumps_replaced_before_end_of_service == 2
    assert summary.pumps_reached_end_of_service == 1


def salted_small() -> Registry:
    def frame(rows: list[tuple[object, ...]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=schema, orient="row")

    patients = frame([("P1", None), ("P2", None), ("P3", None), ("P4", None)],
                     {"patient_id": pl.String(), "therapy_end_date": pl.Date()})
    implants = frame(
        [("P1", date(2020, 1, 1), "initial", "synchromed_ii"),
         ("P1", date(2021, 3, 1), "replacement", "prometra_ii"),
         ("P2", date(2020, 1, 1), "initial", "synchromed_ii"),
         ("P2", date(2021, 2, 1), "replacement", "synchromed_ii"),
         ("P3", date(2010, 3, 1), "initial", "synchromed_ii"),
         ("P3", date(2017, 3, 1), "replacement", "prometra_ii"),
         ("P4", date(2021, 6, 1), "initial", "synchromed_ii")],
        {"patient_id": pl.String(), "implant_date": pl.Date(), "kind": pl.String(),
         "pump_model": pl.String()})
    refills = frame(
        [(pid, day, 20.0, 2000.0, 400.0) for pid in ("P1", "P2")
         for day in (date(2021, 1, 1), date(2021, 2, 1), date(2021, 4, 1))]
        # Before P4's first pump (data the validation would refuse): no pump, so the 2 mL
        # alarm of an unknown one, not the 3 mL of P3's last pump: due after 90 days.
        + [("P4", date(2021, 1, 1), 20.0, 2000.0, 400.0),
           ("P4", date(2021, 3, 31), 20.0, 2000.0, 400.0)],
        {"patient_id": pl.String(), "refill_date": pl.Date(), "volume_ml": pl.Float64(),
         "concentration_mcg_ml": pl.Float64(), "daily_dose_mcg": pl.Float64()})
    empty = pl.DataFrame()
    return Registry(patients=patients, implantations=implants, complications=empty,
                    assessments=empty, refills=refills, cutoff=date(2024, 7, 31))


def test_calendar_offsets_match_the_domain_on_every_day() -> None:
    """The replacement due date and window come from polars' calendar offsets; they must be
    ``add_years`` and ``add_months`` of the domain, leap days included."""
    days = pl.date_range(date(1999, 1, 1), date(2030, 12, 31), eager=True)
    for years in (6, 7, 10):
        due = _add_years(days, pl.Series([years] * days.len()))
        assert due.to_list() == [add_years(day, years) for day in days.to_list()]
        for months in (6, 9):
            opens = due.dt.offset_by(f"-{months}mo").to_list()
            assert opens == [add_months(day, -months) for day in due.to_list()]
    assert _add_years(days[:3], pl.Series([None, 7, None], dtype=pl.Int64)).to_list() == [
        None, add_years(days[1], 7), None]


@pytest.mark.parametrize("empty", ["patients", "implantations", "refills"])
def test_a_table_without_rows(empty: str) -> None:
    full = salted_small()
    reg = replace(full, **{empty: getattr(full, empty).head(0)})
    assert fields(follow_up_summary(reg)) == scalar_summary(reg)
