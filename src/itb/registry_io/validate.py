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

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from itb.domain.dates import EARLIEST_PLAUSIBLE_DATE
from itb.domain.followup import SCREENING_DOSES_MCG
from itb.domain.scales import SCALES
from itb.registry_io.identity import identity_problems
from itb.registry_io.patient_runs import UNKNOWN_PATIENT, Runs, find_runs
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


@dataclass(frozen=True, eq=False)
class Validated:
    """``validate_tables``' answer: typed frames (with a ROW index), every problem found in
    them, and the patients' rows in id order with each table's runs of patients
    (``patient_runs``), for the analysis; None when patients.csv repeats or lacks an id."""

    tables: dict[str, pl.DataFrame]
    problems: list[Problem]
    patient_order: np.ndarray | None = None
    runs: dict[str, Runs] = field(default_factory=dict)


def validate_tables(tables: dict[str, RawTable], cutoff: date,
                    site_codes: frozenset[str] | None) -> Validated:
    collector = _Collector()
    typed = {name: _check_columns(table, cutoff, site_codes, collector)
             for name, table in tables.items()}
    known = _check_cross_file(tables, typed, collector) if "patients" in typed else None
    if "screening_trials" in typed:
        _check_screening_doses(tables["screening_trials"], typed["screening_trials"], collector)
    if "identity" in typed:
        collector.problems += identity_problems(tables["identity"], typed["identity"],
                                                typed.get("patients"), ROW)
    problems = sorted(collector.problems, key=Problem.sort_key)
    return Validated(typed, problems, *known) if known else Validated(typed, problems)


@dataclass(frozen=True)
class _Rule:
    """A rule of one column: the rows it finds (``bad``) and what its message shows."""

    column: str
    code: str
    bad: pl.Expr
    shown: tuple[pl.Expr, ...] = ()
    value: str | None = None
    static: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Screen:
    """A cheap test that finds every row a column's exact rules could find: the rules, and
    the column's exact typed values, are computed only when it finds one."""

    finds: pl.Expr
    rules: tuple[_Rule, ...]
    typed: pl.Expr  # the exact typed values, wherever the screen finds rows
    screened_typed: pl.Expr  # the typed values when it finds none


@dataclass
class _ColumnPlan:
    """A table's column rules over one frame: the helper columns they read (parsed dates
    and numbers), the rules, and the typed values that replace the text."""

    helpers: list[pl.Expr] = field(default_factory=list)
    rules: list[_Rule] = field(default_factory=list)
    screens: list[_Screen] = field(default_factory=list)
    typed: list[pl.Expr] = field(default_factory=list)


def _check_columns(table: RawTable, cutoff: date, site_codes: frozenset[str] | None,
                   out: _Collector) -> pl.DataFrame:
    plan = _ColumnPlan()
    for column in table.spec.columns:
        _plan_column(plan, table, column, cutoff, site_codes)
    # Helpers first (each column's in parallel), then every rule and screen counted in one
    # pass: a rule that finds no row costs no filter.
    frame = table.frame.with_row_index(ROW).with_columns(plan.helpers)
    tests = [rule.bad for rule in plan.rules] + [screen.finds for screen in plan.screens]
    counts = (frame.select(test.sum().alias(str(i)) for i, test in enumerate(tests)).row(0)
              if tests else ())
    for rule, count in zip(plan.rules, counts, strict=False):
        if count:
            _report(table, frame, rule, out)
    typed = list(plan.typed)
    for screen, count in zip(plan.screens, counts[len(plan.rules):], strict=True):
        if count:
            found = frame.filter(screen.finds)
            for rule in screen.rules:
                _report(table, found, rule, out)
        typed.append(screen.typed if count else screen.screened_typed)
    helper_names = [expr.meta.output_name() for expr in plan.helpers]
    return frame.with_columns(typed).drop(helper_names)


def _report(table: RawTable, frame: pl.DataFrame, rule: _Rule, out: _Collector) -> None:
    out.rows(table, frame.filter(rule.bad).select(ROW, *rule.shown), rule.column, rule.code,
             value=rule.value, **rule.static)


