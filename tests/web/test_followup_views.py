"""The follow-up pages: the board (content, order, scope), the patient page's follow-up panel
and dose chart, and the refill form's preview (the issue's worked checks)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from itb.web.registry.models import Implantation, Refill
from tests.web.conftest import World, make_patient

pytestmark = pytest.mark.django_db

ClientAs = Callable[[str], Client]


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
    assert form.initial["concentration_mcg_ml"] == Decimal(500)
    assert form.initial["daily_dose_mcg"] == Decimal(150)
    assert form.initial["volume_ml"] == Decimal(20)  # the pump's reservoir
    # ... and its preview is already computed from those values.
    assert response.context["preview"] is not None


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
