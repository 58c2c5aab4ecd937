"""The audit trail (django-auditlog): every create, change and delete of clinical or
identity data, with who, when, which record and the old and new values.

Each entry carries the patient's registry id in ``additional_data`` so that a patient's
whole history (all their rows) can be read in one query.
"""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog


def _patient_id(instance: Any) -> dict[str, str]:
    patient = getattr(instance, "patient", instance)
    return {"patient_id": patient.patient_id}


def register_models() -> None:
    from itb.web.registry import models

    for model in (models.Patient, models.PatientIdentity, models.Implantation,
                  models.Complication, models.Assessment, models.Refill):
        model.get_additional_data = _patient_id  # type: ignore[attr-defined]
        auditlog.register(model, exclude_fields=["created_at", "updated_at", "version"])
    auditlog.register(models.Site)
    auditlog.register(models.UserProfile, m2m_fields={"sites"})
