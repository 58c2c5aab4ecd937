"""The audit trail, for coordinators: recent entries with filters, one patient's, one user's.

Read-only by design: the application has no way to change or delete an entry (the admin's
log pages are read-only too, see admin.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from itb.web.registry.audit import ACTION_LABELS, RECORD_LABELS, audit_entries, present

PER_PAGE = 50


class AuditFilterForm(forms.Form):
    action = forms.TypedChoiceField(
        label=_("Action"), required=False, coerce=int, empty_value=None,
        choices=[("", _("All")), *ACTION_LABELS.items()])
    record_type = forms.ChoiceField(label=_("Record"), required=False,
                                    choices=[("", _("All")), *RECORD_LABELS.items()])
    username = forms.CharField(label=_("User"), required=False, max_length=150)
    patient_id = forms.CharField(label=_("Registry id"), required=False, max_length=64)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self) -> dict[str, Any]:
        """The valid, filled-in filters; an invalid one is shown with its error and ignored."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items()
                if value not in (None, "")}


def _render(request: HttpRequest, entries: QuerySet[Any], title: str | Promise,
            form: AuditFilterForm | None = None) -> HttpResponse:
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "registry/audit/entries.html", {
        "title": title, "form": form, "page": page, "rows": present(page.object_list)})


def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    # audit_entries checks the permission first (403 for anyone without VIEW_AUDIT).
    entries = audit_entries(request.user, **form.filters())
    return _render(request, entries, _("Audit trail"), form)


def audit_patient(request: HttpRequest, patient_id: str) -> HttpResponse:
    # No 404 for an unknown id: a deleted patient's trail must stay readable.
    entries = audit_entries(request.user, patient_id=patient_id)
    return _render(request, entries, _("Audit trail of patient %(patient_id)s")
                   % {"patient_id": patient_id})


def audit_user(request: HttpRequest, username: str) -> HttpResponse:
    entries = audit_entries(request.user, username=username)
    return _render(request, entries, _("Audit trail of user %(username)s")
                   % {"username": username})
