"""Writes of patients, identities and therapy events.

Every write runs in one transaction that first locks the patient's row, so two writes to the
same patient's record happen one after the other and each validates the record it changes.
Validation is the core's: the patient's whole record (clinical rows and identity) is rebuilt
as registry rows, with the new or edited row in place, and checked by
``itb.registry_io.records.validate_rows``, the validator of the registry files. Nothing is
written when there is any problem.

Optimistic locking: an edit names the ``version`` it was made from; when the stored record has
moved on since, the edit is refused (``StaleRecord``) and the first change stays.
The audit trail is written by django-auditlog's model signals, so every write goes through
``save()`` or ``delete()`` of a model instance, never a queryset ``update()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from itb.domain.messages import message
from itb.registry_io.problems import Problem
from itb.registry_io.records import SPECS, validate_rows
from itb.registry_io.schema import EVENT_DATE, Kind
from itb.web.registry.models import (
    EVENT_MODELS,
    Patient,
    PatientEvent,
    PatientIdentity,
    Site,
)
from itb.web.registry.permissions import Action
from itb.web.registry.selectors import User, patients_for, require, sites_for

Row = dict[str, Any]
# The identity row is part of the record: its personal code must agree with sex and birth.
TABLES = ("patients", *EVENT_MODELS, "identity")


class StaleRecord(Exception):
    """The record changed (or went) since the form was opened; nothing was saved."""

    def __init__(self, changed_at: datetime | None) -> None:
        super().__init__("stale record")
        self.changed_at = changed_at  # None: the record no longer exists


class RecordInvalid(Exception):
    """The patient's record would have problems; nothing was saved.

    ``edited`` maps a table to the index of the row the user entered, so that the problems on
    that row go to its form fields and those on other rows are named as other records.
    """

    def __init__(self, problems: list[Problem], rows: Mapping[str, list[Row]],
                 edited: Mapping[str, int]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
        self.rows = rows
        self.edited = edited

    def row_of(self, problem: Problem) -> tuple[str, int | None]:
        """The problem's table and row index (None for a problem of the whole table)."""
        table = problem.file.removesuffix(".csv")
        return table, None if problem.line is None else problem.line - 2

    def on_edited_row(self, problem: Problem) -> str | None:
        """The table whose edited row the problem is on, or None."""
        table, index = self.row_of(problem)
        return table if index is not None and self.edited.get(table) == index else None


@dataclass
class FieldProblem(Exception):
    """A problem outside the core's rules (scope, uniqueness in the database), at a field."""

    field: str | None
    messages: list[str | Promise] = field(default_factory=list)


# --- the patient's record as registry rows ------------------------------------------------------

def _orm_path(table: str, column: str) -> str:
    if column == "patient_id" and table != "patients":
        return "patient__patient_id"
    if SPECS[table].column(column).kind is Kind.SITE:
        return f"{column}__code"
    return column


@dataclass
class Record:
    """One patient's rows by table, with each row's primary key (None for a new row)."""

    rows: dict[str, list[Row]]
    keys: dict[str, list[int | None]]

    def replace(self, table: str, pk: int, values: Row) -> int:
        index = self.keys[table].index(pk)
        self.rows[table][index] = {**self.rows[table][index], **values}
        return index

    def append(self, table: str, row: Row) -> int:
        self.rows[table].append(row)
        self.keys[table].append(None)
        return len(self.rows[table]) - 1

    def remove(self, table: str, pk: int) -> None:
        index = self.keys[table].index(pk)
        del self.rows[table][index]
        del self.keys[table][index]


