"""The report page: the user's scope only, every file to download, a fresh report after
every change, a friendly page when there is nothing to report."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from itb.web.registry.models import Complication, Patient, Role
from itb.web.registry.views import report as report_views
from tests.web.conftest import MODEL_BACKEND, World, make_patient, make_user

pytestmark = pytest.mark.django_db

ClientAs = Callable[[str], Client]
REPORT = reverse("registry:report")


def file_url(name: str) -> str:
    return reverse("registry:report_file", args=[name])


def report_json(client: Client) -> dict:  # type: ignore[type-arg]
    return json.loads(client.get(file_url("report.json")).content)


@pytest.mark.parametrize(("role", "n", "sites"), [
    ("clinician_a", 1, {"TLN"}),
    ("clinician_b", 1, {"TRT"}),
    ("coordinator", 2, {"TLN", "TRT"}),
    ("researcher", 2, {"TLN", "TRT"}),
])
def test_the_report_covers_the_users_scope(world: World, client_as: ClientAs, role: str, n: int,
                                           sites: set[str]) -> None:
    client = client_as(role)
    response = client.get(REPORT)
    assert response.status_code == 200
    assert response.context["report"].n_patients == n
    data = report_json(client)
    assert data["n_patients"] == n
    assert set(data["site_names"]) == sites
    assert set(data["first_implantations_by_site"]) == sites


def test_a_clinicians_report_never_includes_another_sites_patients(
        world: World, client_as: ClientAs) -> None:
    # Site B's patient has a complication; site A's report must not count it.
    Complication.objects.create(patient=world.patient_b, complication_date=date(2019, 3, 3),
                                type="infection")
    data = report_json(client_as("clinician_a"))
    assert data["complications"]["by_type"].keys() == {"catheter_kink"}
    assert data["table1"]["overall"]["n"] == 1
    assert data["table1"]["overall"]["sex"] == {"M": 1, "F": 0}
    table2 = client_as("clinician_a").get(file_url("table2.csv")).content.decode()
    assert "Infektsioon" not in table2 and "Kateetri niverdumine" in table2
    page = client_as("clinician_a").get(REPORT).content.decode()
    assert "Tartu" not in page and "TRT" not in page


def test_the_page_shows_every_table_and_the_figure(world: World, client_as: ClientAs) -> None:
    response = client_as("coordinator").get(REPORT)
    page = response.content.decode()
    tables = response.context["report"].tables
    assert [t.key for t in tables] == ["flow", "table1", "figure2", "table2",
                                       "complication_proportion", "complications_per_patient",
                                       "survival", "survival_at_risk", "competing_risk",
                                       "incidence", "pump_ends", "device_survival",
                                       "literature", "assessments", "follow_up"]
    for table in tables:
        assert f'id="{table.key}"' in page and table.title in page
        assert f'href="{file_url(table.key + ".csv")}"' in page
    assert f'<img src="{file_url("figure2.svg")}"' in page
    assert f'<img src="{file_url("survival.svg")}"' in page
    assert f'href="{file_url("survival.png")}"' in page
    assert "Tüsistusteta elulemus (Kaplan–Meier)" in page
    assert "Tüsistuste esinemissagedus 100 pumba-aasta kohta" in page
    assert "kumulatiivne esinemine arvestab, et surm lõpetab tüsistuse riski" in page
    assert "Tabel 1. Uuritavate demograafilised ja kliinilised näitajad" in page
    assert "Laste tserebraalparalüüs" in page
    # Nothing inline reaches the page: the Content-Security-Policy allows none.
    assert "<style" not in page and "style=" not in page and "<script" not in page


def test_the_report_in_english(world: World, client_as: ClientAs) -> None:
    profile = world.users["researcher"].profile  # type: ignore[union-attr]
    profile.language = "en"
    profile.save()
    client = client_as("researcher")
    page = client.get(REPORT).content.decode()
    assert "Table 1. Demographic and clinical characteristics of the patients" in page
    assert "Cerebral palsy" in page and "Laste tserebraalparalüüs" not in page
    assert "Cerebral palsy" in client.get(file_url("table1.csv")).content.decode()
    assert "Complication-free survival (Kaplan–Meier)" in page
    assert 'alt="Kaplan–Meier curves with 95% confidence bands' in page
    assert "Free of complications" in client.get(file_url("survival.svg")).content.decode()


def test_the_time_to_event_results_cover_the_users_scope_only(
        world: World, client_as: ClientAs) -> None:
    Complication.objects.create(patient=world.patient_b, complication_date=date(2019, 3, 3),
                                type="infection")
    mine = report_json(client_as("clinician_a"))
    everyone = report_json(client_as("coordinator"))
    assert mine["survival"]["overall"]["n"] == 1 and everyone["survival"]["overall"]["n"] == 2
    assert mine["incidence"]["by_type"].keys() == {"catheter_kink"}
    assert everyone["incidence"]["overall"]["events"] == (
        mine["incidence"]["overall"]["events"] + 1)
    assert everyone["incidence"]["overall"]["pump_years"] > mine["incidence"]["overall"][
        "pump_years"] > 0
    assert set(everyone["survival"]["by_site"]) == {"TLN", "TRT"}
    assert mine["survival"]["overall"]["years"] == [1, 3, 5]


@pytest.mark.parametrize(("name", "content_type", "disposition"), [
    ("report.html", "text/html; charset=utf-8", "attachment"),
    ("report.json", "application/json", "attachment"),
    ("report.md", "text/markdown; charset=utf-8", "attachment"),
    ("figure2.png", "image/png", "inline"),
    ("figure2.svg", "image/svg+xml", "inline"),
    ("survival.png", "image/png", "inline"),
    ("survival.svg", "image/svg+xml", "inline"),
    ("survival.csv", "text/csv; charset=utf-8", "attachment"),
    ("incidence.csv", "text/csv; charset=utf-8", "attachment"),
    ("literature.csv", "text/csv; charset=utf-8", "attachment"),
    ("flow.csv", "text/csv; charset=utf-8", "attachment"),
    ("table1.csv", "text/csv; charset=utf-8", "attachment"),
    ("figure2.csv", "text/csv; charset=utf-8", "attachment"),
    ("table2.csv", "text/csv; charset=utf-8", "attachment"),
    ("complication_proportion.csv", "text/csv; charset=utf-8", "attachment"),
    ("complications_per_patient.csv", "text/csv; charset=utf-8", "attachment"),
    ("assessments.csv", "text/csv; charset=utf-8", "attachment"),
])
def test_every_report_file_downloads(world: World, client_as: ClientAs, name: str,
                                     content_type: str, disposition: str) -> None:
    response = client_as("coordinator").get(file_url(name))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith(f"{disposition}; filename=\"itb-")
    assert response["Content-Disposition"].endswith(f'-{name}"')
    assert response.content


def test_the_csv_tables_read_back(world: World, client_as: ClientAs) -> None:
    text = client_as("coordinator").get(file_url("flow.csv")).content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Näitaja", "Patsiente, n"]
    assert rows[1] == ["ITB-pump paigaldatud", "2"]


def test_an_unknown_report_file_is_not_found(world: World, client_as: ClientAs) -> None:
    client = client_as("coordinator")
    assert client.get(file_url("secrets.txt")).status_code == 404
    assert client.get(file_url("..%2Fsettings.py")).status_code == 404


def test_the_report_is_recomputed_when_data_change(world: World, client_as: ClientAs) -> None:
    client = client_as("coordinator")
    assert report_json(client)["n_patients"] == 2
    make_patient("P-A2", world.site_a)
    assert report_json(client)["n_patients"] == 3
    assert client.get(REPORT).context["report"].n_patients == 3
    # A change of one value (no row added) is seen as well.
    Patient.objects.get(patient_id="P-A2").delete()
    patient = Patient.objects.get(patient_id="P-B1")
    patient.sex = "M"
    patient.save()
    assert report_json(client)["table1"]["overall"]["sex"] == {"M": 2, "F": 0}


def test_the_report_is_computed_once_per_scope_and_language(
        world: World, client_as: ClientAs, monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[str] = []
    real = report_views.registry_for

    def counting(user: object, cutoff: date) -> object:
        computed.append(str(user))
        return real(user, cutoff)  # type: ignore[arg-type]

    monkeypatch.setattr(report_views, "registry_for", counting)
    coordinator = client_as("coordinator")
    coordinator.get(REPORT)
    coordinator.get(file_url("figure2.svg"))
    coordinator.get(REPORT)
    assert computed == ["coordinator"]
    client_as("researcher").get(REPORT)  # the same scope (every site): the same report
    assert computed == ["coordinator"]
    client_as("clinician_a").get(REPORT)  # another scope
    assert computed == ["coordinator", "clinician_a"]
    profile = world.users["coordinator"].profile  # type: ignore[union-attr]
    profile.language = "en"
    profile.save()
    coordinator.get(REPORT)  # another language
    assert computed == ["coordinator", "clinician_a", "coordinator"]


def test_a_worker_keeps_the_report_it_read_and_its_rendered_tables(
        world: World, client_as: ClientAs, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_as("coordinator")
    first = client.get(REPORT).content.decode()
    rendered: list[str] = []
    real = report_views.render_to_string

    def counting(name: str, context: dict[str, Any]) -> str:
        rendered.append(name)
        return real(name, context)

    monkeypatch.setattr(report_views, "render_to_string", counting)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(REPORT).content.decode()
    tables = '<nav class="card toc"'  # after the form tokens, which differ per response
    assert again[again.index(tables):] == first[first.index(tables):]
    assert 'id="table1"' in again
    assert rendered == []  # the tables as rendered for the first view
    assert not [q for q in queries.captured_queries if "itb_cache" in q["sql"]]
    # Another data version is another report: read, and its tables rendered, afresh.
    make_patient("P-A2", world.site_a)
    assert client.get(REPORT).context["report"].n_patients == 3
    assert rendered == ["registry/report_tables.html"]


def test_an_empty_scope_shows_a_friendly_page(world: World) -> None:
    lonely = make_user("lonely", Role.CLINICIAN, [])
    client = Client()
    client.force_login(lonely, backend=MODEL_BACKEND)
    response = client.get(REPORT)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Aruande jaoks pole veel patsiente" in page
    assert client.get(file_url("report.json")).status_code == 404


# --- computed in the background (production: ITB_REPORT_BACKGROUND) ------------------------

# As an analysis error may read: with a value of the registry in it.
FAILURE_MESSAGE = "could not parse '2031-02-30' for patient P1"


@pytest.fixture
def background(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Background:
    """The report computed in a worker's thread, as in production, with a handle on it: the
    threads started, and a gate the computation waits at until the test opens it."""
    settings.ITB_REPORT_BACKGROUND = True
    handle = Background()
    real_start, real_render = report_views.start_computing, report_views._render

    def start(*args: Any) -> threading.Thread | None:
        thread = real_start(*args)
        handle.threads.append(thread)
        return thread

    def gated(*args: Any) -> Any:
        assert handle.gate.wait(30)
        if handle.fail:
            raise RuntimeError(FAILURE_MESSAGE)
        return real_render(*args)

    monkeypatch.setattr(report_views, "start_computing", start)
    monkeypatch.setattr(report_views, "_render", gated)
    return handle


@dataclass
class Background:
    threads: list[threading.Thread | None] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    fail: bool = False

    def finish(self) -> None:
        self.gate.set()
        for thread in self.threads:
            if thread is not None:
                thread.join(60)
                assert not thread.is_alive()


REFRESH = '<meta http-equiv="refresh" content="{}">'


@pytest.mark.django_db(transaction=True)  # the computing thread reads what the test wrote
def test_a_missing_report_is_computed_in_the_background_once(
        world: World, client_as: ClientAs, background: Background) -> None:
    coordinator, researcher = client_as("coordinator"), client_as("researcher")
    response = coordinator.get(REPORT)
    assert response.status_code == 200 and response.context["report"] is None
    page = response.content.decode()
    assert "Aruannet koostatakse" in page and REFRESH.format(10) in page
    assert "<script" not in page and "style=" not in page
    assert response["Cache-Control"] == "no-store"
    # A download link of an earlier page, meanwhile: not ready, retry soon.
    early = coordinator.get(file_url("report.json"))
    assert early.status_code == 503 and early["Retry-After"] == "10"
    # Another user of the same scope (another worker, as far as the cache knows) starts no
    # second computation: the marker is in the shared cache.
    assert "Aruannet koostatakse" in researcher.get(REPORT).content.decode()
    assert len(background.threads) == 3 and background.threads[1:] == [None, None]
    background.finish()
    ready = coordinator.get(REPORT)
    assert ready.context["report"].n_patients == 2
    assert "http-equiv" not in ready.content.decode()
    assert "Aruannet koostatakse" not in ready.content.decode()
    assert report_json(researcher)["n_patients"] == 2
    assert len(background.threads) == 3  # nothing more was computed


@pytest.mark.django_db(transaction=True)
def test_the_previous_report_is_shown_while_the_new_one_is_computed(
        world: World, client_as: ClientAs, background: Background) -> None:
    client = client_as("coordinator")
    client.get(REPORT)
    background.finish()
    assert client.get(REPORT).context["report"].n_patients == 2
    background.gate.clear()
    make_patient("P-A2", world.site_a)
    response = client.get(REPORT)
    page = response.content.decode()
    assert response.context["report"].n_patients == 2 and not response.context["current"]
    assert "Andmed on muutunud: uuendatud aruannet koostatakse." in page
    assert "Allpool on eelmine aruanne" in page and REFRESH.format(30) in page
    assert 'id="table1"' in page  # the previous report itself, downloads included
    assert report_json(client)["n_patients"] == 2
    background.finish()
    response = client.get(REPORT)
    assert response.context["report"].n_patients == 3 and response.context["current"]
    assert "Andmed on muutunud" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_failed_computation_is_said_and_not_retried_at_once(
        world: World, client_as: ClientAs, background: Background,
        caplog: pytest.LogCaptureFixture) -> None:
    background.fail = True
    client = client_as("coordinator")
    client.get(REPORT)
    background.finish()
    assert "the report could not be computed: RuntimeError at " in caplog.text
    assert "test_views_report.py" in caplog.text  # where it failed
    # The message may quote registry values: it is not logged, nor is the traceback.
    assert FAILURE_MESSAGE not in caplog.text
    assert not any(record.exc_info for record in caplog.records)
    page = client.get(REPORT).content.decode()
    assert "Aruannet ei õnnestunud koostada" in page and REFRESH.format(10) in page
    assert len(background.threads) == 1  # no new try during the failure's pause
    # Once the pause is over, the next request tries again.
    cache.delete(_report_keys(world, "coordinator")[2])
    background.fail = False
    client.get(REPORT)
    background.finish()
    assert client.get(REPORT).context["report"].n_patients == 2


def _report_keys(world: World, role: str) -> list[str]:
    keys = report_views.ReportKeys.of(world.users[role], "et", timezone.localdate())
    return [keys.report, keys.computing, keys.failed]


@pytest.mark.django_db(transaction=True)
def test_a_dead_workers_marker_expires(world: World, client_as: ClientAs,
                                       background: Background) -> None:
    """A computation whose worker died leaves its marker; it lives a minute past its last
    heartbeat, then the next request computes the report."""
    client = client_as("coordinator")
    _, computing, _ = _report_keys(world, "coordinator")
    cache.add(computing, 1, 1)  # as a worker killed mid-way leaves it, about to expire
    client.get(REPORT)
    assert background.threads == [None]
    time.sleep(2.1)  # the cache table keeps whole seconds
    client.get(REPORT)
    assert background.threads[-1] is not None
    background.finish()
    assert client.get(REPORT).context["report"].n_patients == 2
