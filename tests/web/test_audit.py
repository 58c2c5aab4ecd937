"""The audit trail: every write of clinical and identity data is logged with old and new
values, readable per patient and per user by coordinators only, never editable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.signals import accessed
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from itb.web.registry.audit import mask, present
from itb.web.registry.models import (
    Assessment,
    Complication,
    Implantation,
    ImportRecord,
    Patient,
    PatientIdentity,
    Refill,
    Role,
    Site,
)
from tests.web.conftest import WEB_PASSWORD, make_user

pytestmark = pytest.mark.django_db

CREATE, UPDATE, DELETE, ACCESS = (LogEntry.Action.CREATE, LogEntry.Action.UPDATE,
                                  LogEntry.Action.DELETE, LogEntry.Action.ACCESS)
# Identity values that must never appear on an audit page.
CODE, FIRST, LAST = "39001010008", "Zelda", "Quibblewick"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def site() -> Site:
    return Site.objects.create(code="TLN", name="Tallinn")


@pytest.fixture
def clinician(site: Site) -> User:
    return make_user("clinician", Role.CLINICIAN, [site])


@pytest.fixture
def coordinator() -> User:
    return make_user("coordinator", Role.COORDINATOR)


def new_patient(patient_id: str, site: Site) -> Patient:
    return Patient.objects.create(
        patient_id=patient_id, site=site, sex="F", birth_date=date(1990, 1, 1),
        diagnosis="cerebral_palsy", syndrome="spastic_tetraparesis", functional_level="low",
        contractures_before="yes")


# Each registered model: how to create one for a patient, and one edit (field, old, new).
@dataclass(frozen=True)
class Case:
    model: type[Model]
    create: Callable[[Patient], Model]
    field: str
    old: str
    new: Any


CASES = [
    Case(Patient, lambda p: p, "contractures_before", "yes", "no"),
    Case(PatientIdentity, lambda p: PatientIdentity.objects.create(
        patient=p, personal_code=CODE, first_name=FIRST, last_name=LAST),
        "last_name", LAST, "Quibble"),
    Case(Implantation, lambda p: Implantation.objects.create(
        patient=p, implant_date=date(2015, 4, 20), site=p.site, kind="initial",
        pump_model="synchromed_ii", reservoir_ml=Decimal("20"), catheter_type="ascenda",
        catheter_tip_level="T10"), "catheter_tip_level", "T10", "T8"),
    Case(Complication, lambda p: Complication.objects.create(
        patient=p, complication_date=date(2016, 7, 1), type="catheter_kink"),
        "detail", "", "kinked at the pump"),
    Case(Assessment, lambda p: Assessment.objects.create(
        patient=p, assessment_date=date(2016, 4, 20), instrument="penn", phase="follow_up",
        value="2"), "value", "2", "3"),
    Case(Refill, lambda p: Refill.objects.create(
        patient=p, refill_date=date(2015, 10, 20), volume_ml=Decimal("20"),
        concentration_mcg_ml=Decimal("500"), daily_dose_mcg=Decimal("150")),
        "daily_dose_mcg", "150", Decimal("175")),
]


def entries_of(model: type[Model], pk: int) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(model)
    return list(LogEntry.objects.filter(content_type=content_type, object_pk=str(pk))
                .order_by("timestamp", "pk"))


def same(stored: str, expected: Any) -> bool:
    """auditlog stores values as text: 150 may come back as "150" or "150.00"."""
    if isinstance(expected, Decimal) or (expected and str(expected).isdigit()):
        return Decimal(stored) == Decimal(str(expected))
    return stored == str(expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.model.__name__)
def test_create_change_and_delete_are_logged_with_old_and_new_values(
        case: Case, site: Site, clinician: User) -> None:
    with set_actor(clinician):
        patient = new_patient("P01", site)
        record = case.create(patient)
        pk = record.pk
        setattr(record, case.field, case.new)
        record.save()
        record.delete()
    created, changed, deleted = entries_of(case.model, pk)
    assert [created.action, changed.action, deleted.action] == [CREATE, UPDATE, DELETE]
    for entry in (created, changed, deleted):
        assert entry.actor == clinician
        assert entry.additional_data == {"patient_id": "P01"}
    assert same(created.changes_dict[case.field][1], case.old or "")
    old, new = changed.changes_dict[case.field]
    assert same(old, case.old) and same(new, case.new)
    # Only what changed is shown (a number saved as typed, "20" for "20.00", is no change).
    assert [change.field for change in present([changed])[0].changes] == [case.field]
    assert same(deleted.changes_dict[case.field][0], case.new)


@pytest.fixture
def history(site: Site, clinician: User, coordinator: User) -> dict[str, Any]:
    """P01 with a record of each kind, changed by the clinician; P02 by the coordinator."""
    with set_actor(clinician):
        p01 = new_patient("P01", site)
        records = [case.create(p01) for case in CASES]
        for case, record in zip(CASES, records, strict=True):
            setattr(record, case.field, case.new)
            record.save()
        records[-1].delete()  # a refill removed
        # Viewing the identity is logged too (as the patient page does when it shows it).
        accessed.send(sender=PatientIdentity, instance=records[1])
    with set_actor(coordinator):
        p02 = new_patient("P02", site)
        p02.functional_level = "high"
        p02.save()
    return {"p01": p01, "p02": p02}


def rows(response: Any) -> list[Any]:
    assert response.status_code == 200
    return list(response.context["rows"])


def test_patient_page_shows_all_of_that_patients_events(
        history: dict[str, Any], coordinator: User) -> None:
    client = signed_in(coordinator)
    shown = rows(client.get(reverse("registry:audit_patient", args=["P01"])))
    assert {row.patient_id for row in shown} == {"P01"}
    kinds = {(row.record_type, row.action) for row in shown}
    for model in ("patient", "patientidentity", "implantation", "complication",
                  "assessment", "refill"):
        assert (model, CREATE) in kinds and (model, UPDATE) in kinds
    assert ("refill", DELETE) in kinds
    assert ("patientidentity", ACCESS) in kinds
    assert all(row.username == "clinician" for row in shown)
    # Newest first.
    assert [r.timestamp for r in shown] == sorted((r.timestamp for r in shown), reverse=True)
    change = next(r for r in shown if r.record_type == "implantation" and r.action == UPDATE)
    assert [(c.field, c.old, c.new) for c in change.changes] == [
        ("catheter_tip_level", "T10", "T8")]


def test_opening_a_patient_page_with_the_identity_is_logged(
        site: Site, clinician: User, coordinator: User) -> None:
    patient = new_patient("P01", site)
    PatientIdentity.objects.create(patient=patient, personal_code=CODE, first_name=FIRST,
                                   last_name=LAST)
    page = signed_in(clinician).get(reverse("registry:patient_detail", args=["P01"]))
    assert page.status_code == 200
    shown = rows(signed_in(coordinator).get(reverse("registry:audit_patient", args=["P01"])))
    viewed = [r for r in shown if r.action == ACCESS]
    assert [(r.record_type, r.username, r.changes) for r in viewed] == [
        ("patientidentity", "clinician", ())]


def test_an_import_that_touched_the_patient_is_in_their_trail(
        history: dict[str, Any], coordinator: User) -> None:
    # An import writes its rows in bulk; its one entry stands for them.
    imported = ImportRecord.objects.create(origin="itb import", source="/data/registry",
                                           cutoff=date(2024, 7, 31),
                                           patient_ids=["P01", "P010"])
    other = ImportRecord.objects.create(origin="itb import", source="/data/other",
                                        cutoff=date(2024, 7, 31), patient_ids=["p01", "P0"])
    client = signed_in(coordinator)
    shown = rows(client.get(reverse("registry:audit_patient", args=["P01"])))
    imports = [r.record_id for r in shown if r.record_type == "importrecord"]
    assert imports == [str(imported.pk)]
    assert str(other.pk) not in [r.record_id for r in shown]
    assert [r.record_type for r in rows(client.get(
        reverse("registry:audit_patient", args=["P02"])))].count("importrecord") == 0


def test_a_deleted_patients_trail_stays_readable(history: dict[str, Any],
                                                 coordinator: User) -> None:
    history["p02"].delete()
    shown = rows(signed_in(coordinator).get(reverse("registry:audit_patient", args=["P02"])))
    assert [row.action for row in shown] == [DELETE, UPDATE, CREATE]


def test_identity_values_are_masked_on_the_pages(history: dict[str, Any],
                                                 coordinator: User) -> None:
    client = signed_in(coordinator)
    for url in (reverse("registry:audit_patient", args=["P01"]), reverse("registry:audit"),
                reverse("registry:audit_user", args=["clinician"])):
        html = client.get(url).content.decode()
        for value in (CODE, FIRST, LAST, "Quibble"):
            assert value not in html, (url, value)
        assert mask(CODE) in html and mask(LAST) in html
    shown = rows(client.get(reverse("registry:audit_patient", args=["P01"])))
    change = next(r for r in shown if r.record_type == "patientidentity" and r.action == UPDATE)
    assert [(c.field, c.old, c.new, c.masked) for c in change.changes] == [
        ("last_name", "Q•••k", "Q•••e", True)]


def test_mask_keeps_the_first_and_last_character_only() -> None:
    assert mask("39001010008") == "3•••8"
    assert mask("Al") == "•••"
    assert mask("") == ""


def test_user_page_shows_what_that_user_did(history: dict[str, Any],
                                            coordinator: User) -> None:
    client = signed_in(coordinator)
    shown = rows(client.get(reverse("registry:audit_user", args=["coordinator"])))
    assert {(row.patient_id, row.action) for row in shown} == {("P02", CREATE),
                                                               ("P02", UPDATE)}
    assert {row.username for row in shown} == {"coordinator"}
    change = next(r for r in shown if r.action == UPDATE)
    assert [(c.field, c.old, c.new) for c in change.changes] == [
        ("functional_level", "low", "high")]
    assert rows(client.get(reverse("registry:audit_user", args=["nobody"]))) == []


def test_recent_entries_can_be_filtered(history: dict[str, Any], coordinator: User) -> None:
    client = signed_in(coordinator)
    url = reverse("registry:audit")
    everything = rows(client.get(url))
    assert {row.patient_id for row in everything} >= {"P01", "P02"}
    deletes = rows(client.get(url, {"action": str(DELETE)}))
    assert [(r.record_type, r.patient_id) for r in deletes] == [("refill", "P01")]
    views = rows(client.get(url, {"action": str(ACCESS)}))
    assert [(r.record_type, r.patient_id) for r in views] == [("patientidentity", "P01")]
    refills = rows(client.get(url, {"record_type": "refill"}))
    assert {r.record_type for r in refills} == {"refill"} and len(refills) == 3
    assert {r.patient_id for r in rows(client.get(url, {"patient_id": "P02"}))} == {"P02"}
    assert {r.username for r in rows(client.get(url, {"username": "coordinator"}))} == {
        "coordinator"}
    assert rows(client.get(url, {"since": "2999-01-01"})) == []
    # A malformed filter is ignored (and shown as an error), not a server error.
    assert len(rows(client.get(url, {"since": "not a date"}))) == len(everything)


AUDIT_URLS = [("registry:audit", []), ("registry:audit_patient", ["P01"]),
              ("registry:audit_user", ["clinician"])]


@pytest.mark.parametrize(("name", "args"), AUDIT_URLS)
@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.RESEARCHER, Role.ADMINISTRATOR])
def test_other_roles_are_refused(history: dict[str, Any], site: Site, role: Role, name: str,
                                 args: list[str]) -> None:
    client = signed_in(make_user(f"user-{role}", role, [site]))
    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize(("name", "args"), AUDIT_URLS)
def test_anonymous_users_are_sent_to_sign_in(name: str, args: list[str]) -> None:
    response = Client().get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- the admin cannot change the trail -------------------------------------------------------


def _admin_url(action: str, entry: LogEntry | None = None) -> str:
    args = [entry.pk] if entry is not None else []
    return reverse(f"admin:auditlog_logentry_{action}", args=args)


@pytest.mark.parametrize("who", ["superuser", "staff coordinator"])
def test_entries_cannot_be_changed_or_deleted_through_the_admin(
        history: dict[str, Any], who: str) -> None:
    if who == "superuser":
        user = User.objects.create_superuser("root", password=WEB_PASSWORD)
    else:
        user = make_user("staffcoord", Role.COORDINATOR, staff=True)
    client = signed_in(user)
    entry = LogEntry.objects.filter(additional_data__patient_id="P01").first()
    assert entry is not None
    before = (entry.action, entry.changes, entry.actor_id, entry.timestamp)

    changed = client.post(_admin_url("change", entry), {"action": "2", "changes": "{}"})
    assert changed.status_code == 403
    assert client.post(_admin_url("delete", entry), {"post": "yes"}).status_code == 403
    assert client.post(_admin_url("add"), {"action": "0"}).status_code == 403
    bulk = client.post(_admin_url("changelist"),
                       {"action": "delete_selected", "_selected_action": [entry.pk],
                        "post": "yes"})
    assert bulk.status_code in (200, 302, 403)

    entry.refresh_from_db()
    assert (entry.action, entry.changes, entry.actor_id, entry.timestamp) == before
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_coordinators_read_the_log_in_the_admin_with_identity_masked(
        history: dict[str, Any]) -> None:
    client = signed_in(make_user("staffcoord", Role.COORDINATOR, staff=True))
    identity = ContentType.objects.get_for_model(PatientIdentity)
    entry = LogEntry.objects.get(content_type=identity, action=UPDATE)
    response = client.get(_admin_url("change", entry))
    assert response.status_code == 200
    html = response.content.decode()
    assert LAST not in html and mask(LAST) in html
    assert b'name="_save"' not in response.content
