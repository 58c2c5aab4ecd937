"""The patient list, the patient page, the patient's forms and the identity."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from django.utils import translation

from itb.web.registry.models import (
    EVENT_MODELS,
    Complication,
    Implantation,
    Patient,
    PatientIdentity,
    Refill,
    Role,
)
from itb.web.registry.permissions import ROLE_ACTIONS, Action
from itb.web.registry.selectors import patient_events
from itb.web.registry.templatetags.registry import number, patient_path
from tests.web.conftest import MODEL_BACKEND, World, make_patient, make_user, personal_code, shown

pytestmark = pytest.mark.django_db

ClientAs = Callable[[str], Client]
LIST = reverse("registry:patient_list")


def listed(response: Any) -> list[str]:
    return [patient.patient_id for patient in response.context["page"].object_list]


def errors(response: Any, form: str = "form") -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in response.context[form].errors.items()}


def patient_url(name: str, patient_id: str) -> str:
    return reverse(f"registry:{name}", args=[patient_id])


# --- the list -------------------------------------------------------------------------------

def test_a_clinician_lists_only_their_sites_patients(world: World, client_as: ClientAs) -> None:
    assert listed(client_as("clinician_a").get(LIST)) == ["P-A1"]
    assert listed(client_as("clinician_b").get(LIST)) == ["P-B1"]
    assert listed(client_as("coordinator").get(LIST)) == ["P-A1", "P-B1"]


def test_search_by_registry_id_prefix(world: World, client_as: ClientAs) -> None:
    make_patient("P-A2", world.site_a)
    make_patient("Q-A3", world.site_a)
    client = client_as("clinician_a")
    assert listed(client.get(LIST, {"q": "p-a"})) == ["P-A1", "P-A2"]
    assert listed(client.get(LIST, {"q": "Q"})) == ["Q-A3"]
    # The prefix never reaches another site's patients.
    assert listed(client.get(LIST, {"q": "P-B"})) == []


@pytest.mark.parametrize(("q", "expected"), [
    ("x00", ["X001", "X002", "x003", "X00a"]), ("X00A", ["X00a"]), ("x0", ["X001", "X002",
     "x003", "X00a", "x0ä"]), ("x0ä", ["x0ä"]), ("7-", ["7-1", "7-2"]),
    ("ABCDE", ["abcdef"]), ("%", []), ("_", []),
])
def test_the_id_search_on_its_index_ranges_finds_the_same(
        world: World, client_as: ClientAs, q: str, expected: list[str]) -> None:
    """On SQLite the id prefix also narrows by index ranges (views.patients.prefix_ranges):
    the same patients as the case-insensitive prefix alone; past 16 case variants
    ("ABCDE") none."""
    for patient_id in ("X001", "X002", "x003", "X00a", "x0ä", "X1", "7-1", "7-2", "7x",
                       "abcdef", "Y00"):
        make_patient(patient_id, world.site_a)
    assert sorted(listed(client_as("clinician_a").get(LIST, {"q": q}))) == sorted(expected)


def test_filters_therapy_status_level_and_site(world: World, client_as: ClientAs) -> None:
    make_patient("P-A2", world.site_a, functional_level="high",
                 therapy_end_date=date(2020, 1, 1), therapy_end_reason="death")
    client = client_as("coordinator")
    assert listed(client.get(LIST, {"status": "ended"})) == ["P-A2"]
    assert listed(client.get(LIST, {"status": "on"})) == ["P-A1", "P-B1"]
    assert listed(client.get(LIST, {"level": "high"})) == ["P-A2", "P-B1"]
    assert listed(client.get(LIST, {"site": "TRT"})) == ["P-B1"]
    assert listed(client.get(LIST, {"site": "TLN", "level": "low"})) == ["P-A1"]


def test_a_site_filter_outside_the_scope_is_ignored(world: World, client_as: ClientAs) -> None:
    response = client_as("clinician_a").get(LIST, {"site": "TRT"})
    assert listed(response) == ["P-A1"]
    assert response.context["query"].site == ""


@pytest.fixture
def sortable(world: World) -> None:
    """Three more patients whose ages, first implantations and last refills differ."""
    make_patient("P-A2", world.site_a, birth_date=date(1990, 1, 1), initial=date(2010, 5, 1))
    young = make_patient("P-A3", world.site_a, birth_date=date(2012, 6, 1),
                         initial=date(2020, 2, 1))
    Refill.objects.create(patient=young, refill_date=date(2023, 1, 1))
    make_patient("P-A4", world.site_a, birth_date=date(2000, 1, 1), initial=date(2019, 1, 1))


@pytest.mark.parametrize(("sort", "order"), [
    ("id", ["P-A1", "P-A2", "P-A3", "P-A4", "P-B1"]),
    ("-id", ["P-B1", "P-A4", "P-A3", "P-A2", "P-A1"]),
    ("site", ["P-A1", "P-A2", "P-A3", "P-A4", "P-B1"]),
    ("-site", ["P-B1", "P-A1", "P-A2", "P-A3", "P-A4"]),
    # Ages at first implantation: B1 6 y 10 m, A1 7 y 1 m, A3 7 y 8 m, A4 19 y, A2 20 y.
    ("age", ["P-B1", "P-A1", "P-A3", "P-A4", "P-A2"]),
    ("-age", ["P-A2", "P-A4", "P-A3", "P-A1", "P-B1"]),
    ("first", ["P-A2", "P-A1", "P-B1", "P-A4", "P-A3"]),
    ("-first", ["P-A3", "P-A4", "P-B1", "P-A1", "P-A2"]),
    # Without a refill, a patient comes last whichever the direction.
    ("refill", ["P-A1", "P-A3", "P-A2", "P-A4", "P-B1"]),
    ("-refill", ["P-A3", "P-A1", "P-A2", "P-A4", "P-B1"]),
])
def test_sorting(sortable: None, client_as: ClientAs, sort: str, order: list[str]) -> None:
    assert listed(client_as("coordinator").get(LIST, {"sort": sort})) == order


def test_an_unknown_sort_falls_back_to_the_id(world: World, client_as: ClientAs) -> None:
    response = client_as("coordinator").get(LIST, {"sort": "birth_date; drop table"})
    assert listed(response) == ["P-A1", "P-B1"]


def test_the_list_shows_age_first_implantation_and_last_refill(world: World,
                                                                client_as: ClientAs) -> None:
    response = client_as("clinician_a").get(LIST)
    row = response.context["page"].object_list[0]
    assert (row.age_at_first, row.first_implant, row.last_refill) == (
        7, date(2015, 4, 20), date(2015, 10, 20))
    page = response.content.decode()
    assert "2015-04-20" in page and "2015-10-20" in page and "Ravil" in page


@pytest.mark.parametrize("prefix", ["/", "/itb/"])
@pytest.mark.parametrize("patient_id", [
    "P-A1", '<b>"Q&A\'', "õun ja 100%", "a?b#c", "~:@!$&'()*+,;=", "Ü-1", "%41"])
def test_a_list_rows_link_is_the_one_reverse_writes(prefix: str, patient_id: str) -> None:
    """The rows' links are written without ``reverse`` (templatetags.registry.patient_path):
    the same text, whatever the id's characters and the script prefix."""
    set_script_prefix(prefix)
    try:
        assert patient_path(patient_id) == reverse("registry:patient_detail", args=[patient_id])
    finally:
        set_script_prefix("/")


