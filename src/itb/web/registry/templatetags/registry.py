"""Template helpers: permissions, code labels in the active language, numbers, dates."""

from __future__ import annotations

import html
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from django import template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.formats import number_format
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language, gettext, gettext_noop

from itb.domain import codes
from itb.web.registry.forms import label
from itb.web.registry.models import Role
from itb.web.registry.permissions import ROLE_ACTIONS, Action
from itb.web.registry.selectors import can, role_of
from itb.web.registry.views.common import ROLE_LABELS

register = template.Library()

CODE_LISTS = {code_list.name: code_list for code_list in codes.ALL_CODE_LISTS}


@register.filter(name="can")
def can_filter(user: Any, action: str) -> bool:
    """``{% if user|can:"edit_patients" %}``."""
    return can(user, Action(action))


# The main menu: (action the link needs, URL name, its text, the pages it is current on; None:
# every page but the other links' own).
_MAIN_MENU: tuple[tuple[Action, str, str, tuple[str, ...] | None], ...] = (
    (Action.VIEW_PATIENTS, "registry:patient_list", gettext_noop("Patients"), None),
    (Action.VIEW_FOLLOW_UP, "registry:follow_up", gettext_noop("Follow-up"), ("follow_up",)),
    (Action.VIEW_REPORT, "registry:report", gettext_noop("Report"), ("report",)),
    (Action.VIEW_QUALITY, "registry:quality", gettext_noop("Data quality"), ("quality",)),
    (Action.VIEW_AUDIT, "registry:audit", gettext_noop("Audit trail"), ("audit",)),
    (Action.MANAGE_USERS, "admin:index", gettext_noop("Users and sites"), ()),
)


@register.simple_tag(takes_context=True)
def main_menu(context: template.Context) -> SafeString:
    """``{% main_menu %}``: the links of the pages the user may open, the current one
    marked. The same for every user of a role, in a language, on a page: built once per
    process for each (through the template language it cost 1.4 ms of every page view)."""
    request = context["request"]
    match = request.resolver_match
    return _main_menu(role_of(request.user), get_language() or "et",
                      match.url_name if match else None, get_script_prefix(), get_urlconf())


@lru_cache(maxsize=256)
def _main_menu(role: Role | None, language: str, here: str | None, script_prefix: str,
               urlconf: Any) -> SafeString:
    """(The script prefix and URLconf are part of the key: ``reverse`` reads them.)"""
    others = {name for _, _, _, pages in _MAIN_MENU for name in pages or ()}
    links = []
    for action, url_name, text, pages in _MAIN_MENU:
        if role is None or action not in ROLE_ACTIONS[role]:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # a page another part of the application has not installed
            continue
        current = here not in others if pages is None else here in pages
        mark = ' aria-current="page"' if current else ""
        links.append(f'<a href="{html.escape(url)}"{mark}>{html.escape(gettext(text))}</a>')
    label = html.escape(gettext("Main menu"))
    return mark_safe(f'<nav class="mainnav" aria-label="{label}">\n      '  # escaped above
                     + "\n      ".join(links) + "\n    </nav>")


@register.filter
def code_label(code: str | None, list_name: str) -> str:
    """A code's label in the active language, e.g. ``{{ p.diagnosis|code_label:"diagnosis" }}``."""
    if not code:
        return ""
    return CODE_LISTS[list_name].label(code, get_language() or "et")


@register.filter
def role_label(user: Any) -> str:
    role = role_of(user)
    return str(ROLE_LABELS[role]) if role is not None else ""


@register.filter
def column_label(column: str) -> str:
    return label(column)


@register.filter
def number(value: Decimal | float | int | None) -> str:
    """A number as written by hand: no trailing zeros, the language's decimal separator."""
    if value is None or value == "":
        return ""
    return _number(value, get_language())