def load_record(patient: Patient) -> Record:
    """The patient's stored rows, events in date order, as the validator reads them."""
    rows: dict[str, list[Row]] = {}
    keys: dict[str, list[int | None]] = {}
    for table in TABLES:
        columns = SPECS[table].column_names
        paths = [_orm_path(table, column) for column in columns]
        if table == "patients":
            queryset = Patient.objects.filter(pk=patient.pk)
        elif table == "identity":
            queryset = PatientIdentity.objects.filter(patient=patient)
        else:
            queryset = EVENT_MODELS[table].objects.filter(patient=patient).order_by(
                EVENT_DATE[table], "id")
        stored = list(queryset.values_list("pk", *paths))
        rows[table] = [dict(zip(columns, values[1:], strict=True)) for values in stored]
        keys[table] = [values[0] for values in stored]
    return Record(rows, keys)


def _validate(record: Record, edited: Mapping[str, int]) -> None:
    problems = validate_rows(record.rows, cutoff=timezone.localdate(),
                             site_codes=frozenset(Site.objects.values_list("code", flat=True)))
    if problems:
        raise RecordInvalid(problems, record.rows, edited)


# --- writing model instances ----------------------------------------------------------------

def _assign(instance: Model, values: Row) -> None:
    """Form values onto a model: a site by its code, empty text as '' (unknown), as in files."""
    for name, value in values.items():
        if name == "patient_id" and not isinstance(instance, Patient):
            continue
        model_field = instance._meta.get_field(name)
        if name == "site":
            instance.site = Site.objects.get(code=value)  # type: ignore[attr-defined]
        elif value is None and not model_field.null:
            setattr(instance, name, "")
        else:
            setattr(instance, name, value)


def _save_new_version(instance: PatientEvent | Patient | PatientIdentity) -> None:
    instance.version += 1
    instance.save()


def _lock_patient(patient: Patient) -> Patient:
    """The patient's row, locked until the transaction ends (serialises record writes)."""
    try:
        return Patient.objects.select_for_update(of=("self",)).select_related("site").get(
            pk=patient.pk)
    except Patient.DoesNotExist:
        raise StaleRecord(None) from None


def _check_version(instance: Patient | PatientEvent | PatientIdentity, version: int) -> None:
    if instance.version != version:
        raise StaleRecord(instance.updated_at)


def _require_site_in_scope(user: User, site_code: str) -> None:
    if site_code and not sites_for(user).filter(code=site_code).exists():
        raise FieldProblem("site", [_("You can only choose one of your own sites.")])


def _require_editor(user: User) -> None:
    require(user, Action.EDIT_PATIENTS)


# --- patients -------------------------------------------------------------------------------

@transaction.atomic
def create_patient(user: User, patient_values: Row, implantation_values: Row) -> Patient:
    """A new patient with their initial implantation (a patient always has one)."""
    _require_editor(user)
    _require_site_in_scope(user, patient_values.get("site") or "")
    patient_id = patient_values["patient_id"]
    if Patient.objects.filter(patient_id=patient_id).exists():
        raise FieldProblem("patient_id", [_("A patient with this registry id already exists.")])
    initial = {**implantation_values, "patient_id": patient_id, "kind": "initial"}
    record = Record({table: [] for table in TABLES}, {table: [] for table in TABLES})
    record.append("patients", dict(patient_values))
    record.append("implantations", initial)
    _validate(record, {"patients": 0, "implantations": 0})

    patient = Patient()
    _assign(patient, patient_values)
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:  # the same id saved by someone else a moment ago
        raise FieldProblem(
            "patient_id", [_("A patient with this registry id already exists.")]) from None
    implantation = EVENT_MODELS["implantations"](patient=patient)
    _assign(implantation, initial)
    implantation.save()
    return patient


@transaction.atomic
def update_patient(user: User, patient: Patient, values: Row, version: int) -> Patient:
    _require_editor(user)
    locked = _lock_patient(patient)
    _check_version(locked, version)
    if values.get("site") != locked.site.code:
        _require_site_in_scope(user, values.get("site") or "")
    record = load_record(locked)
    record.replace("patients", locked.pk, values)
    _validate(record, {"patients": 0})
    _assign(locked, values)
    _save_new_version(locked)
    return locked


