"""Template helpers of the follow-up pages: rounded numbers, flag names."""

from __future__ import annotations

from django import template

from itb.web.registry.templatetags.registry import number
from itb.web.registry.views.followup import FLAG_LABELS

register = template.Library()


@register.filter
def rounded(value: float | None, places: int = 1) -> str:
    """A computed number for the eye: ``places`` decimals at most, the language's separator
    (``{{ due.days_to_alarm|rounded:1 }}`` → "95,3"; a whole number keeps no decimals)."""
    if value is None:
        return ""
    return number(round(float(value), int(places)))


@register.filter
def signed(value: float | None, places: int = 0) -> str:
    """A change with its sign: "+25", "−10" (a true minus sign)."""
    if value is None:
        return ""
    text = rounded(abs(value), places)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


@register.filter
def flag_label(code: str) -> str:
    """A follow-up flag's name in the active language."""
    return str(FLAG_LABELS.get(code, code))