def test_a_list_row_shows_its_patient_escaped_in_the_users_language(
        world: World, client_as: ClientAs) -> None:
    """The rows are written by one string format each (templatetags.registry.patient_row),
    not by the template language: its escaping and labels are checked here."""
    make_patient('<b>"Q&A\'', world.site_a, birth_date=date(2001, 2, 3), functional_level="high",
                 therapy_end_date=date(2020, 1, 2), therapy_end_reason="death")
    client = client_as("clinician_a")
    page = client.get(LIST).content.decode()
    assert '<b>"Q&A' not in page
    url = html.escape(patient_url("patient_detail", '<b>"Q&A\''))
    assert (f'<tr><td><a href="{url}">&lt;b&gt;&quot;Q&amp;A&#x27;</a></td><td>TLN</td>'
            '<td class="hide-medium">2001</td><td class="num">14</td>'
            '<td class="date">2015-04-20</td><td class="date">–</td>') in page
    assert '<span class="status status-ended">Lõppes 2020-01-02</span>' in page
    assert '<span class="status status-on">Ravil</span>' in page
    english = make_user("english", Role.CLINICIAN, [world.site_a], language="en")
    client.force_login(english, backend=MODEL_BACKEND)
    page = client.get(LIST).content.decode()
    assert "Ended 2020-01-02" in page and "On therapy" in page


def test_pagination_by_fifty_without_per_row_queries(world: World, client_as: ClientAs,
                                                     django_assert_max_num_queries: Any) -> None:
    patients = Patient.objects.bulk_create(
        Patient(patient_id=f"X{i:04d}", site=world.site_a, sex="F",
                birth_date=date(2000, 1, 1), diagnosis="other",
                syndrome="spastic_paraparesis", functional_level="low") for i in range(119))
    Implantation.objects.bulk_create(
        Implantation(patient=p, implant_date=date(2010, 1, 1) + timedelta(days=i),
                     site=world.site_a, kind="initial") for i, p in enumerate(patients))
    client = client_as("clinician_a")
    client.get(LIST)  # the session and the user are loaded once, before counting
    with django_assert_max_num_queries(11):
        first = client.get(LIST, {"sort": "first"})
    assert first.context["page"].paginator.num_pages == 3
    assert len(first.context["page"].object_list) == 50
    last = client.get(LIST, {"sort": "first", "page": 3})
    assert len(last.context["page"].object_list) == 20
    assert listed(last)[-2:] == ["X0118", "P-A1"]
    assert "sort=first" in last.content.decode()  # page links keep the order


def _many(world: World, n: int) -> None:
    """``n`` more patients X0000… at site A and every third at site B, without the audit
    trail (bulk): what an import writes, which leaves its own audited record."""
    Patient.objects.bulk_create(
        Patient(patient_id=f"X{i:04d}", site=world.site_b if i % 3 == 0 else world.site_a,
                sex="F", birth_date=date(2000, 1, 1), diagnosis="other",
                syndrome="spastic_paraparesis", functional_level="low") for i in range(n))


