"""Follow-up of a registry on a given date: who is due for a refill, who is overdue, whose
pump nears the end of its battery, whose refills look odd. One code path for ``itb due`` and
the web's follow-up board and patient page.

API (every function takes a ``Registry``: ``itb.registry_io.load_registry(dir)``, or
``itb.web.registry.selectors.registry_for(user, cutoff)`` for the database):

- ``follow_up(registry, on, site=None)`` -> ``list[FollowUp]``: one entry per patient on
  therapy on ``on`` (initial implantation on or before it, therapy not ended by it), most
  overdue first, then by next due date.
- ``patient_follow_up(registry, patient_id, on)`` -> ``FollowUp | None``: one patient's entry
  (None when the patient is not in the registry or not on therapy on ``on``).
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

import polars as pl

from itb.domain.codes import PUMP_KINDS
from itb.domain.dates import DAYS_PER_YEAR
from itb.domain.followup import (
    NO_REFILL_180D,
    PUMP_PAST_SERVICE_LIFE,
    PUMP_REPLACEMENT_WINDOW,
    REFILL_OVERDUE,
    Flag,
    FollowUpRules,
    Refill,
    RefillDue,
    follow_up_flags,
    next_refill_due,
)
from itb.domain.pumps import (
    DEFAULT_CATALOGUE,
    IN_REPLACEMENT_WINDOW,
    PAST_SERVICE_LIFE,
    Implantation,
    PumpCatalogue,
    ReplacementSchedule,
    current_pump,
    pump_replacement,
    replacement_schedule,
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
    catalogue: PumpCatalogue = field(default=DEFAULT_CATALOGUE, repr=False, compare=False)
    rules: FollowUpRules = field(default=DEFAULT_RULES, repr=False, compare=False)

    @cached_property
    def history(self) -> tuple[Flag, ...]:
        """Every finding up to ``on``: each refill's, in date order, then the state's."""
        if self.registry is None:
            return self.flags
        patient = _patients(self.registry, patient_id=self.patient_id)[0]
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
class _Patient:
    patient_id: str
    site: str
    origin: str | None
    end: date | None
    implantations: list[Implantation]
    refills: list[Refill]


def _patients(registry: Registry, site: str | None = None, patient_id: str | None = None,
              recent_on: date | None = None) -> list[_Patient]:
    """The patients (of ``site``, or one ``patient_id``) with their surgeries and refills.

    With ``recent_on``, only the refills the current state on that date depends on: those of
    the latest refill date on or before it, and the one refill before them (for the residual
    and dose-step checks). A long history is then never turned into objects.
    """
    patients = registry.patients
    if site is not None:
        patients = patients.filter(pl.col("site") == site)
    if patient_id is not None:
        patients = patients.filter(pl.col("patient_id") == patient_id)
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
    return [_Patient(pid, site_code, origin, end, implants[pid], refills[pid])
            for pid, site_code, origin, end in patients.select(
                "patient_id", "site", "spasticity_origin", "therapy_end_date").iter_rows()]


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


def _on_therapy(patient: _Patient, on: date) -> bool:
    started = any(i.kind == "initial" and i.implant_date <= on for i in patient.implantations)
    return started and (patient.end is None or patient.end > on)


def _entry(registry: Registry, patient: _Patient, on: date, catalogue: PumpCatalogue,
           rules: FollowUpRules) -> FollowUp:
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
        catalogue=catalogue, rules=rules)


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
    """One patient's entry, for the patient page; None when not on therapy on ``on``."""
    for patient in _patients(registry, patient_id=patient_id, recent_on=on):
        if _on_therapy(patient, on):
            return _entry(registry, patient, on, catalogue, rules)
    return None


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
                      rules: FollowUpRules = DEFAULT_RULES) -> FollowUpSummary:
    cutoff = registry.cutoff
    patients = _patients(registry)
    patient_years = 0.0
    refills = intervals = on_time = replacements = with_life = early = reached = 0
    window = past = 0
    for patient in patients:
        starts = [i.implant_date for i in patient.implantations if i.kind == "initial"]
        if not starts:
            continue
        end = min(patient.end or cutoff, cutoff)
        patient_years += max((end - starts[0]).days, 0) / DAYS_PER_YEAR
        done = [r for r in patient.refills if r.refill_date <= end]
        refills += len(done)
        pumps = sorted((i for i in patient.implantations
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
        if patient.end is None or patient.end > cutoff:
            status = replacement_status(
                pump_replacement(patient.implantations, cutoff, catalogue,
                                 rules.replacement_window_months), cutoff)
            window += status == IN_REPLACEMENT_WINDOW
            past += status == PAST_SERVICE_LIFE
    return FollowUpSummary(
        patients=len(patients), patient_years=patient_years, refills=refills,
        refills_per_patient_year=refills / patient_years if patient_years > 0 else None,
        refill_intervals=intervals, refills_on_time=on_time,
        share_on_time=on_time / intervals if intervals else None,
        pump_replacements=replacements, pumps_with_service_life=with_life,
        pumps_replaced_before_end_of_service=early, pumps_reached_end_of_service=reached,
        pumps_in_replacement_window=window, pumps_past_service_life=past)