def _plan_column(plan: _ColumnPlan, table: RawTable, column: Column, cutoff: date,
                 site_codes: frozenset[str] | None) -> None:
    name = column.name
    col = pl.col(name)
    add = plan.rules.append
    if column.required:
        add(_Rule(name, "value_required", col.is_null()))
    if column.max_length is not None:
        # The text itself is not repeated: it may be long, or a name (identity.csv).
        add(_Rule(name, "text_too_long", col.str.len_chars() > column.max_length,
                  static={"maximum": column.max_length}))

    if column.kind is Kind.CODE:
        assert column.codes is not None
        allowed = column.codes.codes
        add(_Rule(name, "code_unknown", col.is_not_null() & ~col.is_in(allowed), (col,),
                  value=name, static={"allowed": ", ".join(allowed)}))
    elif column.kind is Kind.SITE:
        if site_codes is None or table.spec.table == "sites":
            add(_Rule(name, "site_malformed", col.is_not_null() & ~col.str.contains(SITE_PATTERN),
                      (col,), value=name))
        else:
            add(_Rule(name, "site_unknown", col.is_not_null() & ~col.is_in(sorted(site_codes)),
                      (col,), value=name, static={"allowed": ", ".join(sorted(site_codes))}))
    elif column.kind is Kind.DATE:
        _plan_date(plan, name, cutoff)
    elif column.kind is Kind.NUMBER:
        _plan_number(plan, column, table.frame.schema[name] == pl.String)


def _plan_date(plan: _ColumnPlan, name: str, cutoff: date) -> None:
    col = pl.col(name)
    # The screen: a value breaks none of the date rules exactly when it is one of the
    # dates from the earliest plausible one to the cut-off, written YYYY-MM-DD. Looking the
    # text up among those costs half of matching its shape and parsing it.
    valid = _valid_dates(cutoff)
    screened = pl.col(f"_date_{name}")
    plan.helpers.append(col.cast(valid, strict=False).alias(f"_date_{name}"))
    first_day = (EARLIEST_PLAUSIBLE_DATE - _EPOCH).days
    # ASCII digits only: [0-9], where the regex engine's \d would match any Unicode digit.
    shaped = col.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    # No cache of parsed strings: measured twice as fast on millions of dates. A value that
    # parses only as some other shape is malformed, not a date.
    parsed = pl.when(shaped).then(col.str.to_date("%Y-%m-%d", strict=False, cache=False))
    present = col.is_not_null()
    plan.screens.append(_Screen(
        finds=present & screened.is_null(),
        rules=(
            _Rule(name, "date_malformed", present & ~shaped, (col,), value=name),
            _Rule(name, "date_impossible", present & shaped & parsed.is_null(), (col,),
                  value=name),
            _Rule(name, "date_implausible", parsed < EARLIEST_PLAUSIBLE_DATE, (col,),
                  value=name),
            _Rule(name, "date_after_cutoff", parsed > cutoff, (col,), value=name,
                  static={"cutoff": cutoff.isoformat()}),
        ),
        typed=parsed.alias(name),
        screened_typed=(screened.to_physical().cast(pl.Int32) + first_day).cast(pl.Date)
        .alias(name),
    ))


_EPOCH = date(1970, 1, 1)


@functools.lru_cache(maxsize=4)
def _valid_dates(cutoff: date) -> pl.Enum:
    """Every date from the earliest plausible one to ``cutoff`` as YYYY-MM-DD, in order."""
    if cutoff < EARLIEST_PLAUSIBLE_DATE:
        return pl.Enum([])
    days = pl.date_range(EARLIEST_PLAUSIBLE_DATE, cutoff, eager=True)
    return pl.Enum(days.dt.to_string("%Y-%m-%d"))


