"""The app's downloads: FHIR for one patient or the scope, the de-identified extract (ZIP)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from tests.web.conftest import World

pytestmark = pytest.mark.django_db
ClientAs = Callable[[str], Client]


@pytest.fixture(autouse=True)
def _key_beside_the_database(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path


def _references_resolve(bundle: dict[str, Any]) -> None:
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    text = json.dumps(bundle)
    found = [part.split('"', 1)[0] for part in text.split('"reference": "')[1:]]
    assert found and set(found) <= urls


def test_one_patient_as_fhir(world: World, client_as: ClientAs) -> None:
    client = client_as("clinician_a")
    page = client.get(reverse("registry:patient_detail", args=["P-A1"]))
    url = reverse("registry:patient_bundle", args=["P-A1"])
    assert url in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = json.loads(response.content)
    Bundle.model_validate(bundle)
    _references_resolve(bundle)
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    assert patient["name"][0]["family"] == "Tamm"  # a clinician may see the identity
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {
        "Patient", "Procedure", "Device", "Observation", "AdverseEvent"}
    # another site's patient is not in this clinician's scope
    assert client.get(reverse("registry:patient_bundle", args=["P-B1"])).status_code in (
        403, 404)


def test_scope_bundle_is_deidentified_for_the_researcher(world: World,
                                                         client_as: ClientAs) -> None:
    researcher = client_as("researcher")
    report = researcher.get(reverse("registry:report")).content.decode()
    assert reverse("registry:deidentified_extract") in report
    response = researcher.get(reverse("registry:scope_bundle"))
    assert response.status_code == 200
    text = response.content.decode()
    bundle = json.loads(text)
    Bundle.model_validate(bundle)
    _references_resolve(bundle)
    identity = world.patient_a.identity
    for value in ("P-A1", "P-B1", "Tamm", "Mart", identity.personal_code):
        assert value not in text
    assert researcher.get(reverse("registry:patient_bundle",
                                  args=["P-A1"])).status_code in (403, 404)
    # the coordinator's bundle is pseudonymous: registry ids, no names
    text = client_as("coordinator").get(reverse("registry:scope_bundle")).content.decode()
    assert "P-A1" in text and "Tamm" not in text


def test_deidentified_extract_zip(world: World, client_as: ClientAs) -> None:
    response = client_as("researcher").get(reverse("registry:deidentified_extract"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = {Path(name).name for name in archive.namelist()}
    assert {"README.md", "patients.csv", "codebook.csv", "extract.xlsx"} <= names
    content = b"".join(archive.read(n) for n in archive.namelist() if not n.endswith(".xlsx"))
    for value in ("P-A1", "P-B1", "Tamm", world.patient_a.identity.personal_code):
        assert value.encode() not in content
    assert client_as("clinician_a").get(
        reverse("registry:deidentified_extract")).status_code == 403
