"""The audit trail (django-auditlog): every create, change and delete of clinical or
identity data, with who, when, which record and the old and new values.

Each entry carries the patient's registry id in ``additional_data`` so that a patient's
whole history (all their rows) can be read in one query.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from auditlog.registry import auditlog
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from auditlog.models import LogEntry
    from django.db.models import Model, QuerySet

    from itb.web.registry.selectors import User


def _patient_id(instance: Any) -> dict[str, str]:
    patient = getattr(instance, "patient", instance)
    return {"patient_id": patient.patient_id}


def register_models() -> None:
    from itb.web.registry import models

    for model in (models.Patient, models.PatientIdentity, models.Implantation,
                  models.Complication, models.Assessment, models.Refill,
                  models.ScreeningTrial):
        model.get_additional_data = _patient_id  # type: ignore[attr-defined]
        auditlog.register(model, exclude_fields=["created_at", "updated_at", "version"])
    auditlog.register(models.Site)
    auditlog.register(models.UserProfile, m2m_fields={"sites"})
    # An import's one entry (its rows are written in bulk, past the signals); the patient
    # list and the dataset text would only bloat the entry: they stay on the record.
    auditlog.register(models.ImportRecord, exclude_fields=["patient_ids", "dataset_toml"])


# --- reading the trail (the coordinator's audit pages) ----------------------------------------
# Kept next to the registration so that what is written and how it is shown stay together.

# Identity values are shown masked: the trail proves that a name or code was changed or
# viewed, and by whom, without becoming a second copy of the identities.
IDENTITY_MODEL = "patientidentity"
IDENTITY_FIELDS = frozenset({"personal_code", "first_name", "last_name"})
MASK = "•••"

# Fields whose stored value is an internal key: shown as the code or id people know.
_KEY_FIELDS = {"site": ("registry", "site", "code"),
               "patient": ("registry", "patient", "patient_id"),
               "user": ("auth", "user", "username")}
_HIDDEN_FIELDS = frozenset({"id"})  # the record id has its own column

# The actions django-auditlog records (LogEntry.Action) and the record types the registry
# registers (content type model names).
ACTION_LABELS: dict[int, Any] = {0: _("Created"), 1: _("Changed"), 2: _("Deleted"),
                                 3: _("Viewed")}
# The row names are those of the patient pages (forms.ROW_NAMES), so they read the same.
RECORD_LABELS: dict[str, Any] = {
    "patient": _("Patient record"), IDENTITY_MODEL: _("Identity"), "implantation": _("Surgery"),
    "complication": _("Complication"), "assessment": _("Assessment"), "refill": _("Refill"),
    "site": _("Site"), "userprofile": _("User profile"), "importrecord": _("Import"),
}


def mask(value: str) -> str:
    """First and last character only, with a fixed-width middle that hides the length too."""
    if value == "":
        return ""
    if len(value) <= 2:
        return MASK
    return f"{value[0]}{MASK}{value[-1]}"


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: str
    new: str
    masked: bool = False


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One log entry as the audit pages show it."""

    timestamp: datetime
    username: str  # "" when the change was made outside a signed-in request (a command)
    action: int
    action_label: Any
    record_type: str
    record_label: Any
    record_id: str
    patient_id: str
    remote_addr: str
    changes: tuple[Change, ...]


def audit_entries(user: User, *, patient_id: str | None = None, username: str | None = None,
                  action: int | None = None, record_type: str | None = None,
                  since: date | None = None, until: date | None = None) -> QuerySet[LogEntry]:
    """The audit trail, newest first, for users who may read it (else PermissionDenied).

    Coordinators see every site: the trail of a patient stays readable after the patient
    (or their site membership) is gone, so it is filtered by the registry id kept in each
    entry, not through the current patients.
    """
    from auditlog.models import LogEntry
    from django.db.models import Q

    from itb.web.registry.permissions import Action
    from itb.web.registry.selectors import require

    require(user, Action.VIEW_AUDIT)
    entries = LogEntry.objects.select_related("actor", "content_type")
    if patient_id:
        entries = entries.filter(Q(additional_data__patient_id=patient_id)
                                 | Q(content_type__model="importrecord",
                                     object_pk__in=_imports_of(patient_id)))
    if username:
        entries = entries.filter(actor__username=username)
    if action is not None:
        entries = entries.filter(action=action)
    if record_type:
        entries = entries.filter(content_type__model=record_type)
    if since:
        entries = entries.filter(timestamp__date__gte=since)
    if until:
        entries = entries.filter(timestamp__date__lte=until)
    return entries.order_by("-timestamp", "-pk")


