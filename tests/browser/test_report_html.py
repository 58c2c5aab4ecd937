"""The reference report opened in Chromium: every table and the figure are shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from itb.cli import REFERENCE_COHORT, main

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    paths = {}
    for lang in ("et", "en"):
        assert main(["report", str(REFERENCE_COHORT), "--out", str(out / lang),
                     "--lang", lang]) == 0
        paths[lang] = out / lang / "report.html"
    return paths


@pytest.mark.parametrize(("lang", "titles"), [
    ("et", ["Tabel 1. Uuritavate demograafilised ja kliinilised näitajad",
            "Joonis 2. Intratekaalse baklofeenravi pumba esmaste implantatsioonide arv",
            "Tabel 2. Intratekaalse baklofeenravi tüsistuste esinemine ja jaotuvus ajas",
            "Patsientide kulg", "Tüsistuste esinemissagedus", "Tabel 3.",
            "Tüsistusteta elulemus (Kaplan–Meier)",
            "Tüsistuste esinemissagedus 100 pumba-aasta kohta",
            "Järelkontroll: pumba täitmised ja vahetused"]),
    ("en", ["Table 1. Demographic and clinical characteristics of the patients",
            "Figure 2. First implantations of an intrathecal baclofen pump per year",
            "Table 2. Complications of intrathecal baclofen therapy and their timing",
            "Patient flow", "Complication proportion", "Table 3.",
            "Complication-free survival (Kaplan–Meier)", "Complications per 100 pump-years",
            "Follow-up: pump refills and replacements"]),
])
def test_report_shows_every_table_and_the_figure(browser: Browser, screenshot_dir: Path,
                                                 reports: dict[str, Path], lang: str,
                                                 titles: list[str]) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(reports[lang].as_uri())
    page.screenshot(path=str(screenshot_dir / f"report-{lang}.png"), full_page=True)

    headings = page.locator("h2").all_inner_texts()
    for title in titles:
        assert any(h.startswith(title) for h in headings), (title, headings)
    # The study's seven tables, the survival and incidence tables, and the follow-up.
    assert page.locator("table").count() == 15
    body = page.locator("body").inner_text()
    table1 = page.locator("#table1 table").inner_text()
    if lang == "et":
        assert "Laste tserebraalparalüüs" in table1 and "19 (44)" in table1
        assert "18 (27)" in table1 and "Mees" in table1 and "27 (63)" in table1
        assert "Liikvori leke" in page.locator("#table2 table").inner_text()
        assert "5,2%–27,3%" in body
    else:
        assert "Cerebral palsy" in table1 and "19 (44)" in table1
        assert "Cerebrospinal fluid leak" in page.locator("#table2 table").inner_text()
        assert "5.2%–27.3%" in body
    for section in ("#figure2", "#survival"):  # Figure 2 and the Kaplan–Meier curves
        figure = page.locator(f"{section} figure svg")
        assert figure.count() == 1 and figure.bounding_box()["height"] > 150, section
    # Self-contained: nothing but the file itself was requested.
    assert requests == [reports[lang].as_uri()]
    page.close()


def test_report_prints_on_a4(browser: Browser, reports: dict[str, Path],
                             tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(reports["en"].as_uri())
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert boxes and all(round(float(w)) == 595 and round(float(h)) == 842 for w, h in boxes)
    page.close()