@pytest.mark.parametrize(("params", "expected"), [
    ({}, sorted(["P-A1", "P-B1", *[f"X{i:04d}" for i in range(120)]])),
    ({"sort": "-id"}, sorted(["P-A1", "P-B1", *[f"X{i:04d}" for i in range(120)]],
                             reverse=True)),
    ({"site": "TRT"}, sorted(["P-B1", *[f"X{i:04d}" for i in range(0, 120, 3)]])),
    ({"q": "x00", "status": "on", "level": "low"}, [f"X{i:04d}" for i in range(100)]),
])
def test_every_patient_on_exactly_one_page(world: World, client_as: ClientAs,
                                           params: dict[str, str], expected: list[str]) -> None:
    """In the id's order a page's ids are read first and its rows then by those ids: the
    pages, their boundaries and the last, short one are the whole list, each patient once."""
    _many(world, 120)
    client = client_as("coordinator")
    first = client.get(LIST, params)
    pages = first.context["page"].paginator.num_pages
    assert pages == -(-len(expected) // 50)
    seen = [pid for number in range(1, pages + 1)
            for pid in listed(client.get(LIST, {**params, "page": number}))]
    assert seen == expected
    # Past the end: the last page, as before.
    assert listed(client.get(LIST, {**params, "page": pages + 5}))[-1] == expected[-1]
    assert first.context["page"].paginator.count == len(expected)


def test_a_list_page_takes_a_fixed_number_of_queries(world: World, client_as: ClientAs,
                                                     django_assert_max_num_queries: Any) -> None:
    """Session, user, profile, sites, the data version, (the count,) the page's ids, its
    rows, their first implantations and last refills: however many patients, and without a
    session write."""
    _many(world, 120)
    client = client_as("coordinator")
    client.get(LIST, {"site": "TLN"})  # the session is renewed once, and the count kept
    for page in (1, 2, 3):
        with django_assert_max_num_queries(9):
            assert client.get(LIST, {"page": page, "site": "TLN"}).status_code == 200


def test_the_count_is_kept_until_the_data_change(world: World, client_as: ClientAs) -> None:
    client = client_as("clinician_a")
    assert client.get(LIST).context["page"].paginator.count == 1
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST, {"page": 1}).context["page"].paginator.count == 1
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"]]
    # A change through the application is in the audit trail: the count follows at once.
    make_patient("P-A2", world.site_a)
    assert client.get(LIST).context["page"].paginator.count == 2
    # Another scope (site B) or filter is another count.
    assert client_as("clinician_b").get(LIST).context["page"].paginator.count == 1
    assert client.get(LIST, {"q": "P-A2"}).context["page"].paginator.count == 1


@pytest.mark.parametrize("role", ["clinician_a", "coordinator"])
def test_the_patient_page_reads_each_table_once_for_the_patient_alone(
        world: World, client_as: ClientAs, role: str) -> None:
    """The identity is read with the patient, and each event table in one query of the
    patient's own rows: the patient was read through the user's scope, so the events need
    no scope subquery of their own."""
    client = client_as(role)
    page = reverse("registry:patient_detail", args=["P-A1"])
    client.get(page)  # the session is renewed once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page)
    assert response.context["identity"] is not None
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if 'FROM "registry_patientidentity"' in sql]
    for table in ("implantation", "refill", "complication", "assessment", "screeningtrial"):
        queries = [sql for sql in reads if f'FROM "registry_{table}"' in sql]
        assert len(queries) == 1, (table, queries)
        assert "IN (SELECT" not in queries[0], queries[0]
    # Another site's patient is still a 404, however the page reads.
    assert client_as("clinician_b").get(page).status_code == 404


