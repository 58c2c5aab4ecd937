"""The clinicians' follow-up page, in English and Estonian, names every flag, every pump
model and the defaults the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from itb.domain import followup
from itb.domain.pumps import DEFAULT_CATALOGUE, REPLACEMENT_WINDOW_MONTHS
from itb.reports.followup import FLAG_LABELS

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = {"en": DOCS / "follow-up.md", "et": DOCS / "follow-up.et.md"}


@pytest.mark.parametrize("lang", PAGES)
def test_every_flag_and_pump_model_is_explained(lang: str) -> None:
    page = PAGES[lang].read_text(encoding="utf-8")
    for code in followup.FLAG_CODES:
        assert f"`{code}`" in page, code
    for model in DEFAULT_CATALOGUE:
        assert f"`{model.code}`" in page, model.code
    assert set(FLAG_LABELS) == set(followup.FLAG_CODES)


@pytest.mark.parametrize("lang", PAGES)
def test_the_defaults_are_the_codes(lang: str) -> None:
    page = PAGES[lang].read_text(encoding="utf-8")
    decimal = "," if lang == "et" else "."
    assert f"{followup.STABILITY_DAYS} " in page
    assert f"{followup.NO_REFILL_DAYS} " in page
    assert f"{followup.RESIDUAL_RELATIVE_TOLERANCE:.0%}".replace("%", " %") in page
    assert f"{followup.RESIDUAL_ABSOLUTE_TOLERANCE_ML:g}" in page
    assert f"{followup.SPINAL_STEP_CAP:.0%}".replace("%", " %") in page
    assert f"{followup.CEREBRAL_STEP_CAP:.0%}".replace("%", " %") in page
    assert f"{followup.REVIEW_DOSE_MCG:.0f} µg" in page
    assert f"{REPLACEMENT_WINDOW_MONTHS} " in page
    for model in DEFAULT_CATALOGUE:
        assert f"{model.alarm_volume_ml:g}".replace(".", decimal) in page
    assert f"3{decimal}0 m" in page  # the Prometra refill volume


def test_the_readme_links_both_pages() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/follow-up.md" in readme and "docs/follow-up.et.md" in readme