def _plan_number(plan: _ColumnPlan, column: Column, as_text: bool) -> None:
    name = column.name
    col = pl.col(name)
    number = pl.col(f"_number_{name}")
    if as_text:  # a value polars could not read as a number: strip it and cast the rest
        plan.helpers.append(col.str.strip_chars().cast(pl.Float64, strict=False)
                            .alias(f"_number_{name}"))
        malformed = col.is_not_null() & (number.is_null() | number.is_nan())
    else:
        plan.helpers.append(col.alias(f"_number_{name}"))
        malformed = col.is_nan()
    outside = number.is_not_nan() & ((number < column.minimum) | (number > column.maximum))
    plan.rules += [
        _Rule(name, "number_malformed", malformed, (col,), value=name),
        _Rule(name, "number_out_of_range", outside, (number.alias(name),), value=name,
              static={"minimum": f"{column.minimum:g}", "maximum": f"{column.maximum:g}"}),
    ]
    plan.typed.append(pl.when(number.is_nan()).then(None).otherwise(number).alias(name))


def _check_cross_file(tables: dict[str, RawTable], typed: dict[str, pl.DataFrame],
                      out: _Collector) -> tuple[np.ndarray, dict[str, Runs]] | None:
    patients_raw = tables["patients"]
    patients = typed["patients"]
    if patients.height == 0:
        out.problems.append(Problem(patients_raw.filename, None, None, "file_no_rows"))

    people = _People(patients)
    if people.repeated.height:
        # The first row of a repeated id is the patient; each other row is named.
        first_line = pl.col("_first").map_elements(patients_raw.line, return_dtype=pl.Int64)
        out.rows(patients_raw, people.first_rows(people.repeated).select(
            ROW, "patient_id", first_line.alias("first_line")),
            "patient_id", "duplicate_patient", value="patient_id")

    end, reason = pl.col("therapy_end_date"), pl.col("therapy_end_reason")
    raw_end = patients_raw.frame.get_column("therapy_end_date")
    end_given = pl.Series(raw_end.is_not_null())
    out.rows(patients_raw, patients.filter(reason.is_not_null() & ~end_given).select(ROW),
             "therapy_end_reason", "end_reason_without_date")
    out.rows(patients_raw, patients.filter(end.is_not_null() & reason.is_null()).select(ROW),
             "therapy_end_reason", "end_date_without_reason")

    runs = {name: people.runs(typed[name]) for name in EVENT_DATE if name in typed}
    for table_name, table_runs in runs.items():
        orphans = typed[table_name][table_runs.rows(table_runs.unknown)]
        out.rows(tables[table_name], orphans.filter(pl.col("patient_id").is_not_null())
                 .select(ROW, "patient_id"), "patient_id", "patient_unknown", value="patient_id")

    if "implantations" in runs:
        _check_implantations(tables, typed, people, runs, out)
    if "assessments" in typed:
        _check_assessment_values(tables["assessments"], typed["assessments"], out)
    return people.known_runs(runs)


@dataclass(frozen=True)
class _Runs:
    """A table's rows as runs of one patient id (a file lists a patient's rows together)."""

    keys: np.ndarray  # each run's patient position; the patient count for an unknown id
    starts: np.ndarray  # each run's first row
    lengths: np.ndarray
    unknown: np.ndarray  # runs of an id that is no patient's (or of no id)
    index: np.ndarray  # each run's index in the sorted ids (patient_runs)

    def rows(self, selected: np.ndarray) -> np.ndarray:
        """The rows of the selected runs, in order."""
        starts, lengths = self.starts[selected], self.lengths[selected]
        # Each row's offset in its run, added to its run's first row.
        offsets = np.arange(lengths.sum()) - np.repeat(_starts(lengths), lengths)
        return np.repeat(starts, lengths) + offsets

    def subset(self, selected: np.ndarray) -> _Runs:
        """The selected runs as the runs of the frame of their rows (``rows(selected)``)."""
        lengths = self.lengths[selected]
        return _Runs(self.keys[selected], _starts(lengths), lengths, self.unknown[selected],
                     self.index[selected])


def _starts(lengths: np.ndarray) -> np.ndarray:
    """The first row of each run, for runs laid end to end from row 0."""
    return np.cumsum(lengths) - lengths


