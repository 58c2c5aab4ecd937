"""Every URL of the registry app × every role, with the expected answer.

Clinicians of site A and site B, a coordinator, a researcher, an administrator and an
anonymous visitor open each page (GET) and send each form (POST). Another site's patient is a
404 for a clinician — never a 403 — in pages, downloads, search and the report alike, so that
not even a patient's existence leaks. A new URL name fails ``test_every_url_is_in_the_matrix``
until its row is added here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from itb.web.registry import urls as registry_urls
from itb.web.registry.models import EVENT_MODELS, Patient, PatientIdentity
from tests.web.conftest import ROLES, World

pytestmark = pytest.mark.django_db

ClientAs = Callable[[str], Client]
LOGIN = "login"  # a redirect to the sign-in page
OK, FOUND, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 302, 403, 404, 405


@dataclass(frozen=True)
class Case:
    name: str
    args: Callable[[World], list[object]]
    method: str
    # role -> status; 302 to a given place is written as (302, "url name")
    expected: dict[str, int | tuple[int, str]]


def row(clinician_a: int | tuple[int, str], clinician_b: int | tuple[int, str],
        coordinator: int | tuple[int, str], researcher: int | tuple[int, str],
        administrator: int | tuple[int, str]) -> dict[str, int | tuple[int, str]]:
    return {"clinician_a": clinician_a, "clinician_b": clinician_b,
            "coordinator": coordinator, "researcher": researcher,
            "administrator": administrator, "anonymous": (FOUND, LOGIN)}


# Pages of site A's patient P-A1: its site's clinician and the coordinator; for site B's
# clinician the patient does not exist; the researcher and administrator may not.
PATIENT_PAGE = row(OK, NOT_FOUND, OK, FORBIDDEN, FORBIDDEN)
REPORT = row(OK, OK, OK, OK, FORBIDDEN)


def _patient(world: World) -> list[object]:
    return ["P-A1"]


def _event(table: str) -> Callable[[World], list[object]]:
    return lambda world: ["P-A1", table, world.events["P-A1"][table]]


CASES: list[Case] = [
    Case("patient_list", lambda w: [], "GET",
         row(OK, OK, OK, (FOUND, "registry:report"), (FOUND, "admin:index"))),
    Case("personal_code_search", lambda w: [], "POST",
         row((FOUND, "registry:patient_detail"), (FOUND, "registry:patient_list"),
             (FOUND, "registry:patient_detail"), FORBIDDEN, FORBIDDEN)),
    Case("patient_create", lambda w: [], "GET", row(OK, OK, OK, FORBIDDEN, FORBIDDEN)),
    Case("patient_detail", _patient, "GET", PATIENT_PAGE),
    Case("patient_edit", _patient, "GET", PATIENT_PAGE),
    Case("patient_delete", _patient, "GET", PATIENT_PAGE),
    Case("identity_edit", _patient, "GET", PATIENT_PAGE),
    Case("identity_delete", _patient, "GET", PATIENT_PAGE),
    *(Case("event_create", lambda w, t=table: ["P-A1", t], "GET", PATIENT_PAGE)
      for table in EVENT_MODELS),
    *(Case("event_edit", _event(table), "GET", PATIENT_PAGE) for table in EVENT_MODELS),
    *(Case("event_delete", _event(table), "GET", PATIENT_PAGE) for table in EVENT_MODELS),
    # The follow-up board: a clinician sees their sites', the coordinator every site's.
    Case("follow_up", lambda w: [], "GET", row(OK, OK, OK, FORBIDDEN, FORBIDDEN)),
    *(Case("follow_up_download", lambda w, f=fmt: [f], "GET",
           row(OK, OK, OK, FORBIDDEN, FORBIDDEN)) for fmt in ("ics", "csv", "json")),
    Case("report", lambda w: [], "GET", REPORT),
    Case("report_file", lambda w: ["report.json"], "GET", REPORT),
    Case("report_file", lambda w: ["figure2.svg"], "GET", REPORT),
    Case("report_file", lambda w: ["table1.csv"], "GET", REPORT),
    # The language can be chosen before signing in (the sign-in page offers it).
    Case("set_language", lambda w: [], "POST",
         {role: (FOUND, "registry:patient_list") for role in ROLES}),
    # The audit trail and the data-quality page: only the coordinator may read them.
    Case("audit", lambda w: [], "GET", row(FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN)),
    Case("audit_patient", _patient, "GET",
         row(FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN)),
    Case("audit_user", lambda w: ["clinician_a"], "GET",
         row(FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN)),
    Case("quality", lambda w: [], "GET", row(FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN)),
    # Downloads for other systems (itb.web.registry.views.interop): one patient's FHIR bundle
    # like the patient page; the scope's bundle for whoever sees records or may export
    # de-identified data; the de-identified extract for the latter only.
    Case("patient_bundle", _patient, "GET", PATIENT_PAGE),
    Case("scope_bundle", lambda w: [], "GET", row(OK, OK, OK, OK, FORBIDDEN)),
    Case("deidentified_extract", lambda w: [], "GET",
         row(FORBIDDEN, FORBIDDEN, OK, OK, FORBIDDEN)),
]


def url_names(patterns: list[URLPattern | URLResolver]) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from url_names(pattern.url_patterns)
        elif pattern.name:
            yield pattern.name


def test_every_url_is_in_the_matrix() -> None:
    covered = {case.name for case in CASES}
    missing = set(url_names(registry_urls.urlpatterns)) - covered
    assert not missing, f"add these URL names to the permission matrix: {sorted(missing)}"


def _post_data(case: Case, world: World) -> dict[str, str]:
    if case.name == "personal_code_search":
        return {"personal_code": world.patient_a.identity.personal_code}
    if case.name == "set_language":
        return {"language": "en", "next": reverse("registry:patient_list")}
    return {}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[
    f"{c.name}{'-' + str(i) if [x.name for x in CASES].count(c.name) > 1 else ''}"
    for i, c in enumerate(CASES)])
def test_permission_matrix(world: World, client_as: ClientAs, case: Case, role: str) -> None:
    client = client_as(role)
    url = reverse(f"registry:{case.name}", args=case.args(world))
    if case.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, _post_data(case, world))
    expected = case.expected[role]
    if isinstance(expected, tuple):
        status, target = expected
        assert response.status_code == status, (role, url, response.status_code)
        location = response["Location"]
        if target == LOGIN:
            assert location.startswith(reverse("login") + "?next="), location
        elif target == "registry:patient_detail":
            assert location == reverse(target, args=["P-A1"]), location
        else:
            assert location == reverse(target), location
    else:
        assert response.status_code == expected, (role, url, response.status_code)


# --- writes: refused before anything changes ------------------------------------------------

WRITES = [
    ("patient_edit", _patient, {"version": "1", "site": "TLN", "sex": "F"}),
    ("patient_delete", _patient, {"version": "1"}),
    ("identity_edit", _patient, {"version": "1", "personal_code": "", "first_name": "X"}),
    ("identity_delete", _patient, {"version": "1"}),
    ("event_create", lambda w: ["P-A1", "refills"], {"refill_date": "2016-01-01"}),
    *((("event_edit", _event(table), {"version": "1"})) for table in EVENT_MODELS),
    *((("event_delete", _event(table), {"version": "1"})) for table in EVENT_MODELS),
]


@pytest.mark.parametrize(("role", "status"), [
    ("clinician_b", NOT_FOUND), ("researcher", FORBIDDEN), ("administrator", FORBIDDEN),
    ("anonymous", FOUND),
])
@pytest.mark.parametrize(("name", "args", "data"), WRITES,
                         ids=[f"{w[0]}-{i}" for i, w in enumerate(WRITES)])
def test_a_refused_write_changes_nothing(world: World, client_as: ClientAs, role: str,
                                         status: int, name: str,
                                         args: Callable[[World], list[object]],
                                         data: dict[str, str]) -> None:
    before = _snapshot()
    response = client_as(role).post(reverse(f"registry:{name}", args=args(world)), data)
    assert response.status_code == status
    assert _snapshot() == before


def _snapshot() -> tuple[object, ...]:
    return (list(Patient.objects.values_list("patient_id", "version", "sex")),
            list(PatientIdentity.objects.values_list("first_name", "version")),
            *(list(model.objects.values_list("pk", "version")) for model in EVENT_MODELS.values()))


def test_registering_is_refused_before_anything_is_saved(world: World,
                                                         client_as: ClientAs) -> None:
    data = {"patient_id": "P-X", "site": "TLN", "sex": "F", "birth_date": "2010-01-01",
            "diagnosis": "other", "syndrome": "spastic_paraparesis", "functional_level": "low",
            "initial-implant_date": "2015-01-01", "initial-site": "TLN"}
    for role, status in (("researcher", FORBIDDEN), ("administrator", FORBIDDEN),
                         ("anonymous", FOUND)):
        assert client_as(role).post(reverse("registry:patient_create"), data).status_code == \
            status
    # A clinician cannot register a patient at another site either.
    client_as("clinician_b").post(reverse("registry:patient_create"), data)
    assert not Patient.objects.filter(patient_id="P-X").exists()
