"""The study report of the user's scope: tables in the page, every output file to download.

The report is computed once per (scope, language, cut-off, data version) and kept in the
cache; the data version is the newest audit-trail entry about the data (``latest_change``),
so any write, however made (forms, import, admin), gives a fresh report.

The cache is the database's (settings.CACHES), so every worker and process of the registry
shares each computed report. Computing one takes minutes at 10⁵ patients, longer than a
request may: with ``ITB_REPORT_BACKGROUND`` (the default) a request that finds no report of
the current data starts its computation in a thread of the worker and answers at once with
a page that says so and refreshes itself, showing the previous report meanwhile. A marker in
the cache (``add`` is atomic: the key is the table's primary key) lets one computation run
per report across workers; a heartbeat keeps it alive, so that a worker that dies mid-way
frees the report within a minute.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_GET

from itb.analysis.study import analyse
from itb.reports.tables import DisplayTable, build_tables
from itb.reports.writer import render_report
from itb.web.registry.kept import Kept
from itb.web.registry.models import Role
from itb.web.registry.permissions import ALL_SITES_ROLES, Action
from itb.web.registry.selectors import (
    User,
    latest_change,
    registry_for,
    require,
    role_of,
    sites_for,
)

CACHE_SECONDS = 24 * 3600
MARKER_SECONDS = 60  # a computation's marker lives this long past its last heartbeat
HEARTBEAT_SECONDS = 15
FAILED_SECONDS = 5 * 60  # after a failed computation, the next try waits this long
REFRESH_SECONDS = 10  # the waiting page reloads itself this often…
REFRESH_WITH_PREVIOUS_SECONDS = 30  # …and less often while it shows the previous report

logger = logging.getLogger(__name__)
_FRAMES_LOGGED = 6
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
    """Changes whenever registry data are added, changed or deleted (``latest_change``) or
    the scope's sites are. A change at another site also gives a clinician a fresh report,
    which is merely a recomputation."""
    sites = tuple(sites_for(user).order_by("code").values_list("code", "name"))
    return repr((latest_change(), sites))


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class ReportKeys:
    """Where a report lives in the cache: ``report`` for this data version; ``latest`` names
    the newest report computed for the scope and language (the one shown while a newer one
    is computed)."""

    report: str
    latest: str

    @classmethod
    def of(cls, user: User, lang: str, cutoff: date) -> ReportKeys:
        scope = scope_key(user)
        return cls("registry:report:" + _digest(scope, lang, cutoff.isoformat(),
                                                data_version(user)),
                   "registry:report-latest:" + _digest(scope, lang))

    @property
    def computing(self) -> str:
        return self.report + ":computing"

    @property
    def failed(self) -> str:
        return self.report + ":failed"


@dataclass(frozen=True)
class ReportState:
    """What a request can show: the report of the current data, or (``current`` false) the
    previous one or none while the current one is computed (``failed``: its last try
    failed)."""

    kept: _Kept | None  # the report, as this worker keeps it
    current: bool
    failed: bool = False

    @property
    def report(self) -> RenderedReport | None:
        return self.kept.report if self.kept is not None else None


@dataclass
class _Kept:
    """A report read from the cache, and its tables as HTML once a page has rendered them."""

    report: RenderedReport
    tables_html: str | None = None


# The reports this worker read last, by cache key. A key names what the report was computed
# from (scope, language, cut-off, data version), so a kept report is never stale; keeping it
# saves each page view reading and unpickling it from the database and rendering its tables
# (most of the page's time).
_kept: Kept[_Kept] = Kept(8)


def forget_kept_reports() -> None:
    """Empty this worker's kept reports (tests: a rolled-back test may hand its data version,
    hence its keys, to the next)."""
    _kept.clear()


def _cached(key: str) -> _Kept | None:
    kept = _kept.get(key)
    if kept is not None:
        return kept
    report: RenderedReport | None = cache.get(key)
    return None if report is None else _kept.keep(key, _Kept(report))


def rendered_report(user: User, lang: str) -> ReportState:
    cutoff = timezone.localdate()
    keys = ReportKeys.of(user, lang, cutoff)
    kept = _cached(keys.report)
    if kept is not None:
        return ReportState(kept, current=True)
    if not settings.ITB_REPORT_BACKGROUND:
        report = _compute_and_keep(user, lang, cutoff, keys)
        return ReportState(_kept.keep(keys.report, _Kept(report)), current=True)
    failed = cache.get(keys.failed) is not None
    if not failed:
        start_computing(user, lang, cutoff, keys)
    previous_key = cache.get(keys.latest)
    previous = _cached(previous_key) if previous_key else None
    return ReportState(previous, current=False, failed=failed)


def _compute_and_keep(user: User, lang: str, cutoff: date, keys: ReportKeys) -> RenderedReport:
    report = _render(user, lang, cutoff)
    cache.set(keys.report, report, CACHE_SECONDS)
    cache.set(keys.latest, keys.report, CACHE_SECONDS)
    return report


def start_computing(user: User, lang: str, cutoff: date,
                    keys: ReportKeys) -> threading.Thread | None:
    """Start computing the report in a thread, unless it is already being computed (by any
    worker); the thread, for whoever wants to wait for it."""
    if not cache.add(keys.computing, os.getpid(), MARKER_SECONDS):
        return None
    thread = threading.Thread(target=_compute_in_background, args=(user, lang, cutoff, keys),
                              name="itb-report", daemon=True)
    thread.start()
    return thread


def _compute_in_background(user: User, lang: str, cutoff: date, keys: ReportKeys) -> None:
    stop = threading.Event()
    heartbeat = threading.Thread(target=_keep_alive, args=(keys.computing, stop),
                                 name="itb-report-heartbeat", daemon=True)
    heartbeat.start()
    try:
        # Another worker may have finished it between this request's look and the marker.
        if cache.get(keys.report) is None:
            with translation.override(lang):
                _compute_and_keep(user, lang, cutoff, keys)
    except Exception as error:
        logger.error("the report could not be computed: %s", _where(error))
        cache.set(keys.failed, True, FAILED_SECONDS)
    finally:
        stop.set()
        heartbeat.join()
        cache.delete(keys.computing)
        connections.close_all()  # this thread's own connections


def _where(error: BaseException) -> str:
    """The exception's type and innermost frames, without its message: a message may quote
    registry values, which must not reach the logs."""
    frames = traceback.extract_tb(error.__traceback__)[-_FRAMES_LOGGED:]
    path = " < ".join(f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
                      for frame in reversed(frames))
    return f"{type(error).__name__} at {path}"


def _keep_alive(marker: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(HEARTBEAT_SECONDS):
            cache.touch(marker, MARKER_SECONDS)
    finally:
        connections.close_all()


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


def _page(request: HttpRequest, state: ReportState, status: int = 200) -> HttpResponse:
    report = state.report
    refresh = None
    if not state.current:
        refresh = REFRESH_WITH_PREVIOUS_SECONDS if report is not None else REFRESH_SECONDS
    response = render(request, "registry/report.html", {
        "report": report, "current": state.current, "failed": state.failed,
        "tables_html": _tables_html(state) if report is not None else "",
        "refresh_seconds": refresh,
        "downloads": downloads(report) if report is not None else [],
        "all_sites": role_of(request.user) in ALL_SITES_ROLES,
        "scope_sites": list(sites_for(request.user)),
        "is_clinician": role_of(request.user) is Role.CLINICIAN,
    }, status=status)
    if refresh is not None:
        response["Cache-Control"] = "no-store"
    return response


def _tables_html(state: ReportState) -> str:
    kept = state.kept
    assert kept is not None  # a page with a report
    if kept.tables_html is None:
        kept.tables_html = render_to_string("registry/report_tables.html",
                                            {"report": kept.report})
    return kept.tables_html


@require_GET
def report(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VIEW_REPORT)
    return _page(request, rendered_report(request.user, get_language() or "et"))


@require_GET
def report_file(request: HttpRequest, name: str) -> HttpResponse:
    require(request.user, Action.VIEW_REPORT)
    state = rendered_report(request.user, get_language() or "et")
    rendered = state.report
    if rendered is None:
        # A link from an earlier page: the report is not ready yet (say so, and when to retry).
        response = _page(request, state, status=503)
        response["Retry-After"] = str(REFRESH_SECONDS)
        return response
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