def test_the_patient_events_are_the_models_rows_of_that_patient(world: World) -> None:
    """patient_events reads three tables through SQL the ORM compiled once: the same
    instances, values and order as the ORM's own query, and another patient's rows never."""
    patient = Patient.objects.get(patient_id="P-A1")
    Complication.objects.create(patient=world.patient_b, complication_date=date(2021, 1, 1),
                                type="infection")
    events = patient_events(patient)
    for table in ("complications", "assessments", "screening_trials", "implantations"):
        expected = list(EVENT_MODELS[table].objects.filter(patient=patient))
        assert expected, table  # the test world records each for P-A1
        assert [(e.pk, type(e)) for e in events[table]] == [(e.pk, type(e)) for e in expected]
        for read, orm in zip(events[table], expected, strict=True):
            fields = [f.attname for f in orm._meta.concrete_fields]
            assert [getattr(read, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert [r.refill_date for r in events["refills"]] == sorted(
        Refill.objects.filter(patient=patient).values_list("refill_date", flat=True))


@pytest.mark.parametrize(("sort", "subqueries"), [
    ("id", set()), ("-site", set()), ("first", {"implantation"}), ("age", {"implantation"}),
    ("-refill", {"refill"}),
])
def test_the_pages_dates_are_read_for_its_rows_only(
        world: World, client_as: ClientAs, sort: str, subqueries: set[str]) -> None:
    """PostgreSQL evaluates a correlated subquery for every row OFFSET skips: the page's
    query carries the dates' subqueries only when it is sorted by them; otherwise they are
    read for the page's 50 patients afterwards."""
    patients = Patient.objects.bulk_create(
        Patient(patient_id=f"X{i:04d}", site=world.site_a, sex="F",
                birth_date=date(2000, 1, 1), diagnosis="other",
                syndrome="spastic_paraparesis", functional_level="low") for i in range(60))
    Implantation.objects.bulk_create(
        Implantation(patient=p, implant_date=date(2010, 1, 1) + timedelta(days=i),
                     site=world.site_a, kind="initial") for i, p in enumerate(patients))
    Refill.objects.bulk_create(
        Refill(patient=p, refill_date=date(2012, 1, 1) + timedelta(days=i))
        for i, p in enumerate(patients))
    client = client_as("clinician_a")
    client.get(LIST)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, {"sort": sort, "page": 2})
    page_query = next(q["sql"] for q in captured.captured_queries
                      if "LIMIT" in q["sql"] and "registry_patient" in q["sql"]
                      and "OFFSET" in q["sql"])
    for table in ("implantation", "refill"):
        assert (f"registry_{table}" in page_query) == (table in subqueries), page_query
    rows = {p.patient_id: p for p in response.context["page"].object_list}
    assert len(rows) == 11  # 61 patients: the second page's 11
    for patient_id, patient in rows.items():
        if patient_id == "P-A1":
            assert (patient.first_implant, patient.last_refill, patient.age_at_first) == (
                date(2015, 4, 20), date(2015, 10, 20), 7)
        else:
            i = int(patient_id[1:])
            assert patient.first_implant == date(2010, 1, 1) + timedelta(days=i)
            assert patient.last_refill == date(2012, 1, 1) + timedelta(days=i)
            assert patient.age_at_first == 10


def test_a_researcher_gets_the_report_and_an_administrator_the_admin(
        world: World, client_as: ClientAs) -> None:
    assert client_as("researcher").get(LIST).url == reverse("registry:report")
    assert client_as("administrator").get(LIST).url == reverse("admin:index")


# --- the personal-code search ---------------------------------------------------------------

SEARCH = reverse("registry:personal_code_search")


def test_a_personal_code_finds_the_patient(world: World, client_as: ClientAs) -> None:
    code = world.patient_a.identity.personal_code
    response = client_as("clinician_a").post(SEARCH, {"personal_code": code})
    assert response.url == patient_url("patient_detail", "P-A1")
    # Typed with spaces, still found.
    spaced = f"{code[:3]} {code[3:7]} {code[7:]}"
    assert client_as("coordinator").post(SEARCH, {"personal_code": spaced}).url.endswith(
        "/patients/P-A1/")


def test_another_sites_patient_is_not_found_by_personal_code(world: World,
                                                             client_as: ClientAs) -> None:
    code = world.patient_a.identity.personal_code
    response = client_as("clinician_b").post(SEARCH, {"personal_code": code}, follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert "Sinu patsientide seas selle isikukoodiga patsienti ei ole." in \
        response.content.decode()


def test_only_roles_that_see_identities_may_search_by_personal_code(
        world: World, client_as: ClientAs, monkeypatch: pytest.MonkeyPatch) -> None:
    code = world.patient_a.identity.personal_code
    assert client_as("researcher").post(SEARCH, {"personal_code": code}).status_code == 403
    assert client_as("administrator").post(SEARCH, {"personal_code": code}).status_code == 403
    monkeypatch.setitem(ROLE_ACTIONS, Role.CLINICIAN,
                        ROLE_ACTIONS[Role.CLINICIAN] - {Action.VIEW_IDENTITY})
    client = client_as("clinician_a")
    assert client.post(SEARCH, {"personal_code": code}).status_code == 403
    assert 'name="personal_code"' not in client.get(LIST).content.decode()


def test_the_personal_code_search_is_a_post_and_logs_no_code(
        world: World, client_as: ClientAs, caplog: pytest.LogCaptureFixture) -> None:
    code = world.patient_a.identity.personal_code
    client = client_as("clinician_a")
    assert client.get(SEARCH, {"personal_code": code}).status_code == 405
    page = client.get(LIST).content.decode()
    assert f'action="{SEARCH}"' in page and 'method="post"' in page
    entries_before = LogEntry.objects.count()
    with caplog.at_level(logging.DEBUG):
        response = client.post(SEARCH, {"personal_code": code})
        client.post(SEARCH, {"personal_code": "39001010002"})  # nobody's
    assert code not in response.url
    assert all(code not in record.getMessage() and "39001010002" not in record.getMessage()
               for record in caplog.records)
    new_entries = LogEntry.objects.all()[: LogEntry.objects.count() - entries_before]
    assert all(code not in str(entry.changes) for entry in new_entries)


# --- the patient page -----------------------------------------------------------------------

def test_the_timeline_shows_every_event_in_date_order(world: World,
                                                      client_as: ClientAs) -> None:
    response = client_as("clinician_a").get(patient_url("patient_detail", "P-A1"))
    timeline = response.context["timeline"]
    # The bolus trial and the assessment of its day: the trial first, as in the clinic.
    assert [(entry.when, entry.kind) for entry in timeline] == [
        (date(2015, 3, 1), "screening_trials"), (date(2015, 3, 1), "assessments"),
        (date(2015, 4, 20), "implantations"), (date(2015, 10, 20), "refills"),
        (date(2016, 7, 1), "complications")]
    page = response.content.decode()
    for text in ("Boolustest", "50 µg", "Spastilisus vähenes", "Esmane implantatsioon",
                 "Medtronic SynchroMed II · 20 ml",
                 "Ascenda · tipp T10", "Pumba täitmine", "500 µg/ml", "150 µg/ööpäevas",
                 "Kateetri niverdumine", "Kateetriga seotud", "14,4",
                 "Modifitseeritud Ashworthi skaala (MAS)", "Skriiningfaas", "left knee", "1+"):
        assert text in page, text


def test_the_patient_page_takes_a_fixed_number_of_queries(
        world: World, client_as: ClientAs, django_assert_max_num_queries: Any) -> None:
    """Session, the user with the profile, the patient, the identity and its viewing in the
    audit trail, the five event tables (bolus trials too), whatever the record's length: the
    follow-up panel is built from the rows already read."""
    Refill.objects.bulk_create(
        Refill(patient=world.patient_a, refill_date=date(2016, 1, 1) + timedelta(days=90 * i),
               volume_ml=20, concentration_mcg_ml=500, daily_dose_mcg=150 + i)
        for i in range(30))
    client = client_as("coordinator")
    url = patient_url("patient_detail", "P-A1")
    client.get(url)  # the session is renewed once
    entries = LogEntry.objects.count()
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert len(response.context["timeline"]) == 35
    assert LogEntry.objects.count() == entries + 1  # the identity's viewing, as before


def test_a_timeline_entry_is_escaped_and_links_its_edit_and_delete(
        world: World, client_as: ClientAs) -> None:
    """The entries are written by one string format each (templatetags.registry.
    timeline_entries), not by the template language: their escaping and links are checked
    here."""
    complication = Complication.objects.get(pk=world.events["P-A1"]["complications"])
    complication.detail = '<i>"kink"</i> & more'
    complication.save()
    page = client_as("clinician_a").get(patient_url("patient_detail", "P-A1")).content.decode()
    assert "<i>" not in page
    args = ["P-A1", "complications", complication.pk]
    assert ('<dt>Täpsustus</dt><dd>&lt;i&gt;&quot;kink&quot;&lt;/i&gt; &amp; more</dd>'
            in page)
    assert (f'<div class="entry-actions"><a href="{reverse("registry:event_edit", args=args)}">'
            f'Muuda</a><a href="{reverse("registry:event_delete", args=args)}">Kustuta</a>'
            '</div></li>') in page
    assert ('<li class="entry entry-complications"><time datetime="2016-07-01">2016-07-01'
            '</time><div><div class="entry-title"><span class="tag">Tüsistus</span>'
            '<strong>Kateetri niverdumine</strong></div><dl class="details">') in page


def test_the_timeline_ends_with_therapy_end_and_can_show_one_kind(world: World,
                                                                   client_as: ClientAs) -> None:
    Patient.objects.filter(pk=world.patient_a.pk).update(
        therapy_end_date=date(2020, 2, 2), therapy_end_reason="explanted")
    client = client_as("clinician_a")
    timeline = client.get(patient_url("patient_detail", "P-A1")).context["timeline"]
    assert (timeline[-1].kind, timeline[-1].title) == ("end", "Ravi lõppes")
    refills = client.get(patient_url("patient_detail", "P-A1"), {"show": "refills"})
    assert [entry.kind for entry in refills.context["timeline"]] == ["refills"]


def test_the_patient_page_in_english(world: World, client_as: ClientAs) -> None:
    profile = world.users["clinician_a"].profile  # type: ignore[union-attr]
    profile.language = "en"
    profile.save()
    page = client_as("clinician_a").get(patient_url("patient_detail", "P-A1")).content.decode()
    for text in ("Initial implantation", "Catheter kink", "Catheter-related", "14.4",
                 "Modified Ashworth Scale (MAS)", "Refill", "µg/day", "Timeline"):
        assert text in page, text
    assert "Kateetri niverdumine" not in page


def test_the_identity_is_shown_and_its_viewing_is_logged(world: World,
                                                         client_as: ClientAs) -> None:
    identity = world.patient_a.identity
    response = client_as("clinician_a").get(patient_url("patient_detail", "P-A1"))
    page = response.content.decode()
    assert "Mart Tamm" in page and identity.personal_code in page
    access = LogEntry.objects.get_for_object(identity).filter(action=LogEntry.Action.ACCESS)
    assert access.count() == 1
    entry = access.get()
    assert entry.actor == world.users["clinician_a"]
    assert entry.additional_data == {"patient_id": "P-A1"}


def test_the_identity_is_not_shown_to_roles_without_the_right(
        world: World, client_as: ClientAs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ROLE_ACTIONS, Role.CLINICIAN,
                        ROLE_ACTIONS[Role.CLINICIAN] - {Action.VIEW_IDENTITY})
    client = client_as("clinician_a")
    page = client.get(patient_url("patient_detail", "P-A1")).content.decode()
    assert "Mart" not in page and world.patient_a.identity.personal_code not in page
    assert "Isikuandmed" not in page
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()
    assert client.get(patient_url("identity_edit", "P-A1")).status_code == 403


def test_another_sites_patient_does_not_exist_for_a_clinician(world: World,
                                                              client_as: ClientAs) -> None:
    client = client_as("clinician_b")
    for name in ("patient_detail", "patient_edit", "patient_delete", "identity_edit"):
        assert client.get(patient_url(name, "P-A1")).status_code == 404, name
    assert client.get(patient_url("patient_detail", "nobody")).status_code == 404


# --- registering and editing a patient ------------------------------------------------------

NEW = reverse("registry:patient_create")


def new_patient(**changes: str) -> dict[str, str]:
    data = {
        "patient_id": "P-A9", "site": "TLN", "sex": "F", "birth_date": "2010-05-06",
        "diagnosis": "cerebral_palsy", "diagnosis_detail": "", "syndrome": "spastic_paraparesis",
        "functional_level": "high", "contractures_before": "no", "therapy_end_date": "",
        "therapy_end_reason": "",
        "initial-implant_date": "2019-02-03", "initial-site": "TRT",
        "initial-pump_model": "prometra_ii", "initial-reservoir_ml": "40",
        "initial-catheter_type": "silicone", "initial-catheter_tip_level": "T8",
    }
    data.update(changes)
    return data


def test_registering_a_patient_saves_the_patient_and_the_initial_implantation(
        world: World, client_as: ClientAs) -> None:
    response = client_as("clinician_a").post(NEW, new_patient())
    assert response.url == patient_url("patient_detail", "P-A9")
    patient = Patient.objects.get(patient_id="P-A9")
    assert (patient.site, patient.sex, patient.birth_date, patient.functional_level) == (
        world.site_a, "F", date(2010, 5, 6), "high")
    implantation = patient.implantations.get()
    assert (implantation.kind, implantation.site, implantation.reservoir_ml,
            implantation.catheter_tip_level) == ("initial", world.site_b, 40, "T8")
    created = LogEntry.objects.filter(action=LogEntry.Action.CREATE,
                                      additional_data__patient_id="P-A9")
    assert created.count() == 2
    assert {e.actor for e in created} == {world.users["clinician_a"]}


@pytest.mark.parametrize(("lang", "changes", "field", "message"), [
    ("et", {"birth_date": "2010-02-30"}, "birth_date",
     "See ei ole kuupäev: sisesta see kujul AAAA-KK-PP (nt 2024-03-31)."),
    ("en", {"birth_date": "2010-02-30"}, "birth_date",
     "This is not a date: enter it as YYYY-MM-DD (e.g. 2024-03-31)."),
    ("et", {"diagnosis": "flu"}, "diagnosis", "tundmatu kood „flu“; lubatud: cerebral_palsy"),
    ("en", {"diagnosis": "flu"}, "diagnosis", "unknown code 'flu'; allowed: cerebral_palsy"),
    ("et", {"sex": ""}, "sex", "väärtus on kohustuslik"),
    ("en", {"birth_date": "1850-01-01"}, "birth_date", "the date 1850-01-01 is before 1900"),
    ("et", {"therapy_end_date": "2020-01-01"}, "therapy_end_reason",
     "ravi lõpu kuupäev on antud, kuid therapy_end_reason on tühi"),
    ("et", {"patient_id": "P A/9"}, "patient_id", "Kasuta tähti, numbreid"),
    ("en", {"patient_id": "P-A1"}, "patient_id",
     "A patient with this registry id already exists."),
    ("en", {"site": "TRT"}, "site", "You can only choose one of your own sites."),
])
def test_registering_refuses_a_wrong_patient_at_its_field(
        world: World, client_as: ClientAs, lang: str, changes: dict[str, str], field: str,
        message: str) -> None:
    _set_language(world, "clinician_a", lang)
    response = client_as("clinician_a").post(NEW, new_patient(**changes))
    assert response.status_code == 200
    assert any(text.startswith(shown(message)) for text in errors(response).get(field, [])), \
        errors(response)
    assert not Patient.objects.filter(patient_id__in=["P-A9", "P A/9"]).exists()
    assert Patient.objects.count() == 2 and Implantation.objects.count() == 2


@pytest.mark.parametrize(("lang", "changes", "field", "message"), [
    ("et", {"initial-implant_date": "2009-01-01"}, "implant_date",
     "implantatsioon 2009-01-01 on enne sünnikuupäeva 2010-05-06"),
    ("en", {"initial-implant_date": "2009-01-01"}, "implant_date",
     "the implantation 2009-01-01 is before the birth date 2010-05-06"),
    ("en", {"initial-catheter_tip_level": "T13"}, "catheter_tip_level", "unknown code 'T13'"),
    ("et", {"initial-reservoir_ml": "abc"}, "reservoir_ml", "See ei ole arv."),
    ("en", {"initial-reservoir_ml": "250"}, "reservoir_ml",
     "250 is outside the allowed range 1…100"),
])
def test_registering_refuses_a_wrong_initial_implantation_at_its_field(
        world: World, client_as: ClientAs, lang: str, changes: dict[str, str], field: str,
        message: str) -> None:
    _set_language(world, "clinician_a", lang)
    response = client_as("clinician_a").post(NEW, new_patient(**changes))
    assert any(text.startswith(shown(message))
               for text in errors(response, "initial_form").get(field, [])), \
        errors(response, "initial_form")
    assert not Patient.objects.filter(patient_id="P-A9").exists()


def test_the_new_patient_form_offers_only_the_users_sites(world: World,
                                                          client_as: ClientAs) -> None:
    form = client_as("clinician_a").get(NEW).context["form"]
    assert [code for code, _label in form.fields["site"].widget.choices] == ["", "TLN"]
    assert form.initial == {"site": "TLN"}


def _set_language(world: World, role: str, lang: str) -> None:
    profile = world.users[role].profile  # type: ignore[union-attr]
    profile.language = lang
    profile.save()


def edit_data(patient: Patient, **changes: Any) -> dict[str, Any]:
    data = {"version": patient.version, "site": patient.site.code, "sex": patient.sex,
            "birth_date": patient.birth_date.isoformat(), "diagnosis": patient.diagnosis,
            "diagnosis_detail": patient.diagnosis_detail, "syndrome": patient.syndrome,
            "functional_level": patient.functional_level,
            "contractures_before": patient.contractures_before,
            "therapy_end_date": "", "therapy_end_reason": ""}
    data.update(changes)
    return data


def test_editing_the_patient(world: World, client_as: ClientAs) -> None:
    response = client_as("clinician_a").post(
        patient_url("patient_edit", "P-A1"),
        edit_data(world.patient_a, therapy_end_date="2023-05-10", therapy_end_reason="death",
                  diagnosis_detail="perinatal"))
    assert response.status_code == 302
    patient = Patient.objects.get(pk=world.patient_a.pk)
    assert (patient.therapy_end_date, patient.therapy_end_reason, patient.version) == (
        date(2023, 5, 10), "death", 2)
    change = LogEntry.objects.get_for_object(patient).filter(
        action=LogEntry.Action.UPDATE).get()
    assert change.changes_dict["therapy_end_reason"] == ["", "death"]


@pytest.mark.parametrize(("lang", "changes", "field", "message"), [
    ("et", {"therapy_end_date": "2010-01-01", "therapy_end_reason": "death"},
     "therapy_end_date", "kuupäev 2010-01-01 on enne esimest implantatsiooni (2015-04-20)"),
    ("en", {"therapy_end_date": "2010-01-01", "therapy_end_reason": "death"},
     "therapy_end_date", "the date 2010-01-01 is before the first implantation (2015-04-20)"),
    ("en", {"functional_level": "medium"}, "functional_level", "unknown code 'medium'"),
])
def test_editing_refuses_a_wrong_patient_at_its_field(
        world: World, client_as: ClientAs, lang: str, changes: dict[str, str], field: str,
        message: str) -> None:
    _set_language(world, "clinician_a", lang)
    response = client_as("clinician_a").post(patient_url("patient_edit", "P-A1"),
                                             edit_data(world.patient_a, **changes))
    assert any(text.startswith(shown(message)) for text in errors(response).get(field, [])), \
        errors(response)
    assert Patient.objects.get(pk=world.patient_a.pk).version == 1


@pytest.mark.parametrize("lang", ["et", "en"])
def test_a_birth_date_after_events_names_the_other_records(
        world: World, client_as: ClientAs, lang: str) -> None:
    """The birth date moved after the implantation: the problem is on another record."""
    _set_language(world, "clinician_a", lang)
    response = client_as("clinician_a").post(
        patient_url("patient_edit", "P-A1"),
        edit_data(world.patient_a, birth_date="2016-01-01"))
    form_errors = errors(response).get("__all__", [])
    expected = {"et": ["Boolustest, 2015-03-01 – Boolustesti kuupäev: proovidoosi kuupäev "
                       "2015-03-01 on enne sünnikuupäeva 2016-01-01",
                       "Operatsioon: Esmane implantatsioon, 2015-04-20 – Operatsiooni kuupäev: "
                       "implantatsioon 2015-04-20 on enne sünnikuupäeva 2016-01-01",
                       "Isikuandmed – Isikukood: isikukoodi sünnikuupäev erineb patsiendi "
                       "sünnikuupäevast"],
                "en": ["Bolus trial, 2015-03-01 – Date of the bolus trial: the trial date "
                       "2015-03-01 is before the birth date 2016-01-01",
                       "Surgery: Initial implantation, 2015-04-20 – Date of surgery: the "
                       "implantation 2015-04-20 is before the birth date 2016-01-01",
                       "Identity – Personal code: the personal code's birth date differs from "
                       "the patient's birth date"]}[lang]
    assert sorted(form_errors) == sorted(expected)
    assert Patient.objects.get(pk=world.patient_a.pk).birth_date == date(2008, 3, 14)


def test_deleting_a_patient_asks_first_and_then_deletes_everything(
        world: World, client_as: ClientAs) -> None:
    client = client_as("clinician_a")
    url = patient_url("patient_delete", "P-A1")
    confirmation = client.get(url)
    assert confirmation.status_code == 200
    assert Patient.objects.filter(patient_id="P-A1").exists()
    response = client.post(url, {"version": 1})
    assert response.url == LIST
    assert not Patient.objects.filter(patient_id="P-A1").exists()
    assert not PatientIdentity.objects.exists()
    deleted = LogEntry.objects.filter(action=LogEntry.Action.DELETE,
                                      additional_data__patient_id="P-A1")
    assert deleted.count() == 7  # patient, identity and the five events


def test_a_stale_patient_delete_is_refused(world: World, client_as: ClientAs) -> None:
    # Someone saved an edit after the confirmation page was opened at version 1.
    client_as("coordinator").post(patient_url("patient_edit", "P-A1"),
                                  edit_data(world.patient_a, diagnosis_detail="changed"))
    response = client_as("clinician_a").post(patient_url("patient_delete", "P-A1"),
                                             {"version": 1})
    assert response.status_code == 200
    assert "Keegi teine muutis seda kirjet" in response.content.decode()
    assert Patient.objects.filter(patient_id="P-A1").exists()


# --- identity -------------------------------------------------------------------------------

def identity_data(**changes: Any) -> dict[str, Any]:
    data = {"version": "", "personal_code": personal_code("F", date(2011, 11, 2)),
            "first_name": "Liis", "last_name": "Kask"}
    data.update(changes)
    return data


def test_adding_an_identity(world: World, client_as: ClientAs) -> None:
    response = client_as("clinician_b").post(patient_url("identity_edit", "P-B1"),
                                             identity_data())
    assert response.status_code == 302
    identity = PatientIdentity.objects.get(patient=world.patient_b)
    assert (identity.first_name, identity.last_name, identity.version) == ("Liis", "Kask", 1)


@pytest.mark.parametrize(("lang", "code", "message"), [
    ("et", "61111020011", "isikukoodi kontrollnumber (viimane number) ei klapi"),
    ("en", "61111020011", "the check digit (the last digit) of the personal code does not match"),
    ("et", "1234", "isikukood peab olema 11 numbrit"),
    ("en", personal_code("M", date(2011, 11, 2)), "the personal code gives the patient the "
                                                  "other sex"),
    ("en", personal_code("F", date(2011, 11, 3)), "the personal code's birth date differs"),
])
def test_a_wrong_personal_code_is_refused_at_its_field(
        world: World, client_as: ClientAs, lang: str, code: str, message: str) -> None:
    _set_language(world, "clinician_b", lang)
    response = client_as("clinician_b").post(patient_url("identity_edit", "P-B1"),
                                             identity_data(personal_code=code))
    assert any(text.startswith(shown(message)) for text in errors(response)["personal_code"]), \
        errors(response)
    assert not PatientIdentity.objects.filter(patient=world.patient_b).exists()


def test_a_personal_code_belongs_to_one_patient(world: World, client_as: ClientAs) -> None:
    twin = make_patient("P-A2", world.site_a)  # same sex and birth date as P-A1
    code = world.patient_a.identity.personal_code
    response = client_as("clinician_a").post(patient_url("identity_edit", twin.patient_id),
                                             identity_data(personal_code=code))
    assert errors(response)["personal_code"] == [
        "Sama isikukood on registris juba patsiendil P-A1"]
    # A patient of a site the user cannot see is not named.
    other = make_patient("P-B2", world.site_b)
    response = client_as("clinician_b").post(patient_url("identity_edit", other.patient_id),
                                             identity_data(personal_code=code))
    assert errors(response)["personal_code"] == [
        "See isikukood on registris juba teise haigla patsiendil."]


def test_editing_an_identity_logs_its_viewing_and_keeps_the_first_change(
        world: World, client_as: ClientAs) -> None:
    identity = world.patient_a.identity
    url = patient_url("identity_edit", "P-A1")
    first, second = client_as("clinician_a"), client_as("coordinator")
    form = first.get(url).context["form"]
    assert form.initial["version"] == 1
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == 1
    data = identity_data(personal_code=identity.personal_code, version=1)
    assert second.post(url, {**data, "first_name": "Martin"}).status_code == 302
    refused = first.post(url, {**data, "first_name": "Mardo"})
    assert "Keegi teine muutis seda kirjet" in refused.content.decode()
    assert PatientIdentity.objects.get(pk=identity.pk).first_name == "Martin"
    assert refused.context["form"].initial["first_name"] == "Martin"


def test_deleting_an_identity_keeps_the_clinical_record(world: World,
                                                       client_as: ClientAs) -> None:
    client = client_as("clinician_a")
    url = patient_url("identity_delete", "P-A1")
    assert client.get(url).status_code == 200
    assert client.post(url, {"version": 1}).status_code == 302
    assert not PatientIdentity.objects.filter(patient=world.patient_a).exists()
    assert Patient.objects.filter(pk=world.patient_a.pk).exists()


def test_a_user_without_a_profile_has_no_patients(world: World) -> None:
    user = make_user("nobody", None)
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    assert client.get(LIST).status_code == 403


def test_numbers_are_written_in_each_language_however_often() -> None:
    """``number`` keeps its results per value and language: the language is part of it."""
    for _ in range(2):
        with translation.override("et"):
            assert [number(Decimal("1.50")), number(1.5), number(20), number(None)] == [
                "1,5", "1,5", "20", ""]
        with translation.override("en"):
            assert [number(Decimal("1.50")), number(Decimal("0.125"))] == ["1.5", "0.125"]
