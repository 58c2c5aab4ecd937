"""Follow-up arithmetic: refill due dates, residual-volume checks, screening, dose titration.

Every result says how it was reached, so the app can show "how it was computed". Units: doses
in mcg (µg) per day (a 24-hour total, including bolus / flex dosing), concentrations in mcg/mL,
volumes in mL, whole calendar days.

Flags (``Flag.code``; ``on``, ``value`` and ``threshold`` per code):

=========================== =================== ======================= ==================
code                        on                  value                   threshold
=========================== =================== ======================= ==================
``refill_overdue``          refill due date     days overdue            —
``residual_mismatch``       refill date         recorded − expected mL  tolerance mL
``no_refill_180d``          last fill date      days since it           no-refill days
``pump_replacement_window`` replacement due     —                       —
``pump_past_service_life``  replacement due     —                       —
``dose_step_too_large``     refill date         relative dose change    cap
``dose_above_review``       refill date         daily dose mcg          review dose mcg
=========================== =================== ======================= ==================
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from itb.domain.codes import PUMP_KINDS
from itb.domain.pumps import (
    DEFAULT_ALARM_VOLUME_ML,
    DEFAULT_CATALOGUE,
    IN_REPLACEMENT_WINDOW,
    PAST_SERVICE_LIFE,
    REPLACEMENT_WINDOW_MONTHS,
    Implantation,
    PumpCatalogue,
    current_pump,
    pump_replacement,
    replacement_status,
)

# Flag codes.
REFILL_OVERDUE = "refill_overdue"
RESIDUAL_MISMATCH = "residual_mismatch"
NO_REFILL_180D = "no_refill_180d"
PUMP_REPLACEMENT_WINDOW = "pump_replacement_window"
PUMP_PAST_SERVICE_LIFE = "pump_past_service_life"
DOSE_STEP_TOO_LARGE = "dose_step_too_large"
DOSE_ABOVE_REVIEW = "dose_above_review"
FLAG_CODES = (REFILL_OVERDUE, RESIDUAL_MISMATCH, NO_REFILL_180D, PUMP_REPLACEMENT_WINDOW,
              PUMP_PAST_SERVICE_LIFE, DOSE_STEP_TOO_LARGE, DOSE_ABOVE_REVIEW)

# Baclofen concentrations: 50 mcg/mL is the screening (bolus) ampoule; the pump is filled with
# 500, 1000 or 2000 mcg/mL, or a custom dilution (any positive concentration).
SCREENING_CONCENTRATION_MCG_ML = 50.0
PUMP_CONCENTRATIONS_MCG_ML = (500.0, 1000.0, 2000.0)

# Defaults of the rules (a site may change them through FollowUpRules).
SAFETY_MARGIN_DAYS = 0
STABILITY_DAYS = 180  # drug stability in the reservoir: refill at least this often
RESIDUAL_RELATIVE_TOLERANCE = 0.20  # of the volume delivered since the previous refill
RESIDUAL_ABSOLUTE_TOLERANCE_ML = 2.0
NO_REFILL_DAYS = 180
SPINAL_STEP_CAP = 0.30  # usual largest titration step, spinal-origin spasticity
CEREBRAL_STEP_CAP = 0.15  # cerebral origin; also used when the origin is unknown
REVIEW_DOSE_MCG = 1000.0

LIMITED_BY_ALARM = "alarm"
LIMITED_BY_STABILITY = "stability"

# Absorbs binary rounding in comparisons and when whole days are taken (a quotient meant to be
# 90 may come out as 89.999…).
ROUNDING_EPSILON = 1e-9


def concentration_kind(concentration_mcg_ml: float | None) -> str | None:
    """``screening`` (50), ``standard`` (500/1000/2000), ``custom`` (other positive), else None."""
    if not _is_positive(concentration_mcg_ml):
        return None
    if concentration_mcg_ml == SCREENING_CONCENTRATION_MCG_ML:
        return "screening"
    if concentration_mcg_ml in PUMP_CONCENTRATIONS_MCG_ML:
        return "standard"
    return "custom"


@dataclass(frozen=True, slots=True)
class Refill:
    """A refill visit: ``volume_ml`` is in the reservoir after the refill; ``residual_ml`` was
    withdrawn from it before. The dose and concentration are those programmed at this visit."""

    refill_date: date
    volume_ml: float | None = None
    concentration_mcg_ml: float | None = None
    daily_dose_mcg: float | None = None
    residual_ml: float | None = None


def infusion_rate_ml_per_day(daily_dose_mcg: float | None,
                             concentration_mcg_ml: float | None) -> float | None:
    """Dose / concentration; None when either is missing or the concentration is not positive."""
    if daily_dose_mcg is None or not _is_positive(concentration_mcg_ml):
        return None
    if daily_dose_mcg < 0:
        raise ValueError(f"a daily dose cannot be negative: {daily_dose_mcg}")
    assert concentration_mcg_ml is not None
    return daily_dose_mcg / concentration_mcg_ml


@dataclass(frozen=True, slots=True)
class RefillDue:
    """The next refill date and how it was computed.

    ``alarm_date`` is None when no alarm is predictable (no dose, a zero dose, or no
    concentration or volume): the drug-stability limit alone sets the due date then.
    """

    refill_date: date
    rate_ml_per_day: float | None
    alarm_volume_ml: float
    days_to_alarm: float | None
    alarm_date: date | None
    safety_margin_days: int
    stability_date: date
    limited_by: str  # LIMITED_BY_ALARM or LIMITED_BY_STABILITY
    due_date: date


def next_refill_due(refill: Refill, alarm_volume_ml: float = DEFAULT_ALARM_VOLUME_ML, *,
                    safety_margin_days: int = SAFETY_MARGIN_DAYS,
                    stability_days: int = STABILITY_DAYS) -> RefillDue:
    """The earlier of (alarm date − safety margin) and (refill date + stability limit).

    Days to alarm = (volume − alarm volume) / rate; the alarm date is the refill date plus
    those days rounded down, so it is never later than the alarm. A volume at or below the
    alarm volume is due at once (the refill date), and no date is ever before the refill.
    Ties go to the alarm.
    """
    rate = infusion_rate_ml_per_day(refill.daily_dose_mcg, refill.concentration_mcg_ml)
    days = _days_to_alarm(refill.volume_ml, alarm_volume_ml, rate)
    start = refill.refill_date
    stability_date = start + timedelta(days=stability_days)
    alarm_date = None
    if days is not None:
        limit = (date.max - start).days  # a tiny dose puts the alarm beyond the calendar
        whole = limit if days >= limit else math.floor(days + ROUNDING_EPSILON)
        alarm_date = start + timedelta(days=whole)
    if alarm_date is not None:
        margin_date = max(alarm_date - timedelta(days=safety_margin_days), start)
        if margin_date <= stability_date:
            return RefillDue(start, rate, alarm_volume_ml, days, alarm_date, safety_margin_days,
                             stability_date, LIMITED_BY_ALARM, margin_date)
    return RefillDue(start, rate, alarm_volume_ml, days, alarm_date, safety_margin_days,
                     stability_date, LIMITED_BY_STABILITY, stability_date)


def _days_to_alarm(volume_ml: float | None, alarm_volume_ml: float,
                   rate_ml_per_day: float | None) -> float | None:
    if volume_ml is None:
        return None
    if volume_ml <= alarm_volume_ml:
        return 0.0
    if not rate_ml_per_day:  # no dose, zero dose or no concentration: no alarm predictable
        return None
    return (volume_ml - alarm_volume_ml) / rate_ml_per_day


def _pump_replaced(start: date, end: date, pump_implant_dates: Iterable[date]) -> bool:
    """A new pump placed after ``start`` and on or before ``end``.

    A pump placed on the day of the earlier refill counts as filled at that refill.
    """
    return any(start < implanted <= end for implanted in pump_implant_dates)


def expected_residual_ml(previous: Refill, on: date,
                         pump_implant_dates: Iterable[date] = ()) -> float | None:
    """Volume after the previous refill − previous rate × days since, not below 0.

    The rate is the PREVIOUS refill's dose / concentration (what the pump was delivering).
    None when that is not known, or when a new pump was placed in between (its reservoir
    did not carry over).
    """
    days = _days_since(previous.refill_date, on)
    if _pump_replaced(previous.refill_date, on, pump_implant_dates):
        return None
    rate = infusion_rate_ml_per_day(previous.daily_dose_mcg, previous.concentration_mcg_ml)
    if rate is None or previous.volume_ml is None:
        return None
    return max(previous.volume_ml - rate * days, 0.0)


@dataclass(frozen=True, slots=True)
class ResidualCheck:
    """A recorded residual against the expected one; a mismatch suggests a catheter or pump
    fault (the classic early sign)."""

    days: int
    delivered_ml: float  # expected delivery since the previous refill: previous rate × days
    expected_ml: float
    recorded_ml: float
    difference_ml: float  # recorded − expected
    tolerance_ml: float
    mismatch: bool


def check_residual(previous: Refill, current: Refill, pump_implant_dates: Iterable[date] = (),
                   *, relative_tolerance: float = RESIDUAL_RELATIVE_TOLERANCE,
                   absolute_tolerance_ml: float = RESIDUAL_ABSOLUTE_TOLERANCE_ML
                   ) -> ResidualCheck | None:
    """Flags a residual further from the expected one than the larger of
    ``relative_tolerance`` × delivered volume and ``absolute_tolerance_ml``.

    None when no residual was recorded or the expected one cannot be computed.
    """
    dates = tuple(pump_implant_dates)
    expected = expected_residual_ml(previous, current.refill_date, dates)
    if expected is None or current.residual_ml is None:
        return None
    days = _days_since(previous.refill_date, current.refill_date)
    rate = infusion_rate_ml_per_day(previous.daily_dose_mcg, previous.concentration_mcg_ml)
    assert rate is not None
    delivered = rate * days
    tolerance = max(relative_tolerance * delivered, absolute_tolerance_ml)
    difference = current.residual_ml - expected
    return ResidualCheck(days, delivered, expected, current.residual_ml, difference, tolerance,
                         abs(difference) > tolerance + ROUNDING_EPSILON)


# Screening (intrathecal bolus trial).
SCREENING_DOSES_MCG = (25.0, 50.0, 75.0, 100.0)
MAX_SCREENING_DOSE_MCG = 100.0
SCREENING_RESPONDED = "responded"
SCREENING_NOT_CANDIDATE = "not_candidate"
SCREENING_UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class BolusTrial:
    dose_mcg: float
    responded: bool


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    status: str  # SCREENING_RESPONDED, SCREENING_NOT_CANDIDATE or SCREENING_UNDECIDED
    dose_mcg: float | None = None  # the lowest dose that worked


def classify_screening(trials: Iterable[BolusTrial],
                       max_dose_mcg: float = MAX_SCREENING_DOSE_MCG) -> ScreeningResult:
    """Responded at the lowest effective dose; not a candidate when there was no response and
    ``max_dose_mcg`` (100 mcg) or more was tried without one; otherwise undecided."""
    trials = tuple(trials)
    effective = [t.dose_mcg for t in trials if t.responded]
    if effective:
        return ScreeningResult(SCREENING_RESPONDED, min(effective))
    if any(t.dose_mcg >= max_dose_mcg for t in trials):
        return ScreeningResult(SCREENING_NOT_CANDIDATE)
    return ScreeningResult(SCREENING_UNDECIDED)


# Dose titration.
ORIGINS = ("cerebral", "spinal")


def titration_cap(origin: str | None, *, spinal_cap: float = SPINAL_STEP_CAP,
                  cerebral_cap: float = CEREBRAL_STEP_CAP) -> float:
    """The usual largest dose change per titration step; unknown origin gets the stricter."""
    if origin == "spinal":
        return spinal_cap
    if origin == "cerebral":
        return cerebral_cap
    if origin is None:
        return min(spinal_cap, cerebral_cap)
    raise ValueError(f"origin must be 'cerebral', 'spinal' or None, not {origin!r}")


def dose_step(previous_mcg: float | None, current_mcg: float | None) -> float | None:
    """The relative change (current − previous) / previous; None without a positive previous
    dose (a change from zero has no relative size)."""
    if current_mcg is None or not _is_positive(previous_mcg):
        return None
    assert previous_mcg is not None
    return (current_mcg - previous_mcg) / previous_mcg


def dose_step_too_large(previous_mcg: float | None, current_mcg: float | None,
                        origin: str | None, *, spinal_cap: float = SPINAL_STEP_CAP,
                        cerebral_cap: float = CEREBRAL_STEP_CAP) -> bool:
    """Whether the change between consecutive refills exceeds the cap, either way.

    The cap ("per day") is read as the largest step made at one visit: the change is not
    divided by the days between refills. Decreases count too (a steep cut risks withdrawal).
    """
    step = dose_step(previous_mcg, current_mcg)
    cap = titration_cap(origin, spinal_cap=spinal_cap, cerebral_cap=cerebral_cap)
    return step is not None and abs(step) > cap + ROUNDING_EPSILON


def dose_above_review(daily_dose_mcg: float | None,
                      review_dose_mcg: float = REVIEW_DOSE_MCG) -> bool:
    """A daily dose above the level at which the therapy is usually reviewed."""
    return daily_dose_mcg is not None and daily_dose_mcg > review_dose_mcg


# The flags of one patient.


@dataclass(frozen=True, slots=True)
class FollowUpRules:
    """The thresholds of the flags; a site may change any of them."""

    safety_margin_days: int = SAFETY_MARGIN_DAYS
    stability_days: int = STABILITY_DAYS
    residual_relative_tolerance: float = RESIDUAL_RELATIVE_TOLERANCE
    residual_absolute_tolerance_ml: float = RESIDUAL_ABSOLUTE_TOLERANCE_ML
    no_refill_days: int = NO_REFILL_DAYS
    spinal_step_cap: float = SPINAL_STEP_CAP
    cerebral_step_cap: float = CEREBRAL_STEP_CAP
    review_dose_mcg: float = REVIEW_DOSE_MCG
    replacement_window_months: int = REPLACEMENT_WINDOW_MONTHS


@dataclass(frozen=True, slots=True)
class Flag:
    """One finding; the module docstring says what ``on``, ``value`` and ``threshold`` hold."""

    code: str
    on: date
    value: float | None = None
    threshold: float | None = None


def follow_up_flags(refills: Iterable[Refill], implantations: Sequence[Implantation], on: date,
                    *, origin: str | None = None,
                    catalogue: PumpCatalogue = DEFAULT_CATALOGUE,
                    rules: FollowUpRules = FollowUpRules()) -> tuple[Flag, ...]:
    """A patient's flags as of ``on``: first those of each refill in date order, then the
    current state (overdue refill, no refill for long, pump replacement).

    Only events on or before ``on`` count. The caller leaves out patients whose therapy ended.
    """
    done = sorted((r for r in refills if r.refill_date <= on), key=lambda r: r.refill_date)
    pump_dates = [i.implant_date for i in implantations
                  if i.kind in PUMP_KINDS and i.implant_date <= on]
    flags = list(_refill_flags(done, pump_dates, origin, rules))

    pump = current_pump(implantations, on)
    last = done[-1] if done else None
    # A pump placed after the last refill was filled at surgery with no refill row: its
    # reservoir is unknown, so no due date; it still counts as the latest fill.
    if last is not None and (pump is None or pump.implant_date <= last.refill_date):
        alarm_volume = catalogue.model_for(pump.pump_model if pump else None).alarm_volume_ml
        due = next_refill_due(last, alarm_volume, safety_margin_days=rules.safety_margin_days,
                              stability_days=rules.stability_days)
        if on > due.due_date:
            flags.append(Flag(REFILL_OVERDUE, due.due_date, (on - due.due_date).days))

    fills = [r.refill_date for r in done[-1:]] + ([pump.implant_date] if pump else [])
    if fills and (on - max(fills)).days > rules.no_refill_days:
        flags.append(Flag(NO_REFILL_180D, max(fills), (on - max(fills)).days,
                          rules.no_refill_days))

    schedule = pump_replacement(implantations, on, catalogue, rules.replacement_window_months)
    status = replacement_status(schedule, on)
    if schedule is not None and status == IN_REPLACEMENT_WINDOW:
        flags.append(Flag(PUMP_REPLACEMENT_WINDOW, schedule.due_date))
    elif schedule is not None and status == PAST_SERVICE_LIFE:
        flags.append(Flag(PUMP_PAST_SERVICE_LIFE, schedule.due_date))
    return tuple(flags)


def _refill_flags(refills: Sequence[Refill], pump_dates: Sequence[date], origin: str | None,
                  rules: FollowUpRules) -> Iterator[Flag]:
    """The flags of each refill, in date order (``refills`` is sorted)."""
    caps = {"spinal_cap": rules.spinal_step_cap, "cerebral_cap": rules.cerebral_step_cap}
    for index, current in enumerate(refills):
        if index > 0:
            previous = refills[index - 1]
            check = check_residual(previous, current, pump_dates,
                                   relative_tolerance=rules.residual_relative_tolerance,
                                   absolute_tolerance_ml=rules.residual_absolute_tolerance_ml)
            if check is not None and check.mismatch:
                yield Flag(RESIDUAL_MISMATCH, current.refill_date, check.difference_ml,
                           check.tolerance_ml)
            if dose_step_too_large(previous.daily_dose_mcg, current.daily_dose_mcg, origin,
                                   **caps):
                yield Flag(DOSE_STEP_TOO_LARGE, current.refill_date,
                           dose_step(previous.daily_dose_mcg, current.daily_dose_mcg),
                           titration_cap(origin, **caps))
        if dose_above_review(current.daily_dose_mcg, rules.review_dose_mcg):
            yield Flag(DOSE_ABOVE_REVIEW, current.refill_date, current.daily_dose_mcg,
                       rules.review_dose_mcg)


def _days_since(start: date, end: date) -> int:
    days = (end - start).days
    if days < 0:
        raise ValueError(f"{end} is before the previous refill on {start}")
    return days


def _is_positive(number: float | None) -> bool:
    """A usable positive number (not None, not NaN, not zero or negative)."""
    return number is not None and number > 0 and math.isfinite(number)
