"""Assessment scales and the definitions' date arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from itb.domain.dates import completed_years, months_between, parse_iso_date, years_between
from itb.domain.scales import SCALES


@pytest.mark.parametrize(("instrument", "value", "ok"), [
    ("mas", "0", True), ("mas", "1+", True), ("mas", "4", True), ("mas", "5", False),
    ("mas", "1.5", False), ("mas", "2+", False),
    ("gmfm", "0", True), ("gmfm", "100", True), ("gmfm", "72.5", True), ("gmfm", "101", False),
    ("gmfm", "-1", False), ("goniometry", "-180", True), ("goniometry", "180", True),
    ("goniometry", "181", False), ("goniometry", "abc", False),
    ("pain_nrs", "10", True), ("pain_nrs", "11", False), ("pain_nrs", "2.5", False),
    ("gmfcs", "III", True), ("gmfcs", "VI", False), ("gmfcs", "3", False),
    ("penn", "4", True), ("penn", "5", False), ("tardieu", "5", True), ("tardieu", "6", False),
    ("gmfm", "nan", False),
])
def test_scale_accepts(instrument: str, value: str, ok: bool) -> None:
    assert SCALES[instrument].accepts(value) is ok


def test_scale_descriptions_name_the_allowed_values() -> None:
    assert SCALES["mas"].describe() == "0, 1, 1+, 2, 3, 4"
    assert SCALES["gmfm"].describe() == "0…100 %"
    assert SCALES["pain_nrs"].describe() == "0, 1, …, 10"


@pytest.mark.parametrize(("birth", "on", "age"), [
    (date(2000, 5, 10), date(2018, 5, 9), 17),
    (date(2000, 5, 10), date(2018, 5, 10), 18),
    (date(2000, 2, 29), date(2018, 2, 28), 17),  # a leap-day birthday counts on 1 March
    (date(2000, 2, 29), date(2018, 3, 1), 18),
])
def test_completed_years(birth: date, on: date, age: int) -> None:
    assert completed_years(birth, on) == age


def test_years_and_months_use_the_definitions_day_counts() -> None:
    assert years_between(date(2020, 1, 1), date(2021, 1, 1)) == pytest.approx(366 / 365.25)
    assert months_between(date(2020, 1, 1), date(2020, 1, 31)) == pytest.approx(30 / 30.4375)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-07-31", date(2024, 7, 31)), ("2024-02-30", None), ("2024-7-31", None),
    ("31.07.2024", None), ("2024-07-31T00:00", None), ("", None),
])
def test_parse_iso_date_is_strict(text: str, expected: date | None) -> None:
    assert parse_iso_date(text) == expected
