"""The follow-up list (``itb due``) as a table, CSV, JSON or an iCalendar file.

The entries are ``itb.analysis.followup.FollowUp`` objects, in the order given (most overdue
first). JSON and CSV are for programs (codes, ISO dates, English keys); the table is for
people, in Estonian or English; the calendar has one all-day event per due refill and one
per pump-replacement window, with UIDs that stay the same from one run to the next, so that
a calendar that imports the file again updates its events instead of doubling them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Event

from itb.analysis.followup import FollowUp
from itb.domain import codes

FORMATS = ("table", "csv", "json", "ics")

# Flag codes (itb.domain.followup.FLAG_CODES) in words: (Estonian, English).
FLAG_LABELS: dict[str, tuple[str, str]] = {
    "refill_overdue": ("täitmine hilineb", "refill overdue"),
    "residual_mismatch": ("jääkmaht erineb oodatust", "residual volume off"),
    "no_refill_180d": ("üle 180 päeva täitmata", "no refill in 180 days"),
    "pump_replacement_window": ("pumba vahetuse aeg", "pump replacement window"),
    "pump_past_service_life": ("pump üle kasutusea", "pump past its service life"),
    "dose_step_too_large": ("annuse muutus liiga suur", "dose step too large"),
    "dose_above_review": ("annus üle ülevaatuse piiri", "dose above review level"),
}

TEXT: dict[str, tuple[str, str]] = {
    "patient": ("Patsient", "Patient"),
    "site": ("Haigla", "Site"),
    "next_refill": ("Järgmine täitmine", "Next refill"),
    "days": ("Päevi", "Days"),
    "pump": ("Pump", "Pump"),
    "pump_age": ("Pumba vanus, a", "Pump age, y"),
    "replacement": ("Pumba vahetus", "Pump replacement"),
    "flags": ("Märked", "Flags"),
    "overdue": ("{days} p hiljaks jäänud", "{days} d overdue"),
    "in_days": ("{days} p pärast", "in {days} d"),
    "today": ("täna", "today"),
    "none": ("Ühtegi patsienti ei ole nimekirjas ({on}).", "No patients on the list ({on})."),
    "summary": ("{n} patsienti {on} seisuga; {overdue} hilineb.",
                "{n} patients as of {on}; {overdue} overdue."),
    "calendar": ("ITB pumpade täitmised ja vahetused", "ITB pump refills and replacements"),
    "refill_event": ("Pumba täitmine: {patient} ({site})", "Pump refill due: {patient} ({site})"),
    "refill_overdue_event": ("HILINEB – pumba täitmine: {patient} ({site})",
                             "OVERDUE – pump refill: {patient} ({site})"),
    "refill_how": (
        "Järgmine täitmine {due}: {how}. Viimane täitmine {last}.",
        "Next refill due {due}: {how}. Last fill {last}."),
    "by_alarm": ("reservuaari alarmini {days} päeva (kiirus {rate} ml/päevas)",
                 "{days} days to the low-reservoir alarm (rate {rate} mL/day)"),
    "by_stability": ("ravimi stabiilsuse piir {days} päeva",
                     "the drug-stability limit of {days} days"),
    "replacement_event": ("Pumba vahetuse aeg: {patient} ({site}), tähtaeg {due}",
                          "Pump replacement window: {patient} ({site}), due {due}"),
    "replacement_how": ("Pump {model} paigaldati {implanted}; kasutusiga lõpeb {due}.",
                        "Pump {model} implanted {implanted}; its service life ends {due}."),
}

CSV_COLUMNS = ("patient_id", "site", "next_refill_due", "days_overdue", "days_until_due",
               "limited_by", "last_fill", "pump_model", "pump_implant_date", "pump_age_years",
               "replacement_window_opens", "pump_replacement_due", "replacement_status",
               "flags")
PRODID = "-//ITB registry//itb due//EN"
UID_DOMAIN = "itb-registry"


def _t(key: str, lang: str, **params: object) -> str:
    et, en = TEXT[key]
    return (et if lang == "et" else en).format(**params)


def flag_label(code: str, lang: str) -> str:
    et, en = FLAG_LABELS[code]
    return et if lang == "et" else en


def render(entries: Sequence[FollowUp], fmt: str, lang: str, on: date,
           horizon: date | None = None) -> str:
    """The entries in ``fmt`` (one of FORMATS), as text ending in a newline.

    ``horizon``: the calendar's replacement windows are those opening by then (None: all).
    """
    if fmt == "json":
        return json.dumps([entry.to_json() for entry in entries], ensure_ascii=False,
                          indent=2) + "\n"
    if fmt == "csv":
        return to_csv(entries)
    if fmt == "ics":
        return to_ics(entries, lang, on, horizon).decode("utf-8")
    if fmt == "table":
        return to_table(entries, lang, on)
    raise ValueError(f"unknown format {fmt!r}")


def to_csv(entries: Sequence[FollowUp]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        data = entry.to_json()
        data["flags"] = ";".join(data["flags"])
        writer.writerow("" if data[column] is None else data[column] for column in CSV_COLUMNS)
    return out.getvalue()


def _days_text(entry: FollowUp, lang: str) -> str:
    days = entry.days_until_due
    if days is None:
        return ""
    if days < 0:
        return _t("overdue", lang, days=-days)
    return _t("today", lang) if days == 0 else _t("in_days", lang, days=days)


def to_table(entries: Sequence[FollowUp], lang: str, on: date) -> str:
    """Aligned columns for a terminal, then a one-line summary."""
    if not entries:
        return _t("none", lang, on=on.isoformat()) + "\n"
    header = [_t(key, lang) for key in ("patient", "site", "next_refill", "days", "pump",
                                        "pump_age", "replacement", "flags")]
    rows = [header]
    for entry in entries:
        age = entry.pump_age_years
        rows.append([
            entry.patient_id, entry.site,
            entry.next_refill_due.isoformat() if entry.next_refill_due else "",
            _days_text(entry, lang),
            codes.PUMP_MODEL.label(entry.pump_model, lang) if entry.pump_model else "",
            "" if age is None else f"{age:.1f}",
            entry.pump_replacement_due.isoformat() if entry.pump_replacement_due else "",
            ", ".join(flag_label(code, lang) for code in entry.flag_codes),
        ])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             .rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    overdue = sum(1 for entry in entries if entry.overdue)
    lines.append("")
    lines.append(_t("summary", lang, n=len(entries), on=on.isoformat(), overdue=overdue))
    return "\n".join(lines) + "\n"


def _rate(value: float | None, lang: str) -> str:
    text = f"{value:.3g}" if value is not None else "?"
    return text.replace(".", ",") if lang == "et" else text


def to_ics(entries: Sequence[FollowUp], lang: str, on: date,
           horizon: date | None = None) -> bytes:
    """An iCalendar (RFC 5545) file: an all-day event for each next refill, and one spanning
    each pump-replacement window that opens by ``horizon`` (None: every one).

    DTSTAMP is the date computed for (not the clock), so the same data and date give the
    same file.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _t("calendar", lang))
    stamp = datetime.combine(on, time(0, 0), tzinfo=UTC)
    for entry in entries:
        if entry.refill_due is not None:
            calendar.add_component(_refill_event(entry, lang, stamp))
        window = entry.replacement
        if window is not None and (horizon is None or window.window_opens <= horizon):
            calendar.add_component(_replacement_event(entry, lang, stamp))
    return calendar.to_ical()


