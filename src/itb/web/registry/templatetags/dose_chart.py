"""The patient page's dose-history chart: an inline SVG drawn on the server.

The Content-Security-Policy lets no script (and no inline style) run in the page, so the chart
is built here from plain SVG elements with CSS classes (registry's followup.css colours them).
It carries its own text alternative (``<title>`` and a ``<desc>`` summary); the template puts
the data beside it as a table. A small hand-built SVG keeps the page fast: matplotlib would
take longer to import than the whole page takes to render.

``{% dose_chart history %}`` with a :class:`DoseHistory`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from itb.web.registry.templatetags.registry import number

register = template.Library()

# Geometry of the viewBox (the SVG scales to the card's width).
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT = 64, 20
DOSE_TOP, DOSE_BOTTOM = 18, 178
CONC_TOP, CONC_BOTTOM = 214, 262
AXIS_LABEL_Y = 284

COMPLICATION = "complication"
SURGERY = "surgery"


@dataclass(frozen=True, slots=True)
class DosePoint:
    """One refill: the dose and concentration programmed at it (either may be unknown)."""

    when: date
    daily_dose_mcg: float | None
    concentration_mcg_ml: float | None


@dataclass(frozen=True, slots=True)
class Marker:
    """A dated event drawn across the chart: a complication or a surgery."""

    when: date
    kind: str  # COMPLICATION or SURGERY
    label: str


@dataclass(frozen=True)
class DoseHistory:
    """What the chart shows: refills in date order, markers, and the date the line runs to
    (the therapy's end, or the day the page is computed for)."""

    points: tuple[DosePoint, ...]
    markers: tuple[Marker, ...]
    end: date

    @property
    def doses(self) -> list[float]:
        return [p.daily_dose_mcg for p in self.points if p.daily_dose_mcg is not None]

    @property
    def concentrations(self) -> list[float]:
        return [p.concentration_mcg_ml for p in self.points
                if p.concentration_mcg_ml is not None]

    @property
    def drawable(self) -> bool:
        return bool(self.doses or self.concentrations)

    @property
    def complications(self) -> list[Marker]:
        return [m for m in self.markers if m.kind == COMPLICATION]

    def rows(self) -> list[tuple[date, str, DosePoint | Marker]]:
        """The chart's data in date order for its table: (date, kind, item)."""
        items: list[tuple[date, str, DosePoint | Marker]] = [
            (p.when, "refill", p) for p in self.points]
        items += [(m.when, m.kind, m) for m in self.markers]
        order = {SURGERY: 0, "refill": 1, COMPLICATION: 2}
        return sorted(items, key=lambda item: (item[0], order[item[1]]))


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ᵏ at or above ``value`` (an axis's top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-9:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def time_ticks(start: date, end: date) -> list[tuple[date, str]]:
    """Calendar ticks between the dates: years (every k-th, at most ~8), or quarters for a
    history shorter than 18 months."""
    if (end - start).days <= 540:
        ticks = []
        year, month = start.year, ((start.month - 1) // 3) * 3 + 1
        while date(year, month, 1) <= end:
            tick = date(year, month, 1)
            if tick >= start:
                ticks.append((tick, f"{year}-{month:02d}"))
            month += 3
            if month > 12:
                year, month = year + 1, month - 12
        return ticks
    years = range(start.year + 1, end.year + 1)
    every = max(1, math.ceil(len(years) / 8))
    return [(date(y, 1, 1), str(y)) for y in years if (y - years.start) % every == 0]


class _Scale:
    def __init__(self, start: date, end: date) -> None:
        self.start = start
        self.days = max((end - start).days, 1)

    def x(self, when: date) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (when - self.start).days / self.days


def _y(value: float, top_value: float, top: int, bottom: int) -> float:
    return bottom - (bottom - top) * value / top_value


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _step_path(points: Sequence[tuple[date, float | None]], end: date, scale: _Scale,
               top_value: float, top: int, bottom: int) -> str:
    """A step line: each value holds from its refill to the next (a gap where unknown)."""
    parts: list[str] = []
    drawing = False
    for index, (when, value) in enumerate(points):
        following = points[index + 1][0] if index + 1 < len(points) else max(end, when)
        if value is None:
            drawing = False
            continue
        y = _fmt(_y(value, top_value, top, bottom))
        if drawing:
            parts.append(f"V{y}")
        else:
            parts.append(f"M{_fmt(scale.x(when))} {y}")
            drawing = True
        parts.append(f"H{_fmt(scale.x(following))}")
    return "".join(parts)


def _unit_dose() -> str:
    return _("µg/day")


def summary(history: DoseHistory) -> str:
    """The chart in words (its ``<desc>``): range, latest setting, refills and complications."""
    doses = history.doses
    parts: list[str] = []
    if doses:
        latest = next(p for p in reversed(history.points) if p.daily_dose_mcg is not None)
        parts.append(_("Daily dose between %(low)s and %(high)s %(unit)s; latest %(dose)s "
                       "%(unit)s on %(date)s.") % {
            "low": number(min(doses)), "high": number(max(doses)), "unit": _unit_dose(),
            "dose": number(latest.daily_dose_mcg), "date": latest.when.isoformat()})
    concentrations = sorted(set(history.concentrations))
    if concentrations:
        parts.append(_("Concentrations: %(values)s µg/ml.") % {
            "values": ", ".join(number(c) for c in concentrations)})
    parts.append(_("Refills: %(refills)d; complications: %(complications)d.") % {
        "refills": len(history.points), "complications": len(history.complications)})
    return " ".join(parts)


def render_svg(history: DoseHistory, chart_id: str = "dose-chart") -> str:
    """The chart as an SVG element (markup; every text in it escaped)."""
    dates = [p.when for p in history.points] + [m.when for m in history.markers]
    start = min(dates) if dates else history.end
    end = max([history.end, *dates])
    if (end - start).days < 30:
        start, end = start - timedelta(days=15), end + timedelta(days=15)
    scale = _Scale(start, end)
    dose_top = nice_ceiling(max(history.doses, default=0) * 1.1)
    conc_top = nice_ceiling(max(history.concentrations, default=0))
    title = _("Dose history")
    out: list[str] = [
        f'<svg class="dose-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary(history))}</desc>',
    ]
    # Grid and axes: dose (top panel) with 5 ticks, concentration (bottom panel) 0 and top.
    for i in range(6):
        value = dose_top * i / 5
        y = _fmt(_y(value, dose_top, DOSE_TOP, DOSE_BOTTOM))
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y}" text-anchor="end" '
                   f'dominant-baseline="middle">{escape(number(value))}</text>')
    for value in (0.0, conc_top):
        y = _fmt(_y(value, conc_top, CONC_TOP, CONC_BOTTOM))
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y}" text-anchor="end" '
                   f'dominant-baseline="middle">{escape(number(value))}</text>')
    # (Translated outside the f-strings: the message extractor does not look into them.)
    dose_title, concentration_title = _("Daily dose, µg/day"), _("Concentration, µg/ml")
    out.append(f'<text class="axis-title" x="{LEFT}" y="{DOSE_TOP - 4}">'
               f'{escape(dose_title)}</text>')
    out.append(f'<text class="axis-title" x="{LEFT}" y="{CONC_TOP - 8}">'
               f'{escape(concentration_title)}</text>')
    for when, text in time_ticks(start, end):
        x = _fmt(scale.x(when))
        out.append(f'<line class="grid grid-time" x1="{x}" x2="{x}" y1="{DOSE_TOP}" '
                   f'y2="{CONC_BOTTOM}"/>')
        out.append(f'<text class="tick" x="{x}" y="{AXIS_LABEL_Y}" '
                   f'text-anchor="middle">{escape(text)}</text>')

    for marker in history.markers:
        x = _fmt(scale.x(marker.when))
        tip = escape(f"{marker.when.isoformat()}: {marker.label}")
        out.append(f'<g class="marker marker-{marker.kind}"><title>{tip}</title>'
                   f'<line x1="{x}" x2="{x}" y1="{DOSE_TOP}" y2="{CONC_BOTTOM}"/>')
        if marker.kind == COMPLICATION:
            tx = float(x)
            out.append(f'<path d="M{_fmt(tx - 6)} {DOSE_TOP - 2}H{_fmt(tx + 6)}'
                       f'L{x} {DOSE_TOP + 9}Z"/>')
        out.append("</g>")

    points = history.points
    dose_path = _step_path([(p.when, p.daily_dose_mcg) for p in points], end, scale,
                           dose_top, DOSE_TOP, DOSE_BOTTOM)
    conc_path = _step_path([(p.when, p.concentration_mcg_ml) for p in points], end, scale,
                           conc_top, CONC_TOP, CONC_BOTTOM)
    if dose_path:
        out.append(f'<path class="line line-dose" d="{dose_path}"/>')
    if conc_path:
        out.append(f'<path class="line line-concentration" d="{conc_path}"/>')
    for point in points:
        x = _fmt(scale.x(point.when))
        details = [point.when.isoformat()]
        if point.daily_dose_mcg is not None:
            details.append(f"{number(point.daily_dose_mcg)} {_unit_dose()}")
        if point.concentration_mcg_ml is not None:
            details.append(f"{number(point.concentration_mcg_ml)} µg/ml")
        tip = escape(", ".join(details))
        y = _fmt(_y(point.daily_dose_mcg, dose_top, DOSE_TOP, DOSE_BOTTOM)) \
            if point.daily_dose_mcg is not None else str(DOSE_BOTTOM)
        out.append(f'<circle class="refill" cx="{x}" cy="{y}" r="3.5"><title>{tip}</title>'
                   f'</circle>')
    out.append("</svg>")
    return "".join(out)


@register.simple_tag
def dose_table_rows(history: DoseHistory) -> SafeString:
    """``{% dose_table_rows history %}``: the chart's data as its table's rows, in date
    order. One string format a row: a long therapy has a hundred or more, and through the
    template language (a tag or filter per cell) they cost 5 ms of a 30 ms page."""
    refill = html.escape(_("Refill"))
    rows = []
    for when, _kind, item in history.rows():
        if isinstance(item, DosePoint):
            cells = (f'<td>{refill}</td><td class="num">{html.escape(number(item.daily_dose_mcg))}'
                     f'</td><td class="num">{html.escape(number(item.concentration_mcg_ml))}</td>')
        else:
            cells = f"<td>{html.escape(item.label)}</td><td></td><td></td>"
        rows.append(f'<tr><td class="date">{when.isoformat()}</td>{cells}</tr>')
    return mark_safe("\n".join(rows))  # every value escaped above


@register.simple_tag
def dose_chart(history: DoseHistory) -> SafeString:
    """``{% dose_chart history %}``: the SVG (nothing when there is nothing to draw)."""
    if not history.drawable:
        return mark_safe("")
    return mark_safe(render_svg(history))  # every text inside is escaped
