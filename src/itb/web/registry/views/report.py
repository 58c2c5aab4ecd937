"""The study report of the user's scope: tables in the page, every output file to download.

The report is computed once per (scope, language, cut-off, data version) and kept in the
cache; the data version is read from the database (row counts and latest change of every
table in scope), so any write, however made (forms, import, admin), gives a fresh report.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_GET

from itb.analysis.study import analyse
from itb.reports.tables import DisplayTable, build_tables
from itb.reports.writer import render_report
from itb.web.registry.models import EVENT_MODELS, Role
from itb.web.registry.permissions import ALL_SITES_ROLES, Action
from itb.web.registry.selectors import (
    User,
    events_for,
    patients_for,
    registry_for,
    require,
    role_of,
    sites_for,
)

CACHE_SECONDS = 24 * 3600
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "png": "image/png",
    "svg": "image/svg+xml",
}


@dataclass(frozen=True)
class RenderedReport:
    cutoff: date
    n_patients: int
    tables: list[DisplayTable] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


def scope_key(user: User) -> str:
    """What the user's report is computed from: every site, or their sites."""
    role = role_of(user)
    if role in ALL_SITES_ROLES:
        return "all"
    return ",".join(sorted(sites_for(user).values_list("code", flat=True)))


def data_version(user: User) -> str:
    """Changes whenever a row in the user's scope is added, changed or deleted."""
    parts: list[object] = []
    for queryset in (patients_for(user), *(events_for(user, t) for t in EVENT_MODELS)):
        parts.append(tuple(queryset.aggregate(n=Count("pk"), last=Max("updated_at")).values()))
    parts.append(tuple(sites_for(user).order_by("code").values_list("code", "name")))
    return repr(parts)


def _cache_key(user: User, lang: str, cutoff: date) -> str:
    material = "|".join((scope_key(user), lang, cutoff.isoformat(), data_version(user)))
    return "registry:report:" + hashlib.sha256(material.encode()).hexdigest()


def rendered_report(user: User, lang: str) -> RenderedReport:
    cutoff = timezone.localdate()
    key = _cache_key(user, lang, cutoff)
    report: RenderedReport | None = cache.get(key)
    if report is None:
        report = _render(user, lang, cutoff)
        cache.set(key, report, CACHE_SECONDS)
    return report


def _render(user: User, lang: str, cutoff: date) -> RenderedReport:
    registry = registry_for(user, cutoff)
    if registry.patients.height == 0:
        return RenderedReport(cutoff, 0)  # the page says so; analyse() needs patients
    result = analyse(registry)
    return RenderedReport(cutoff, result.n_patients, build_tables(result, lang),
                          render_report(result, lang))


def downloads(report: RenderedReport) -> list[tuple[str, str]]:
    """(file name, what it is) of the whole-report files; each table's CSV and the figure's
    files are offered beside the table itself."""
    named = [
        ("report.html", gettext("Report (HTML, for printing)")),
        ("report.json", gettext("Report data (JSON)")),
        ("report.md", gettext("Report (Markdown)")),
    ]
    return [(name, what) for name, what in named if name in report.files]


@require_GET
def report(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VIEW_REPORT)
    lang = get_language() or "et"
    rendered = rendered_report(request.user, lang)
    return render(request, "registry/report.html", {
        "report": rendered, "downloads": downloads(rendered),
        "all_sites": role_of(request.user) in ALL_SITES_ROLES,
        "scope_sites": list(sites_for(request.user)),
        "is_clinician": role_of(request.user) is Role.CLINICIAN,
    })


@require_GET
def report_file(request: HttpRequest, name: str) -> HttpResponse:
    require(request.user, Action.VIEW_REPORT)
    rendered = rendered_report(request.user, get_language() or "et")
    if name not in rendered.files:
        raise Http404("no such report file")
    extension = name.rsplit(".", 1)[-1]
    response = HttpResponse(rendered.files[name], content_type=CONTENT_TYPES[extension])
    # Images are shown in the report page; documents are saved (report.html carries its own
    # inline style, which this site's Content-Security-Policy would rightly refuse to apply).
    disposition = "inline" if extension in {"png", "svg"} else "attachment"
    response["Content-Disposition"] = (
        f'{disposition}; filename="itb-{rendered.cutoff.isoformat()}-{name}"')
    response["Cache-Control"] = "private, no-store"
    return response
