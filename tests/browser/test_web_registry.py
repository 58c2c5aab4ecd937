"""The web application in Chromium: a site clinician's day, and how the main pages look.

The app runs in pytest-django's live server; Playwright's sync API drives Chromium from the
test's thread, which Django would otherwise refuse as an "async context".
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.conftest import WEB_PASSWORD, World, build_world, fast_passwords

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page
    from pytest_django.live_server_helper import LiveServer

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

LAPTOP = {"width": 1280, "height": 860}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def world(live_server: LiveServer, settings: Any) -> World:
    fast_passwords(settings)
    return build_world()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh page that fails the test on any Content-Security-Policy violation."""
    context = browser.new_context(viewport=LAPTOP, locale="et-EE")
    page = context.new_page()
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", watch)
    yield page
    context.close()
    assert not problems, problems


def sign_in(page: Page, base: str, username: str = "clinician_a") -> None:
    page.goto(f"{base}/")
    page.fill("#id_username", username)
    page.fill("#id_password", WEB_PASSWORD)
    page.get_by_role("button", name="Logi sisse").click()
    page.wait_for_url(f"{base}/")


def test_a_clinician_registers_a_patient_and_records_the_therapy(
        world: World, page: Page, live_server: LiveServer, screenshot_dir: Path) -> None:
    base = live_server.url
    page.goto(f"{base}/")
    page.screenshot(path=str(screenshot_dir / "web-login.png"), full_page=True)
    sign_in(page, base)
    assert page.get_by_role("heading", name="Patsiendid").is_visible()

    # A new patient with the initial implantation.
    page.get_by_role("link", name="Registreeri patsient").click()
    page.fill("#id_patient_id", "P-A7")
    page.select_option("#id_sex", "F")
    page.fill("#id_birth_date", "2009-04-05")
    page.select_option("#id_diagnosis", "cerebral_palsy")
    page.select_option("#id_syndrome", "spastic_tetraparesis")
    page.select_option("#id_functional_level", "low")
    page.fill("#id_initial-implant_date", "2017-06-08")
    page.select_option("#id_initial-site", "TLN")
    page.select_option("#id_initial-pump_model", "synchromed_ii")
    page.fill("#id_initial-reservoir_ml", "20")
    page.select_option("#id_initial-catheter_type", "ascenda")
    page.select_option("#id_initial-catheter_tip_level", "T10")
    page.get_by_role("button", name="Registreeri").click()
    page.wait_for_url(f"{base}/patients/P-A7/")
    assert "Patsient registreeriti." in page.inner_text(".messages")

    # A refill ...
    page.get_by_role("link", name="+ Pumba täitmine").click()
    page.fill("#id_refill_date", "2017-12-01")
    page.fill("#id_volume_ml", "20")
    page.fill("#id_concentration_mcg_ml", "500")
    page.fill("#id_daily_dose_mcg", "120,5")
    page.get_by_role("button", name="Salvesta").click()
    page.wait_for_url(f"{base}/patients/P-A7/")

    # ... and a complication, first with a date that cannot be right.
    page.get_by_role("link", name="+ Tüsistus").click()
    page.fill("#id_complication_date", "2017-01-15")
    page.select_option("#id_type", "catheter_kink")
    page.get_by_role("button", name="Salvesta").click()
    error = page.locator(".field.has-error .field-error")
    assert error.inner_text() == ("Kuupäev 2017-01-15 on enne esimest implantatsiooni "
                                  "(2017-06-08)")
    assert page.locator(".field.has-error label").inner_text().startswith("Tekkimise kuupäev")
    assert "Midagi ei salvestatud." in page.inner_text(".alert-error")
    page.screenshot(path=str(screenshot_dir / "web-form-errors.png"), full_page=True)
    page.fill("#id_complication_date", "2018-02-03")
    page.get_by_role("button", name="Salvesta").click()
    page.wait_for_url(f"{base}/patients/P-A7/")

    # The timeline, in date order.
    entries = page.locator("ol.timeline li")
    assert entries.count() == 3
    texts = entries.all_inner_texts()
    assert texts[0].startswith("2017-06-08") and "Esmane implantatsioon" in texts[0]
    assert "Medtronic SynchroMed II · 20 ml" in texts[0]
    assert texts[1].startswith("2017-12-01") and "PUMBA TÄITMINE" in texts[1]
    assert "120,5 µg/ööpäevas" in texts[1]
    assert texts[2].startswith("2018-02-03") and "Kateetri niverdumine" in texts[2]
    assert "Kuud viimasest operatsioonist" in texts[2] and "7,9" in texts[2]
    page.screenshot(path=str(screenshot_dir / "web-patient.png"), full_page=True)

    # The report of the clinician's site counts the new patient.
    page.get_by_role("link", name="Aruanne").click()
    page.wait_for_url(f"{base}/report/")
    assert "Patsiendid: 2" in page.inner_text(".report-meta")
    table2 = page.inner_text("#table2 table")
    assert "Kateetri niverdumine" in table2
    figure = page.locator("#figure2 img")
    figure.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#figure2 img').naturalWidth > 0")
    page.screenshot(path=str(screenshot_dir / "web-report.png"), full_page=True)

    # Back on the list, with the new patient.
    page.get_by_role("link", name="Patsiendid", exact=True).click()
    assert page.locator("table.data tbody tr").count() == 2
    page.screenshot(path=str(screenshot_dir / "web-patient-list.png"), full_page=True)


def test_another_sites_patient_is_refused(world: World, page: Page,
                                          live_server: LiveServer) -> None:
    sign_in(page, live_server.url)
    response = page.goto(f"{live_server.url}/patients/P-B1/")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Ei leitud").is_visible()
    assert "P-B1" not in page.inner_text("main") or "Ei leitud" in page.inner_text("main")
    # Nor is it listed, or found by its registry id.
    page.goto(f"{live_server.url}/?q=P-B")
    assert page.locator("table.data").count() == 0


def test_the_pages_on_a_tablet_and_in_english(world: World, page: Page,
                                              live_server: LiveServer,
                                              screenshot_dir: Path) -> None:
    base = live_server.url
    sign_in(page, base)
    page.get_by_role("button", name="ENG").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Patients").is_visible()
    page.set_viewport_size(TABLET)
    page.goto(f"{base}/patients/P-A1/")
    assert page.get_by_role("heading", name="Patient P-A1").is_visible()
    assert "Mart Tamm" in page.inner_text(".identity-card")
    # Nothing runs off the side of a tablet.
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.screenshot(path=str(screenshot_dir / "web-patient-tablet-en.png"), full_page=True)
    page.goto(f"{base}/patients/P-A1/assessments/new/")
    page.get_by_role("button", name="Save").click()
    errors = page.locator(".field-error").all_inner_texts()
    assert errors.count("A value is required") == 4
    page.screenshot(path=str(screenshot_dir / "web-form-errors-tablet-en.png"), full_page=True)
    page.goto(f"{base}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.screenshot(path=str(screenshot_dir / "web-patient-list-tablet-en.png"),
                    full_page=True)


def test_the_look_uses_only_the_sites_own_files(world: World, page: Page,
                                                live_server: LiveServer) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/report/")
    page.wait_for_function("document.querySelector('#figure2 img').naturalWidth > 0")
    assert requested and all(url.startswith(live_server.url) for url in requested), requested
    # The style sheet applied (no inline style is allowed, so it must be the file's).
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert re.fullmatch(r"rgb\(243, 245, 247\)", background), background
