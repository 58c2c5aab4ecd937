"""Downloads for other systems: a FHIR R4 bundle of one patient or of the user's scope, and
the de-identified research extract (docs/fhir.md, docs/research-exports.md).

Reads only, through the site-scoped selectors. Names and personal codes go into a bundle only
for one patient, to a user who may see them, and that is recorded as an identity access in
the audit trail; the scope's bundle is pseudonymous, or de-identified for a user who may only
export de-identified data (the researcher).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from auditlog.signals import accessed
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from itb.interop.common import TextRow, registry_text
from itb.interop.deidentify import Options, deidentify, read_key
from itb.interop.fhir import build_bundle, render
from itb.interop.research import write_extract
from itb.web.registry.models import PatientIdentity
from itb.web.registry.permissions import Action
from itb.web.registry.selectors import (
    can,
    identity_for,
    patient_for,
    registry_for,
    require,
)

KEY_FILE = "deidentify.key"


def _key() -> bytes:
    """The registry's de-identification key, beside its secret key (created once)."""
    return read_key(Path(settings.DATA_DIR) / KEY_FILE)[0]


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _lang() -> str:
    return "en" if (get_language() or "et").startswith("en") else "et"


@require_GET
def patient_bundle(request: HttpRequest, patient_id: str) -> HttpResponse:
    """One patient (of the user's sites) as a FHIR bundle, identity included when allowed."""
    user = request.user
    patient = patient_for(user, patient_id)
    today = timezone.localdate()
    tables = registry_text(registry_for(user, today, patient))
    people: list[TextRow] = []
    identity = identity_for(user, patient)
    if identity is not None:
        accessed.send(sender=PatientIdentity, instance=identity)
        people = [{"patient_id": patient.patient_id,
                   "personal_code": identity.personal_code or None,
                   "first_name": identity.first_name or None,
                   "last_name": identity.last_name or None}]
    bundle = build_bundle(tables, today, _lang(), identity=people)
    return _download(render(bundle).encode(), "application/fhir+json",
                     f"itb-{patient.patient_id}-fhir.json")


@require_GET
def scope_bundle(request: HttpRequest) -> HttpResponse:
    """Every patient in the user's scope: pseudonymous for those who may see the records,
    de-identified for those who may only export de-identified data."""
    user = request.user
    today = timezone.localdate()
    deidentified = not can(user, Action.VIEW_PATIENTS)
    if deidentified:
        require(user, Action.EXPORT_DEIDENTIFIED)
    registry = registry_for(user, today)
    tables = registry_text(registry)
    if deidentified:
        extract = deidentify(tables, today, _key(), Options(dates="shift"))
        tables = {**extract.tables, "sites": tables["sites"]}
    bundle = build_bundle(tables, today, _lang(), deidentified=deidentified)
    suffix = "-deidentified" if deidentified else ""
    return _download(render(bundle).encode(), "application/fhir+json",
                     f"itb-{today.isoformat()}{suffix}-fhir.json")


@require_GET
def deidentified_extract(request: HttpRequest) -> HttpResponse:
    """The de-identified extract of the user's scope as a ZIP (CSV, codebook, workbook)."""
    user = request.user
    require(user, Action.EXPORT_DEIDENTIFIED)
    today = timezone.localdate()
    registry = registry_for(user, today)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="itb-extract-") as directory:
        out = Path(directory) / "extract"
        write_extract(registry, out, Path(settings.DATA_DIR) / KEY_FILE, Options(),
                      excel=True, lang=_lang(), source="the registry")
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.iterdir()):
                archive.write(path, f"itb-extract-{today.isoformat()}/{path.name}")
    return _download(buffer.getvalue(), "application/zip",
                     f"itb-extract-{today.isoformat()}.zip")
