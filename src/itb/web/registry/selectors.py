"""Every read of registry data goes through here, scoped to what the user may see.

A patient outside the user's scope does not exist for them: a 404, never a 403, so that
not even the existence of another site's patient leaks.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

import polars as pl
from auditlog.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import CharField, Count, Max, QuerySet
from django.db.models.functions import Cast
from django.http import Http404

from itb.registry_io.loader import Registry
from itb.registry_io.schema import CLINICAL_FILES, FileSpec, Kind
from itb.web.registry.models import (
    EVENT_MODELS,
    ImportRecord,
    Patient,
    PatientEvent,
    PatientIdentity,
    Role,
    Site,
)
from itb.web.registry.permissions import ALL_SITES_ROLES, ROLE_ACTIONS, Action

User = AbstractBaseUser | AnonymousUser


def role_of(user: User) -> Role | None:
    if not user.is_authenticated:
        return None
    profile = getattr(user, "profile", None)
    if profile is not None:
        return Role(profile.role)
    return Role.ADMINISTRATOR if getattr(user, "is_superuser", False) else None


def can(user: User, action: Action) -> bool:
    role = role_of(user)
    return role is not None and action in ROLE_ACTIONS[role]


def require(user: User, action: Action) -> None:
    if not can(user, action):
        raise PermissionDenied(action.value)


def sites_for(user: User) -> QuerySet[Site]:
    role = role_of(user)
    if role in ALL_SITES_ROLES:
        return Site.objects.all()
    if role is Role.CLINICIAN:
        return Site.objects.filter(members__user=user)
    return Site.objects.none()


def patients_for(user: User) -> QuerySet[Patient]:
    """The patients whose clinical record the user may read."""
    if not (can(user, Action.VIEW_PATIENTS) or can(user, Action.VIEW_REPORT)):
        return Patient.objects.none()
    role = role_of(user)
    if role in ALL_SITES_ROLES:
        return Patient.objects.all()
    return Patient.objects.filter(site__in=sites_for(user))


def patient_for(user: User, patient_id: str, with_identity: bool = False) -> Patient:
    """One patient of the user's scope, or 404; ``with_identity``: the identity read in the
    same query, for roles that may see it (``identity_for`` then reads no more)."""
    require(user, Action.VIEW_PATIENTS)
    related = ("site", "identity") if with_identity and can(user, Action.VIEW_IDENTITY) \
        else ("site",)
    try:
        return patients_for(user).select_related(*related).get(patient_id=patient_id)
    except Patient.DoesNotExist:
        raise Http404("no such patient") from None


def identity_for(user: User, patient: Patient) -> PatientIdentity | None:
    """The patient's identity for roles that may see it (the caller logs the access): as
    read with the patient (``patient_for(..., with_identity=True)``), else from the database
    (so a re-read after a refused save is fresh)."""
    if not can(user, Action.VIEW_IDENTITY):
        return None
    if Patient.identity.is_cached(patient):
        return getattr(patient, "identity", None)  # None cached: the patient has none
    identity = PatientIdentity.objects.filter(patient=patient).first()
    if identity is not None:
        identity.patient = patient  # its audit entry names the patient: not read again
    return identity


class RefillValues(NamedTuple):
    """A refill as the patient page shows it (the model's field names): a long therapy has
    hundreds, and a model instance each (two timestamps and four decimals converted) cost
    ~40 µs apiece, most of the page's reading."""

    pk: int
    refill_date: date
    volume_ml: Decimal | None
    concentration_mcg_ml: Decimal | None
    daily_dose_mcg: Decimal | None
    residual_ml: Decimal | None


@lru_cache(maxsize=16)
def _one_patients_rows_sql(alias: str, table: str) -> str:
    """The ORM's SQL for one patient's rows of an event table (the parameter: the patient's
    key), compiled once per database and table: compiling it cost twice the CPU of running
    it (~0.3 of ~0.5 ms on PostgreSQL), on every patient page."""
    sql, params = EVENT_MODELS[table].objects.using(alias).filter(patient_id=0) \
        .query.sql_with_params()
    if params != (0,):
        raise AssertionError(f"{table}: unexpected parameters {params}")
    return str(sql)


def patient_events(patient: Patient) -> dict[str, list[Any]]:
    """Every event of a patient that ``patient_for`` read (so of the user's scope), by
    table: the patient's own rows, with no scope subquery in each of the five queries. The
    refills as ``RefillValues`` in date order, a day's in the order they were recorded (the
    only place that orders them); implantations with their site."""
    alias = patient._state.db or "default"
    events: dict[str, list[Any]] = {
        table: list(EVENT_MODELS[table].objects.using(alias).raw(
            _one_patients_rows_sql(alias, table), [patient.pk]))
        for table in ("complications", "assessments", "screening_trials")}
    refills = EVENT_MODELS["refills"].objects.using(alias).filter(patient=patient) \
        .order_by("refill_date", "pk").values_list(*RefillValues._fields)
    events["refills"] = [RefillValues(*row) for row in refills]
    events["implantations"] = list(EVENT_MODELS["implantations"].objects.using(alias)
                                   .filter(patient=patient).select_related("site"))
    return events


# What the registry's data are, as the audit trail knows them (see latest_change).
AUDITED_DATA = (Patient, Site, ImportRecord, *EVENT_MODELS.values())


def latest_change() -> int | None:
    """Changes whenever registry data are added, changed or deleted, however (forms, admin,
    import): the newest entry of the audit trail about a clinical record, a site or an
    import (an import writes past the trail's signals but leaves its one ImportRecord, itself
    audited). One index lookup, where counting and scanning every table took seconds at 10⁵
    patients: what results computed from the data (the report, the list's counts) are kept
    by."""
    changes = LogEntry.objects.filter(
        content_type__in=list(ContentType.objects.get_for_models(*AUDITED_DATA).values()),
        action__in=[LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.DELETE])
    return changes.order_by("-pk").values_list("pk", flat=True).first()


def event_for(user: User, patient: Patient, table: str, pk: int) -> PatientEvent:
    model = EVENT_MODELS[table]
    try:
        return model.objects.get(patient=patient, pk=pk)
    except model.DoesNotExist:
        raise Http404("no such record") from None


# --- the registry as analysis tables --------------------------------------------------------

_POLARS_TYPE = {Kind.DATE: pl.Date, Kind.NUMBER: pl.Float64}


def _spec(table: str) -> FileSpec:
    return next(s for s in CLINICAL_FILES if s.table == table)


def _frame(table: str, queryset: QuerySet[Any]) -> pl.DataFrame:
    spec = _spec(table)
    # SQLite keeps dates as text, which Django's converter parses one by one: read as text.
    as_text = connections[queryset.db].vendor == "sqlite"
    fields: list[Any] = []
    for column in spec.columns:
        if column.name == "patient_id" and table != "patients":
            fields.append("patient__patient_id")
        elif column.kind is Kind.SITE:
            fields.append(f"{column.name}__code")
        elif column.kind is Kind.DATE and as_text:
            fields.append(Cast(column.name, CharField()))
        else:
            fields.append(column.name)
    # The rows as the database driver returns them, typed by polars: through the ORM each
    # value went through its field's converter (a Decimal; a date parsed from text), ~20 s
    # for the 2.7 million rows of 10⁵ patients.
    sql, params = queryset.values_list(*fields).query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    read_as = {Kind.DATE: pl.String if as_text else pl.Date, Kind.NUMBER: pl.Float64}
    frame = pl.DataFrame(rows, schema={c.name: read_as.get(c.kind, pl.String)
                                       for c in spec.columns}, orient="row", strict=False)
    return frame.with_columns(
        pl.col(c.name).str.to_date("%Y-%m-%d") if c.kind is Kind.DATE
        # Empty text is unknown (null), as an empty cell is in the files.
        else pl.when(pl.col(c.name) != "").then(pl.col(c.name))
        for c in spec.columns
        if c.kind not in _POLARS_TYPE or (c.kind is Kind.DATE and as_text))


def registry_for(user: User, cutoff: date, patient: Patient | None = None, *,
                 patient_ids: Collection[str] | None = None) -> Registry:
    """The user's scope of the registry as the analysis tables (what load_registry returns);
    with ``patient`` (or ``patient_ids``), only those patients' rows (e.g. the patient page's
    follow-up, or the patients whose record changed)."""
    patients = patients_for(user)
    if patient is not None:
        patients = patients.filter(pk=patient.pk)
    if patient_ids is not None:
        patients = patients.filter(patient_id__in=list(patient_ids))
    return _registry(patients, sites_for(user), cutoff)


def record_versions(user: User) -> dict[str, tuple[Any, ...]]:
    """Each patient of the user's scope (by patient_id) -> a value that changes whenever a
    row of the patient's record is added, changed or deleted: row counts and latest change
    per table.

    A few grouped queries, however many patients: what lets a per-patient result be kept
    until that patient's record changes.
    """
    patients = patients_for(user)
    # Times as the database's text: compared, never read, so not parsed row by row.
    versions: dict[str, tuple[Any, ...]] = {
        pid: (pk, updated) for pid, pk, updated in
        patients.values_list("patient_id", "pk", Cast("updated_at", CharField()))}
    keys = {version[0]: pid for pid, version in versions.items()}
    for table, model in EVENT_MODELS.items():
        grouped = (model.objects.filter(patient__in=patients).order_by().values("patient")
                   .annotate(n=Count("pk"), last=Cast(Max("updated_at"), CharField()))
                   .values_list("patient", "n", "last"))
        for pk, count, last in grouped:
            pid = keys[pk]
            versions[pid] = (*versions[pid], table, count, last)
    return versions


def whole_registry(cutoff: date) -> Registry:
    """The whole registry as the analysis tables: for the command line (``itb due``), whose
    user may read the database anyway."""
    return _registry(Patient.objects.all(), Site.objects.all(), cutoff)


def _registry(patients: QuerySet[Patient], sites: QuerySet[Site], cutoff: date) -> Registry:
    tables = {"patients": _frame("patients", patients)}
    for table in EVENT_MODELS:
        tables[table] = _frame(table, EVENT_MODELS[table].objects.filter(
            patient__in=patients))
    return Registry(
        patients=tables["patients"], implantations=tables["implantations"],
        complications=tables["complications"], assessments=tables["assessments"],
        refills=tables["refills"], screening_trials=tables["screening_trials"], cutoff=cutoff,
        site_names=dict(sites.values_list("code", "name")),
    )
