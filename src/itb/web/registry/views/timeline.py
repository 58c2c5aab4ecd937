"""One patient's therapy as a single chronological timeline of events, in the user's language."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itb.domain import codes
from itb.domain.dates import months_between
from itb.web.registry.models import (
    Assessment,
    Complication,
    Implantation,
    Patient,
    Refill,
    ScreeningTrial,
)
from itb.web.registry.selectors import RefillValues
from itb.web.registry.templatetags.registry import number

# Same-day events in the order they happen in a clinic: bolus trial, surgery, refill,
# complication, test.
ORDER = {"screening_trials": 0, "implantations": 1, "refills": 2, "complications": 3,
         "assessments": 4, "end": 5}
TAGS = {
    "screening_trials": gettext_lazy("Bolus trial"),
    "implantations": gettext_lazy("Surgery"),
    "refills": gettext_lazy("Refill"),
    "complications": gettext_lazy("Complication"),
    "assessments": gettext_lazy("Assessment"),
    "end": gettext_lazy("Therapy end"),
}

# The timeline's filters (a long therapy is mostly refills): table -> what its entries are.
FILTERS = {
    "screening_trials": gettext_lazy("Bolus trials"),
    "implantations": gettext_lazy("Surgeries"),
    "refills": gettext_lazy("Refills"),
    "complications": gettext_lazy("Complications"),
    "assessments": gettext_lazy("Assessments"),
}


@dataclass(frozen=True)
class Entry:
    when: date
    kind: str  # the table, or "end" for therapy end (also the entry's CSS class)
    title: str
    details: list[tuple[str, str]] = field(default_factory=list)
    pk: int | None = None  # the event's key, for its edit and delete links

    @property
    def tag(self) -> str:
        return str(TAGS[self.kind])

    @property
    def sort_key(self) -> tuple[date, int, int]:
        return (self.when, ORDER[self.kind], self.pk or 0)


def _with_unit(value: Decimal | None, unit: str) -> str:
    return f"{number(value)} {unit}" if value is not None else ""


def _present(details: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(label, value) for label, value in details if value]


def implantation_entry(event: Implantation, lang: str) -> Entry:
    pump = " · ".join(part for part in (
        codes.PUMP_MODEL.label(event.pump_model, lang) if event.pump_model else "",
        _with_unit(event.reservoir_ml, "ml")) if part)
    catheter = " · ".join(part for part in (
        codes.CATHETER_TYPE.label(event.catheter_type, lang) if event.catheter_type else "",
        _("tip at %(level)s") % {"level": event.catheter_tip_level}
        if event.catheter_tip_level else "") if part)
    return Entry(event.implant_date, "implantations",
                 codes.IMPLANTATION_KIND.label(event.kind, lang),
                 _present([(_("Site"), event.site.code), (_("Pump"), pump),
                           (_("Catheter"), catheter)]), event.pk)


@lru_cache(maxsize=8)
def _refill_labels(lang: str) -> tuple[str, str, str, str, str]:
    """A refill entry's labels and dose unit in ``lang``: translated once, not five times for
    each of a long therapy's hundreds of refills."""
    with translation.override(lang):
        return (_("Residual withdrawn"), _("Volume"), _("Concentration"), _("Daily dose"),
                _("µg/day"))


def refill_entry(event: Refill | RefillValues, lang: str) -> Entry:
    residual, volume, concentration, dose, dose_unit = _refill_labels(lang)
    # The tag says what it is; a title repeating it would be noise on a long timeline.
    return Entry(event.refill_date, "refills", "", _present([
        (residual, _with_unit(event.residual_ml, "ml")),
        (volume, _with_unit(event.volume_ml, "ml")),
        (concentration, _with_unit(event.concentration_mcg_ml, "µg/ml")),
        (dose, _with_unit(event.daily_dose_mcg, dose_unit)),
    ]), event.pk)


def complication_entry(event: Complication, surgeries: Sequence[date], lang: str) -> Entry:
    group = codes.COMPLICATION_GROUP.label(codes.complication_group(event.type), lang) \
        if event.type in codes.COMPLICATION_TYPE else ""
    # Months since the latest surgery on or before the complication, as in Table 2.
    position = bisect_right(surgeries, event.complication_date)
    months = ""
    if position:
        elapsed = months_between(surgeries[position - 1], event.complication_date)
        months = number_format(round(elapsed, 1), decimal_pos=1)
    return Entry(event.complication_date, "complications",
                 codes.COMPLICATION_TYPE.label(event.type, lang), _present([
                     (_("Group"), group), (_("Months since the last surgery"), months),
                     (_("Details"), event.detail)]), event.pk)


def assessment_entry(event: Assessment, lang: str) -> Entry:
    return Entry(event.assessment_date, "assessments",
                 codes.INSTRUMENT.label(event.instrument, lang), _present([
                     (_("Phase"), codes.PHASE.label(event.phase, lang)),
                     (_("Body site"), event.body_site), (_("Value"), event.value)]), event.pk)


def screening_trial_entry(event: ScreeningTrial, lang: str) -> Entry:
    response = codes.YES_NO.label(event.response, lang) if event.response else ""
    return Entry(event.trial_date, "screening_trials",
                 _("%(dose)s µg") % {"dose": number(event.dose_mcg)}, _present([
                     (_("Spasticity responded"), response),
                     (_("Side effects"), event.side_effects)]), event.pk)


def therapy_end_entry(patient: Patient, lang: str) -> Entry | None:
    if patient.therapy_end_date is None:
        return None
    reason = codes.THERAPY_END_REASON.label(patient.therapy_end_reason, lang) \
        if patient.therapy_end_reason else ""
    return Entry(patient.therapy_end_date, "end", _("Therapy ended"),
                 _present([(_("Reason"), reason)]))


def build_timeline(patient: Patient, implantations: Sequence[Implantation],
                   refills: Sequence[Refill | RefillValues],
                   complications: Sequence[Complication],
                   assessments: Sequence[Assessment], trials: Sequence[ScreeningTrial],
                   lang: str) -> list[Entry]:
    surgeries = sorted(event.implant_date for event in implantations)
    entries = [screening_trial_entry(event, lang) for event in trials]
    entries += [implantation_entry(event, lang) for event in implantations]
    entries += [refill_entry(event, lang) for event in refills]
    entries += [complication_entry(event, surgeries, lang) for event in complications]
    entries += [assessment_entry(event, lang) for event in assessments]
    end = therapy_end_entry(patient, lang)
    if end is not None:
        entries.append(end)
    return sorted(entries, key=lambda entry: entry.sort_key)