def _refill_event(entry: FollowUp, lang: str, stamp: datetime) -> Event:
    due = entry.refill_due
    assert due is not None
    key = "refill_overdue_event" if entry.overdue else "refill_event"
    if due.limited_by == "alarm":
        how = _t("by_alarm", lang, days=(due.due_date - due.refill_date).days,
                 rate=_rate(due.rate_ml_per_day, lang))
    else:
        how = _t("by_stability", lang, days=(due.stability_date - due.refill_date).days)
    event = Event()
    # One event per patient's next refill: a newer file moves it rather than adding one.
    event.add("uid", f"refill-{entry.patient_id}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", due.due_date)
    event.add("dtend", due.due_date + timedelta(days=1))
    event.add("summary", _t(key, lang, patient=entry.patient_id, site=entry.site))
    event.add("description", _t("refill_how", lang, due=due.due_date.isoformat(), how=how,
                                last=entry.last_fill.isoformat() if entry.last_fill else "?"))
    event.add("categories", ["ITB", entry.site])
    event.add("transp", "TRANSPARENT")
    return event


def _replacement_event(entry: FollowUp, lang: str, stamp: datetime) -> Event:
    schedule = entry.replacement
    assert schedule is not None
    model = codes.PUMP_MODEL.label(entry.pump_model, lang) if entry.pump_model else "?"
    event = Event()
    # One event per pump (its implant date): a replaced pump's window is another event.
    event.add("uid", f"pump-replacement-{entry.patient_id}-"
                     f"{schedule.implant_date.isoformat()}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", schedule.window_opens)
    event.add("dtend", schedule.due_date + timedelta(days=1))
    event.add("summary", _t("replacement_event", lang, patient=entry.patient_id,
                            site=entry.site, due=schedule.due_date.isoformat()))
    event.add("description", _t("replacement_how", lang, model=model,
                                implanted=schedule.implant_date.isoformat(),
                                due=schedule.due_date.isoformat()))
    event.add("categories", ["ITB", entry.site])
    event.add("transp", "TRANSPARENT")
    return event
