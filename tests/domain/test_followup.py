"""Refill due dates, residual checks, screening, titration and flags, against hand-computed
values (day counts are spelled out in the comments)."""

from __future__ import annotations

from datetime import date

import pytest

from itb.domain.followup import (
    DOSE_ABOVE_REVIEW,
    DOSE_STEP_TOO_LARGE,
    FLAG_CODES,
    LIMITED_BY_ALARM,
    LIMITED_BY_STABILITY,
    NO_REFILL_180D,
    PUMP_PAST_SERVICE_LIFE,
    PUMP_REPLACEMENT_WINDOW,
    REFILL_OVERDUE,
    RESIDUAL_MISMATCH,
    SCREENING_NOT_CANDIDATE,
    SCREENING_RESPONDED,
    SCREENING_UNDECIDED,
    BolusTrial,
    Flag,
    FollowUpRules,
    Refill,
    check_residual,
    classify_screening,
    concentration_kind,
    dose_above_review,
    dose_step,
    dose_step_too_large,
    expected_residual_ml,
    follow_up_flags,
    infusion_rate_ml_per_day,
    next_refill_due,
    titration_cap,
)
from itb.domain.pumps import DEFAULT_CATALOGUE, Implantation

JAN1 = date(2024, 1, 1)
# From 1 January 2024 (a leap year): 1 February is +31 days, 1 March +60, 31 March +90,
# 1 April +91, 29 June +180, 9 July +190.


def test_the_flag_codes() -> None:
    assert set(FLAG_CODES) == {
        "refill_overdue", "residual_mismatch", "no_refill_180d", "pump_replacement_window",
        "pump_past_service_life", "dose_step_too_large", "dose_above_review"}


@pytest.mark.parametrize(("concentration", "kind"), [
    (50, "screening"), (500, "standard"), (1000, "standard"), (2000.0, "standard"),
    (1500, "custom"), (0.5, "custom"), (0, None), (-500, None), (None, None),
    (float("nan"), None),
])
def test_concentration_kind(concentration: float | None, kind: str | None) -> None:
    assert concentration_kind(concentration) == kind


@pytest.mark.parametrize(("dose", "concentration", "rate"), [
    (400, 2000, 0.2), (300, 1000, 0.3), (300, 1500, 0.2), (0, 2000, 0.0),
    (None, 2000, None), (400, None, None), (400, 0, None),
])
def test_infusion_rate(dose: float | None, concentration: float | None,
                       rate: float | None) -> None:
    assert infusion_rate_ml_per_day(dose, concentration) == pytest.approx(rate)


def test_a_negative_dose_is_refused() -> None:
    with pytest.raises(ValueError):
        infusion_rate_ml_per_day(-1, 2000)


def test_worked_check_20_ml_pump_is_due_after_90_days() -> None:
    # 400 mcg/day ÷ 2000 mcg/mL = 0.2 mL/day; (20 − 2) mL ÷ 0.2 mL/day = 90 days.
    due = next_refill_due(Refill(JAN1, volume_ml=20, concentration_mcg_ml=2000,
                                 daily_dose_mcg=400), alarm_volume_ml=2.0)
    assert due.rate_ml_per_day == pytest.approx(0.2)
    assert due.days_to_alarm == pytest.approx(90)
    assert due.alarm_date == date(2024, 3, 31)
    assert due.stability_date == date(2024, 6, 29)
    assert (due.limited_by, due.due_date) == (LIMITED_BY_ALARM, date(2024, 3, 31))


def test_worked_check_40_ml_pump_is_capped_at_180_days() -> None:
    # (40 − 2) mL ÷ 0.2 mL/day = 190 days, beyond the 180-day stability limit.
    due = next_refill_due(Refill(JAN1, 40, 2000, 400), 2.0)
    assert due.days_to_alarm == pytest.approx(190)
    assert due.alarm_date == date(2024, 7, 9)
    assert (due.limited_by, due.due_date) == (LIMITED_BY_STABILITY, date(2024, 6, 29))


