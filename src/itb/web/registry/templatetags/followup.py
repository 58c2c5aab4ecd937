"""Template helpers of the follow-up pages: rounded and signed numbers, pump status, paging."""

from __future__ import annotations

from django import template

from itb.web.registry.views import followup

register = template.Library()

# ``{{ due.days_to_alarm|rounded:1 }}`` → "95,3" (a whole number keeps no decimals);
# ``{{ step|signed:0 }}`` → "+25" or "−10".
register.filter("rounded", followup.rounded)
register.filter("signed", followup.signed)


@register.filter
def pump_status(status: str) -> str:
    """A pump's replacement status in words."""
    return str(followup.PUMP_STATUS_LABELS.get(status, status))


@register.simple_tag(takes_context=True)
def section_page_link(context: template.Context, section: str, page: int) -> str:
    """The board's URL with one section turned to ``page`` (the others stay where they are)."""
    params = context["request"].GET.copy()
    params[f"{section}_page"] = str(page)
    return f"?{params.urlencode()}#{section.replace('_', '-')}"
