"""Views: thin; reads through selectors (site-scoped), writes through services (audited)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def patient_list(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/patient_list.html", {})