def test_an_alarm_on_the_stability_date_is_reported_as_the_alarm() -> None:
    due = next_refill_due(Refill(JAN1, 38, 2000, 400))  # (38 − 2) / 0.2 = 180 days
    assert due.alarm_date == due.stability_date == due.due_date == date(2024, 6, 29)
    assert due.limited_by == LIMITED_BY_ALARM


def test_whole_days_are_rounded_down() -> None:
    # 350 / 1000 = 0.35 mL/day; 18 / 0.35 = 51.43 days → 51 days → 21 February.
    due = next_refill_due(Refill(JAN1, 20, 1000, 350))
    assert due.days_to_alarm == pytest.approx(51.428571, abs=1e-6)
    assert due.due_date == date(2024, 2, 21)


def test_safety_margin_comes_off_the_alarm_date() -> None:
    due = next_refill_due(Refill(JAN1, 20, 2000, 400), safety_margin_days=7)
    assert due.alarm_date == date(2024, 3, 31)
    assert due.due_date == date(2024, 3, 24)
    assert due.safety_margin_days == 7


def test_safety_margin_never_puts_the_due_date_before_the_refill() -> None:
    due = next_refill_due(Refill(JAN1, 3, 2000, 400), safety_margin_days=7)  # 1 / 0.2 = 5 days
    assert due.alarm_date == date(2024, 1, 6)
    assert (due.limited_by, due.due_date) == (LIMITED_BY_ALARM, JAN1)


def test_a_shorter_stability_limit() -> None:
    due = next_refill_due(Refill(JAN1, 20, 2000, 400), stability_days=60)
    assert (due.limited_by, due.due_date) == (LIMITED_BY_STABILITY, date(2024, 3, 1))


def test_prometra_refills_at_3_ml() -> None:
    alarm = DEFAULT_CATALOGUE.get("prometra_ii").alarm_volume_ml
    due = next_refill_due(Refill(JAN1, 20, 2000, 400), alarm)  # (20 − 3) / 0.2 = 85 days
    assert (due.alarm_volume_ml, due.due_date) == (3.0, date(2024, 3, 26))


def test_custom_concentration() -> None:
    # 300 mcg/day ÷ 1500 mcg/mL = 0.2 mL/day, as in the worked check: 90 days.
    due = next_refill_due(Refill(JAN1, 20, 1500, 300))
    assert due.rate_ml_per_day == pytest.approx(0.2)
    assert due.due_date == date(2024, 3, 31)


def test_flex_dosing_is_its_24_hour_total() -> None:
    # 16 h at 15 mcg/h + 8 h at 20 mcg/h = 240 + 160 = 400 mcg in 24 hours.
    flex = next_refill_due(Refill(JAN1, 20, 2000, 16 * 15 + 8 * 20))
    simple = next_refill_due(Refill(JAN1, 20, 2000, 400))
    assert flex == simple


@pytest.mark.parametrize(("refill", "rate"), [
    (Refill(JAN1, 20, 2000, 0), 0.0),  # zero dose: the pump never alarms
    (Refill(JAN1, 20, 2000, None), None),  # no dose recorded
    (Refill(JAN1, 20, None, 400), None),  # no concentration recorded
    (Refill(JAN1, 20, 0, 400), None),  # a zero concentration is no concentration
    (Refill(JAN1, None, 2000, 400), 0.2),  # no volume recorded
], ids=["zero_dose", "no_dose", "no_concentration", "zero_concentration", "no_volume"])
def test_without_a_predictable_alarm_the_stability_limit_sets_the_date(
        refill: Refill, rate: float | None) -> None:
    due = next_refill_due(refill)
    assert due.rate_ml_per_day == pytest.approx(rate)
    assert due.days_to_alarm is None and due.alarm_date is None
    assert (due.limited_by, due.due_date) == (LIMITED_BY_STABILITY, date(2024, 6, 29))


