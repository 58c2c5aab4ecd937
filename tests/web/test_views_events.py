"""The event forms: valid saves, the core's problems at their fields in both languages,
problems on other records named, optimistic locking, deletion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse

from itb.web.registry.models import (
    EVENT_MODELS,
    Assessment,
    Complication,
    Implantation,
    Refill,
)
from itb.web.registry.services import records as services
from itb.web.registry.services.records import RecordInvalid, StaleRecord
from tests.web.conftest import World, shown

pytestmark = pytest.mark.django_db

ClientAs = Callable[[str], Client]

VALID: dict[str, dict[str, str]] = {
    "implantations": {"implant_date": "2021-03-04", "site": "TLN", "kind": "replacement",
                      "pump_model": "synchromed_ii", "reservoir_ml": "40",
                      "catheter_type": "ascenda", "catheter_tip_level": "T9"},
    "refills": {"refill_date": "2016-01-12", "volume_ml": "20", "concentration_mcg_ml": "500",
                "daily_dose_mcg": "162,5"},
    "complications": {"complication_date": "2017-02-03", "type": "infection",
                      "detail": "superficial"},
    "assessments": {"assessment_date": "2016-04-20", "instrument": "mas", "phase": "follow_up",
                    "body_site": "right knee", "value": "1+"},
    "screening_trials": {"trial_date": "2015-03-08", "dose_mcg": "75", "response": "yes",
                         "side_effects": "drowsy for 2 hours"},
}


def create_url(table: str, patient_id: str = "P-A1") -> str:
    return reverse("registry:event_create", args=[patient_id, table])


def edit_url(table: str, pk: int, patient_id: str = "P-A1") -> str:
    return reverse("registry:event_edit", args=[patient_id, table, pk])


def delete_url(table: str, pk: int, patient_id: str = "P-A1") -> str:
    return reverse("registry:event_delete", args=[patient_id, table, pk])


def errors(response: Any) -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


def set_language(world: World, lang: str, role: str = "clinician_a") -> None:
    profile = world.users[role].profile  # type: ignore[union-attr]
    profile.language = lang
    profile.save()


def counts() -> dict[str, int]:
    return {table: model.objects.count() for table, model in EVENT_MODELS.items()}


# --- valid saves ----------------------------------------------------------------------------

@pytest.mark.parametrize("table", list(VALID))
def test_a_valid_event_is_saved_and_audited(world: World, client_as: ClientAs,
                                            table: str) -> None:
    before = counts()
    response = client_as("clinician_a").post(create_url(table), VALID[table])
    assert response.status_code == 302, errors(response)
    assert response.url == reverse("registry:patient_detail", args=["P-A1"])
    assert counts() == {**before, table: before[table] + 1}
    event = EVENT_MODELS[table].objects.filter(patient=world.patient_a).latest("id")
    assert event.version == 1
    assert LogEntry.objects.get_for_object(event).get().action == LogEntry.Action.CREATE


def test_saved_values_are_typed(world: World, client_as: ClientAs) -> None:
    client_as("clinician_a").post(create_url("refills"), VALID["refills"])
    refill = Refill.objects.filter(patient=world.patient_a).latest("id")
    # The Estonian decimal comma is read as a decimal point.
    assert (refill.refill_date, refill.volume_ml, refill.daily_dose_mcg) == (
        date(2016, 1, 12), Decimal(20), Decimal("162.5"))
    client_as("clinician_a").post(create_url("implantations"), VALID["implantations"])
    replacement = Implantation.objects.get(kind="replacement")
    assert (replacement.site, replacement.catheter_tip_level) == (world.site_a, "T9")


def test_an_event_can_be_edited(world: World, client_as: ClientAs) -> None:
    pk = world.events["P-A1"]["refills"]
    client = client_as("clinician_a")
    form = client.get(edit_url("refills", pk)).context["form"]
    assert form.initial["version"] == 1 and form.initial["daily_dose_mcg"] == Decimal(150)
    response = client.post(edit_url("refills", pk), {**VALID["refills"], "version": 1,
                                                     "refill_date": "2015-10-20"})
    assert response.status_code == 302
    refill = Refill.objects.get(pk=pk)
    assert (refill.daily_dose_mcg, refill.version) == (Decimal("162.5"), 2)
    update = LogEntry.objects.get_for_object(refill).get(action=LogEntry.Action.UPDATE)
    assert [Decimal(v) for v in update.changes_dict["daily_dose_mcg"]] == [
        Decimal(150), Decimal("162.5")]
    assert update.actor == world.users["clinician_a"]


# --- each kind of problem, at its field, in Estonian and English ----------------------------

CASES = [
    # An impossible date is not a date (input parsing, in both languages).
    ("refills", {"refill_date": "2023-02-30"}, "refill_date",
     {"et": "See ei ole kuupäev: sisesta see kujul AAAA-KK-PP (nt 2024-03-31).",
      "en": "This is not a date: enter it as YYYY-MM-DD (e.g. 2024-03-31)."}),
    ("refills", {"volume_ml": "twenty"}, "volume_ml",
     {"et": "See ei ole arv.", "en": "This is not a number."}),
    # Dates in the wrong order: a surgery before the patient's birth.
    ("implantations", {"implant_date": "2007-01-01", "kind": "revision", "pump_model": "",
                       "reservoir_ml": ""}, "implant_date",
     {"et": "see implantatsioon (2007-01-01) on varasem kui esmane implantatsioon (2015-04-20)",
      "en": "this implantation (2007-01-01) is earlier than the initial implantation "
            "(2015-04-20)"}),
    ("implantations", {"kind": "revision"}, "pump_model",
     {"et": "revisioonil uut pumpa ei paigaldata: jäta pump_model tühjaks",
      "en": "a revision places no new pump: leave pump_model empty"}),
    ("implantations", {"kind": "initial"}, "kind",
     {"et": "patsiendil on 2 esmast implantatsiooni; lubatud on täpselt üks",
      "en": "the patient has 2 initial implantations; exactly one is allowed"}),
    # An unknown code.
    ("complications", {"type": "sneeze"}, "type",
     {"et": "tundmatu kood „sneeze“; lubatud: csf_leak",
      "en": "unknown code 'sneeze'; allowed: csf_leak"}),
    # A complication before the first implantation.
    ("complications", {"complication_date": "2015-01-01"}, "complication_date",
     {"et": "kuupäev 2015-01-01 on enne esimest implantatsiooni (2015-04-20)",
      "en": "the date 2015-01-01 is before the first implantation (2015-04-20)"}),
    # A MAS value off its scale.
    ("assessments", {"value": "5"}, "value",
     {"et": "„5“ ei sobi skaalale mas (lubatud: 0, 1, 1+, 2, 3, 4)",
      "en": "'5' is not on the mas scale (allowed: 0, 1, 1+, 2, 3, 4)"}),
    ("assessments", {"phase": ""}, "phase",
     {"et": "väärtus on kohustuslik", "en": "a value is required"}),
    ("refills", {"daily_dose_mcg": "9000"}, "daily_dose_mcg",
     {"et": "9000 on väljaspool lubatud vahemikku 0…5000",
      "en": "9000 is outside the allowed range 0…5000"}),
    # A bolus trial: its doses, before the first implantation, a required response.
    ("screening_trials", {"dose_mcg": "60"}, "dose_mcg",
     {"et": "proovidoos 60 µg ei ole lubatud; lubatud: 25, 50, 75, 100 µg",
      "en": "60 µg is not a trial dose; allowed: 25, 50, 75, 100 µg"}),
    ("screening_trials", {"trial_date": "2015-05-01"}, "trial_date",
     {"et": "proovidoos 2015-05-01 on pärast esimest implantatsiooni (2015-04-20); "
            "skriining eelneb implantatsioonile",
      "en": "the trial 2015-05-01 is after the first implantation (2015-04-20); screening "
            "precedes the implantation"}),
    ("screening_trials", {"response": ""}, "response",
     {"et": "väärtus on kohustuslik", "en": "a value is required"}),
    ("refills", {"refill_date": "2999-01-01"}, "refill_date",
     {"et": "kuupäev 2999-01-01 on pärast andmete lõppkuupäeva",
      "en": "the date 2999-01-01 is after the data cut-off"}),
]


@pytest.mark.parametrize("lang", ["et", "en"])
@pytest.mark.parametrize(("table", "changes", "field", "messages"), CASES,
                         ids=[f"{case[0]}-{case[2]}-{i}" for i, case in enumerate(CASES)])
def test_a_new_event_with_a_problem_is_refused_at_its_field(
        world: World, client_as: ClientAs, lang: str, table: str, changes: dict[str, str],
        field: str, messages: dict[str, str]) -> None:
    set_language(world, lang)
    before = counts()
    response = client_as("clinician_a").post(create_url(table), {**VALID[table], **changes})
    assert response.status_code == 200
    found = errors(response).get(field, [])
    assert any(text.startswith(shown(messages[lang])) for text in found), errors(response)
    assert counts() == before
    page = response.content.decode()
    assert {"et": "Midagi ei salvestatud.", "en": "Nothing was saved."}[lang] in page


@pytest.mark.parametrize("lang", ["et", "en"])
def test_an_edit_with_a_problem_changes_nothing(world: World, client_as: ClientAs,
                                                lang: str) -> None:
    set_language(world, lang)
    pk = world.events["P-A1"]["assessments"]
    response = client_as("clinician_a").post(edit_url("assessments", pk), {
        **VALID["assessments"], "assessment_date": "2015-03-01", "phase": "screening",
        "value": "4+", "version": 1})
    assert errors(response)["value"] == [shown({
        "et": "„4+“ ei sobi skaalale mas (lubatud: 0, 1, 1+, 2, 3, 4)",
        "en": "'4+' is not on the mas scale (allowed: 0, 1, 1+, 2, 3, 4)"}[lang])]
    assessment = Assessment.objects.get(pk=pk)
    assert (assessment.value, assessment.version) == ("1+", 1)
    assert not LogEntry.objects.get_for_object(assessment).filter(
        action=LogEntry.Action.UPDATE).exists()


@pytest.mark.parametrize(("lang", "expected"), [
    ("et", ["Tüsistus: Kateetri niverdumine, 2016-07-01 – Tekkimise kuupäev: kuupäev "
            "2016-07-01 on enne esimest implantatsiooni (2017-01-01)",
            "Pumba täitmine, 2015-10-20 – Täitmise kuupäev: kuupäev 2015-10-20 on enne "
            "esimest implantatsiooni (2017-01-01)"]),
    ("en", ["Complication: Catheter kink, 2016-07-01 – Date of onset: the date 2016-07-01 "
            "is before the first implantation (2017-01-01)",
            "Refill, 2015-10-20 – Date of refill: the date 2015-10-20 is before the first "
            "implantation (2017-01-01)"]),
])
def test_moving_the_initial_implantation_after_a_complication_names_it(
        world: World, client_as: ClientAs, lang: str, expected: list[str]) -> None:
    set_language(world, lang)
    pk = world.events["P-A1"]["implantations"]
    response = client_as("clinician_a").post(edit_url("implantations", pk), {
        **VALID["implantations"], "kind": "initial", "implant_date": "2017-01-01",
        "version": 1})
    assert sorted(errors(response)["__all__"]) == sorted(expected)
    assert "implant_date" not in errors(response)  # the edited row itself is fine
    assert Implantation.objects.get(pk=pk).implant_date == date(2015, 4, 20)


# --- optimistic locking ---------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "message"), [
    ("et", "Keegi teine muutis seda kirjet"),
    ("en", "Someone else changed this record at"),
])
def test_a_stale_edit_is_refused_and_the_first_change_stays(
        world: World, client_as: ClientAs, lang: str, message: str) -> None:
    set_language(world, lang)
    pk = world.events["P-A1"]["refills"]
    url = edit_url("refills", pk)
    first, second = client_as("clinician_a"), client_as("coordinator")
    version = first.get(url).context["form"].initial["version"]
    assert second.get(url).context["form"].initial["version"] == version
    # The coordinator saves first ...
    data = {**VALID["refills"], "refill_date": "2015-10-20", "version": version}
    assert second.post(url, {**data, "daily_dose_mcg": "200"}).status_code == 302
    # ... so the clinician's save, made from the same version, is refused.
    refused = first.post(url, {**data, "daily_dose_mcg": "300"})
    assert refused.status_code == 200
    text = refused.content.decode()
    assert message in text
    assert {"et": "sinu muudatusi ei salvestatud",
            "en": "your changes were not saved"}[lang] in text
    refill = Refill.objects.get(pk=pk)
    assert (refill.daily_dose_mcg, refill.version) == (Decimal(200), 2)
    # The form now holds the stored record, at its new version.
    form = refused.context["form"]
    assert (form.initial["daily_dose_mcg"], form.initial["version"]) == (Decimal(200), 2)


def test_the_service_refuses_a_stale_version(world: World) -> None:
    user = world.users["clinician_a"]
    pk = world.events["P-A1"]["complications"]
    values = {"complication_date": date(2016, 7, 1), "type": "catheter_break", "detail": ""}
    services.update_event(user, world.patient_a, "complications", pk, values, version=1)
    with pytest.raises(StaleRecord) as refused:
        services.update_event(user, world.patient_a, "complications", pk,
                              {**values, "type": "infection"}, version=1)
    stored = Complication.objects.get(pk=pk)
    assert refused.value.changed_at == stored.updated_at
    assert (stored.type, stored.version) == ("catheter_break", 2)


def test_an_event_deleted_meanwhile_is_reported(world: World, client_as: ClientAs) -> None:
    pk = world.events["P-A1"]["refills"]
    user = world.users["coordinator"]
    services.delete_event(user, world.patient_a, "refills", pk, version=1)
    with pytest.raises(StaleRecord) as refused:
        services.update_event(user, world.patient_a, "refills", pk,
                              {"refill_date": date(2015, 10, 20)}, version=1)
    assert refused.value.changed_at is None
    assert client_as("clinician_a").get(edit_url("refills", pk)).status_code == 404


# --- deleting -------------------------------------------------------------------------------

def test_deleting_an_event_asks_first(world: World, client_as: ClientAs) -> None:
    pk = world.events["P-A1"]["complications"]
    client = client_as("clinician_a")
    page = client.get(delete_url("complications", pk))
    assert "Tüsistus: Kateetri niverdumine, 2016-07-01" in page.content.decode()
    assert Complication.objects.filter(pk=pk).exists()
    assert client.post(delete_url("complications", pk), {"version": 1}).status_code == 302
    assert not Complication.objects.filter(pk=pk).exists()
    assert LogEntry.objects.filter(action=LogEntry.Action.DELETE,
                                   additional_data__patient_id="P-A1").count() == 1


def test_the_initial_implantation_cannot_be_deleted(world: World, client_as: ClientAs) -> None:
    pk = world.events["P-A1"]["implantations"]
    response = client_as("clinician_a").post(delete_url("implantations", pk), {"version": 1})
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == [
        "Patsiendi P-A1 andmed – Registri ID: patsiendil puudub esmane implantatsioon "
        "(kind = initial)"]
    assert "Midagi ei kustutatud." in response.content.decode()
    assert Implantation.objects.filter(pk=pk).exists()


def test_a_stale_delete_is_refused(world: World, client_as: ClientAs) -> None:
    pk = world.events["P-A1"]["refills"]
    client = client_as("clinician_a")
    client_as("coordinator").post(edit_url("refills", pk), {
        **VALID["refills"], "refill_date": "2015-10-20", "version": 1})
    response = client.post(delete_url("refills", pk), {"version": 1})
    assert "Keegi teine muutis seda kirjet" in response.content.decode()
    assert Refill.objects.filter(pk=pk).exists()
    # The confirmation now carries the current version: deleting again works.
    assert response.context["form"]["version"].value() == 2
    assert client.post(delete_url("refills", pk), {"version": 2}).status_code == 302
    assert not Refill.objects.filter(pk=pk).exists()


def test_nothing_is_deleted_by_a_get(world: World, client_as: ClientAs) -> None:
    for table, pk in world.events["P-A1"].items():
        client_as("clinician_a").get(delete_url(table, pk))
    assert counts() == {"implantations": 2, "complications": 1, "assessments": 1,
                        "refills": 1, "screening_trials": 1}


def test_an_event_of_another_patient_is_not_found(world: World, client_as: ClientAs) -> None:
    """An event is addressed through its patient: another patient's key is a 404."""
    other = world.events["P-B1"]["implantations"]
    client = client_as("coordinator")
    assert client.get(edit_url("implantations", other)).status_code == 404
    assert client.post(delete_url("implantations", other), {"version": 1}).status_code == 404


def test_the_record_invalid_error_knows_the_edited_row(world: World) -> None:
    user = world.users["clinician_a"]
    with pytest.raises(RecordInvalid) as refused:
        services.create_event(user, world.patient_a, "complications",
                              {"complication_date": date(2010, 1, 1), "type": "infection"})
    problem = refused.value.problems[0]
    assert refused.value.on_edited_row(problem) == "complications"
    assert (problem.column, problem.code) == ("complication_date", "before_first_implant")
