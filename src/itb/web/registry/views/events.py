"""Forms of a patient's events: surgeries, refills, complications, assessments and bolus
trials."""

from __future__ import annotations

from django.contrib import messages
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from itb.domain import codes
from itb.domain.scales import SCALES
from itb.web.registry.forms import EVENT_FORMS, VersionForm, describe_row, initial_of
from itb.web.registry.models import Patient, Site
from itb.web.registry.permissions import Action
from itb.web.registry.selectors import event_for, patient_for, require
from itb.web.registry.services import records as services
from itb.web.registry.views import followup
from itb.web.registry.views.common import attempt, posted

TITLES = {
    "implantations": (_("Add a surgery"), _("Edit the surgery")),
    "refills": (_("Add a refill"), _("Edit the refill")),
    "complications": (_("Add a complication"), _("Edit the complication")),
    "assessments": (_("Add an assessment"), _("Edit the assessment")),
    "screening_trials": (_("Add a bolus trial"), _("Edit the bolus trial")),
}
SAVED = {
    "implantations": _("The surgery was saved."),
    "refills": _("The refill was saved."),
    "complications": _("The complication was saved."),
    "assessments": _("The assessment was saved."),
    "screening_trials": _("The bolus trial was saved."),
}


def _patient_page(patient: Patient) -> HttpResponse:
    return redirect(reverse("registry:patient_detail", args=[patient.patient_id]))


def _sites() -> list[Site]:
    # A surgery may be done at any hospital of the registry, not only the user's own.
    return list(Site.objects.all())


def _scales() -> list[tuple[str, str]]:
    """Each instrument's allowed values, shown beside the assessment form."""
    lang = get_language() or "et"
    return [(codes.INSTRUMENT.label(code, lang), SCALES[code].describe())
            for code in codes.INSTRUMENT.codes]


@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest, patient_id: str, table: str) -> HttpResponse:
    user = request.user
    require(user, Action.EDIT_PATIENTS)
    patient = patient_for(user, patient_id)
    form_class = EVENT_FORMS[table]
    if posted(request):
        form = form_class(request.POST, sites=_sites())
        # "Calculate" on the refill form shows the computed dates; only "Save" saves.
        if form.is_valid() and not followup.calculating(request):
            event, _stale = attempt(
                lambda: services.create_event(user, patient, table, form.row()),
                {table: form}, form)
            if event is not None:
                messages.success(request, str(SAVED[table]))
                return _patient_page(patient)
    else:
        initial = {"site": patient.site.code}
        if table == "refills":
            initial.update(followup.new_refill_initial(patient, followup.today()))
        form = form_class(initial=initial, sites=_sites())
    return render(request, "registry/event_form.html", {
        "form": form, "patient": patient, "table": table, "title": TITLES[table][0],
        "scales": _scales(), **followup.refill_form_context(patient, table, form)})


@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, patient_id: str, table: str, pk: int) -> HttpResponse:
    user = request.user
    require(user, Action.EDIT_PATIENTS)
    patient = patient_for(user, patient_id)
    event = event_for(user, patient, table, pk)
    form_class = EVENT_FORMS[table]
    alert = None
    if posted(request):
        form = form_class(request.POST, sites=_sites())
        if form.is_valid() and not followup.calculating(request):
            saved, alert = attempt(
                lambda: services.update_event(user, patient, table, pk, form.row(),
                                              form.version_value or 0),
                {table: form}, form)
            if saved is not None:
                messages.success(request, str(SAVED[table]))
                return _patient_page(patient)
            if alert:
                # The first change stays: show the record as it is stored now.
                event = event_for(user, patient, table, pk)
                form = form_class(initial=initial_of(event, form_class), sites=_sites())
    else:
        form = form_class(initial=initial_of(event, form_class), sites=_sites())
    return render(request, "registry/event_form.html", {
        "form": form, "patient": patient, "table": table, "event": event, "alert": alert,
        "title": TITLES[table][1], "scales": _scales(),
        **followup.refill_form_context(patient, table, form, editing=pk)})


@require_http_methods(["GET", "POST"])
def event_delete(request: HttpRequest, patient_id: str, table: str, pk: int) -> HttpResponse:
    user = request.user
    require(user, Action.EDIT_PATIENTS)
    patient = patient_for(user, patient_id)
    event = event_for(user, patient, table, pk)
    form = VersionForm(request.POST or None, initial={"version": event.version})
    alert = None
    if posted(request) and form.is_valid():
        done, alert = attempt(
            lambda: services.delete_event(user, patient, table, pk,
                                          form.cleaned_data["version"]) or True,
            {}, form)
        if done:
            messages.success(request, gettext("The record was deleted."))
            return _patient_page(patient)
        if alert:
            # Confirm again against the record as it is now (404 if it is gone).
            event = event_for(user, patient, table, pk)
            form = VersionForm(initial={"version": event.version})
    what = describe_row(table, model_to_dict(event), get_language() or "et")
    return render(request, "registry/confirm_delete.html", {
        "form": form, "patient": patient, "alert": alert,
        "title": gettext("Delete this record of %(id)s?") % {"id": patient.patient_id},
        "explanation": what,
        "cancel_url": reverse("registry:patient_detail", args=[patient.patient_id]),
    })