@transaction.atomic
def delete_patient(user: User, patient: Patient, version: int) -> None:
    """The patient and everything recorded of them (each row's deletion is audited)."""
    _require_editor(user)
    locked = _lock_patient(patient)
    _check_version(locked, version)
    locked.delete()


# --- identity -------------------------------------------------------------------------------

def _require_unique_code(user: User, patient: Patient, code: str) -> None:
    """A personal code belongs to one patient of the whole registry, not only of the record."""
    other = (PatientIdentity.objects.filter(personal_code=code).exclude(patient=patient)
             .select_related("patient").first())
    if other is None:
        return
    # Named only when the user may see that patient: otherwise not even its id leaks.
    if patients_for(user).filter(pk=other.patient.pk).exists():
        raise FieldProblem("personal_code", [message(
            "personal_code_in_registry", get_language() or "et",
            other=other.patient.patient_id)])
    raise FieldProblem("personal_code", [
        _("This personal code is already registered for a patient of another site.")])


@transaction.atomic
def save_identity(user: User, patient: Patient, values: Row,
                  version: int | None) -> PatientIdentity:
    """Create (``version`` None) or update the patient's name and personal code."""
    _require_editor(user)
    require(user, Action.VIEW_IDENTITY)
    locked = _lock_patient(patient)
    identity = PatientIdentity.objects.select_for_update().filter(patient=locked).first()
    if identity is None:
        if version is not None:  # deleted since the form was opened
            raise StaleRecord(None)
        identity = PatientIdentity(patient=locked, version=0)
    elif version is None:  # created by someone else since the form was opened
        raise StaleRecord(identity.updated_at)
    else:
        _check_version(identity, version)

    record = load_record(locked)
    row = {**values, "patient_id": locked.patient_id}
    if record.rows["identity"]:
        index = record.replace("identity", record.keys["identity"][0], row)
    else:
        index = record.append("identity", row)
    _validate(record, {"identity": index})
    if values.get("personal_code"):
        _require_unique_code(user, locked, values["personal_code"])
    _assign(identity, values)
    _save_new_version(identity)
    return identity


@transaction.atomic
def delete_identity(user: User, patient: Patient, version: int) -> None:
    _require_editor(user)
    require(user, Action.VIEW_IDENTITY)
    locked = _lock_patient(patient)
    identity = PatientIdentity.objects.select_for_update().filter(patient=locked).first()
    if identity is None:
        raise StaleRecord(None)
    _check_version(identity, version)
    identity.delete()


# --- events ---------------------------------------------------------------------------------

def _locked_event(patient: Patient, table: str, pk: int) -> PatientEvent:
    model = EVENT_MODELS[table]
    try:
        return model.objects.select_for_update().get(patient=patient, pk=pk)
    except model.DoesNotExist:
        raise StaleRecord(None) from None


@transaction.atomic
def create_event(user: User, patient: Patient, table: str, values: Row) -> PatientEvent:
    _require_editor(user)
    locked = _lock_patient(patient)
    record = load_record(locked)
    index = record.append(table, {**values, "patient_id": locked.patient_id})
    _validate(record, {table: index})
    event = EVENT_MODELS[table](patient=locked)
    _assign(event, values)
    event.save()
    return event


@transaction.atomic
def update_event(user: User, patient: Patient, table: str, pk: int, values: Row,
                 version: int) -> PatientEvent:
    _require_editor(user)
    locked = _lock_patient(patient)
    event = _locked_event(locked, table, pk)
    _check_version(event, version)
    record = load_record(locked)
    index = record.replace(table, pk, values)
    _validate(record, {table: index})
    _assign(event, values)
    _save_new_version(event)
    return event


@transaction.atomic
def delete_event(user: User, patient: Patient, table: str, pk: int, version: int) -> None:
    """Delete one event, unless the record would then have problems (e.g. no initial)."""
    _require_editor(user)
    locked = _lock_patient(patient)
    event = _locked_event(locked, table, pk)
    _check_version(event, version)
    record = load_record(locked)
    record.remove(table, pk)
    _validate(record, {})
    event.delete()