@pytest.mark.parametrize("refill", [
    Refill(JAN1, 2.0, 2000, 400), Refill(JAN1, 1.5, 2000, 400),
    Refill(JAN1, 2.0, 2000, 0), Refill(JAN1, 1.0, None, None),
], ids=["at_alarm", "below_alarm", "zero_dose", "no_rate"])
def test_a_volume_at_or_below_the_alarm_is_due_at_once(refill: Refill) -> None:
    due = next_refill_due(refill, 2.0)
    assert due.days_to_alarm == 0
    assert due.alarm_date == due.due_date == JAN1
    assert due.limited_by == LIMITED_BY_ALARM


def test_a_tiny_dose_does_not_overflow_the_calendar() -> None:
    due = next_refill_due(Refill(JAN1, 20, 2000, 1e-300))
    assert due.alarm_date == date.max
    assert due.due_date == date(2024, 6, 29)


# Residual volume: previous refill on 1 January 2024, 20 mL at 0.2 mL/day (400 ÷ 2000).
PREVIOUS = Refill(JAN1, volume_ml=20, concentration_mcg_ml=2000, daily_dose_mcg=400)
MARCH1 = date(2024, 3, 1)  # 60 days later: 12 mL delivered, 8 mL expected


@pytest.mark.parametrize(("recorded", "difference", "mismatch"), [
    (8.0, 0.0, False),
    (10.4, 2.4, False),  # exactly the tolerance, 20% of 12 mL = 2.4 mL (> 2 mL): not flagged
    (10.5, 2.5, True),  # more left than expected: under-delivery (catheter or pump fault)
    (5.6, -2.4, False),
    (5.5, -2.5, True),  # less left than expected: over-delivery or a leak
])
def test_residual_check_uses_20_percent_of_the_delivered_volume(
        recorded: float, difference: float, mismatch: bool) -> None:
    check = check_residual(PREVIOUS, Refill(MARCH1, 20, 2000, 400, residual_ml=recorded))
    assert check is not None
    assert check.days == 60
    assert check.delivered_ml == pytest.approx(12.0)
    assert check.expected_ml == pytest.approx(8.0)
    assert check.recorded_ml == recorded
    assert check.difference_ml == pytest.approx(difference)
    assert check.tolerance_ml == pytest.approx(2.4)
    assert check.mismatch is mismatch


@pytest.mark.parametrize(("recorded", "mismatch"), [(16.5, False), (20.0, False), (15.5, True)])
def test_residual_check_uses_2_ml_when_little_was_delivered(recorded: float,
                                                            mismatch: bool) -> None:
    # 10 days: 2 mL delivered, 18 mL expected; 20% of 2 mL is 0.4 mL, so 2 mL applies.
    check = check_residual(PREVIOUS, Refill(date(2024, 1, 11), residual_ml=recorded))
    assert check is not None
    assert (check.expected_ml, check.tolerance_ml) == (pytest.approx(18.0), 2.0)
    assert check.mismatch is mismatch


def test_residual_check_with_other_tolerances() -> None:
    check = check_residual(PREVIOUS, Refill(MARCH1, residual_ml=10.5),
                           relative_tolerance=0.25, absolute_tolerance_ml=1.0)
    assert check is not None
    assert check.tolerance_ml == pytest.approx(3.0) and not check.mismatch


def test_expected_residual_is_not_below_zero() -> None:
    # 150 days (1 January → 30 May 2024) at 0.2 mL/day is 30 mL from a 20 mL reservoir.
    on = date(2024, 5, 30)
    assert expected_residual_ml(PREVIOUS, on) == 0.0
    check = check_residual(PREVIOUS, Refill(on, residual_ml=0.0))
    assert check is not None
    assert (check.delivered_ml, check.tolerance_ml, check.mismatch) == (
        pytest.approx(30.0), pytest.approx(6.0), False)


