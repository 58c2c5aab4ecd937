"""The patient list, the patient page, and the patient's and identity's forms."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from math import prod

from auditlog.signals import accessed
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_http_methods, require_POST

from itb.domain import codes
from itb.domain.dates import completed_years
from itb.web.registry.forms import (
    IdentityForm,
    InitialImplantationForm,
    NewPatientForm,
    PatientForm,
    PersonalCodeSearchForm,
    VersionForm,
    initial_of,
)
from itb.web.registry.kept import Kept
from itb.web.registry.models import (
    Implantation,
    Patient,
    PatientIdentity,
    Refill,
    Site,
)
from itb.web.registry.permissions import ALL_SITES_ROLES, Action
from itb.web.registry.selectors import (
    can,
    identity_for,
    latest_change,
    patient_events,
    patient_for,
    patients_for,
    require,
    role_of,
    sites_for,
)
from itb.web.registry.services import records as services
from itb.web.registry.views import followup
from itb.web.registry.views.common import attempt, posted
from itb.web.registry.views.timeline import FILTERS, build_timeline

PAGE_SIZE = 50

# Sort keys of the list's columns -> the annotated or stored field they order by.
SORTS = {"id": "patient_id", "site": "site__code", "age": "age_at_first",
         "first": "first_implant", "refill": "last_refill"}
STATUSES = ("on", "ended")


# --- the list -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListQuery:
    """The list's search, filters and order, as read (and cleaned) from the query string."""

    q: str = ""
    site: str = ""
    status: str = ""
    level: str = ""
    sort: str = "id"

    @classmethod
    def read(cls, request: HttpRequest, site_codes: set[str]) -> ListQuery:
        get = request.GET
        sort = get.get("sort", "id")
        return cls(
            q=get.get("q", "").strip()[:64],
            site=site if (site := get.get("site", "")) in site_codes else "",
            status=status if (status := get.get("status", "")) in STATUSES else "",
            level=level if (level := get.get("level", "")) in codes.FUNCTIONAL_LEVEL else "",
            sort=sort if sort.lstrip("-") in SORTS else "id",
        )


def listing(user: object, query: ListQuery, site_keys: Mapping[str, int]) -> QuerySet[Patient]:
    """The patients of the user's scope for the list, filtered and in the list's order
    (``site_keys``: the scope's sites, code -> key).

    The first implantation and last refill are annotated (correlated subqueries) only when
    the list is sorted by them (or by the age, which needs the first): PostgreSQL evaluates
    such subqueries for every row that OFFSET skips too (1.1 s at page 801 of 10⁵ patients),
    so a page gets its two dates for its own 50 rows from ``list_rows``.
    """
    patients = patients_for(user)  # type: ignore[arg-type]
    if query.q:
        patients = patients.filter(patient_id__istartswith=query.q)
        if connection.vendor == "sqlite" and (ranges := prefix_ranges(query.q)) is not None:
            patients = patients.filter(ranges)
    if query.site:
        # By key, not through a join on the code: PostgreSQL then walks the (site,
        # patient_id) index instead of every patient's (34 ms for a page of one site).
        patients = patients.filter(site_id=site_keys[query.site])
    if query.status:
        patients = patients.filter(therapy_end_date__isnull=query.status == "on")
    if query.level:
        patients = patients.filter(functional_level=query.level)
    key = query.sort.lstrip("-")
    if key in {"first", "age"}:
        first_implant = Implantation.objects.filter(patient=OuterRef("pk"), kind="initial") \
            .order_by("implant_date").values("implant_date")[:1]
        patients = patients.annotate(first_implant=Subquery(first_implant))
    if key == "refill":
        last_refill = Refill.objects.filter(patient=OuterRef("pk")) \
            .order_by("-refill_date").values("refill_date")[:1]
        patients = patients.annotate(last_refill=Subquery(last_refill))
    if key == "age":
        patients = patients.annotate(age_at_first=ExpressionWrapper(
            F("first_implant") - F("birth_date"), output_field=DurationField()))
    column = F(SORTS[key])
    order = column.desc(nulls_last=True) if query.sort.startswith("-") \
        else column.asc(nulls_last=True)
    return patients.order_by(order, "patient_id")


# The list's counts, per process: (scope, filters, data version) -> patients. A count of 10⁵
# patients cost 8–37 ms on PostgreSQL on every page view; it changes only with the data.
_counts: Kept[int] = Kept(1000)


def kept_count(patients: QuerySet[Patient], key: Hashable) -> int:
    """``patients.count()``, kept under ``key`` (which must name the data version)."""
    count = _counts.get(key)
    return _counts.keep(key, patients.count()) if count is None else count


