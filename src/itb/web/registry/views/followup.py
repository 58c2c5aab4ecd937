"""Follow-up: the site's board, the patient page's follow-up panel, the refill form's preview.

The arithmetic is the core's, never repeated here: the board and the patient page show
``itb.analysis.followup`` (the same lists as ``itb due``), and the refill preview calls the
functions of ``itb.domain.followup`` that those lists are built with.

Each patient's board entry is kept until that patient's record changes (``board_entries``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from itb.analysis.followup import (
    DEFAULT_DAYS,
    FollowUp,
    PatientRows,
    due_list,
    follow_up,
    follow_up_of,
)
from itb.domain import codes
from itb.domain import followup as core
from itb.domain.codes import PUMP_KINDS
from itb.domain.pumps import (
    DEFAULT_CATALOGUE,
    IN_REPLACEMENT_WINDOW,
    NOT_DUE,
    PAST_SERVICE_LIFE,
    Implantation,
    PumpModel,
    current_pump,
)
from itb.reports.followup import render as render_due
from itb.web.registry.models import Patient
from itb.web.registry.models import Refill as RefillRow
from itb.web.registry.permissions import Action
from itb.web.registry.selectors import (
    RefillValues,
    record_versions,
    registry_for,
    require,
    sites_for,
)
from itb.web.registry.templatetags.dose_chart import (
    COMPLICATION,
    SURGERY,
    DoseHistory,
    DosePoint,
    Marker,
)
from itb.web.registry.templatetags.registry import number

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
PUMP_STATUS_LABELS: dict[str, Promise] = {
    NOT_DUE: _("not due"),
    IN_REPLACEMENT_WINDOW: _("in the replacement window"),
    PAST_SERVICE_LIFE: _("past its service life"),
}


def today() -> date:
    """The date the follow-up pages compute for unless told otherwise: today, or the
    ``ITB_FOLLOW_UP_DATE`` setting (the demo's data date)."""
    return settings.FOLLOW_UP_DATE or timezone.localdate()


def _float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def implantations_of(patient: Patient) -> list[Implantation]:
    return [Implantation(row.implant_date, row.kind, row.pump_model or None)
            for row in patient.implantations.all()]


def _refill(row: RefillRow | RefillValues | dict[str, Any],
            when: date | None = None) -> core.Refill:
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
        # Initial values are text as typed ("162,5"): parsed by the fields, as if sent.
        values = {name: form.fields[name].clean(value) if name in form.fields else value
                  for name, value in form.initial.items()}
    return {"preview": refill_preview(patient, values, editing), "calculate": CALCULATE}


def new_refill_initial(patient: Patient, today: date) -> dict[str, Any]:
    """A new refill starts from today and the previous refill's drug and dose (a refill mostly
    keeps them), with the volume of the pump's reservoir (it is usually filled)."""
    initial: dict[str, Any] = {"refill_date": today}
    last = patient.refills.filter(refill_date__lte=today).order_by("-refill_date", "-id").first()
    if last is not None:
        initial.update(concentration_mcg_ml=_typed(last.concentration_mcg_ml),
                       daily_dose_mcg=_typed(last.daily_dose_mcg))
    pump = patient.implantations.filter(kind__in=PUMP_KINDS, implant_date__lte=today) \
        .order_by("-implant_date", "-id").first()
    if pump is not None and pump.reservoir_ml is not None:
        initial["volume_ml"] = _typed(pump.reservoir_ml)
    return initial


def _typed(value: Decimal | None) -> str | None:
    """A stored number as a clinician would type it: "1000", "162,5" (not "1000.00")."""
    return None if value is None else number(value).replace("\xa0", "").replace(" ", "")


# --- what a flag says -------------------------------------------------------------------------

def flag_detail(flag: core.Flag) -> str:
    """The flag's finding in words, with its date, value and threshold."""
    when = flag.on.isoformat()
    value, threshold = flag.value, flag.threshold
    if flag.code == core.REFILL_OVERDUE:
        return ngettext("due %(date)s, %(days)d day ago", "due %(date)s, %(days)d days ago",
                        int(value or 0)) % {"date": when, "days": int(value or 0)}
    if flag.code == core.RESIDUAL_MISMATCH:
        return gettext("refill of %(date)s: %(difference)s ml from the expected residual "
                       "(tolerance ±%(tolerance)s ml)") % {
            "date": when, "difference": signed(value, 1), "tolerance": rounded(threshold, 1)}
    if flag.code == core.NO_REFILL_180D:
        return ngettext("last filled %(date)s, %(days)d day ago",
                        "last filled %(date)s, %(days)d days ago", int(value or 0)) % {
            "date": when, "days": int(value or 0)}
    if flag.code == core.PUMP_REPLACEMENT_WINDOW:
        return gettext("replacement due %(date)s") % {"date": when}
    if flag.code == core.PUMP_PAST_SERVICE_LIFE:
        return gettext("replacement was due %(date)s") % {"date": when}
    if flag.code == core.DOSE_STEP_TOO_LARGE:
        return gettext("refill of %(date)s: %(step)s%% (usual step at most %(cap)s%%)") % {
            "date": when, "step": signed((value or 0) * 100, 0),
            "cap": rounded((threshold or 0) * 100, 0)}
    if flag.code == core.DOSE_ABOVE_REVIEW:
        return gettext("refill of %(date)s: %(dose)s µg/day (review above %(review)s)") % {
            "date": when, "dose": rounded(value, 1), "review": rounded(threshold, 1)}
    return when


def rounded(value: float | None, places: int = 1) -> str:
    """A computed number for the eye: at most ``places`` decimals, the language's separator."""
    if value is None:
        return ""
    return number(round(float(value), places))


def signed(value: float | None, places: int = 0) -> str:
    """A change with its sign: "+25", "−10" (a true minus sign)."""
    if value is None:
        return ""
    text = rounded(abs(value), places)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


@dataclass(frozen=True)
class ShownFlag:
    code: str
    label: str
    detail: str
    alert: bool  # shown red: the refill is overdue, or something may be failing


ALERT_FLAGS = frozenset({core.REFILL_OVERDUE, core.RESIDUAL_MISMATCH, core.NO_REFILL_180D,
                         core.PUMP_PAST_SERVICE_LIFE})


def shown_flags(flags: tuple[core.Flag, ...]) -> list[ShownFlag]:
    return [ShownFlag(flag.code, str(FLAG_LABELS.get(flag.code, flag.code)), flag_detail(flag),
                      flag.code in ALERT_FLAGS) for flag in flags]


# --- the board ------------------------------------------------------------------------------

SECTIONS = ("refills", "residual", "pumps", "no_refill", "dose")
SECTION_PAGE_SIZE = 50
DAY_CHOICES = (7, 14, 30, 60, 90)
MAX_DAYS = 366


@dataclass(frozen=True)
class BoardQuery:
    """The board's horizon (days), site and date, read (and cleaned) from the query string."""

    days: int = DEFAULT_DAYS
    site: str = ""
    on: date | None = None  # None: today

    @classmethod
    def read(cls, request: HttpRequest, site_codes: set[str]) -> BoardQuery:
        get = request.GET
        try:
            days = min(max(int(get.get("days", DEFAULT_DAYS)), 0), MAX_DAYS)
        except ValueError:
            days = DEFAULT_DAYS
        try:
            on = date.fromisoformat(get.get("on", "")) if get.get("on") else None
        except ValueError:
            on = None
        site = get.get("site", "")
        return cls(days=days, site=site if site in site_codes else "", on=on)


@dataclass(frozen=True)
class BoardRow:
    entry: FollowUp

    @cached_property
    def flags(self) -> list[ShownFlag]:
        # Put in words only for the rows of the page shown.
        return shown_flags(self.entry.flags)

    def flag(self, code: str) -> core.Flag | None:
        return next((f for f in self.entry.flags if f.code == code), None)

    @property
    def residual(self) -> core.Flag | None:
        return self.flag(core.RESIDUAL_MISMATCH)

    @property
    def no_refill(self) -> core.Flag | None:
        return self.flag(core.NO_REFILL_180D)

    @property
    def dose_flags(self) -> list[ShownFlag]:
        return [f for f in self.flags
                if f.code in (core.DOSE_STEP_TOO_LARGE, core.DOSE_ABOVE_REVIEW)]


@dataclass(frozen=True)
class Board:
    """The board's sections: one patient may be in several."""

    on: date
    days: int
    horizon: date
    on_therapy: int
    refills: list[BoardRow]  # due within the horizon or overdue, most overdue first
    residual: list[BoardRow]
    pumps: list[BoardRow]  # past service life, in the window, or the window opening soon
    no_refill: list[BoardRow]
    dose: list[BoardRow]

    @property
    def overdue(self) -> int:
        return sum(1 for row in self.refills if row.entry.overdue)


# Each patient's entry is kept in this process, per date, until that patient's record
# changes: after a refill is saved only that patient is computed again, not the whole site.
# (A patient's entry depends on nothing but the patient's own rows and the date.) Kept as
# objects, not pickled into the cache: unpickling thousands of entries costs more than a
# page should.
_MEMO_DATES = 4
_SUBSET_LIMIT = 500  # above this many changed patients, read the whole scope at once
_memo: OrderedDict[date, dict[str, tuple[tuple[Any, ...], FollowUp | None]]] = OrderedDict()
_memo_lock = threading.Lock()


def forget_entries() -> None:
    """Drop every kept entry (tests start from nothing)."""
    with _memo_lock:
        _memo.clear()


def _board_order(entry: FollowUp) -> tuple[int, date, str]:
    # The core's order of ``follow_up``: most overdue first, then by due date, then by id.
    return (-entry.days_overdue, entry.next_refill_due or date.max, entry.patient_id)


def board_entries(user: Any, on: date) -> list[FollowUp]:
    """Every patient of the user's scope on therapy on ``on``, in the core's order."""
    versions = record_versions(user)
    with _memo_lock:
        known = _memo.setdefault(on, {})
        _memo.move_to_end(on)
        while len(_memo) > _MEMO_DATES:
            _memo.popitem(last=False)
        stale = [pid for pid, version in versions.items()
                 if pid not in known or known[pid][0] != version]
    if stale:
        subset = stale if len(stale) <= _SUBSET_LIMIT else None
        # Kept without the registry they came from (it is there for the full history of
        # findings, which the board does not show): the tables are not held in memory.
        computed = {entry.patient_id: dataclasses.replace(entry, registry=None)
                    for entry in follow_up(registry_for(user, on, patient_ids=subset), on)}
        with _memo_lock:
            for pid in stale:
                known[pid] = (versions[pid], computed.get(pid))
    entries = [entry for pid in versions if (entry := known[pid][1]) is not None]
    return sorted(entries, key=_board_order)


def build_board(entries: list[FollowUp], on: date, days: int, site: str = "") -> Board:
    """The sections of the core's due list (``due_list``: due, overdue, flagged or a
    replacement window opening within ``days`` days), for one site or all."""
    scoped = [entry for entry in entries if not site or entry.site == site]
    horizon = on + timedelta(days=days)
    rows = [BoardRow(entry) for entry in due_list(scoped, days)]
    codes = [set(row.entry.flag_codes) for row in rows]
    pump_statuses = {IN_REPLACEMENT_WINDOW, PAST_SERVICE_LIFE}
    pumps = [row for row in rows
             if row.entry.replacement_status in pump_statuses
             or (row.entry.replacement_window_opens is not None
                 and row.entry.replacement_window_opens <= horizon)]
    # Past the service life first, then by replacement due date.
    pumps.sort(key=lambda row: (row.entry.replacement_status != PAST_SERVICE_LIFE,
                                row.entry.pump_replacement_due or date.max,
                                row.entry.patient_id))
    return Board(
        on=on, days=days, horizon=horizon, on_therapy=len(scoped),
        refills=[row for row in rows if row.entry.next_refill_due is not None
                 and row.entry.next_refill_due <= horizon],
        residual=[row for row, found in zip(rows, codes, strict=True)
                  if core.RESIDUAL_MISMATCH in found],
        pumps=pumps,
        no_refill=[row for row, found in zip(rows, codes, strict=True)
                   if core.NO_REFILL_180D in found],
        dose=[row for row, found in zip(rows, codes, strict=True)
              if found & {core.DOSE_STEP_TOO_LARGE, core.DOSE_ABOVE_REVIEW}])


@require_GET
def follow_up_board(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Action.VIEW_FOLLOW_UP)
    sites = list(sites_for(user))
    query = BoardQuery.read(request, {site.code for site in sites})
    on = query.on or today()
    board = build_board(board_entries(user, on), on, query.days, query.site)
    # Each section a page at a time: a site of thousands may have hundreds due in a month.
    pages = {name: Paginator(getattr(board, name), SECTION_PAGE_SIZE).get_page(
        request.GET.get(f"{name}_page")) for name in SECTIONS}
    same_list = urlencode({"days": query.days, "on": on.isoformat(),
                           **({"site": query.site} if query.site else {})})
    return render(request, "registry/followup_board.html", {
        "board": board, "pages": pages, "query": query, "sites": sites,
        "day_choices": DAY_CHOICES, "fixed_date": settings.FOLLOW_UP_DATE,
        "downloads": [(fmt, f"{reverse('registry:follow_up_download', args=[fmt])}?{same_list}")
                      for fmt in DOWNLOADS],
    })


DOWNLOADS = {"ics": "text/calendar; charset=utf-8", "csv": "text/csv; charset=utf-8",
             "json": "application/json"}


@require_GET
def follow_up_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The board's list (same date, period and site) as ``itb due`` writes it: a calendar
    file to import, CSV or JSON."""
    user = request.user
    require(user, Action.VIEW_FOLLOW_UP)
    if fmt not in DOWNLOADS:
        raise Http404("no such format")
    query = BoardQuery.read(request, set(sites_for(user).values_list("code", flat=True)))
    on = query.on or today()
    entries = due_list([entry for entry in board_entries(user, on)
                        if not query.site or entry.site == query.site], query.days)
    text = render_due(entries, fmt, get_language() or "et", on,
                      on + timedelta(days=query.days))
    response = HttpResponse(text.encode("utf-8"), content_type=DOWNLOADS[fmt])
    site = f"-{query.site}" if query.site else ""
    response["Content-Disposition"] = (
        f'attachment; filename="itb-due{site}-{on.isoformat()}.{fmt}"')
    response["Cache-Control"] = "private, no-store"
    return response


# --- the patient page -------------------------------------------------------------------------

def dose_history(patient: Patient, implantations: list[Any], refills: list[RefillValues],
                 complications: list[Any], end: date, lang: str) -> DoseHistory:
    """The dose chart's data; ``refills`` in date order (``patient_events``)."""
    points = tuple(DosePoint(r.refill_date, _float(r.daily_dose_mcg),
                             _float(r.concentration_mcg_ml)) for r in refills)
    markers = [Marker(c.complication_date, COMPLICATION,
                      codes.COMPLICATION_TYPE.label(c.type, lang)
                      if c.type in codes.COMPLICATION_TYPE else c.type)
               for c in complications]
    markers += [Marker(i.implant_date, SURGERY, codes.IMPLANTATION_KIND.label(i.kind, lang))
                for i in implantations]
    return DoseHistory(points, tuple(sorted(markers, key=lambda m: m.when)), end)


def patient_rows(patient: Patient, events: dict[str, list[Any]]) -> PatientRows:
    """The core's rows of the patient from those the patient page has read (``events`` per
    table as ``patient_events`` reads them: the refills in date order), valued as the
    registry's tables value them: unknown text is None, numbers are floats."""
    return PatientRows(
        patient.patient_id, patient.site.code, patient.spasticity_origin or None,
        patient.therapy_end_date,
        [Implantation(row.implant_date, row.kind, row.pump_model or None)
         for row in events["implantations"]],
        [_refill(row) for row in events["refills"]])


def patient_context(user: Any, patient: Patient, events: dict[str, list[Any]],
                    lang: str) -> dict[str, Any]:
    """The patient page's follow-up panel (the core's entry for this patient, today) and
    dose-history chart."""
    on = today()
    entry = follow_up_of(patient_rows(patient, events), on)
    model = DEFAULT_CATALOGUE.model_for(entry.pump_model) if entry is not None else None
    end = min(patient.therapy_end_date or on, on)
    return {
        "follow_up": entry,
        "follow_up_flags": shown_flags(entry.flags) if entry is not None else [],
        "earlier_flags": shown_flags(tuple(f for f in entry.history if f not in entry.flags))
        if entry is not None else [],
        "pump_model": model,
        "pump_name": codes.PUMP_MODEL.label(entry.pump_model, lang)
        if entry is not None and entry.pump_model in codes.PUMP_MODEL else
        (str(model.name) if model is not None else ""),
        "dose_history": dose_history(patient, events["implantations"], events["refills"],
                                     events["complications"], end, lang),
    }
