"""Date arithmetic of the study's definitions."""

from __future__ import annotations

from datetime import date

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12  # 30.4375
EARLIEST_PLAUSIBLE_DATE = date(1900, 1, 1)


def completed_years(birth: date, on: date) -> int:
    """Age in completed years on a date (a birthday on 29 February counts on 1 March)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def years_between(start: date, end: date) -> float:
    return (end - start).days / DAYS_PER_YEAR


def months_between(start: date, end: date) -> float:
    return (end - start).days / DAYS_PER_MONTH


def parse_iso_date(text: str) -> date | None:
    """A strict ``YYYY-MM-DD`` date, or None when the text is not one."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