@lru_cache(maxsize=4096)
def _number(value: Decimal | float | int, language: str | None) -> str:
    """``number`` of a value in a language (the active one, which number_format reads).
    Kept: a patient page writes a hundred or more doses and volumes, mostly the same few,
    and each formatting cost ~15 µs."""
    decimal = Decimal(str(value)).normalize()
    places = max(0, -decimal.as_tuple().exponent)  # type: ignore[operator]
    return number_format(decimal, decimal_pos=places)


@register.filter
def iso(value: date | None) -> str:
    """Dates as YYYY-MM-DD everywhere: unambiguous, and how the core's messages write them."""
    return value.isoformat() if value else ""


@register.simple_tag(takes_context=True)
def sort_link(context: template.Context, key: str) -> str:
    """The list's URL sorted by ``key`` (reversing the order when already sorted by it)."""
    request = context["request"]
    params = request.GET.copy()
    current = params.get("sort", "id")
    params["sort"] = f"-{key}" if current == key else key
    params.pop("page", None)
    return f"?{params.urlencode()}"


@register.simple_tag(takes_context=True)
def page_link(context: template.Context, page: int) -> str:
    params = context["request"].GET.copy()
    params["page"] = str(page)
    return f"?{params.urlencode()}"


@register.filter
def is_role(user: Any, role: str) -> bool:
    return role_of(user) == Role(role)


@register.filter
def minutes(value: timedelta | None) -> int:
    return round(value.total_seconds() / 60) if value else 0


@register.filter
def sort_state(current: str, key: str) -> str:
    """The column's aria-sort value: "ascending", "descending" or "" (not sorted by it)."""
    if current == key:
        return "ascending"
    return "descending" if current == f"-{key}" else ""


@register.filter
def has_sections(table: Any) -> bool:
    """Whether a report table has heading rows (its data rows are then indented)."""
    return any(row.section for row in table.rows)


@register.filter
def figure_alt(table: Any) -> str:
    """The alternative text of a report table's figure, in the active language."""
    from itb.reports.i18n import text

    return text(f"{table.figure}_alt", get_language() or "et")


# One row of the patient list. The list shows 50 a page, and through the template language
# (a variable, filter or URL tag per cell) the rows were half of the page's CPU time, ~10 ms;
# so a row is one string format, each value escaped with the escaping Django's own `escape`
# wraps (html.escape, quotes included), without its lazy-text checks around every value.
_PATIENT_ROW = (
    '<tr><td><a href="{url}">{id}</a></td><td>{site}</td><td class="hide-medium">{born}</td>'
    '<td class="num">{age}</td><td class="date">{first}</td><td class="date">{last}</td>'
    '<td class="hide-medium">{level}</td><td><span class="status status-{status}">{therapy}'
    '</span></td></tr>')


def patient_path(patient_id: str) -> str:
    """The patient page's URL as ``reverse`` writes it (the id quoted as Django quotes a path)
    without resolving the pattern again for every row: ~50 µs each, 50 a page."""
    if not patient_id or "/" in patient_id:  # which the str converter cannot write
        return reverse("registry:patient_detail", args=[patient_id])
    start, end = _patient_path_parts(get_script_prefix(), get_urlconf())
    return f"{start}{quote(patient_id, safe=RFC3986_SUBDELIMS + '/~:@')}{end}"


@lru_cache(maxsize=8)
def _patient_path_parts(script_prefix: str, urlconf: Any) -> tuple[str, str]:
    """What comes before and after the id (the script prefix and URLconf are the key:
    ``reverse`` reads them)."""
    start, end = reverse("registry:patient_detail", args=["0"]).rsplit("0", 1)
    return start, end


