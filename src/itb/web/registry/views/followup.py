"""Follow-up: the site's board, the patient page's follow-up panel, the refill form's preview.

The arithmetic is the core's, never repeated here: the refill preview calls the same
functions of ``itb.domain.followup`` that the due list is built with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from itb.domain import followup as core
from itb.domain.codes import PUMP_KINDS
from itb.domain.pumps import DEFAULT_CATALOGUE, Implantation, PumpModel, current_pump
from itb.web.registry.models import Patient
from itb.web.registry.models import Refill as RefillRow

DEFAULT_RULES = core.FollowUpRules()
CALCULATE = "calculate"  # the name of the refill form's "Calculate" button

FLAG_LABELS: dict[str, Promise] = {
    core.REFILL_OVERDUE: _("Refill overdue"),
    core.RESIDUAL_MISMATCH: _("Residual volume far from expected"),
    core.NO_REFILL_180D: _("No refill in over 180 days"),
    core.PUMP_REPLACEMENT_WINDOW: _("Pump in its replacement window"),
    core.PUMP_PAST_SERVICE_LIFE: _("Pump past its service life"),
    core.DOSE_STEP_TOO_LARGE: _("Dose change above the usual step"),
    core.DOSE_ABOVE_REVIEW: _("Daily dose above the review threshold"),
}


def _float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def implantations_of(patient: Patient) -> list[Implantation]:
    return [Implantation(row.implant_date, row.kind, row.pump_model or None)
            for row in patient.implantations.all()]


def _refill(row: RefillRow | dict[str, Any], when: date | None = None) -> core.Refill:
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name, None))
    return core.Refill(when or get("refill_date"), _float(get("volume_ml")),
                       _float(get("concentration_mcg_ml")), _float(get("daily_dose_mcg")),
                       _float(get("residual_ml")))


# --- the refill form's preview --------------------------------------------------------------

@dataclass(frozen=True)
class RefillPreview:
    """What a refill entered in the form gives, computed before it is saved."""

    due: core.RefillDue
    pump: PumpModel
    pump_placed: date | None
    previous: core.Refill | None
    expected_residual_ml: float | None
    residual: core.ResidualCheck | None
    dose_step: float | None
    dose_step_cap: float
    dose_step_too_large: bool
    dose_above_review: bool
    review_dose_mcg: float

    @property
    def stability_days(self) -> int:
        return (self.due.stability_date - self.due.refill_date).days

    @property
    def dose_step_percent(self) -> float | None:
        return None if self.dose_step is None else self.dose_step * 100

    @property
    def dose_step_cap_percent(self) -> float:
        return self.dose_step_cap * 100


def calculating(request: HttpRequest) -> bool:
    """Whether the form was sent with "Calculate" (show the preview) rather than "Save"."""
    return request.method == "POST" and CALCULATE in request.POST


def refill_preview(patient: Patient, values: dict[str, Any], editing: int | None = None,
                   rules: core.FollowUpRules = DEFAULT_RULES) -> RefillPreview | None:
    """The entered refill's rate, days to alarm, next due date and checks; None without a date.

    The alarm volume is that of the pump in place on the refill date; the previous refill (for
    the expected residual and the dose step) is the latest one before it, the edited refill
    (``editing``, its key) aside.
    """
    when = values.get("refill_date")
    if not isinstance(when, date):
        return None
    implantations = implantations_of(patient)
    pump = current_pump(implantations, when)
    model = DEFAULT_CATALOGUE.model_for(pump.pump_model if pump else None)
    current = _refill(values, when)
    due = core.next_refill_due(current, model.alarm_volume_ml,
                               safety_margin_days=rules.safety_margin_days,
                               stability_days=rules.stability_days)
    earlier = patient.refills.filter(refill_date__lt=when).exclude(pk=editing) \
        .order_by("-refill_date", "-id").first()
    previous = _refill(earlier) if earlier is not None else None
    pump_dates = [i.implant_date for i in implantations if i.kind in PUMP_KINDS]
    expected = residual = None
    if previous is not None:
        expected = core.expected_residual_ml(previous, when, pump_dates)
        residual = core.check_residual(
            previous, current, pump_dates,
            relative_tolerance=rules.residual_relative_tolerance,
            absolute_tolerance_ml=rules.residual_absolute_tolerance_ml)
    origin = getattr(patient, "spasticity_origin", "") or None
    caps = {"spinal_cap": rules.spinal_step_cap, "cerebral_cap": rules.cerebral_step_cap}
    previous_dose = previous.daily_dose_mcg if previous else None
    return RefillPreview(
        due=due, pump=model, pump_placed=pump.implant_date if pump else None,
        previous=previous, expected_residual_ml=expected, residual=residual,
        dose_step=core.dose_step(previous_dose, current.daily_dose_mcg),
        dose_step_cap=core.titration_cap(origin, **caps),
        dose_step_too_large=core.dose_step_too_large(previous_dose, current.daily_dose_mcg,
                                                     origin, **caps),
        dose_above_review=core.dose_above_review(current.daily_dose_mcg,
                                                 rules.review_dose_mcg),
        review_dose_mcg=rules.review_dose_mcg)


def refill_form_context(patient: Patient, table: str, form: forms.Form,
                        editing: int | None = None) -> dict[str, Any]:
    """The refill form's preview for the template ({} for the other tables' forms).

    Computed from whatever of the form parses (a bound form) or from its initial values.
    """
    if table != "refills":
        return {}
    if form.is_bound:
        values = form.cleaned_data if hasattr(form, "cleaned_data") else {}
        # A field that did not parse is simply left out of the arithmetic.
        values = {name: value for name, value in values.items() if name not in form.errors}
    else:
        values = dict(form.initial)
    return {"preview": refill_preview(patient, values, editing), "calculate": CALCULATE}


def new_refill_initial(patient: Patient, today: date) -> dict[str, Any]:
    """A new refill starts from today and the previous refill's drug and dose (a refill mostly
    keeps them), with the volume of the pump's reservoir (it is usually filled)."""
    initial: dict[str, Any] = {"refill_date": today}
    last = patient.refills.filter(refill_date__lte=today).order_by("-refill_date", "-id").first()
    if last is not None:
        initial.update(concentration_mcg_ml=last.concentration_mcg_ml,
                       daily_dose_mcg=last.daily_dose_mcg)
    pump = patient.implantations.filter(kind__in=PUMP_KINDS, implant_date__lte=today) \
        .order_by("-implant_date", "-id").first()
    if pump is not None and pump.reservoir_ml is not None:
        initial["volume_ml"] = pump.reservoir_ml
    return initial
