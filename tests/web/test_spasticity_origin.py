"""The patient form records the spasticity origin (patients.csv's spasticity_origin), which
sets the titration cap of the follow-up flags."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from itb.web.registry.models import Patient
from tests.web.conftest import World

pytestmark = pytest.mark.django_db


def edit_data(patient: Patient, **changes: Any) -> dict[str, Any]:
    data = {"version": patient.version, "site": patient.site.code, "sex": patient.sex,
            "birth_date": patient.birth_date.isoformat(), "diagnosis": patient.diagnosis,
            "diagnosis_detail": patient.diagnosis_detail, "syndrome": patient.syndrome,
            "functional_level": patient.functional_level,
            "contractures_before": patient.contractures_before,
            "therapy_end_date": "", "therapy_end_reason": ""}
    return {**data, **changes}


def url(patient_id: str) -> str:
    return reverse("registry:patient_edit", args=[patient_id])


def test_the_form_offers_and_saves_the_origin(world: World, client_as: Any) -> None:
    client = client_as("clinician_a")
    page = client.get(url("P-A1")).content.decode()
    assert 'name="spasticity_origin"' in page
    assert "Spastilisuse päritolu" in page and "Spinaalne (seljaajust lähtuv)" in page
    response = client.post(url("P-A1"), edit_data(world.patient_a, spasticity_origin="spinal"))
    assert response.status_code == 302
    assert Patient.objects.get(pk=world.patient_a.pk).spasticity_origin == "spinal"


def test_an_unknown_origin_is_refused_at_its_field(world: World, client_as: Any) -> None:
    client = client_as("clinician_a")
    response = client.post(url("P-A1"), edit_data(world.patient_a, spasticity_origin="brain"),
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    form = response.context["form"]
    assert "spasticity_origin" in form.errors
    assert Patient.objects.get(pk=world.patient_a.pk).spasticity_origin == ""
