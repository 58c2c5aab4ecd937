"""The coordinator's data-quality page: counts per check and site, and the flagged records."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from itb.web.registry.quality import CHECK_CODES, quality_report

# Without a filter, each check lists its first few records under the counts; choosing a
# check (and a site) lists up to ITEMS_FILTERED of them. The full list is `itb quality`.
ITEMS_UNFILTERED = 20
ITEMS_FILTERED = 1000


def quality(request: HttpRequest) -> HttpResponse:
    check = request.GET.get("check")
    check = check if check in CHECK_CODES else None
    site = request.GET.get("site") or None
    # quality_report checks the permission (403 for anyone without VIEW_QUALITY).
    report = quality_report(request.user, check=check, site=site,
                            item_limit=ITEMS_FILTERED if check else ITEMS_UNFILTERED)
    sections = [(_("Missing for the report"), report.missing),
                (_("Accepted with a warning"), report.warnings)]
    return render(request, "registry/quality.html",
                  {"report": report, "sections": sections, "check": check, "site": site})