def test_expected_residual_uses_the_previous_concentration_and_dose() -> None:
    # Previous: 300 mcg/day of 1000 mcg/mL = 0.3 mL/day for 50 days (to 20 February) = 15 mL.
    # The new 500 mcg/day of 2000 mcg/mL (0.25 mL/day) would wrongly give 20 − 12.5 = 7.5.
    previous = Refill(JAN1, 20, 1000, 300)
    current = Refill(date(2024, 2, 20), 20, 2000, 500, residual_ml=5.2)
    assert expected_residual_ml(previous, current.refill_date) == pytest.approx(5.0)
    check = check_residual(previous, current)
    assert check is not None
    assert check.delivered_ml == pytest.approx(15.0)
    assert check.tolerance_ml == pytest.approx(3.0)
    assert not check.mismatch


@pytest.mark.parametrize(("implanted", "computed"), [
    (date(2024, 2, 1), False),  # a new pump between the refills
    (MARCH1, False),  # a new pump placed on the day of the later refill
    (JAN1, True),  # placed on the day of the earlier refill: that refill filled it
    (date(2023, 6, 1), True),
    (date(2024, 4, 1), True),
])
def test_no_expected_residual_across_a_pump_replacement(implanted: date,
                                                        computed: bool) -> None:
    expected = expected_residual_ml(PREVIOUS, MARCH1, [implanted])
    assert (expected is not None) is computed
    check = check_residual(PREVIOUS, Refill(MARCH1, residual_ml=15.0), [implanted])
    assert (check is not None) is computed


@pytest.mark.parametrize("previous", [
    Refill(JAN1, None, 2000, 400), Refill(JAN1, 20, None, 400), Refill(JAN1, 20, 0, 400),
    Refill(JAN1, 20, 2000, None),
], ids=["no_volume", "no_concentration", "zero_concentration", "no_dose"])
def test_no_expected_residual_without_the_previous_figures(previous: Refill) -> None:
    assert expected_residual_ml(previous, MARCH1) is None
    assert check_residual(previous, Refill(MARCH1, residual_ml=8.0)) is None


def test_a_zero_previous_dose_expects_the_whole_volume_back() -> None:
    assert expected_residual_ml(Refill(JAN1, 20, 2000, 0), MARCH1) == 20.0


def test_no_check_without_a_recorded_residual() -> None:
    assert expected_residual_ml(PREVIOUS, MARCH1) == pytest.approx(8.0)
    assert check_residual(PREVIOUS, Refill(MARCH1, 20, 2000, 400)) is None


def test_a_refill_before_the_previous_one_is_an_error() -> None:
    with pytest.raises(ValueError):
        expected_residual_ml(PREVIOUS, date(2023, 12, 31))


@pytest.mark.parametrize(("trials", "status", "dose"), [
    ([], SCREENING_UNDECIDED, None),
    ([(25, False), (50, True)], SCREENING_RESPONDED, 50),
    ([(25, True)], SCREENING_RESPONDED, 25),
    ([(100, True), (75, True)], SCREENING_RESPONDED, 75),  # the lowest dose that worked
    ([(50, True), (100, False)], SCREENING_RESPONDED, 50),
    ([(25, False), (50, False)], SCREENING_UNDECIDED, None),  # 75 and 100 not yet tried
    ([(25, False), (50, False), (75, False)], SCREENING_UNDECIDED, None),
    ([(25, False), (50, False), (75, False), (100, False)], SCREENING_NOT_CANDIDATE, None),
    ([(100, False)], SCREENING_NOT_CANDIDATE, None),
])
def test_classify_screening(trials: list[tuple[float, bool]], status: str,
                            dose: float | None) -> None:
    result = classify_screening(BolusTrial(d, r) for d, r in trials)
    assert (result.status, result.dose_mcg) == (status, dose)


