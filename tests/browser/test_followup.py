"""Follow-up in Chromium, in the demo: a clinician opens the board, sees the overdue patient
first, records a refill with the date the form computes, and the patient leaves the overdue
list.

The demo registry is the reference cohort imported into the live server's database, its
follow-up computed for the cohort's cut-off (2024-07-31), as ``itb demo`` sets it up: one
patient of the demo clinician's sites (TLH, TUK) is overdue then, ITB021.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from itb.analysis.followup import patient_follow_up
from itb.registry_io import load_registry
from itb.web.registry.models import Role, Site
from itb.web.registry.views.followup import forget_entries
from tests.browser.test_web_registry import TABLET, page, sign_in  # noqa: F401 - fixture
from tests.web.conftest import REFERENCE_COHORT, fast_passwords, make_user

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DEMO_DATE = date(2024, 7, 31)


@pytest.fixture
def demo(live_server: LiveServer, settings: Any) -> None:
    """The demo registry: the reference cohort, a clinician of TLH and TUK, its date."""
    from itb.web.registry.services.importing import import_registry

    fast_passwords(settings)
    settings.FOLLOW_UP_DATE = DEMO_DATE
    forget_entries()  # the board keeps entries in the process: start afresh
    import_registry(REFERENCE_COHORT, origin="itb demo")
    make_user("clinician", Role.CLINICIAN, list(Site.objects.filter(code__in=["TLH", "TUK"])))


def refills_rows(page: Page) -> list[str]:  # noqa: F811 - named as the fixture
    return page.locator("#refills-table tbody tr").all_inner_texts()


def test_a_clinician_refills_the_overdue_patient_from_the_board(
        demo: None, page: Page, live_server: LiveServer,  # noqa: F811
        screenshot_dir: Path) -> None:
    base = live_server.url
    sign_in(page, base, "clinician")
    page.get_by_role("link", name="Jälgimine").click()
    page.wait_for_url(f"{base}/follow-up/")
    assert page.get_by_role("heading", name="Jälgimine", exact=True).is_visible()
    assert "2024-07-31" in page.inner_text(".alert-warning")  # the demo's date, said so

    # The overdue patient first, in red.
    rows = refills_rows(page)
    assert rows[0].startswith("ITB021") and "9 päeva üle tähtaja" in rows[0]
    first = page.locator("#refills-table tbody tr").first
    assert "overdue" in (first.get_attribute("class") or "")
    color = first.locator(".overdue-days").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(179, 38, 30)", color  # the danger red
    assert all("üle tähtaja" not in row for row in rows[1:])
    # Another site's patient (PERH) is not on a TLH/TUK clinician's board.
    assert not any(row.startswith("ITB017") for row in rows)
    page.screenshot(path=str(screenshot_dir / "web-follow-up-board.png"), full_page=True)

    # The patient's page says why: the next refill date and how it was computed.
    first.get_by_role("link", name="ITB021").click()
    page.wait_for_url(f"{base}/patients/ITB021/")
    assert page.inner_text("#next-refill-due") == "2024-07-22"
    assert "9 päeva üle tähtaja" in page.inner_text("#follow-up")
    assert page.locator("svg.dose-chart circle.refill").count() > 3
    page.screenshot(path=str(screenshot_dir / "web-follow-up-patient.png"), full_page=True)

    # The refill form starts from the previous refill; Calculate shows the next date.
    page.get_by_role("link", name="+ Pumba täitmine").click()
    page.wait_for_url(f"{base}/patients/ITB021/refills/new/")
    assert page.input_value("#id_refill_date") == "2024-07-31"
    expected = page.inner_text("#preview-expected").split(" ml")[0]
    page.fill("#id_residual_ml", expected)  # what was withdrawn: as expected
    page.get_by_role("button", name="Arvuta").click()
    page.wait_for_load_state()
    computed = page.inner_text("#preview-due")
    assert date.fromisoformat(computed) > DEMO_DATE
    assert "ootuspärane" in page.inner_text("#preview-residual")
    assert "Midagi ei salvestatud" not in page.inner_text("main")  # no error, nothing saved
    page.screenshot(path=str(screenshot_dir / "web-follow-up-refill-form.png"),
                    full_page=True)
    page.get_by_role("button", name="Salvesta").click()
    page.wait_for_url(f"{base}/patients/ITB021/")

    # The saved refill gives the date the form computed ...
    assert page.inner_text("#next-refill-due") == computed
    assert "Täitmine hilinenud" not in page.inner_text("#follow-up")
    # ... and the patient has left the overdue list.
    page.get_by_role("link", name="Jälgimine").click()
    page.wait_for_url(f"{base}/follow-up/")
    rows = refills_rows(page)
    assert not any(row.startswith("ITB021") for row in rows)
    assert all("üle tähtaja" not in row for row in rows)
    page.screenshot(path=str(screenshot_dir / "web-follow-up-board-after.png"), full_page=True)


def test_the_board_on_a_tablet_and_in_english(demo: None, page: Page,  # noqa: F811
                                              live_server: LiveServer,
                                              screenshot_dir: Path) -> None:
    base = live_server.url
    sign_in(page, base, "clinician")
    page.get_by_role("button", name="ENG").click()
    page.wait_for_load_state()
    page.set_viewport_size(TABLET)
    page.goto(f"{base}/follow-up/?days=60")
    assert page.get_by_role("heading", name="Follow-up", exact=True).is_visible()
    assert "9 days overdue" in refills_rows(page)[0]
    assert "Residual volume far from expected" in page.inner_text("#residual")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.screenshot(path=str(screenshot_dir / "web-follow-up-board-tablet-en.png"),
                    full_page=True)
    page.goto(f"{base}/patients/ITB024/")
    assert "Residual volume far from expected" in page.inner_text("#follow-up-flags")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.screenshot(path=str(screenshot_dir / "web-follow-up-patient-tablet-en.png"),
                    full_page=True)


def test_the_demo_patient_is_overdue_in_the_core_too() -> None:
    """The board's overdue patient is the core's (the same list as ``itb due``)."""
    registry = load_registry(REFERENCE_COHORT)
    entry = patient_follow_up(registry, "ITB021", DEMO_DATE)
    assert entry is not None and entry.days_overdue == 9
