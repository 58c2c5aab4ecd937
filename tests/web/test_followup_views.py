"""The follow-up pages: the board (content, order, scope), the patient page's follow-up panel
and dose chart, and the refill form's preview (the issue's worked checks)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from itb.analysis.followup import follow_up_of, patient_follow_up
from itb.web.registry.models import Implantation, Patient, Refill
from itb.web.registry.selectors import patient_events, patient_for, registry_for
from itb.web.registry.templatetags.dose_chart import (
    COMPLICATION,
    SURGERY,
    DoseHistory,
    DosePoint,
    Marker,
    dose_table_rows,
)
from itb.web.registry.views.followup import forget_entries, patient_rows
from tests.web.conftest import World, make_patient

pytestmark = pytest.mark.django_db

ClientAs = Callable[[str], Client]


@pytest.fixture(autouse=True)
def _no_kept_entries() -> Iterator[None]:
    """The board keeps each patient's entry in the process: every test starts afresh."""
    forget_entries()
    yield
    forget_entries()


def create_url(patient_id: str = "P-A1") -> str:
    return reverse("registry:event_create", args=[patient_id, "refills"])


def text_of(html: str, element_id: str) -> str:
    """The text of the element with that id, tags removed and spaces collapsed."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def calculate(client: Client, data: dict[str, str], patient_id: str = "P-A1") -> Any:
    return client.post(create_url(patient_id), {**data, "calculate": "1"})


# --- the refill form's preview --------------------------------------------------------------

def test_the_worked_check_20_ml_pump_is_due_at_the_alarm(world: World,
                                                       client_as: ClientAs) -> None:
    """20 mL, 400 µg/day, 2000 µg/mL, alarm at 2 mL: 0.2 mL/day, 90 days to the alarm."""
    before = Refill.objects.count()
    response = calculate(client_as("clinician_a"), {
        "refill_date": "2016-01-12", "volume_ml": "20", "concentration_mcg_ml": "2000",
        "daily_dose_mcg": "400"})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.due.rate_ml_per_day == pytest.approx(0.2)
    assert preview.due.days_to_alarm == pytest.approx(90)
    assert preview.due.limited_by == "alarm"
    assert preview.due.due_date == date(2016, 1, 12) + timedelta(days=90) == date(2016, 4, 11)
    html = response.content.decode()
    assert text_of(html, "preview-rate").startswith("0,2 ml/ööpäevas")
    assert text_of(html, "preview-days").startswith("90 ")
    assert text_of(html, "preview-due") == "2016-04-11"
    assert "häire" in html  # "set by the low-reservoir alarm", in Estonian
    assert Refill.objects.count() == before  # Calculate saves nothing


def test_the_worked_check_40_ml_pump_is_capped_at_180_days(world: World,
                                                         client_as: ClientAs) -> None:
    """The same in a 40 mL pump: 190 days to the alarm, capped at the 180-day stability."""
    response = calculate(client_as("clinician_a"), {
        "refill_date": "2016-01-12", "volume_ml": "40", "concentration_mcg_ml": "2000",
        "daily_dose_mcg": "400"})
    preview = response.context["preview"]
    assert preview.due.days_to_alarm == pytest.approx(190)
    assert preview.due.limited_by == "stability"
    assert preview.due.due_date == date(2016, 7, 10)
    assert text_of(response.content.decode(), "preview-due") == "2016-07-10"


def test_the_preview_uses_the_alarm_volume_of_the_pump_in_place(world: World,
                                                              client_as: ClientAs) -> None:
    """A Prometra II is refilled at 3.0 mL: (20 − 3) / 0.2 = 85 days."""
    Implantation.objects.create(patient=world.patient_a, implant_date=date(2016, 1, 5),
                                site=world.site_a, kind="replacement",
                                pump_model="prometra_ii", reservoir_ml=Decimal(20))
    response = calculate(client_as("clinician_a"), {
        "refill_date": "2016-01-12", "volume_ml": "20", "concentration_mcg_ml": "2000",
        "daily_dose_mcg": "400"})
    preview = response.context["preview"]
    assert preview.pump.code == "prometra_ii"
    assert preview.due.days_to_alarm == pytest.approx(85)
    assert preview.due.due_date == date(2016, 4, 6)


def test_without_a_dose_the_stability_limit_alone_sets_the_date(world: World,
                                                              client_as: ClientAs) -> None:
    response = calculate(client_as("clinician_a"), {"refill_date": "2016-01-12",
                                                    "volume_ml": "20"})
    preview = response.context["preview"]
    assert preview.due.rate_ml_per_day is None and preview.due.days_to_alarm is None
    assert preview.due.due_date == date(2016, 7, 10)
    html = response.content.decode()
    assert "ei ole teada" in text_of(html, "preview-rate")


def test_an_unparsable_number_is_reported_and_left_out(world: World,
                                                       client_as: ClientAs) -> None:
    response = calculate(client_as("clinician_a"), {
        "refill_date": "2016-01-12", "volume_ml": "twenty", "concentration_mcg_ml": "2000",
        "daily_dose_mcg": "400"})
    assert response.context["form"].errors["volume_ml"]
    assert response.context["preview"].due.days_to_alarm is None


def test_the_decimal_comma_is_read_and_the_dose_step_checked(world: World,
                                                             client_as: ClientAs) -> None:
    """150 → 187,5 µg/day is +25%: above the 15% step of an unknown origin."""
    response = calculate(client_as("clinician_a"), {
        "refill_date": "2016-01-12", "volume_ml": "20", "concentration_mcg_ml": "500",
        "daily_dose_mcg": "187,5"})
    preview = response.context["preview"]
    assert preview.due.rate_ml_per_day == pytest.approx(0.375)
    assert preview.dose_step == pytest.approx(0.25)
    assert preview.dose_step_too_large
    assert "+25%" in text_of(response.content.decode(), "preview-step")


def test_the_new_refill_form_starts_from_the_previous_refill(world: World,
                                                             client_as: ClientAs) -> None:
    response = client_as("clinician_a").get(create_url())
    form = response.context["form"]
    # As a clinician types them (not "500.00").
    assert form.initial["concentration_mcg_ml"] == "500"
    assert form.initial["daily_dose_mcg"] == "150"
    assert form.initial["volume_ml"] == "20"  # the pump's reservoir
    # ... and its preview is already computed from those values.
    assert response.context["preview"].due.rate_ml_per_day == pytest.approx(0.3)


def test_a_decimal_comma_in_the_initial_values_is_read(world: World,
                                                       client_as: ClientAs) -> None:
    refill = Refill.objects.get(patient=world.patient_a)
    refill.daily_dose_mcg = Decimal("162.5")
    refill.save()
    response = client_as("clinician_a").get(create_url())
    assert response.context["form"].initial["daily_dose_mcg"] == "162,5"
    assert response.context["preview"].due.rate_ml_per_day == pytest.approx(0.325)


def test_save_after_calculate_records_the_refill(world: World, client_as: ClientAs) -> None:
    client = client_as("clinician_a")
    data = {"refill_date": "2016-01-12", "volume_ml": "20", "concentration_mcg_ml": "2000",
            "daily_dose_mcg": "400"}
    calculate(client, data)
    response = client.post(create_url(), data)
    assert response.status_code == 302
    assert Refill.objects.filter(patient=world.patient_a, refill_date=date(2016, 1, 12)).exists()


def test_editing_a_refill_previews_against_the_refill_before_it(world: World,
                                                                client_as: ClientAs) -> None:
    patient = make_patient("P-A2", world.site_a, initial=date(2020, 1, 6))
    first = Refill.objects.create(patient=patient, refill_date=date(2020, 1, 6),
                                  volume_ml=Decimal(20), concentration_mcg_ml=Decimal(1000),
                                  daily_dose_mcg=Decimal(100))
    second = Refill.objects.create(patient=patient, refill_date=date(2020, 4, 6),
                                   volume_ml=Decimal(20), concentration_mcg_ml=Decimal(1000),
                                   daily_dose_mcg=Decimal(100))
    url = reverse("registry:event_edit", args=["P-A2", "refills", second.pk])
    response = client_as("clinician_a").post(url, {
        "version": "1", "refill_date": "2020-04-06", "volume_ml": "20",
        "concentration_mcg_ml": "1000", "daily_dose_mcg": "100", "calculate": "1"})
    preview = response.context["preview"]
    assert preview.previous.refill_date == first.refill_date
    # 20 − 0.1 mL/day × 91 days
    assert preview.expected_residual_ml == pytest.approx(10.9)
    assert Refill.objects.get(pk=second.pk).version == 1  # nothing saved


# --- the board ------------------------------------------------------------------------------

ON = date(2024, 6, 1)


def refill(patient: Any, when: date, volume: float, concentration: float, dose: float,
           residual: float | None = None) -> Refill:
    return Refill.objects.create(
        patient=patient, refill_date=when, volume_ml=Decimal(str(volume)),
        concentration_mcg_ml=Decimal(str(concentration)), daily_dose_mcg=Decimal(str(dose)),
        residual_ml=None if residual is None else Decimal(str(residual)))


@pytest.fixture
def clinic(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """Site A's patients on 2024-06-01 (the pages' "today"), each showing one thing.

    P-A1 (the world's): last refill 2015-10-20, pump from 2015: years overdue, no refill for
    over 180 days, pump past its 7-year service life.
    P-A2: 20 mL, 400 µg/day at 2000 µg/mL on 2024-03-01: due at the alarm 2024-05-30, 2 days
    overdue. P-A3: the same on 2024-04-20: due 2024-07-19, in 48 days.
    P-A4: due 2024-08-13 (in 73 days), nothing else. P-A5: 4 mL withdrawn where 11 mL were
    expected (tolerance 2 mL): a residual flag. P-A6: pump of 2017-09-01 in its replacement
    window (2024-03-01 – 2024-09-01). P-A7: therapy ended, never listed.
    """
    from itb.web.registry.views import followup

    monkeypatch.setattr(followup, "today", lambda: ON)
    site = world.site_a
    a2 = make_patient("P-A2", site, initial=date(2020, 1, 6))
    refill(a2, date(2024, 3, 1), 20, 2000, 400)
    a3 = make_patient("P-A3", site, initial=date(2020, 1, 6))
    refill(a3, date(2024, 4, 20), 20, 2000, 400)
    a4 = make_patient("P-A4", site, initial=date(2020, 1, 6))
    refill(a4, date(2024, 5, 15), 20, 1000, 200)
    a5 = make_patient("P-A5", site, initial=date(2020, 1, 6))
    refill(a5, date(2024, 2, 1), 20, 1000, 100)
    refill(a5, date(2024, 5, 1), 20, 1000, 100, residual=4)
    a6 = make_patient("P-A6", site, initial=date(2017, 9, 1))
    refill(a6, date(2024, 5, 20), 20, 1000, 100)
    a7 = make_patient("P-A7", site, initial=date(2016, 1, 4), therapy_end_date=date(2023, 1, 2),
                      therapy_end_reason="death")
    refill(a7, date(2022, 6, 1), 20, 1000, 100)
    return world


def board(client: Client, **params: Any) -> Any:
    response = client.get(reverse("registry:follow_up"), params)
    assert response.status_code == 200
    return response


def ids(rows: list[Any]) -> list[str]:
    return [row.entry.patient_id for row in rows]


def test_the_board_lists_overdue_first_then_by_due_date(clinic: World,
                                                        client_as: ClientAs) -> None:
    result = board(client_as("clinician_a")).context["board"]
    assert result.on == ON and result.days == 30
    assert ids(result.refills) == ["P-A1", "P-A2"]
    assert [row.entry.days_overdue for row in result.refills][1] == 2
    assert result.overdue == 2
    wider = board(client_as("clinician_a"), days=60).context["board"]
    assert ids(wider.refills) == ["P-A1", "P-A2", "P-A3"]
    assert wider.refills[2].entry.days_until_due == 48


def test_the_board_shows_each_kind_of_finding_in_its_section(clinic: World,
                                                             client_as: ClientAs) -> None:
    result = board(client_as("clinician_a")).context["board"]
    assert ids(result.residual) == ["P-A5"]
    flag = result.residual[0].residual
    assert flag.value == pytest.approx(-7) and flag.threshold == pytest.approx(2)
    assert ids(result.pumps) == ["P-A1", "P-A6"]  # past its service life first
    assert result.pumps[1].entry.pump_replacement_due == date(2024, 9, 1)
    assert ids(result.no_refill) == ["P-A1"]
    assert result.on_therapy == 6  # P-A7's therapy ended


def test_the_board_page_marks_overdue_rows_red_and_links_patients(clinic: World,
                                                                  client_as: ClientAs) -> None:
    html = board(client_as("clinician_a")).content.decode()
    table = html[html.index('id="refills-table"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr([^>]*)>(.*?)</tr>", table, re.S)[1:]  # the head row aside
    assert 'class="overdue"' in rows[0][0] and 'class="overdue"' in rows[1][0]
    assert reverse("registry:patient_detail", args=["P-A2"]) in rows[1][1]
    assert "2 päeva üle tähtaja" in rows[1][1]
    assert "Jääkmaht erineb oodatust" in html


def test_a_clinician_sees_only_their_sites_patients(clinic: World,
                                                    client_as: ClientAs) -> None:
    mine = board(client_as("clinician_a"), days=366).context["board"]
    assert "P-B1" not in ids(mine.refills) + ids(mine.no_refill) + ids(mine.pumps)
    assert "P-B1" not in board(client_as("clinician_a"), days=366).content.decode()
    theirs = board(client_as("clinician_b"), days=366).context["board"]
    assert ids(theirs.refills) == ["P-B1"]
    assert "P-A1" not in board(client_as("clinician_b"), days=366).content.decode()
    # Naming another site in the query string changes nothing.
    assert board(client_as("clinician_a"), site="TRT").context["query"].site == ""


def test_the_coordinator_sees_every_site_and_can_pick_one(clinic: World,
                                                          client_as: ClientAs) -> None:
    everyone = board(client_as("coordinator")).context["board"]
    assert {"P-A1", "P-B1"} <= set(ids(everyone.refills))
    only_b = board(client_as("coordinator"), site="TRT").context["board"]
    assert ids(only_b.refills) == ["P-B1"]


def test_the_board_follows_the_data_and_the_date(clinic: World, client_as: ClientAs) -> None:
    client = client_as("clinician_a")
    assert "P-A2" in ids(board(client).context["board"].refills)
    # A refill recorded through the form: P-A2 leaves the overdue list at once (cached
    # lists are keyed by the data version).
    response = client.post(create_url("P-A2"), {
        "refill_date": "2024-06-01", "volume_ml": "20", "concentration_mcg_ml": "2000",
        "daily_dose_mcg": "400"})
    assert response.status_code == 302
    assert "P-A2" not in ids(board(client).context["board"].refills)
    # Computed for another date: on 2024-05-01 P-A2 is due in 29 days.
    earlier = board(client, on="2024-05-01").context["board"]
    a2 = next(row.entry for row in earlier.refills if row.entry.patient_id == "P-A2")
    assert a2.days_until_due == 29 and a2.days_overdue == 0


def test_bad_query_values_fall_back_to_the_defaults(clinic: World,
                                                    client_as: ClientAs) -> None:
    response = board(client_as("clinician_a"), days="many", on="yesterday")
    assert response.context["query"].days == 30 and response.context["board"].on == ON
    assert board(client_as("clinician_a"), days="-5").context["query"].days == 0


def test_the_board_is_in_english_for_an_english_user(clinic: World,
                                                     client_as: ClientAs) -> None:
    profile = clinic.users["clinician_a"].profile  # type: ignore[union-attr]
    profile.language = "en"
    profile.save()
    html = board(client_as("clinician_a")).content.decode()
    assert "Follow-up" in html and "2 days overdue" in html
    assert "Residual volume far from expected" in html


# --- the patient page -----------------------------------------------------------------------

def detail(client: Client, patient_id: str) -> Any:
    response = client.get(reverse("registry:patient_detail", args=[patient_id]))
    assert response.status_code == 200
    return response


def test_the_patient_page_says_how_the_next_refill_was_computed(clinic: World,
                                                                client_as: ClientAs) -> None:
    response = detail(client_as("clinician_a"), "P-A2")
    entry = response.context["follow_up"]
    assert entry.next_refill_due == date(2024, 5, 30) and entry.days_overdue == 2
    html = response.content.decode()
    assert text_of(html, "next-refill-due") == "2024-05-30"
    how = text_of(html, "due-how")
    assert "2024-03-01" in how and "0,2 ml/ööpäevas" in how and "400 µg" in how
    assert "2000 µg/ml" in how and "90" in how
    assert text_of(html, "due-limited-by").startswith("reservuaari madala taseme häire")
    pump = text_of(html, "pump-facts")
    assert "Medtronic SynchroMed II" in pump and "2020-01-06" in pump
    assert "2026-07-06 – 2027-01-06" in pump  # 7 years after, the window 6 months before
    assert "Täitmine hilinenud" in text_of(html, "follow-up-flags")


def test_the_patient_page_shows_the_residual_and_replacement_flags(clinic: World,
                                                                   client_as: ClientAs) -> None:
    residual = text_of(detail(client_as("clinician_a"), "P-A5").content.decode(),
                       "follow-up-flags")
    assert "Jääkmaht erineb oodatust" in residual and "−7" in residual
    pump = detail(client_as("clinician_a"), "P-A6").content.decode()
    assert "Pumba vahetuse aeg on käes" in text_of(pump, "follow-up-flags")


def test_the_dose_chart_is_an_accessible_inline_svg(clinic: World,
                                                    client_as: ClientAs) -> None:
    refill(clinic.patient_a, date(2016, 4, 1), 20, 500, 200)
    html = detail(client_as("clinician_a"), "P-A1").content.decode()
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)  # type: ignore[union-attr]
    assert "150 kuni 200" in desc and "Täitmisi: 2; tüsistusi: 1." in desc
    assert svg.count('class="refill"') == 2
    assert 'marker-complication' in svg and "Kateetri niverdumine" in svg
    assert "style=" not in svg and "<script" not in html  # nothing the CSP would refuse
    assert "chart-data" in html  # the data as a table beside it


def test_a_patient_off_therapy_has_no_due_date(clinic: World, client_as: ClientAs) -> None:
    response = detail(client_as("clinician_a"), "P-A7")
    assert response.context["follow_up"] is None
    assert "Ravil ei ole" in response.content.decode()


def test_after_a_write_only_that_patient_is_computed_again(clinic: World, client_as: ClientAs,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    from itb.web.registry.views import followup

    computed: list[list[str]] = []
    core_follow_up = followup.follow_up

    def counting(registry: Any, on: date) -> Any:
        computed.append(sorted(registry.patients.get_column("patient_id")))
        return core_follow_up(registry, on)

    monkeypatch.setattr(followup, "follow_up", counting)
    client = client_as("clinician_a")
    first = ids(board(client).context["board"].refills)
    assert computed == [["P-A1", "P-A2", "P-A3", "P-A4", "P-A5", "P-A6", "P-A7"]]
    assert ids(board(client).context["board"].refills) == first
    assert len(computed) == 1  # nothing changed: nothing computed
    client.post(create_url("P-A2"), {"refill_date": "2024-06-01", "volume_ml": "20",
                                     "concentration_mcg_ml": "2000", "daily_dose_mcg": "400"})
    assert ids(board(client).context["board"].refills) == ["P-A1"]
    assert computed[1:] == [["P-A2"]]
    # A deleted patient leaves the board without anything computed.
    client.post(reverse("registry:patient_delete", args=["P-A1"]), {"version": "1"})
    assert ids(board(client).context["board"].refills) == []
    assert len(computed) == 2


def test_the_timeline_shows_the_residual_withdrawn(clinic: World, client_as: ClientAs) -> None:
    html = detail(client_as("clinician_a"), "P-A5").content.decode()
    timeline = html[html.index('class="timeline"'):]
    assert re.search(r"<dt>Välja võetud jääk</dt><dd>4 ml</dd>", timeline)


# --- the board's list as a file ---------------------------------------------------------------

def download(client: Client, fmt: str, **params: Any) -> Any:
    response = client.get(reverse("registry:follow_up_download", args=[fmt]), params)
    assert response.status_code == 200
    assert "itb-due" in response["Content-Disposition"] and f".{fmt}" in \
        response["Content-Disposition"]
    return response


def test_the_json_download_is_the_cores_due_list(clinic: World, client_as: ClientAs) -> None:
    """The same list as ``itb due --format json`` gives, from the same code."""
    from itb.analysis.followup import due_list, follow_up
    from itb.web.registry.selectors import registry_for

    expected = [entry.to_json() for entry in due_list(
        follow_up(registry_for(clinic.users["coordinator"], ON), ON, site="TLN"), 30)]
    got = download(client_as("clinician_a"), "json").json()
    assert got == expected
    assert [row["patient_id"] for row in got][:2] == ["P-A1", "P-A2"]
    assert got[1]["days_overdue"] == 2 and got[1]["next_refill_due"] == "2024-05-30"
    assert "P-B1" not in {row["patient_id"] for row in got}


def test_the_calendar_download_parses_as_icalendar(clinic: World,
                                                   client_as: ClientAs) -> None:
    from icalendar import Calendar

    response = download(client_as("clinician_a"), "ics", days=60)
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    refill_a2 = next(event for uid, event in events.items() if uid.startswith("refill-P-A2@"))
    assert refill_a2.decoded("dtstart") == date(2024, 5, 30)
    assert not any("P-B1" in uid for uid in events)


def test_the_csv_download_follows_the_site_and_period(clinic: World,
                                                      client_as: ClientAs) -> None:
    text = download(client_as("coordinator"), "csv", site="TRT", days=60).content.decode()
    lines = text.splitlines()
    assert lines[0].startswith("patient_id,") and len(lines) == 2
    assert lines[1].startswith("P-B1,TRT,")


def test_an_unknown_download_format_is_not_found(clinic: World, client_as: ClientAs) -> None:
    url = reverse("registry:follow_up_download", args=["xlsx"])
    assert client_as("clinician_a").get(url).status_code == 404


def test_the_patient_pages_follow_up_is_the_registrys(world: World) -> None:
    """The patient page computes the follow-up from the rows it has read (views.followup.
    patient_rows) instead of building the registry's tables: the same entry on every date,
    its history of findings too."""
    patient = world.patient_a
    Patient.objects.filter(pk=patient.pk).update(spasticity_origin="cerebral")
    Implantation.objects.create(patient=patient, implant_date=date(2019, 5, 6),
                                site=world.site_b, kind="replacement",
                                pump_model="prometra_ii", reservoir_ml=Decimal(20))
    refill(patient, date(2016, 3, 1), 18.5, 500, 120.25, residual=3.1)
    refill(patient, date(2016, 3, 1), 19, 1000, 240)  # the same day: recorded second
    Refill.objects.create(patient=patient, refill_date=date(2016, 9, 1))  # nothing known
    refill(patient, date(2020, 1, 10), 20, 1000, 400, residual=0.5)
    user = world.users["coordinator"]
    patient = patient_for(user, patient.patient_id)
    # Read as the page reads them (views.patients.patient_detail).
    events = patient_events(patient)
    found = 0
    for on in (date(2015, 1, 1), date(2016, 3, 1), date(2016, 10, 1), date(2020, 2, 1),
               date(2024, 1, 1)):
        read = patient_follow_up(registry_for(user, on, patient), patient.patient_id, on)
        built = follow_up_of(patient_rows(patient, events), on)
        assert built == read, on
        if read is not None:
            found += 1
            assert built is not None and built.history == read.history, on
            assert built.origin == "cerebral" and built.site == "TLN"
    assert found == 4  # on therapy from 2015-04-20


def test_the_dose_charts_table_rows_are_escaped_in_date_order() -> None:
    """The chart's data table is written by one string format a row (dose_table_rows), not
    by the template language: its order, numbers and escaping are checked here."""
    history = DoseHistory(
        (DosePoint(date(2016, 4, 1), 150.5, None), DosePoint(date(2016, 1, 2), None, 500.0)),
        (Marker(date(2016, 4, 1), COMPLICATION, '<b>"kink"</b>'),
         Marker(date(2016, 1, 1), SURGERY, "Esmane")), date(2016, 5, 1))
    with translation.override("et"):
        rows = dose_table_rows(history).split("\n")
    assert rows == [
        '<tr><td class="date">2016-01-01</td><td>Esmane</td><td></td><td></td></tr>',
        '<tr><td class="date">2016-01-02</td><td>Pumba täitmine</td><td class="num"></td>'
        '<td class="num">500</td></tr>',
        '<tr><td class="date">2016-04-01</td><td>Pumba täitmine</td><td class="num">150,5</td>'
        '<td class="num"></td></tr>',
        '<tr><td class="date">2016-04-01</td><td>&lt;b&gt;&quot;kink&quot;&lt;/b&gt;</td>'
        '<td></td><td></td></tr>',
    ]