@pytest.mark.parametrize(("origin", "cap"), [("spinal", 0.30), ("cerebral", 0.15), (None, 0.15)])
def test_titration_cap(origin: str | None, cap: float) -> None:
    assert titration_cap(origin) == cap


def test_titration_cap_of_an_unknown_origin_word_is_an_error() -> None:
    with pytest.raises(ValueError):
        titration_cap("peripheral")


@pytest.mark.parametrize(("previous", "current", "step"), [
    (300, 390, 0.3), (200, 170, -0.15), (400, 400, 0.0), (0, 100, None), (None, 100, None),
    (100, None, None),
])
def test_dose_step(previous: float | None, current: float | None, step: float | None) -> None:
    assert dose_step(previous, current) == pytest.approx(step)


@pytest.mark.parametrize(("previous", "current", "origin", "flagged"), [
    (300, 390, "spinal", False),  # +30%: at the cap, not above it
    (300, 391, "spinal", True),
    (300, 200, "spinal", True),  # −33%: a steep cut counts too
    (200, 230, "cerebral", False),  # +15%
    (200, 231, "cerebral", True),
    (200, 170, "cerebral", False),  # −15%
    (200, 160, "cerebral", True),  # −20%
    (200, 240, "spinal", False),  # +20%
    (200, 240, None, True),  # unknown origin: the stricter 15%
    (0, 100, None, False),  # no relative change from zero
    (None, 100, "spinal", False),
])
def test_dose_step_too_large(previous: float | None, current: float | None, origin: str | None,
                             flagged: bool) -> None:
    assert dose_step_too_large(previous, current, origin) is flagged


def test_dose_step_caps_can_be_changed() -> None:
    assert not dose_step_too_large(200, 240, "cerebral", cerebral_cap=0.20)
    assert dose_step_too_large(200, 240, "spinal", spinal_cap=0.10)


@pytest.mark.parametrize(("dose", "review", "flagged"), [
    (1000, 1000, False), (1000.5, 1000, True), (None, 1000, False), (900, 800, True),
])
def test_dose_above_review(dose: float | None, review: float, flagged: bool) -> None:
    assert dose_above_review(dose, review) is flagged


# One patient's history (spinal origin), SynchroMed II implanted 10 May 2017:
# due for replacement 10 May 2024, window opens 10 November 2023.
PUMP = Implantation(date(2017, 5, 10), "initial", "synchromed_ii")
R1 = Refill(date(2023, 1, 10), 20, 2000, 400)
# 60 days later; expected residual 20 − 0.2 × 60 = 8 mL, recorded 12 (+4 > 2.4 mL);
# dose +25% (within the spinal 30%).
R2 = Refill(date(2023, 3, 11), 20, 2000, 500, residual_ml=12)
# 60 days later; expected 20 − 0.25 × 60 = 5 mL, recorded 5; dose +120% and above 1000.
R3 = Refill(date(2023, 5, 10), 20, 2000, 1100, residual_ml=5)
# After R3: 0.55 mL/day; 18 / 0.55 = 32.7 days → alarm and due on 11 June 2023.
# On 10 November 2023: 152 days after 11 June, 184 days after the R3 refill.
ON = date(2023, 11, 10)


def test_follow_up_flags_of_a_history() -> None:
    flags = follow_up_flags([R3, R1, R2], [PUMP], ON, origin="spinal")
    assert flags == (
        Flag(RESIDUAL_MISMATCH, R2.refill_date, pytest.approx(4.0), pytest.approx(2.4)),
        Flag(DOSE_STEP_TOO_LARGE, R3.refill_date, pytest.approx(1.2), 0.30),
        Flag(DOSE_ABOVE_REVIEW, R3.refill_date, 1100, 1000),
        Flag(REFILL_OVERDUE, date(2023, 6, 11), 152),
        Flag(NO_REFILL_180D, R3.refill_date, 184, 180),
        Flag(PUMP_REPLACEMENT_WINDOW, date(2024, 5, 10)),
    )