def forget_counts() -> None:
    """Drop the kept counts (tests whose data are written past the audit trail)."""
    _counts.clear()


@dataclass(frozen=True, slots=True)
class ListRow:
    """A patient as the list shows it."""

    patient_id: str
    site: str  # the site's code
    birth_date: date
    therapy_end_date: date | None
    functional_level: str
    first_implant: date | None  # the first initial implantation
    last_refill: date | None

    @property
    def age_at_first(self) -> int | None:
        """Completed years at the first implantation."""
        first = self.first_implant
        return completed_years(self.birth_date, first) if first is not None else None


def _date(value: date | str | None) -> date | None:
    """A date column of a raw query: SQLite returns the stored text, PostgreSQL a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def list_rows(patient_ids: list[str]) -> list[ListRow]:
    """The list's rows of these patients, in this order: one query, by their ids alone.

    The ids came through the user's scope and the list's filters (``ListPaginator``). The
    query is written out, not built by the ORM: it runs on every page view, and building it
    (and the three it replaced: the rows, the first implantations, the last refills) cost
    5 ms of CPU against 1 ms. Adding the scope's ``IN (SELECT … patients)`` again made
    PostgreSQL hash all 10⁵ patients for 50 (120 ms).
    """
    if not patient_ids:
        return []
    table = {model: connection.ops.quote_name(model._meta.db_table)
             for model in (Patient, Site, Implantation, Refill)}
    marks = ", ".join(["%s"] * len(patient_ids))
    sql = (
        "SELECT p.patient_id, s.code, p.birth_date, p.therapy_end_date, p.functional_level, "
        f"(SELECT MIN(i.implant_date) FROM {table[Implantation]} i "
        "WHERE i.patient_id = p.id AND i.kind = %s), "
        f"(SELECT MAX(r.refill_date) FROM {table[Refill]} r WHERE r.patient_id = p.id) "
        f"FROM {table[Patient]} p JOIN {table[Site]} s ON s.id = p.site_id "
        f"WHERE p.patient_id IN ({marks})")
    with connection.cursor() as cursor:
        cursor.execute(sql, ["initial", *patient_ids])
        found = {row[0]: ListRow(row[0], row[1], _date(row[2]), _date(row[3]),  # type: ignore[arg-type]
                                 row[4], _date(row[5]), _date(row[6]))
                 for row in cursor.fetchall()}
    return [found[patient_id] for patient_id in patient_ids if patient_id in found]


class ListPaginator(Paginator):
    """The list's pages: the count kept per data version (``count_key``); the page's ids
    read first, alone, in the list's order, then their rows (``list_rows``).

    ``OFFSET`` walks every patient before the page: reading just their ids walks the
    patient_id (or site, patient_id) index alone, where the full rows cost a table lookup
    each (PostgreSQL 35–60 ms at pages 800–1500 of 10⁵, SQLite 13–26 ms). The page's 50 rows
    are then read by those ids alone, which came through the scope and the filters: with the
    filters again SQLite sorted a whole site's patients for them (30 ms).
    """

    def __init__(self, patients: QuerySet[Patient], count_key: Hashable) -> None:
        super().__init__(patients, PAGE_SIZE)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        return kept_count(self.object_list, self.count_key)

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        ids = list(self.object_list.values_list("patient_id", flat=True)[bottom:top])
        return self._get_page(list_rows(ids), number, self)


def list_count_key(user: object, sites: list[Site], query: ListQuery) -> Hashable:
    """What a list's count depends on: the scope (every site, or the user's), the filters
    and the data version."""
    scope = "all" if role_of(user) in ALL_SITES_ROLES else tuple(  # type: ignore[arg-type]
        sorted(site.pk for site in sites))
    return (scope, query.q, query.site, query.status, query.level, latest_change())


MAX_PREFIX_RANGES = 16


def prefix_ranges(prefix: str) -> Q | None:
    """Where ``patient_id__istartswith=prefix`` can match on SQLite, as index ranges.

    SQLite's LIKE folds the case of ASCII letters only and cannot use the patient_id index
    for it, so every search (and its count) read all 10⁵ ids (13 ms for the count alone).
    The ids it matches start with one of the prefix's ASCII case variants: each variant v is
    the range v <= id < v with its last character's successor (SQLite compares text by code
    point), which the index finds. None (no narrowing) for more than MAX_PREFIX_RANGES
    variants.
    """
    choices = [sorted({c.lower(), c.upper()}) if c.isascii() and c.isalpha() else [c]
               for c in prefix]
    if prod(len(choice) for choice in choices) > MAX_PREFIX_RANGES or \
            ord(prefix[-1]) == sys.maxunicode:
        return None
    ranges = Q()
    for letters in itertools.product(*choices):
        start = "".join(letters)
        ranges |= Q(patient_id__gte=start, patient_id__lt=start[:-1] + chr(ord(start[-1]) + 1))
    return ranges


def patient_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can(user, Action.VIEW_PATIENTS):
        # A researcher reads the report; an administrator manages users.
        if can(user, Action.VIEW_REPORT):
            return redirect("registry:report")
        if can(user, Action.MANAGE_USERS):
            return redirect("admin:index")
        require(user, Action.VIEW_PATIENTS)
    sites = list(sites_for(user))
    site_keys = {site.code: site.pk for site in sites}
    query = ListQuery.read(request, set(site_keys))
    paginator = ListPaginator(listing(user, query, site_keys), list_count_key(user, sites, query))
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "registry/patient_list.html", {
        "page": page, "query": query, "sites": sites,
        "levels": list(codes.FUNCTIONAL_LEVEL),
        "search_form": PersonalCodeSearchForm() if can(user, Action.VIEW_IDENTITY) else None,
        "filtered": any((query.q, query.site, query.status, query.level)),
    })


@require_POST
def personal_code_search(request: HttpRequest) -> HttpResponse:
    """Find a patient by personal code (exact). POST: the code stays out of URLs and logs."""
    require(request.user, Action.VIEW_PATIENTS)
    require(request.user, Action.VIEW_IDENTITY)
    form = PersonalCodeSearchForm(request.POST)
    if form.is_valid():
        identities = PatientIdentity.objects.filter(
            personal_code=form.cleaned_data["personal_code"],
            patient__in=patients_for(request.user)).select_related("patient")
        found = [identity.patient for identity in identities[:2]]
        if len(found) == 1:
            return redirect("registry:patient_detail", patient_id=found[0].patient_id)
    messages.info(request, gettext("No patient of yours has this personal code."))
    return redirect("registry:patient_list")


# --- the patient page -----------------------------------------------------------------------

def patient_detail(request: HttpRequest, patient_id: str) -> HttpResponse:
    user = request.user
    patient = patient_for(user, patient_id, with_identity=True)
    identity = identity_for(user, patient)
    if identity is not None:
        # Seeing a name and personal code is itself recorded in the audit trail.
        accessed.send(sender=PatientIdentity, instance=identity)
    lang = get_language() or "et"
    events = patient_events(patient)
    timeline = build_timeline(patient, events["implantations"], events["refills"],
                              events["complications"], events["assessments"],
                              events["screening_trials"], lang)
    show = request.GET.get("show", "")
    if show in FILTERS:
        timeline = [entry for entry in timeline if entry.kind == show]
    else:
        show = ""
    return render(request, "registry/patient_detail.html", {
        "patient": patient, "identity": identity, "timeline": timeline, "show": show,
        "filters": [(table, label, len(events[table])) for table, label in FILTERS.items()],
        "total": sum(len(rows) for rows in events.values()),
        "may_see_identity": can(user, Action.VIEW_IDENTITY),
        "may_edit": can(user, Action.EDIT_PATIENTS),
        "age": completed_years(patient.birth_date,
                               patient.therapy_end_date or timezone.localdate()),
        **followup.patient_context(user, patient, events, lang),
    })


def _patient_url(patient: Patient) -> str:
    return reverse("registry:patient_detail", args=[patient.patient_id])


def _to_patient(patient: Patient) -> HttpResponse:
    return redirect(_patient_url(patient))


# --- the patient's forms --------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Action.EDIT_PATIENTS)
    sites = list(sites_for(user))
    all_sites = list(Site.objects.all())
    if posted(request):
        form = NewPatientForm(request.POST, sites=sites)
        initial = InitialImplantationForm(request.POST, sites=all_sites)
        if form.is_valid() and initial.is_valid():
            patient, _stale = attempt(
                lambda: services.create_patient(user, form.row(), initial.row()),
                {"patients": form, "implantations": initial}, form)
            if patient is not None:
                messages.success(request, gettext("The patient was registered."))
                return _to_patient(patient)
    else:
        only_site = {"site": sites[0].code} if len(sites) == 1 else {}
        form = NewPatientForm(initial=only_site, sites=sites)
        initial = InitialImplantationForm(initial=only_site, sites=all_sites)
    return render(request, "registry/patient_form.html", {
        "form": form, "initial_form": initial, "creating": True})


@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, patient_id: str) -> HttpResponse:
    user = request.user
    require(user, Action.EDIT_PATIENTS)
    patient = patient_for(user, patient_id)
    sites = list(sites_for(user))
    alert = None
    if posted(request):
        form = PatientForm(request.POST, sites=sites)
        if form.is_valid():
            saved, alert = attempt(
                lambda: services.update_patient(user, patient, form.row(),
                                                form.version_value or 0),
                {"patients": form}, form)
            if saved is not None:
                messages.success(request, gettext("The patient's record was saved."))
                return _to_patient(saved)
            if alert:
                patient = patient_for(user, patient_id)
                form = PatientForm(initial=initial_of(patient, PatientForm), sites=sites)
    else:
        form = PatientForm(initial=initial_of(patient, PatientForm), sites=sites)
    return render(request, "registry/patient_form.html", {
        "form": form, "patient": patient, "alert": alert})


@require_http_methods(["GET", "POST"])
def patient_delete(request: HttpRequest, patient_id: str) -> HttpResponse:
    user = request.user
    require(user, Action.EDIT_PATIENTS)
    patient = patient_for(user, patient_id)
    form = VersionForm(request.POST or None, initial={"version": patient.version})
    alert = None
    if posted(request) and form.is_valid():
        done, alert = attempt(
            lambda: services.delete_patient(user, patient, form.cleaned_data["version"]) or True,
            {}, form)
        if done:
            messages.success(request, gettext("The patient %(id)s and their whole record were "
                                              "deleted.") % {"id": patient.patient_id})
            return redirect("registry:patient_list")
        if alert:
            patient = patient_for(user, patient_id)
            form = VersionForm(initial={"version": patient.version})
    return render(request, "registry/confirm_delete.html", {
        "form": form, "patient": patient, "alert": alert,
        "title": gettext("Delete the patient %(id)s?") % {"id": patient.patient_id},
        "explanation": gettext("The patient's whole record is deleted: identity, bolus trials, "
                               "surgeries, refills, complications and assessments. The audit "
                               "trail keeps a copy of every deleted row."),
        "cancel_url": _patient_url(patient),
    })


# --- identity -------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def identity_edit(request: HttpRequest, patient_id: str) -> HttpResponse:
    user = request.user
    require(user, Action.EDIT_PATIENTS)
    require(user, Action.VIEW_IDENTITY)
    patient = patient_for(user, patient_id)
    identity = identity_for(user, patient)
    alert = None
    if posted(request):
        form = IdentityForm(request.POST)
        if form.is_valid():
            saved, alert = attempt(
                lambda: services.save_identity(user, patient, form.row(),
                                               form.cleaned_data["version"]),
                {"identity": form}, form)
            if saved is not None:
                messages.success(request, gettext("The identity was saved."))
                return _to_patient(patient)
            if alert:
                identity = identity_for(user, patient)
                form = _identity_form(identity)
    else:
        form = _identity_form(identity)
    if identity is not None and not form.is_bound:
        accessed.send(sender=PatientIdentity, instance=identity)
    return render(request, "registry/identity_form.html", {
        "form": form, "patient": patient, "identity": identity, "alert": alert})


def _identity_form(identity: PatientIdentity | None) -> IdentityForm:
    if identity is None:
        return IdentityForm()
    return IdentityForm(initial={"version": identity.version,
                                 "personal_code": identity.personal_code,
                                 "first_name": identity.first_name,
                                 "last_name": identity.last_name})


@require_http_methods(["GET", "POST"])
def identity_delete(request: HttpRequest, patient_id: str) -> HttpResponse:
    user = request.user
    require(user, Action.EDIT_PATIENTS)
    require(user, Action.VIEW_IDENTITY)
    patient = patient_for(user, patient_id)
    identity = identity_for(user, patient)
    if identity is None:
        return _to_patient(patient)
    form = VersionForm(request.POST or None, initial={"version": identity.version})
    alert = None
    if posted(request) and form.is_valid():
        done, alert = attempt(
            lambda: services.delete_identity(user, patient, form.cleaned_data["version"])
            or True, {}, form)
        if done:
            messages.success(request, gettext("The identity was deleted."))
            return _to_patient(patient)
        if alert:
            identity = identity_for(user, patient)
            if identity is None:
                return _to_patient(patient)
            form = VersionForm(initial={"version": identity.version})
    return render(request, "registry/confirm_delete.html", {
        "form": form, "patient": patient, "alert": alert,
        "title": gettext("Delete the identity of %(id)s?") % {"id": patient.patient_id},
        "explanation": gettext("The name and personal code are deleted; the clinical record "
                               "stays."),
        "cancel_url": _patient_url(patient),
    })