class _People:
    """The registry's patients by an integer key, for the rules that span files.

    Matching every event row to its patient by a string join costs seconds per million rows
    (the joins copy every column); each run of one patient's rows is instead matched to the
    position of its patient once, and a patient's dates are then gathered by that position.
    The rules of event times are first checked per run (its earliest and latest date against
    the patient's dates): only the rows of a run that may break one are checked one by one.
    """

    def __init__(self, patients: pl.DataFrame) -> None:
        known = pl.col("patient_id").is_not_null()
        is_first = patients.select(pl.col("patient_id").is_first_distinct() & known).to_series()
        first = patients.filter(is_first)
        self.patients = patients
        # Rows of an id already given on an earlier row: not patients of their own.
        self.repeated = patients.filter(~is_first & known)
        self._every_row_a_patient = first.height == patients.height
        self._rows = first.get_column(ROW)
        ids = first.get_column("patient_id")
        self._order = ids.arg_sort()  # patient positions by id, for a binary search
        self._sorted_ids = ids.gather(self._order)
        self.count = ids.len()
        # Per patient, with one more (null) slot at the end for an unknown patient.
        self.columns: dict[str, pl.Series] = {}
        self.add("birth", first.get_column("birth_date"))
        self.add("end", first.get_column("therapy_end_date"))

    def keyed_patients(self) -> pl.DataFrame:
        """patients.csv keyed: a repeated id's rows have its first row's key."""
        if self._every_row_a_patient:
            return self.patients.with_columns(
                pl.int_range(self.count, dtype=pl.UInt32).alias(KEY))
        return self.keyed(self.patients)

    def first_rows(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the row of each row's patient in patients.csv (``_first``)."""
        keyed = self.keyed(frame)
        return keyed.with_columns(self._rows.gather(keyed.get_column(KEY)).alias("_first"))

    def runs(self, frame: pl.DataFrame) -> _Runs:
        index, lengths = find_runs(self._sorted_ids, frame.get_column("patient_id"))
        unknown = index == UNKNOWN_PATIENT
        keys = (self._order.to_numpy().astype(np.int64)[np.where(unknown, 0, index)]
                if self.count else np.zeros(index.size, dtype=np.int64))
        return _Runs(np.where(unknown, self.count, keys), _starts(lengths), lengths, unknown,
                     index)

    def known_runs(self, runs: dict[str, _Runs]) -> tuple[np.ndarray, dict[str, Runs]] | None:
        """The patients' rows in id order and each table's runs by index in the sorted ids,
        for the analysis: only when every row of patients.csv is a patient."""
        if not self._every_row_a_patient:
            return None
        return self._order.to_numpy().astype(np.int64), {
            name: (table_runs.index, table_runs.lengths) for name, table_runs in runs.items()}

    def keyed(self, frame: pl.DataFrame, runs: _Runs | None = None) -> pl.DataFrame:
        """``frame`` with each row's patient position (KEY; null for an unknown id)."""
        runs = runs or self.runs(frame)
        keys = np.repeat(runs.keys, runs.lengths).astype(np.uint32)
        key = pl.Series(KEY, keys)
        return frame.with_columns(pl.when(key < self.count).then(key).alias(KEY))

    def add(self, name: str, values: pl.Series) -> None:
        """A per-patient column, in the order of the patients' positions."""
        self.columns[name] = values.extend_constant(None, 1)

    def gather(self, frame: pl.DataFrame, *names: str) -> pl.DataFrame:
        """``frame`` with each named patient column, for the rows of a known patient."""
        frame = frame.filter(pl.col(KEY).is_not_null())
        key = frame.get_column(KEY)
        return frame.with_columns(self.columns[name].gather(key).alias(name) for name in names)

    def suspects(self, frame: pl.DataFrame, runs: _Runs, date_column: str,
                 before: str | None, after: str | None,
                 counted: pl.Expr | None = None) -> pl.DataFrame:
        """The rows (keyed) of the runs whose earliest date is before the patient's
        ``before`` or whose latest is after the patient's ``after``; only the ``counted``
        rows' dates count."""
        days = frame.select(pl.col(date_column).to_physical().cast(pl.Int64)
                            if counted is None else
                            pl.when(counted).then(pl.col(date_column).to_physical()
                                                  .cast(pl.Int64))).to_series()
        suspect = np.zeros(len(runs.keys), dtype=bool)
        if frame.height:
            if before is not None:
                earliest = np.minimum.reduceat(days.fill_null(_NO_DAY_HIGH).to_numpy(),
                                               runs.starts)
                suspect |= earliest < self._days(before, _NO_DAY_LOW)[runs.keys]
            if after is not None:
                latest = np.maximum.reduceat(days.fill_null(_NO_DAY_LOW).to_numpy(),
                                             runs.starts)
                suspect |= latest > self._days(after, _NO_DAY_HIGH)[runs.keys]
        suspect &= ~runs.unknown
        return self.keyed(frame[runs.rows(suspect)], runs.subset(suspect))

    def _days(self, name: str, missing: int) -> np.ndarray:
        """A per-patient date as day numbers, ``missing`` where it is unknown."""
        return self.columns[name].to_physical().cast(pl.Int64).fill_null(missing).to_numpy()


_NO_DAY_LOW, _NO_DAY_HIGH = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def _check_implantations(tables: dict[str, RawTable], typed: dict[str, pl.DataFrame],
                         people: _People, runs: dict[str, _Runs], out: _Collector) -> None:
    patients_raw, implants_raw = tables["patients"], tables["implantations"]
    patients = people.keyed_patients()
    implants = people.keyed(typed["implantations"], runs["implantations"])

    initial = implants.filter((pl.col("kind") == "initial") & pl.col(KEY).is_not_null())
    # Per patient, in position order: how many initial implantations, and the first one's
    # row and date (by numpy on the keys: a group_by and a join of a million rows cost more).
    keys = initial.get_column(KEY).to_numpy()
    patient, first = np.unique(keys, return_index=True)
    first_of = np.full(people.count, -1, dtype=np.int64)
    first_of[patient] = first
    first_row = pl.Series(first_of).replace(-1, None)
    per_patient = pl.DataFrame([pl.Series("count", np.bincount(keys, minlength=people.count)),
                                *(initial.get_column(column).gather(first_row)
                                  for column in (ROW, "implant_date"))])
    people.add("count", per_patient.get_column("count"))
    people.add("_first_initial", per_patient.get_column(ROW))
    # The chronology of one patient is checked only against a single valid initial date.
    people.add("initial", per_patient.select(
        pl.when(pl.col("count") == 1).then(pl.col("implant_date"))).to_series())

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

    if "screening_trials" in runs:
        trials_raw = tables["screening_trials"]
        trials = people.suspects(typed["screening_trials"].select(ROW, "patient_id",
                                                                 "trial_date"),
                                 runs["screening_trials"], "trial_date", "birth", "initial")
        trials = people.gather(trials, "birth", "initial")
        out.rows(trials_raw, trials.filter(pl.col("trial_date") < pl.col("birth")).select(
            ROW, "trial_date", "birth"), "trial_date", "trial_before_birth", value="trial_date")
        # The bolus trial decides whether a pump is implanted: it comes first.
        out.rows(trials_raw, trials.filter(pl.col("trial_date") > pl.col("initial")).select(
            ROW, "trial_date", pl.col("initial").alias("first")), "trial_date",
            "trial_after_implant", value="trial_date")
    _check_event_times(implants_raw, timed, "implant_date", out, before_first=False)
    for table_name in ("complications", "refills", "assessments"):
        if table_name in runs:
            date_column = EVENT_DATE[table_name]
            after_end = table_name != "assessments"
            # Screening assessments precede the implantation by nature.
            follow_up = pl.col("phase") == "follow_up" if table_name == "assessments" else None
            columns = [ROW, "patient_id", date_column] + (["phase"] if follow_up is not None
                                                          else [])
            events = people.suspects(typed[table_name].select(columns), runs[table_name],
                                     date_column, "initial", "end" if after_end else None,
                                     counted=follow_up)
            if follow_up is not None:
                events = events.filter(follow_up)
            events = people.gather(events.select(ROW, KEY, date_column), "initial", "end")
            _check_event_times(tables[table_name], events, date_column, out,
                               before_first=True, after_end=after_end)


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