def test_follow_up_flags_with_unknown_origin_use_the_stricter_cap() -> None:
    flags = follow_up_flags([R1, R2], [PUMP], R2.refill_date)
    assert [f for f in flags if f.code == DOSE_STEP_TOO_LARGE] == [
        Flag(DOSE_STEP_TOO_LARGE, R2.refill_date, pytest.approx(0.25), 0.15)]


def test_follow_up_flags_ignore_what_happens_after_the_date() -> None:
    # On the day of R2 its refill is due on 22 May 2023 (18 / 0.25 = 72 days): nothing else.
    flags = follow_up_flags([R1, R2, R3], [PUMP], R2.refill_date, origin="spinal")
    assert flags == (Flag(RESIDUAL_MISMATCH, R2.refill_date, pytest.approx(4.0),
                          pytest.approx(2.4)),)


def test_follow_up_flags_with_site_rules() -> None:
    rules = FollowUpRules(residual_absolute_tolerance_ml=5.0, spinal_step_cap=1.5,
                          review_dose_mcg=1200, no_refill_days=200, replacement_window_months=3)
    assert follow_up_flags([R1, R2, R3], [PUMP], ON, origin="spinal", rules=rules) == (
        Flag(REFILL_OVERDUE, date(2023, 6, 11), 152),)


def test_past_service_life() -> None:
    flags = follow_up_flags([], [PUMP], date(2024, 5, 10))
    assert Flag(PUMP_PAST_SERVICE_LIFE, date(2024, 5, 10)) in flags


def test_a_pump_replaced_between_refills_hides_the_residual_mismatch() -> None:
    new_pump = Implantation(date(2023, 2, 1), "replacement", "synchromed_ii")
    flags = follow_up_flags([R1, R2], [PUMP, new_pump], R2.refill_date, origin="spinal")
    assert flags == ()  # the new pump (due 2030) is far from its replacement window


def test_a_pump_replaced_after_the_last_refill() -> None:
    # The new pump was filled at surgery: the old pump's due date no longer applies, and the
    # days without a refill count from the surgery (1 September 2023 → 10 November = 70).
    new_pump = Implantation(date(2023, 9, 1), "replacement", "prometra_ii")
    revision = Implantation(date(2023, 10, 1), "revision")
    flags = follow_up_flags([R1, R2, R3], [PUMP, new_pump, revision], ON, origin="spinal")
    assert [f.code for f in flags] == [RESIDUAL_MISMATCH, DOSE_STEP_TOO_LARGE, DOSE_ABOVE_REVIEW]


def test_the_pump_models_alarm_volume_sets_the_overdue_date() -> None:
    # 20 mL at 0.2 mL/day: due after 90 days at a 2 mL alarm, after 85 days at Prometra's 3 mL.
    refill = Refill(JAN1, 20, 2000, 400)
    on = date(2024, 3, 28)  # 87 days later
    synchromed = follow_up_flags([refill], [Implantation(JAN1, "initial", "synchromed_ii")], on)
    prometra = follow_up_flags([refill], [Implantation(JAN1, "initial", "prometra_ii")], on)
    assert synchromed == ()
    assert prometra == (Flag(REFILL_OVERDUE, date(2024, 3, 26), 2),)


def test_a_constant_flow_pump_is_never_due_for_replacement() -> None:
    pump = Implantation(date(2005, 1, 1), "initial", "constant_flow")
    refill = Refill(date(2024, 1, 1), 20, 500, 100)  # 0.2 mL/day: due 31 March 2024
    assert follow_up_flags([refill], [pump], date(2024, 3, 1)) == ()


def test_no_history_no_flags() -> None:
    assert follow_up_flags([], [], date(2024, 1, 1)) == ()
    assert follow_up_flags([R1], [], date(2023, 1, 10)) == ()  # pump row missing: model other
