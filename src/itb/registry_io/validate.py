"""Check every value and every cross-file rule of a registry, vectorised, reporting all problems.

The rules (docs/data-format.md, "Validation"): required values, known codes, strict ISO dates
that exist, are not before 1900 and not after the data cut-off, numbers in range, assessment
values on their instrument's scale, unique patients, rows that belong to a known patient,
exactly one initial implantation which is the earliest, no implantation before birth, no
complication or refill or follow-up assessment before the first implantation, no event after
therapy end, therapy end date and reason set together, no pump fields on a revision; texts
no longer than their column; screening (bolus) trials at a trial dose (25, 50, 75, 100 µg),
after birth and not after the first implantation. identity.csv has its own rules
(itb.registry_io.identity).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from itb.domain.dates import EARLIEST_PLAUSIBLE_DATE
from itb.domain.followup import SCREENING_DOSES_MCG
from itb.domain.scales import SCALES
from itb.registry_io.identity import identity_problems
from itb.registry_io.problems import Problem
from itb.registry_io.reader import RawTable
from itb.registry_io.schema import EVENT_DATE, Column, Kind

ROW = "_row"
KEY = "_patient"  # the position of the row's patient (_People)
SITE_PATTERN = r"^[A-Z0-9_-]{1,16}$"


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def rows(self, table: RawTable, bad: pl.DataFrame, column: str | None, code: str,
             value: str | None = None, **static: Any) -> None:
        """One problem per row of ``bad`` (which holds ROW and the columns its message needs)."""
        for record in bad.iter_rows(named=True):
            params = {k: _text(v) for k, v in record.items() if k != ROW}
            if value is not None:
                params["value"] = params.get(value)
            params.update(static)
            self.problems.append(Problem(table.filename, table.line(record[ROW]), column, code,
                                         params))


def _text(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 101, as written, not 101.0
    return value


def validate_tables(tables: dict[str, RawTable], cutoff: date,
                    site_codes: frozenset[str] | None) -> tuple[dict[str, pl.DataFrame],
                                                                 list[Problem]]:
    """Typed frames (with a ROW index) and every problem found in them."""
    collector = _Collector()
    typed = {name: _check_columns(table, cutoff, site_codes, collector)
             for name, table in tables.items()}
    if "patients" in typed:
        _check_cross_file(tables, typed, collector)
    if "screening_trials" in typed:
        _check_screening_doses(tables["screening_trials"], typed["screening_trials"], collector)
    if "identity" in typed:
        collector.problems += identity_problems(tables["identity"], typed["identity"],
                                                typed.get("patients"), ROW)
    return typed, sorted(collector.problems, key=Problem.sort_key)


def _check_columns(table: RawTable, cutoff: date, site_codes: frozenset[str] | None,
                   out: _Collector) -> pl.DataFrame:
    frame = table.frame.with_row_index(ROW)
    for column in table.spec.columns:
        frame = _check_column(table, frame, column, cutoff, site_codes, out)
    return frame


def _check_column(table: RawTable, frame: pl.DataFrame, column: Column, cutoff: date,
                  site_codes: frozenset[str] | None, out: _Collector) -> pl.DataFrame:
    name = column.name
    col = pl.col(name)
    if column.required:
        out.rows(table, frame.filter(col.is_null()).select(ROW), name, "value_required")
    if column.max_length is not None:
        # The text itself is not repeated: it may be long, or a name (identity.csv).
        long = frame.filter(col.str.len_chars() > column.max_length).select(ROW)
        out.rows(table, long, name, "text_too_long", maximum=column.max_length)

    if column.kind is Kind.CODE:
        assert column.codes is not None
        allowed = column.codes.codes
        bad = frame.filter(col.is_not_null() & ~col.is_in(allowed)).select(ROW, name)
        out.rows(table, bad, name, "code_unknown", value=name, allowed=", ".join(allowed))
    elif column.kind is Kind.SITE:
        if site_codes is None or table.spec.table == "sites":
            bad = frame.filter(col.is_not_null() & ~col.str.contains(SITE_PATTERN))
            out.rows(table, bad.select(ROW, name), name, "site_malformed", value=name)
        else:
            bad = frame.filter(col.is_not_null() & ~col.is_in(sorted(site_codes)))
            out.rows(table, bad.select(ROW, name), name, "site_unknown", value=name,
                     allowed=", ".join(sorted(site_codes)))
    elif column.kind is Kind.DATE:
        return _check_date(table, frame, name, cutoff, out)
    elif column.kind is Kind.NUMBER:
        return _check_number(table, frame, column, out)
    return frame


def _check_date(table: RawTable, frame: pl.DataFrame, name: str, cutoff: date,
                out: _Collector) -> pl.DataFrame:
    col = pl.col(name)
    # ASCII digits only: [0-9], where the regex engine's \d would match any Unicode digit.
    shaped = col.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    # No cache of parsed strings: measured twice as fast on millions of dates.
    parsed = pl.when("_shaped").then(col.str.to_date("%Y-%m-%d", strict=False, cache=False))
    # Two steps, so that the pattern is matched once (an eager frame does not share it).
    frame = frame.with_columns(shaped.alias("_shaped")).with_columns(parsed.alias("_date"))
    present = col.is_not_null()
    out.rows(table, frame.filter(present & ~pl.col("_shaped")).select(ROW, name), name,
             "date_malformed", value=name)
    out.rows(table, frame.filter(present & pl.col("_shaped") & pl.col("_date").is_null())
             .select(ROW, name), name, "date_impossible", value=name)
    out.rows(table, frame.filter(pl.col("_date") < EARLIEST_PLAUSIBLE_DATE).select(ROW, name),
             name, "date_implausible", value=name)
    out.rows(table, frame.filter(pl.col("_date") > cutoff).select(ROW, name), name,
             "date_after_cutoff", value=name, cutoff=cutoff.isoformat())
    return frame.with_columns(pl.col("_date").alias(name)).drop("_date", "_shaped")


def _check_number(table: RawTable, frame: pl.DataFrame, column: Column,
                  out: _Collector) -> pl.DataFrame:
    name = column.name
    col = pl.col(name)
    if frame.schema[name] == pl.String:
        number = col.str.strip_chars().cast(pl.Float64, strict=False)
        bad = frame.filter(col.is_not_null() & (number.is_null() | number.is_nan()))
        out.rows(table, bad.select(ROW, name), name, "number_malformed", value=name)
        frame = frame.with_columns(number.alias(name))
    else:
        out.rows(table, frame.filter(col.is_nan()).select(ROW, name), name,
                 "number_malformed", value=name)
    outside = col.is_not_nan() & ((col < column.minimum) | (col > column.maximum))
    out.rows(table, frame.filter(outside).select(ROW, name), name, "number_out_of_range",
             value=name, minimum=f"{column.minimum:g}", maximum=f"{column.maximum:g}")
    return frame.with_columns(pl.when(col.is_nan()).then(None).otherwise(col).alias(name))


def _check_cross_file(tables: dict[str, RawTable], typed: dict[str, pl.DataFrame],
                      out: _Collector) -> None:
    patients_raw = tables["patients"]
    patients = typed["patients"]
    if patients.height == 0:
        out.problems.append(Problem(patients_raw.filename, None, None, "file_no_rows"))

    first_row = patients.group_by("patient_id").agg(pl.col(ROW).min().alias("_first"))
    duplicates = (patients.join(first_row, on="patient_id")
                  .filter((pl.col(ROW) != pl.col("_first")) & pl.col("patient_id").is_not_null()))
    first_line = pl.col("_first").map_elements(patients_raw.line, return_dtype=pl.Int64)
    out.rows(patients_raw, duplicates.select(ROW, "patient_id", first_line.alias("first_line")),
             "patient_id", "duplicate_patient", value="patient_id")

    end, reason = pl.col("therapy_end_date"), pl.col("therapy_end_reason")
    raw_end = patients_raw.frame.get_column("therapy_end_date")
    end_given = pl.Series(raw_end.is_not_null())
    out.rows(patients_raw, patients.filter(reason.is_not_null() & ~end_given).select(ROW),
             "therapy_end_reason", "end_reason_without_date")
    out.rows(patients_raw, patients.filter(end.is_not_null() & reason.is_null()).select(ROW),
             "therapy_end_reason", "end_date_without_reason")

    people = _People(patients)
    keyed = {name: people.keyed(typed[name]) for name in EVENT_DATE if name in typed}
    for table_name, frame in keyed.items():
        orphans = frame.filter(pl.col(KEY).is_null() & pl.col("patient_id").is_not_null())
        out.rows(tables[table_name], orphans.select(ROW, "patient_id"), "patient_id",
                 "patient_unknown", value="patient_id")

    if "implantations" in keyed:
        _check_implantations(tables, people.keyed(patients), people, keyed, out)
    if "assessments" in typed:
        _check_assessment_values(tables["assessments"], typed["assessments"], out)


class _People:
    """The registry's patients by an integer key, for the rules that span files.

    Matching every event row to its patient by a string join costs seconds per million rows
    (the joins copy every column); each row's patient_id is instead turned into the position
    of its patient (unknown ids null) once per table, and a patient's dates are then gathered
    by that position.
    """

    def __init__(self, patients: pl.DataFrame) -> None:
        # The first row of a repeated id is the patient (the others are reported above).
        first = patients.filter(pl.col("patient_id").is_not_null()).unique(
            "patient_id", keep="first", maintain_order=True)
        ids = first.get_column("patient_id")
        self._order = ids.arg_sort()  # patient positions by id, for a binary search
        self._sorted_ids = ids.gather(self._order)
        self.count = ids.len()
        self.columns: dict[str, pl.Series] = {
            "birth": first.get_column("birth_date"), "end": first.get_column("therapy_end_date")}

    def keyed(self, frame: pl.DataFrame) -> pl.DataFrame:
        # A file lists a patient's rows together: each run of one id is looked up once, by
        # binary search in the sorted ids (a hash of a million ids per file cost more).
        runs = frame.get_column("patient_id").rle().struct.unnest()
        values = runs.get_column("value")
        if self.count:
            at = self._sorted_ids.search_sorted(values).clip(upper_bound=self.count - 1)
            found = (self._sorted_ids.gather(at) == values).fill_null(False)
            keys = pl.select(pl.when(found).then(self._order.gather(at))).to_series()
        else:
            keys = pl.Series(KEY, [None] * values.len(), dtype=pl.UInt32)
        # int32: numpy repeats it several times faster than int64.
        lengths = runs.get_column("len").to_numpy()
        run_of_row = np.repeat(np.arange(runs.height, dtype=np.int32), lengths)
        return frame.with_columns(keys.gather(run_of_row).alias(KEY))

    def add(self, name: str, values: pl.Series) -> None:
        """A per-patient column, in patient order (the enum's)."""
        self.columns[name] = values

    def gather(self, frame: pl.DataFrame, *names: str) -> pl.DataFrame:
        """``frame`` with each named patient column, for the rows of a known patient."""
        frame = frame.filter(pl.col(KEY).is_not_null())
        key = frame.get_column(KEY)
        return frame.with_columns(self.columns[name].gather(key).alias(name) for name in names)


def _check_implantations(tables: dict[str, RawTable], patients: pl.DataFrame, people: _People,
                         keyed: dict[str, pl.DataFrame], out: _Collector) -> None:
    patients_raw, implants_raw = tables["patients"], tables["implantations"]
    implants = keyed["implantations"]

    initial = implants.filter((pl.col("kind") == "initial") & pl.col(KEY).is_not_null())
    counts = initial.group_by(KEY).agg(
        pl.len().alias("count"), pl.col("implant_date").first().alias("initial"),
        pl.col(ROW).first().alias("_first_initial"))
    # Per patient, in the enum's order: how many initial implantations, and the one's date.
    per_patient = pl.DataFrame({KEY: pl.arange(0, people.count,
                                               dtype=pl.UInt32, eager=True)}).join(
        counts, on=KEY, how="left", maintain_order="left")
    count = per_patient.get_column("count").fill_null(0)
    people.add("count", count)
    people.add("_first_initial", per_patient.get_column("_first_initial"))
    # The chronology of one patient is checked only against a single valid initial date.
    people.add("initial", per_patient.select(
        pl.when(pl.col("count") == 1).then(pl.col("initial"))).to_series())

    missing = people.gather(patients, "count").filter(pl.col("count") == 0)
    out.rows(patients_raw, missing.select(ROW), "patient_id", "initial_missing")
    repeated = people.gather(initial, "count", "_first_initial").filter(
        (pl.col("count") > 1) & (pl.col(ROW) != pl.col("_first_initial")))
    out.rows(implants_raw, repeated.select(ROW, "count"), "kind", "initial_repeated")

    timed = people.gather(implants.select(ROW, KEY, "implant_date"), "birth", "end", "initial")
    out.rows(implants_raw, timed.filter(pl.col("implant_date") < pl.col("initial")).select(
        ROW, "implant_date", "initial"), "implant_date", "initial_not_earliest",
        value="implant_date")
    out.rows(implants_raw, timed.filter(pl.col("implant_date") < pl.col("birth")).select(
        ROW, "implant_date", "birth"), "implant_date", "implant_before_birth",
        value="implant_date")
    for column in ("pump_model", "reservoir_ml"):
        bad = implants.filter((pl.col("kind") == "revision") & pl.col(column).is_not_null())
        out.rows(implants_raw, bad.select(ROW), column, "pump_field_on_revision")

    # The first row's end date decides, but every row of that patient is named.
    late_end = people.gather(patients.select(ROW, KEY, "therapy_end_date"), "end", "initial")
    out.rows(patients_raw, late_end.filter(pl.col("end") < pl.col("initial")).select(
        ROW, pl.col("therapy_end_date").alias("value"), pl.col("initial").alias("first")),
        "therapy_end_date", "before_first_implant")

    if "screening_trials" in keyed:
        trials_raw = tables["screening_trials"]
        trials = people.gather(keyed["screening_trials"].select(ROW, KEY, "trial_date"),
                               "birth", "initial")
        out.rows(trials_raw, trials.filter(pl.col("trial_date") < pl.col("birth")).select(
            ROW, "trial_date", "birth"), "trial_date", "trial_before_birth", value="trial_date")
        # The bolus trial decides whether a pump is implanted: it comes first.
        out.rows(trials_raw, trials.filter(pl.col("trial_date") > pl.col("initial")).select(
            ROW, "trial_date", pl.col("initial").alias("first")), "trial_date",
            "trial_after_implant", value="trial_date")
    _check_event_times(implants_raw, timed, "implant_date", out, before_first=False)
    for table_name in ("complications", "refills", "assessments"):
        if table_name in keyed:
            date_column = EVENT_DATE[table_name]
            events = keyed[table_name]
            if table_name == "assessments":
                # Screening assessments precede the implantation by nature.
                events = events.filter(pl.col("phase") == "follow_up")
            events = people.gather(events.select(ROW, KEY, date_column), "initial", "end")
            _check_event_times(tables[table_name], events, date_column, out,
                               before_first=True, after_end=table_name != "assessments")


def _check_event_times(raw: RawTable, events: pl.DataFrame, date_column: str, out: _Collector,
                       before_first: bool, after_end: bool = True) -> None:
    when = pl.col(date_column)
    if before_first:
        out.rows(raw, events.filter(when < pl.col("initial")).select(
            ROW, date_column, pl.col("initial").alias("first")), date_column,
            "before_first_implant", value=date_column)
    if after_end:
        out.rows(raw, events.filter(when > pl.col("end")).select(ROW, date_column, "end"),
                 date_column, "after_therapy_end", value=date_column)


def _check_assessment_values(raw: RawTable, assessments: pl.DataFrame, out: _Collector) -> None:
    value = pl.col("value")
    for instrument, scale in SCALES.items():
        rows = assessments.filter((pl.col("instrument") == instrument) & value.is_not_null())
        if rows.height == 0:
            continue
        if scale.is_ordinal:
            bad = rows.filter(~value.is_in(scale.levels))
        else:
            number = value.str.strip_chars().cast(pl.Float64, strict=False)
            off_scale = number.is_null() | number.is_nan() | (number < scale.minimum) | (
                number > scale.maximum)
            if scale.integer:
                off_scale = off_scale | (number != number.floor())
            bad = rows.filter(off_scale)
        out.rows(raw, bad.select(ROW, "value"), "value", "value_out_of_scale", value="value",
                 instrument=instrument, allowed=scale.describe())


def _check_screening_doses(raw: RawTable, trials: pl.DataFrame, out: _Collector) -> None:
    """A bolus trial is given at one of the trial doses (a number in range may still not be)."""
    dose = pl.col("dose_mcg")
    # Out of range is reported as such; this is for a dose in range but between the steps.
    in_range = dose.is_between(min(SCREENING_DOSES_MCG), max(SCREENING_DOSES_MCG))
    bad = trials.filter(in_range & ~dose.is_in(list(SCREENING_DOSES_MCG)))
    out.rows(raw, bad.select(ROW, "dose_mcg"), "dose_mcg", "screening_dose_unknown",
             value="dose_mcg", allowed=", ".join(f"{d:g}" for d in SCREENING_DOSES_MCG))