@register.simple_tag(takes_context=True)
def patient_row(context: template.Context, patient: Any) -> SafeString:
    """``{% patient_row patient %}``: a patient of the list (views.patients.ListRow) as a
    table row; its labels translated once per page."""
    labels = context.render_context.get("registry:patient_row")
    if labels is None:
        language = get_language() or "et"
        labels = context.render_context["registry:patient_row"] = (
            gettext("Ended %(date)s"), gettext("On therapy"),
            {code.code: code.label(language) for code in codes.FUNCTIONAL_LEVEL})
    ended_text, on_text, levels = labels
    ended = patient.therapy_end_date
    age = patient.age_at_first
    values = {
        "url": patient_path(patient.patient_id),
        "id": patient.patient_id, "site": patient.site, "born": patient.birth_date.year,
        "age": "–" if age is None else age, "first": iso(patient.first_implant) or "–",
        "last": iso(patient.last_refill) or "–",
        "level": levels.get(patient.functional_level, patient.functional_level or ""),
        "status": "ended" if ended else "on",
        "therapy": ended_text % {"date": iso(ended)} if ended else on_text,
    }
    return mark_safe(_PATIENT_ROW.format_map(  # every value escaped, just below
        {key: html.escape(str(value)) for key, value in values.items()}))


def _escaped(value: object) -> str:
    """What autoescaping prints for ``value``: safe text as it is, anything else escaped."""
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))


def _event_url(context: template.Context, name: str, patient_id: str, table: str,
               pk: int) -> str:
    """``reverse(name, args=[patient_id, table, pk])``, reversed twice per page and table
    only: the URLs for pks 0 and 1 differ in the pk's digits alone (the int converter writes
    str(pk)), so the rest is kept for the render. A reverse costs ~20 µs, two per entry."""
    key = ("registry:event_url", name, patient_id, table)
    parts = context.render_context.get(key)
    if parts is None:
        zero, one = (reverse(name, args=[patient_id, table, n]) for n in (0, 1))
        start = next(i for i, (a, b) in enumerate(zip(zero, one, strict=True)) if a != b)
        parts = context.render_context[key] = (zero[:start], zero[start + 1:])
    return f"{parts[0]}{pk}{parts[1]}"


@register.simple_tag(takes_context=True)
def timeline_entries(context: template.Context, entries: Any, patient: Any,
                     may_edit: bool) -> SafeString:
    """``{% timeline_entries timeline patient may_edit %}``: the patient page's timeline
    (views.timeline.Entry) as list items, with edit and delete links for users who may
    edit. A long record has hundreds of entries, and through the template language (a tag
    per entry, a variable per value) they were most of the page's time, as the list's rows
    were (``patient_row``)."""
    links = (gettext("Edit"), gettext("Delete")) if may_edit else None
    record_url = reverse("registry:patient_edit", args=[patient.patient_id]) if may_edit else ""
    tags: dict[str, str] = {}  # each kind's tag translated and escaped once, not per entry
    return mark_safe("\n".join(  # every value escaped in _timeline_entry
        _timeline_entry(context, entry, patient, links, record_url, tags) for entry in entries))


def _timeline_entry(context: template.Context, entry: Any, patient: Any,
                    links: tuple[str, str] | None, record_url: str, tags: dict[str, str]) -> str:
    """One entry; ``links``: the edit and delete links' texts (None: no links)."""
    tag = tags.get(entry.kind)
    if tag is None:
        tag = tags[entry.kind] = _escaped(entry.tag)
    when = iso(entry.when)
    title = f"<strong>{_escaped(entry.title)}</strong>" if entry.title else ""
    details = "".join(f"<div><dt>{_escaped(label)}</dt><dd>{_escaped(value)}</dd></div>"
                      for label, value in entry.details)
    parts = [f'<li class="entry entry-{_escaped(entry.kind)}">'
             f'<time datetime="{when}">{when}</time><div><div class="entry-title">'
             f'<span class="tag">{tag}</span>{title}</div>',
             f'<dl class="details">{details}</dl>' if details else "", "</div>"]
    if links is not None:
        edit, delete = links
        if entry.pk:
            targets = [(_event_url(context, f"registry:event_{action}", patient.patient_id,
                                   entry.kind, entry.pk), text)
                       for action, text in (("edit", edit), ("delete", delete))]
        else:
            targets = [(record_url, edit)]
        parts.append('<div class="entry-actions">' + "".join(
            f'<a href="{_escaped(url)}">{_escaped(text)}</a>' for url, text in targets)
            + "</div>")
    parts.append("</li>")
    return "".join(parts)
