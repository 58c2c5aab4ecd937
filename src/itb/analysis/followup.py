"""Follow-up of a registry on a given date: who is due for a refill, who is overdue, whose
pump nears the end of its battery, whose refills look odd. One code path for ``itb due`` and
the web's follow-up board and patient page.

API (every function takes a ``Registry``: ``itb.registry_io.load_registry(dir)``, or
``itb.web.registry.selectors.registry_for(user, cutoff)`` for the database):

- ``follow_up(registry, on, site=None)`` -> ``list[FollowUp]``: one entry per patient on
  therapy on ``on`` (initial implantation on or before it, therapy not ended by it), most
  overdue first, then by next due date.
- ``patient_follow_up(registry, patient_id, on)`` -> ``FollowUp | None``: one patient's entry
  (None when the patient is not in the registry or not on therapy on ``on``);
  ``follow_up_of(rows, on)`` the same from one patient's ``PatientRows``.
- ``due_list(entries, on, days=30)``: the entries to act on: a refill due within ``days``
  days or overdue, a current flag, or a replacement window opening within ``days`` days.
- ``FollowUp.to_json()``: the ``itb due --format json`` object of one patient.
- ``follow_up_summary(registry)`` -> ``FollowUpSummary``: the report's follow-up section
  (refills per patient-year, refills on time, pump replacements and ends of service).

The arithmetic is ``itb.domain.followup`` and ``itb.domain.pumps``; docs/follow-up.md says
how each date and flag is computed. Only rows dated on or before ``on`` are used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np
import polars as pl

from itb.analysis.index import FIRST_DAY, PatientIndex, day_key
from itb.domain.codes import PUMP_KINDS
from itb.domain.dates import DAYS_PER_YEAR
from itb.domain.followup import (
    NO_REFILL_180D,
    PUMP_PAST_SERVICE_LIFE,
    PUMP_REPLACEMENT_WINDOW,
    REFILL_OVERDUE,
    ROUNDING_EPSILON,
    Flag,
    FollowUpRules,
    Refill,
    RefillDue,
    follow_up_flags,
    next_refill_due,
)
from itb.domain.pumps import (
    DEFAULT_CATALOGUE,
    Implantation,
    PumpCatalogue,
    ReplacementSchedule,
    current_pump,
    pump_replacement,
    replacement_status,
)
from itb.registry_io.loader import Registry

T = TypeVar("T")
DEFAULT_DAYS = 30
DEFAULT_RULES = FollowUpRules()
# Flags of the patient's state on the date; the others belong to one refill.
STATE_FLAGS = frozenset({REFILL_OVERDUE, NO_REFILL_180D, PUMP_REPLACEMENT_WINDOW,
                         PUMP_PAST_SERVICE_LIFE})


@dataclass(frozen=True)
class FollowUp:
    """One patient on therapy, on the date ``on``.

    ``refill_due`` is how the next refill date was computed (rate, days to alarm, alarm date,
    stability date, which of the two limited it), from ``last_fill``: the latest refill, or
    the implantation of a pump placed after it (filled at surgery, no volume recorded, so
    only the drug-stability limit is known). ``flags`` are the current ones: the state on
    ``on`` and the findings of the latest refill; ``history`` holds every refill's findings
    (computed when first asked for: the lists need only the current ones).
    """

    patient_id: str
    site: str
    on: date
    origin: str | None
    pump_model: str | None
    pump_implant_date: date | None
    last_refill: Refill | None
    last_fill: date | None
    refill_due: RefillDue | None
    replacement: ReplacementSchedule | None
    replacement_status: str  # pumps.NOT_DUE / IN_REPLACEMENT_WINDOW / PAST_SERVICE_LIFE
    flags: tuple[Flag, ...]
    # What ``history`` is computed from; ``surgery_flags``: an overdue refill counted from a
    # pump's implantation, which no refill row carries.
    surgery_flags: tuple[Flag, ...] = field(default=(), repr=False, compare=False)
    registry: Registry | None = field(default=None, repr=False, compare=False)
    rows: PatientRows | None = field(default=None, repr=False, compare=False)  # or these
    catalogue: PumpCatalogue = field(default=DEFAULT_CATALOGUE, repr=False, compare=False)
    rules: FollowUpRules = field(default=DEFAULT_RULES, repr=False, compare=False)

    @cached_property
    def history(self) -> tuple[Flag, ...]:
        """Every finding up to ``on``: each refill's, in date order, then the state's."""
        if self.rows is not None:
            patient = self.rows
        elif self.registry is not None:
            patient = _patients(self.registry, patient_id=self.patient_id)[0]
        else:
            return self.flags
        return self.surgery_flags + follow_up_flags(
            patient.refills, patient.implantations, self.on, origin=self.origin,
            catalogue=self.catalogue, rules=self.rules)

    @property
    def next_refill_due(self) -> date | None:
        return self.refill_due.due_date if self.refill_due is not None else None

    @property
    def days_until_due(self) -> int | None:
        """Days from ``on`` to the due date (negative when overdue)."""
        due = self.next_refill_due
        return (due - self.on).days if due is not None else None

    @property
    def days_overdue(self) -> int:
        days = self.days_until_due
        return -days if days is not None and days < 0 else 0

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    @property
    def pump_age_days(self) -> int | None:
        return (self.on - self.pump_implant_date).days if self.pump_implant_date else None

    @property
    def pump_age_years(self) -> float | None:
        days = self.pump_age_days
        return None if days is None else days / DAYS_PER_YEAR

    @property
    def pump_replacement_due(self) -> date | None:
        return self.replacement.due_date if self.replacement is not None else None

    @property
    def replacement_window_opens(self) -> date | None:
        return self.replacement.window_opens if self.replacement is not None else None

    @property
    def flag_codes(self) -> list[str]:
        """The current flags' codes, each once, in the order found."""
        return list(dict.fromkeys(flag.code for flag in self.flags))

    def to_json(self) -> dict[str, Any]:
        """The ``itb due --format json`` object: dates as ISO text, null when unknown."""
        due = self.refill_due
        return {
            "patient_id": self.patient_id,
            "site": self.site,
            "next_refill_due": _iso(self.next_refill_due),
            "days_overdue": self.days_overdue,
            "days_until_due": self.days_until_due,
            "pump_replacement_due": _iso(self.pump_replacement_due),
            "replacement_window_opens": _iso(self.replacement_window_opens),
            "replacement_status": self.replacement_status,
            "flags": self.flag_codes,
            "last_refill": _iso(self.last_refill.refill_date if self.last_refill else None),
            "last_fill": _iso(self.last_fill),
            "limited_by": due.limited_by if due else None,
            "rate_ml_per_day": due.rate_ml_per_day if due else None,
            "days_to_alarm": due.days_to_alarm if due else None,
            "alarm_date": _iso(due.alarm_date) if due else None,
            "stability_date": _iso(due.stability_date) if due else None,
            "pump_model": self.pump_model,
            "pump_implant_date": _iso(self.pump_implant_date),
            "pump_age_years": (round(self.pump_age_years, 2)
                               if self.pump_age_years is not None else None),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@dataclass(frozen=True)
class PatientRows:
    """One patient's rows the follow-up reads: the patient's surgeries, and refills in date
    order (a day's in the order they were recorded)."""

    patient_id: str
    site: str
    origin: str | None
    end: date | None
    implantations: list[Implantation]
    refills: list[Refill]


def _patients(registry: Registry, site: str | None = None, patient_id: str | None = None,
              recent_on: date | None = None) -> list[PatientRows]:
    """The patients (of ``site``, or one ``patient_id``) with their surgeries and refills.

    With ``recent_on`` (not for one ``patient_id``: every refill of the patient is read),
    only the refills the current state on that date depends on: those of
    the latest refill date on or before it, and the one refill before them (for the residual
    and dose-step checks). A long history is then never turned into objects.
    """
    if patient_id is not None:
        return _one_patient(registry, patient_id)
    patients = registry.patients
    if site is not None:
        patients = patients.filter(pl.col("site") == site)
    ids = patients.select("patient_id")
    implants = _grouped(registry.implantations.join(ids, on="patient_id", how="semi"),
                        ("implant_date", "kind", "pump_model"), Implantation)
    # In date order; a day's refills keep the order they were recorded in.
    rows = (registry.refills.join(ids, on="patient_id", how="semi")
            .sort("patient_id", "refill_date", maintain_order=True))
    if recent_on is not None:
        when = pl.col("refill_date")
        rows = rows.filter(when <= recent_on)
        index = pl.int_range(pl.len()).over("patient_id")
        first_latest = index.filter(when == when.max()).min().over("patient_id")
        rows = rows.filter(index >= first_latest - 1)
    refills = _grouped(rows,
                       ("refill_date", "volume_ml", "concentration_mcg_ml", "daily_dose_mcg",
                        "residual_ml"), Refill)
    return [PatientRows(pid, site_code, origin, end, implants[pid], refills[pid])
            for pid, site_code, origin, end in patients.select(
                "patient_id", "site", "spasticity_origin", "therapy_end_date").iter_rows()]


_IMPLANT_COLUMNS = ("implant_date", "kind", "pump_model")
_FILTER_FIRST_ROWS = 1_000  # a table longer than this is narrowed by polars first
_REFILL_COLUMNS = ("refill_date", "volume_ml", "concentration_mcg_ml", "daily_dose_mcg",
                   "residual_ml")


def _one_patient(registry: Registry, patient_id: str) -> list[PatientRows]:
    """``_patients`` of one patient (every refill), in plain Python over the patient's few
    rows: each polars query costs a fraction of a millisecond."""
    def rows(frame: pl.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        if frame.height > _FILTER_FIRST_ROWS:  # a whole registry: its rows of the patient
            frame = frame.filter(pl.col("patient_id") == patient_id)
        pids = frame.get_column("patient_id").to_list()
        values = [frame.get_column(name).to_list() for name in columns]
        return [tuple(column[i] for column in values)
                for i, pid in enumerate(pids) if pid == patient_id]

    implants = [Implantation(*row) for row in rows(registry.implantations, _IMPLANT_COLUMNS)]
    # In date order; a day's refills keep the order they were recorded in (a stable sort).
    refills = sorted(rows(registry.refills, _REFILL_COLUMNS), key=lambda row: row[0])
    return [PatientRows(patient_id, site, origin, end, list(implants),
                        [Refill(*row) for row in refills])
            for site, origin, end in rows(registry.patients,
                                          ("site", "spasticity_origin", "therapy_end_date"))]


def _grouped(frame: pl.DataFrame, columns: Sequence[str],
             make: Callable[..., T]) -> defaultdict[str, list[T]]:
    """One ``make(*values)`` per row, by patient, in row order.

    Built from whole columns, not row by row: this is most of the time of a large list.
    """
    out: defaultdict[str, list[T]] = defaultdict(list)
    values = [frame.get_column(name).to_list() for name in columns]
    for pid, item in zip(frame.get_column("patient_id").to_list(), map(make, *values),
                         strict=True):
        out[pid].append(item)
    return out


def _on_therapy(patient: PatientRows, on: date) -> bool:
    started = any(i.kind == "initial" and i.implant_date <= on for i in patient.implantations)
    return started and (patient.end is None or patient.end > on)


def _entry(registry: Registry | None, patient: PatientRows, on: date, catalogue: PumpCatalogue,
           rules: FollowUpRules) -> FollowUp:
    """``patient``'s entry; without a ``registry``, ``patient`` holds every row (the history
    is computed from them)."""
    done = [r for r in patient.refills if r.refill_date <= on]  # in date order
    last = done[-1] if done else None
    latest = last.refill_date if last is not None else None
    # The current findings need only the latest refill(s) and the one before them.
    first_latest = next((i for i, r in enumerate(done) if r.refill_date == latest), 0)
    recent = follow_up_flags(done[max(first_latest - 1, 0):], patient.implantations, on,
                             origin=patient.origin, catalogue=catalogue, rules=rules)
    pump = current_pump(patient.implantations, on)
    alarm_volume = catalogue.model_for(pump.pump_model if pump else None).alarm_volume_ml
    extra: list[Flag] = []
    if last is not None and (pump is None or pump.implant_date <= last.refill_date):
        last_fill = last.refill_date
        due = next_refill_due(last, alarm_volume, safety_margin_days=rules.safety_margin_days,
                              stability_days=rules.stability_days)
    else:
        # A pump placed after the last refill (or no refill yet) was filled at surgery; its
        # volume is not recorded, so the drug-stability limit alone dates the next refill.
        assert pump is not None  # on therapy: an initial implantation on or before ``on``
        last_fill = pump.implant_date
        due = next_refill_due(Refill(pump.implant_date), alarm_volume,
                              safety_margin_days=rules.safety_margin_days,
                              stability_days=rules.stability_days)
        if on > due.due_date:
            extra.append(Flag(REFILL_OVERDUE, due.due_date, (on - due.due_date).days))
    current = tuple(extra) + tuple(flag for flag in recent
                                   if flag.code in STATE_FLAGS or flag.on == latest)
    schedule = pump_replacement(patient.implantations, on, catalogue,
                                rules.replacement_window_months)
    return FollowUp(
        patient_id=patient.patient_id, site=patient.site, on=on, origin=patient.origin,
        pump_model=pump.pump_model if pump else None,
        pump_implant_date=pump.implant_date if pump else None,
        last_refill=last, last_fill=last_fill, refill_due=due, replacement=schedule,
        replacement_status=replacement_status(schedule, on),
        flags=_by_code_order(current), surgery_flags=tuple(extra), registry=registry,
        rows=patient if registry is None else None, catalogue=catalogue, rules=rules)


def _by_code_order(flags: Sequence[Flag]) -> tuple[Flag, ...]:
    """The overdue flag first (it is the one that cannot wait), the rest as found."""
    return tuple(sorted(flags, key=lambda flag: flag.code != REFILL_OVERDUE))


def _sort_key(entry: FollowUp) -> tuple[int, date, str]:
    return (-entry.days_overdue, entry.next_refill_due or date.max, entry.patient_id)


def follow_up(registry: Registry, on: date, site: str | None = None, *,
              catalogue: PumpCatalogue = DEFAULT_CATALOGUE,
              rules: FollowUpRules = DEFAULT_RULES) -> list[FollowUp]:
    """Every patient on therapy on ``on`` (of ``site``, if given): most overdue first, then
    by next refill date, then by patient_id."""
    entries = [_entry(registry, patient, on, catalogue, rules)
               for patient in _patients(registry, site=site, recent_on=on)
               if _on_therapy(patient, on)]
    return sorted(entries, key=_sort_key)


def patient_follow_up(registry: Registry, patient_id: str, on: date, *,
                      catalogue: PumpCatalogue = DEFAULT_CATALOGUE,
                      rules: FollowUpRules = DEFAULT_RULES) -> FollowUp | None:
    """One patient's entry; None when not in the registry or not on therapy on ``on``."""
    for patient in _patients(registry, patient_id=patient_id):
        return follow_up_of(patient, on, catalogue=catalogue, rules=rules)
    return None


def follow_up_of(patient: PatientRows, on: date, *,
                 catalogue: PumpCatalogue = DEFAULT_CATALOGUE,
                 rules: FollowUpRules = DEFAULT_RULES) -> FollowUp | None:
    """``patient_follow_up`` from the patient's own rows, every one of them (the patient
    page has read them already: no registry tables to build); None when not on therapy."""
    if not _on_therapy(patient, on):
        return None
    return _entry(None, patient, on, catalogue, rules)


def needs_action(entry: FollowUp, days: int = DEFAULT_DAYS) -> bool:
    """Due within ``days`` days (or overdue), flagged, or a replacement window opening
    within ``days`` days."""
    horizon = entry.on + timedelta(days=days)
    due = entry.next_refill_due
    window = entry.replacement_window_opens
    return ((due is not None and due <= horizon) or bool(entry.flags)
            or (window is not None and window <= horizon))


def due_list(entries: Iterable[FollowUp], days: int = DEFAULT_DAYS) -> list[FollowUp]:
    """The entries that need action within ``days`` days (``needs_action``), in order."""
    if days < 0:
        raise ValueError(f"days cannot be negative: {days}")
    return [entry for entry in entries if needs_action(entry, days)]


# --- the report's follow-up section ----------------------------------------------------------

@dataclass(frozen=True)
class FollowUpSummary:
    """Refills and pump lifetimes of the whole registry up to its cut-off.

    ``refills_on_time`` of ``refill_intervals``: a refill on or before the date due from the
    previous refill (an interval with a pump placed in between is not counted).
    ``pumps_reached_end_of_service``: pumps with a service life that were still in place on
    their replacement-due date (on or before the cut-off and the end of therapy);
    ``pumps_replaced_before_end_of_service``: pumps replaced before that date.
    """

    patients: int
    patient_years: float
    refills: int
    refills_per_patient_year: float | None
    refill_intervals: int
    refills_on_time: int
    share_on_time: float | None
    pump_replacements: int
    pumps_with_service_life: int
    pumps_replaced_before_end_of_service: int
    pumps_reached_end_of_service: int
    pumps_in_replacement_window: int
    pumps_past_service_life: int


def follow_up_summary(registry: Registry, *, catalogue: PumpCatalogue = DEFAULT_CATALOGUE,
                      rules: FollowUpRules = DEFAULT_RULES,
                      index: PatientIndex | None = None) -> FollowUpSummary:
    """The report's follow-up section, on whole columns.

    The rules are those of ``itb.domain``: per patient, the follow-up runs from the initial
    implantation to the end of therapy or the cut-off; refill intervals and pumps count up to
    that end; an interval's due date is ``next_refill_due`` of the earlier refill with the
    alarm volume of the pump in place then; a pump's end of service is ``replacement_schedule``.
    They are re-expressed here over columns because one Python object per refill does not fit
    in memory at 10^6 patients; tests/analysis/test_followup_summary.py checks that the result
    equals the per-patient domain functions. ``index``: the analysis's shared one, if any.
    """
    index = index if index is not None else PatientIndex(registry)
    cutoff = _epoch_day(registry.cutoff)
    patients = registry.patients
    n = patients.height
    end_date = patients.get_column("therapy_end_date").cast(pl.Int64)
    ended = end_date.is_not_null().to_numpy() & (end_date.fill_null(cutoff).to_numpy() <= cutoff)
    end_by_row = np.minimum(end_date.fill_null(cutoff).to_numpy(), cutoff)
    # Per-patient arrays are in the order of the sorted ids, with one more slot at the end
    # for index -1, an unknown patient: never followed up.
    rank = index.rank  # each patient row's index in the sorted ids
    end = np.full(n + 1, np.iinfo(np.int32).min, dtype=np.int64)
    end[rank] = end_by_row
    on_at_cutoff = np.zeros(n + 1, dtype=bool)
    on_at_cutoff[rank] = ~ended

    implants = registry.implantations
    i_pid = index.rows("implantations")
    i_day = implants.get_column("implant_date").cast(pl.Int64).to_numpy()
    kind = implants.get_column("kind")
    # The first initial implantation in row order starts the follow-up (validation allows one).
    initial = np.flatnonzero((kind == "initial").fill_null(False).to_numpy() & (i_pid >= 0))
    first_pids, first_rows = np.unique(i_pid[initial], return_index=True)
    has_start = np.zeros(n + 1, dtype=bool)
    has_start[first_pids] = True
    start = np.zeros(n + 1, dtype=np.int64)
    start[first_pids] = i_day[initial[first_rows]]

    # Patient-years added in the patients' row order, one at a time as the rules read: the
    # same float as a loop over patients (np.cumsum adds sequentially, np.sum pairwise).
    in_rows = has_start[rank]
    years = np.maximum(end_by_row - start[rank], 0)[in_rows] / DAYS_PER_YEAR
    patient_years = float(np.cumsum(years)[-1]) if years.size else 0.0

    pumps = _pumps(implants, i_pid, i_day, has_start, end, catalogue, rules)
    intervals, on_time, refills = _refill_intervals(registry.refills, index.runs("refills"),
                                                    has_start, end, pumps, rules)
    current = pumps.current & on_at_cutoff[pumps.pid]
    due, opens = pumps.due[current], pumps.window_opens[current]
    past = int(np.count_nonzero(cutoff >= due))
    window = int(np.count_nonzero((cutoff < due) & (cutoff >= opens)))
    return FollowUpSummary(
        patients=patients.height, patient_years=patient_years, refills=refills,
        refills_per_patient_year=refills / patient_years if patient_years > 0 else None,
        refill_intervals=intervals, refills_on_time=on_time,
        share_on_time=on_time / intervals if intervals else None,
        pump_replacements=pumps.replacements, pumps_with_service_life=pumps.with_life,
        pumps_replaced_before_end_of_service=pumps.early,
        pumps_reached_end_of_service=pumps.reached,
        pumps_in_replacement_window=window, pumps_past_service_life=past)


_EPOCH = date(1970, 1, 1)


def _epoch_day(day: date) -> int:
    return (day - _EPOCH).days


@dataclass(frozen=True)
class _PumpTable:
    """The pumps (initial and replacement) of each patient up to the follow-up's end, sorted
    by patient and implant date; one row per (patient, date) in ``key``, ``pid_of_key`` and
    ``alarm``."""

    pid: np.ndarray  # of ``current`` rows and ``due``/``window_opens``: per sorted pump
    due: np.ndarray  # epoch day of the replacement due date, max int without a service life
    window_opens: np.ndarray
    current: np.ndarray  # the pump in place at the end of each patient's follow-up
    key: np.ndarray  # (patient, day) of the first pump of each day, sorted
    # Its patient and alarm volume, and one more slot for index -1, no pump: patient -1 and
    # the alarm volume of an unknown pump.
    pid_of_key: np.ndarray
    alarm: np.ndarray
    replacements: int
    with_life: int
    early: int
    reached: int


def _pumps(implants: pl.DataFrame, i_pid: np.ndarray, i_day: np.ndarray, has_start: np.ndarray,
           end: np.ndarray, catalogue: PumpCatalogue, rules: FollowUpRules) -> _PumpTable:
    is_pump = implants.get_column("kind").is_in(list(PUMP_KINDS)).fill_null(False).to_numpy()
    rows = np.flatnonzero(is_pump & has_start[i_pid] & (i_day <= end[i_pid]))
    # By patient, then implant date; a day's pumps in row order (as a stable sort keeps them).
    order = rows[np.argsort(day_key(i_pid[rows], i_day[rows]), kind="stable")]
    pid, day = i_pid[order], i_day[order]
    key = day_key(pid, day)
    # The models' numbers of every row in one select (in parallel), then the pumps' taken:
    # cheaper than taking the pumps' text first.
    model = pl.col("pump_model")
    numbers = implants.select(
        model.replace_strict({m.code: m.service_life_years for m in catalogue},
                             default=catalogue.model_for(None).service_life_years,
                             return_dtype=pl.Int64).alias("life"),
        model.replace_strict({m.code: m.alarm_volume_ml for m in catalogue},
                             default=catalogue.model_for(None).alarm_volume_ml,
                             return_dtype=pl.Float64).alias("alarm"),
        (pl.col("kind") == "replacement").alias("replacement"),
    )[order]
    life = numbers.get_column("life")
    alarm = numbers.get_column("alarm").to_numpy()
    due_date = _add_years(pl.Series(day, dtype=pl.Int64).cast(pl.Date), life)
    never = np.iinfo(np.int64).max
    due = due_date.cast(pl.Int64).fill_null(never).to_numpy()
    opens = (due_date.dt.offset_by(f"-{rules.replacement_window_months}mo")
             .cast(pl.Int64).fill_null(never).to_numpy())
    has_life = life.is_not_null().to_numpy()
    last = np.ones(pid.size, dtype=bool)
    last[:-1] = pid[1:] != pid[:-1]
    following = np.full(pid.size, never, dtype=np.int64)
    following[:-1] = np.where(last[:-1], never, day[1:])
    early = has_life & (following < due)
    reached = has_life & ~early & (due <= end[pid])
    # ``current_pump`` takes the first of the latest day's pumps: the first row of each day.
    first = np.ones(pid.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    current = np.zeros(pid.size, dtype=bool)
    latest_first = np.flatnonzero(first)
    # The first pump of a patient's last day: per patient, the largest first-of-day row.
    patient_last_first = np.ones(latest_first.size, dtype=bool)
    patient_last_first[:-1] = pid[latest_first[1:]] != pid[latest_first[:-1]]
    current[latest_first[patient_last_first]] = True
    return _PumpTable(
        pid=pid, due=due, window_opens=opens, current=current, key=key[first],
        pid_of_key=np.append(pid[first], -1),
        alarm=np.append(alarm[first], catalogue.model_for(None).alarm_volume_ml),
        replacements=int(numbers.get_column("replacement").sum()),
        with_life=int(np.count_nonzero(has_life)), early=int(np.count_nonzero(early)),
        reached=int(np.count_nonzero(reached)))


def _add_years(day: pl.Series, years: pl.Series) -> pl.Series:
    """``pumps.add_years`` of each day (null where ``years`` is): polars' calendar offset
    clamps 29 February the same way (tests check it against the domain function)."""
    frame = pl.DataFrame({"day": day, "years": years})
    expr = pl.when(pl.lit(False)).then(pl.col("day"))  # all null, of the frame's height
    for value in sorted(set(years.drop_nulls().to_list())):
        expr = pl.when(pl.col("years") == value).then(
            pl.col("day").dt.offset_by(f"{value}y")).otherwise(expr)
    return frame.select(expr.alias("due")).to_series()


_BLOCK_ROWS = 1 << 20  # refill rows per block of ``_refill_intervals`` (whole patients)


def _refill_intervals(refills: pl.DataFrame, runs: tuple[np.ndarray, np.ndarray],
                      has_start: np.ndarray, end: np.ndarray, pumps: _PumpTable,
                      rules: FollowUpRules) -> tuple[int, int, int]:
    """(intervals, on time, refills) of the refills up to each patient's follow-up end.

    ``runs`` are the refills' patient runs (``PatientIndex.runs``). The refills are taken in
    blocks of whole patients of about ``_BLOCK_ROWS`` rows (an interval never spans two
    patients): a block's arrays are small and reuse memory already touched, where arrays of
    the whole table (24 million rows at 10^6 patients) cost more in fresh pages than in
    arithmetic.
    """
    run_pid, lengths = runs
    table = refills.select("refill_date", "volume_ml", "concentration_mcg_ml", "daily_dose_mcg")
    if table.height == 0:
        return 0, 0, 0
    if not _increasing(run_pid[has_start[run_pid]]):
        # A patient's rows are not together, or not in id order: the refills are sorted by
        # (patient, day) first; a day's refills keep the order they were recorded in.
        pid = np.repeat(run_pid, lengths)
        order = np.argsort(day_key(pid, table.get_column("refill_date").cast(pl.Int32)
                                .to_numpy()), kind="stable")
        table, pid = table[order], pid[order]
        del order
        starts = np.flatnonzero(np.diff(pid, prepend=pid[0] - 1))
        run_pid, lengths = pid[starts], np.diff(np.append(starts, pid.size))
        del pid
    # The last day followed up, per run: none for an unknown patient or one without an
    # initial implantation.
    last_day = np.where(has_start[run_pid], end[run_pid], np.iinfo(np.int32).min)
    run_start = np.concatenate(([0], np.cumsum(lengths)))
    # Each block ends with the run that reaches its share of rows.
    cuts = np.searchsorted(run_start[1:], np.arange(_BLOCK_ROWS, table.height, _BLOCK_ROWS))
    bounds = np.unique(np.concatenate(([0], cuts + 1, [run_pid.size])))

    def block(first: int, stop: int) -> tuple[int, int, int]:
        rows = table.slice(run_start[first], run_start[stop] - run_start[first])
        pid = np.repeat(run_pid[first:stop], lengths[first:stop])
        day = rows.get_column("refill_date").cast(pl.Int32).to_numpy()
        keep = day <= np.repeat(last_day[first:stop], lengths[first:stop])
        values = rows.drop("refill_date")
        if not keep.all():
            pid, day = pid[keep], day[keep]
            values = values.filter(pl.Series(keep))
        if pid.size == 0:
            return 0, 0, 0
        key = day_key(pid, day)
        if not bool(np.all(key[1:] >= key[:-1])):
            # In date order; a day's refills in the order recorded (its last is the previous
            # of the next day's), which a stable sort keeps.
            order = np.argsort(key, kind="stable")
            key, pid, day, values = key[order], pid[order], day[order], values[order]
        # The block's patients' pumps. The pump in place on each refill date is the latest
        # pump day on or before it: each pump day marks the first refill at or after it; the
        # running count of marks is the index.
        low, high = np.searchsorted(pumps.key, day_key(np.array([pid[0], pid[-1] + 1]),
                                                     np.full(2, FIRST_DAY)))
        marks = np.bincount(np.searchsorted(key, pumps.key[low:high], side="left"),
                            minlength=key.size + 1)
        pump = np.cumsum(marks[:key.size]) - 1
        # Its last slot, for index -1: no pump, the alarm volume of an unknown pump.
        pump_pid = np.append(pumps.pid_of_key[low:high], -1)
        pump[pump_pid[pump] != pid] = -1  # another patient's: none yet
        alarm = np.append(pumps.alarm[low:high], pumps.alarm[-1])[pump]
        offset = (values.lazy().select(_due_offset(pl.Series("alarm", alarm), rules))
                  .collect().to_series())  # lazy: the rate is computed once for its three uses
        due = day + offset.cast(pl.Int32).to_numpy()
        interval = (pid[1:] == pid[:-1]) & (pump[1:] == pump[:-1])
        on_time = interval & (day[1:] <= due[:-1])
        return int(np.count_nonzero(interval)), int(np.count_nonzero(on_time)), int(key.size)

    counts = [block(first, stop) for first, stop in pairwise(bounds.tolist())]
    intervals, on_time, kept = (sum(column) for column in zip(*counts, strict=True))
    return intervals, on_time, kept


def _increasing(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] > values[:-1]))


def _due_offset(alarm: pl.Series, rules: FollowUpRules) -> pl.Expr:
    """Days from a refill to ``next_refill_due(...).due_date``, column-wise.

    The due date is the earlier of (alarm date - safety margin, never before the refill) and
    (refill + stability days); without a predictable alarm, the stability date. The alarm
    date is the refill plus the days to alarm rounded down (``ROUNDING_EPSILON`` as in the
    domain).
    """
    volume, dose = pl.col("volume_ml"), pl.col("daily_dose_mcg")
    concentration = pl.col("concentration_mcg_ml")
    alarm_ml = pl.lit(alarm)
    rate = pl.when(dose.is_not_null() & (concentration > 0) & concentration.is_finite()).then(
        dose / concentration)
    days = (pl.when(volume <= alarm_ml).then(pl.lit(0.0))
            .when(rate.is_not_null() & (rate != 0)).then((volume - alarm_ml) / rate))
    stability = rules.stability_days
    whole_days = (days + ROUNDING_EPSILON).floor()
    by_alarm = pl.min_horizontal(
        pl.max_horizontal(whole_days - rules.safety_margin_days, pl.lit(0.0)),
        pl.lit(float(stability)))
    return pl.when(days.is_null()).then(pl.lit(stability)).otherwise(by_alarm).cast(pl.Int64)