def _imports_of(patient_id: str) -> list[str]:
    """The imports that created or changed the patient: an import's rows are written past
    the per-row entries, so its one entry (the ImportRecord) stands for them.

    The JSON list is searched as text (JSON containment is not available on SQLite), then
    checked exactly: the text search ignores case.
    """
    from itb.web.registry.models import ImportRecord

    candidates = ImportRecord.objects.filter(patient_ids__icontains=json.dumps(patient_id))
    return [str(pk) for pk, ids in candidates.values_list("pk", "patient_ids")
            if patient_id in ids]


def _value(raw: Any) -> str:
    """django-auditlog writes values as text, an empty or unset one as "None"."""
    if raw is None or raw == "None":
        return ""
    if isinstance(raw, dict):  # many-to-many: {"operation": "add", "objects": [...]}
        return f"{raw.get('operation', '')}: {', '.join(map(str, raw.get('objects', [])))}"
    return str(raw)


def _key_names(entries: Sequence[LogEntry]) -> dict[str, dict[str, str]]:
    """The code or id of every key value on the page: one query per kind of key."""
    from django.apps import apps

    keys: dict[str, set[str]] = {name: set() for name in _KEY_FIELDS}
    for entry in entries:
        for name, values in (entry.changes_dict or {}).items():
            if name in keys and isinstance(values, list | tuple):
                keys[name].update(v for v in values if v not in (None, "None"))
    names: dict[str, dict[str, str]] = {}
    for name, (app_label, model_name, attribute) in _KEY_FIELDS.items():
        pks = [int(pk) for pk in keys[name] if str(pk).isdigit()]
        model = apps.get_model(app_label, model_name)
        names[name] = {str(pk): str(value) for pk, value in
                       model.objects.filter(pk__in=pks).values_list("pk", attribute)}
    return names


def _same_number(model: type[Model] | None, name: str, old: str, new: str) -> bool:
    """A decimal saved as typed ("20") against its stored form ("20.00"): no change.

    django-auditlog compares values as text, so saving a record whose numbers came from a
    form logs them as changed; the page leaves such non-changes out.
    """
    from django.core.exceptions import FieldDoesNotExist
    from django.db.models import DecimalField

    if model is None or not old or not new:
        return False
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    try:
        return isinstance(field, DecimalField) and Decimal(old) == Decimal(new)
    except InvalidOperation:
        return False


def present(entries: Iterable[LogEntry]) -> list[AuditRow]:
    """The entries of one page as rows, identity values masked."""
    entries = list(entries)
    names = _key_names(entries)
    rows = []
    for entry in entries:
        model = entry.content_type.model
        model_class = entry.content_type.model_class()
        changes = []
        for name, values in (entry.changes_dict or {}).items():
            if name in _HIDDEN_FIELDS:
                continue
            if isinstance(values, dict):
                changes.append(Change(name, "", _value(values)))
                continue
            old, new = (_value(v) for v in values)
            if _same_number(model_class, name, old, new):
                continue
            if name in names:
                old, new = names[name].get(old, old), names[name].get(new, new)
            masked = model == IDENTITY_MODEL and name in IDENTITY_FIELDS
            if masked:
                old, new = mask(old), mask(new)
            changes.append(Change(name, old, new, masked))
        rows.append(AuditRow(
            timestamp=entry.timestamp,
            username=entry.actor.get_username() if entry.actor else "",
            action=entry.action, action_label=ACTION_LABELS.get(entry.action, entry.action),
            record_type=model, record_label=RECORD_LABELS.get(model, model),
            record_id=entry.object_pk,
            patient_id=(entry.additional_data or {}).get("patient_id", ""),
            remote_addr=entry.remote_addr or "", changes=tuple(changes)))
    return rows
