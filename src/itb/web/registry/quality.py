"""Data quality: per site, the records that lack what the study report needs, and the values
that were accepted with a warning, each pointing at its patient.

Every check is one filtered queryset of the records it flags. The counts per site are one
GROUP BY query per check and the listed items one sliced query, so the report stays fast
with 100,000 patients: nothing loops over patients in Python.

The models are imported in the functions that use them, so that the module can be imported
before Django is set up.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from itb.domain.codes import PUMP_KINDS
from itb.domain.followup import NO_REFILL_DAYS, REVIEW_DOSE_MCG
from itb.domain.pumps import DEFAULT_CATALOGUE

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from itb.web.registry.selectors import User

MISSING = "missing"  # the report cannot use the record as it is
WARNING = "warning"  # the value was accepted, with a warning, when it was entered

# The reservoir sizes of the pump models the registry knows (20 and 40 mL).
STANDARD_RESERVOIRS_ML: tuple[Decimal, ...] = tuple(sorted(
    {Decimal(str(volume)) for model in DEFAULT_CATALOGUE for volume in
     model.reservoir_volumes_ml}))

FORMATS = ("table", "csv", "json")


# What a flagged record is called: the row names of the patient pages (forms.ROW_NAMES).
TABLE_LABELS: dict[str, Promise] = {"patients": _("Patient record"),
                                    "implantations": _("Surgery"), "refills": _("Refill")}


@dataclass(frozen=True, slots=True)
class QualityItem:
    """One flagged record: ``record_id`` and ``date`` are None for a patient-level finding."""

    check: str
    site: str
    patient_id: str
    table: str
    record_id: int | None
    date: date | None
    value: str

    @property
    def table_label(self) -> Promise:
        return TABLE_LABELS[self.table]


@dataclass(frozen=True, slots=True)
class CheckResult:
    code: str
    kind: str
    label: Promise | str
    counts: dict[str, int]  # site code -> records flagged; every site in scope, zeros too
    items: tuple[QualityItem, ...] = ()  # the first ``item_limit`` (all when no limit)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def truncated(self) -> bool:
        return len(self.items) < self.total


@dataclass(frozen=True, slots=True)
class QualityReport:
    on: date
    sites: tuple[tuple[str, str], ...]  # (code, name), in code order
    checks: tuple[CheckResult, ...]

    def of_kind(self, kind: str) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if check.kind == kind)

    @property
    def missing(self) -> tuple[CheckResult, ...]:
        return self.of_kind(MISSING)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        return self.of_kind(WARNING)

    def site_total(self, site: str) -> int:
        return sum(check.counts.get(site, 0) for check in self.checks)

    @property
    def total(self) -> int:
        return sum(check.total for check in self.checks)


# --- the checks -----------------------------------------------------------------------------

# Each check's queryset carries the same annotations, so that counting and listing are the
# same two queries for every check: q_site (the patient's site code), q_patient (registry
# id) and q_date (the record's date; NULL for patient-level findings).
Records = Callable[["QuerySet[Any]", date], "QuerySet[Any]"]


@dataclass(frozen=True)
class Check:
    code: str
    kind: str
    label: Promise
    table: str
    records: Records  # (patients in scope, report date) -> flagged records, annotated
    value_fields: tuple[str, ...] = ()
    describe: Callable[[dict[str, Any]], str] = field(default=lambda row: "")


def _number(value: Decimal | float | None) -> str:
    """1200.00 -> "1200", 20.50 -> "20.5" (never the exponent form of Decimal.normalize)."""
    if value is None:
        return ""
    return format(Decimal(str(value)).normalize(), "f")


def _patient_rows(queryset: QuerySet[Any]) -> QuerySet[Any]:
    from django.db.models import DateField, F, Value

    return queryset.annotate(q_site=F("site__code"), q_patient=F("patient_id"),
                             q_date=Value(None, output_field=DateField()))


def _event_rows(model: type, patients: QuerySet[Any], date_field: str) -> QuerySet[Any]:
    from django.db.models import F

    return model.objects.filter(patient__in=patients).annotate(  # type: ignore[attr-defined]
        q_site=F("patient__site__code"), q_patient=F("patient__patient_id"),
        q_date=F(date_field))


def _no_initial_implantation(patients: QuerySet[Any], on: date) -> QuerySet[Any]:
    from django.db.models import Exists, OuterRef

    from itb.web.registry.models import Implantation

    initial = Implantation.objects.filter(patient=OuterRef("pk"), kind="initial")
    return _patient_rows(patients.filter(~Exists(initial)))


def _unknown_tip_level(patients: QuerySet[Any], on: date) -> QuerySet[Any]:
    from itb.web.registry.models import Implantation

    return _event_rows(Implantation, patients, "implant_date").filter(
        kind="initial", catheter_tip_level="")


def _missing_contractures(patients: QuerySet[Any], on: date) -> QuerySet[Any]:
    return _patient_rows(patients.filter(contractures_before=""))


def _no_assessment(patients: QuerySet[Any], on: date) -> QuerySet[Any]:
    from django.db.models import Exists, OuterRef

    from itb.web.registry.models import Assessment

    return _patient_rows(patients.filter(~Exists(Assessment.objects.filter(
        patient=OuterRef("pk")))))


def _no_recent_refill(patients: QuerySet[Any], on: date) -> QuerySet[Any]:
    """On therapy, and no fill in the last NO_REFILL_DAYS days, or never.

    A pump placed at an implantation (initial or replacement) is filled at surgery, so it
    counts as a fill, as in itb.domain.followup's ``no_refill_180d`` flag.
    """
    from django.db.models import Exists, Max, OuterRef, Subquery

    from itb.web.registry.models import Implantation, Refill

    since = on - timedelta(days=NO_REFILL_DAYS)
    refills = Refill.objects.filter(patient=OuterRef("pk"), refill_date__lte=on)
    pumps = Implantation.objects.filter(patient=OuterRef("pk"), kind__in=PUMP_KINDS,
                                        implant_date__lte=on)

    def latest(queryset: QuerySet[Any], date_field: str) -> Subquery:
        return Subquery(queryset.order_by().values("patient")
                        .annotate(last=Max(date_field)).values("last")[:1])

    flagged = patients.filter(therapy_end_date__isnull=True).filter(
        ~Exists(refills.filter(refill_date__gte=since)),
        ~Exists(pumps.filter(implant_date__gte=since)))
    # The dates are for the listed items only: a subquery per listed row, not per patient.
    return _patient_rows(flagged).annotate(
        last_refill=latest(refills, "refill_date"), last_pump=latest(pumps, "implant_date"))


def _last_fill(row: dict[str, Any]) -> str:
    fills = [d for d in (row["last_refill"], row["last_pump"]) if d is not None]
    return max(fills).isoformat() if fills else ""


def _dose_above_review(patients: QuerySet[Any], on: date) -> QuerySet[Any]:
    from itb.web.registry.models import Refill

    return _event_rows(Refill, patients, "refill_date").filter(
        daily_dose_mcg__gt=Decimal(str(REVIEW_DOSE_MCG)))


def _reservoir_not_standard(patients: QuerySet[Any], on: date) -> QuerySet[Any]:
    from itb.web.registry.models import Implantation

    return _event_rows(Implantation, patients, "implant_date").filter(
        reservoir_ml__isnull=False).exclude(reservoir_ml__in=STANDARD_RESERVOIRS_ML)


def _refill_above_reservoir(patients: QuerySet[Any], on: date) -> QuerySet[Any]:
    """A refill volume above the reservoir of the pump in place on the refill date.

    The pump in place is the latest initial or replacement implantation on or before the
    refill (a revision places no pump). An unknown reservoir flags nothing.
    """
    from django.db.models import OuterRef, Subquery
    from django.db.models.expressions import RawSQL

    from itb.web.registry.models import Implantation, Refill

    # Each pump's time in place, from its implantation to the next pump's (a window
    # function), joined to the refills of that time: one pass over both tables. A subquery
    # per refill for "the pump in place" was three times slower with 100,000 patients.
    # Refills no larger than the smallest reservoir recorded cannot be above theirs, which
    # keeps most refills out of the join.
    implantations, refills = Implantation._meta.db_table, Refill._meta.db_table
    kinds = sorted(PUMP_KINDS)
    flagged = RawSQL(f"""
        SELECT r.id FROM {refills} r
        JOIN (SELECT patient_id, implant_date, reservoir_ml,
                     LEAD(implant_date) OVER (PARTITION BY patient_id
                                              ORDER BY implant_date, id) AS next_implant_date
              FROM {implantations} WHERE kind IN ({", ".join(["%s"] * len(kinds))})) pump
          ON pump.patient_id = r.patient_id AND r.refill_date >= pump.implant_date
         AND (pump.next_implant_date IS NULL OR r.refill_date < pump.next_implant_date)
        WHERE r.volume_ml > pump.reservoir_ml
          AND r.volume_ml > (SELECT MIN(reservoir_ml) FROM {implantations})""", kinds)
    # The reservoir, for the listed items only.
    pump = (Implantation.objects
            .filter(patient=OuterRef("patient"), kind__in=PUMP_KINDS,
                    implant_date__lte=OuterRef("refill_date"))
            .order_by("-implant_date", "-pk").values("reservoir_ml")[:1])
    return (_event_rows(Refill, patients, "refill_date").filter(pk__in=flagged)
            .annotate(reservoir=Subquery(pump)))


CHECKS: tuple[Check, ...] = (
    Check("no_initial_implantation", MISSING, _("No initial implantation"), "patients",
          _no_initial_implantation),
    Check("unknown_tip_level", MISSING,
          _("Catheter tip level unknown on the initial implantation"), "implantations",
          _unknown_tip_level),
    Check("missing_contractures", MISSING, _("Contracture status missing"), "patients",
          _missing_contractures),
    Check("no_assessment", MISSING, _("No assessment recorded"), "patients", _no_assessment),
    Check("no_recent_refill", MISSING,
          format_lazy(_("On therapy with no refill in over {days} days (or never)"),
                      days=NO_REFILL_DAYS),
          "patients", _no_recent_refill, ("last_refill", "last_pump"), _last_fill),
    Check("dose_above_review", WARNING,
          format_lazy(_("Daily dose above {dose} µg/day"), dose=_number(REVIEW_DOSE_MCG)),
          "refills", _dose_above_review, ("daily_dose_mcg",),
          lambda row: _number(row["daily_dose_mcg"])),
    Check("reservoir_not_standard", WARNING,
          format_lazy(_("Reservoir volume other than {volumes} ml"),
                      volumes="/".join(_number(v) for v in STANDARD_RESERVOIRS_ML)),
          "implantations", _reservoir_not_standard, ("reservoir_ml",),
          lambda row: _number(row["reservoir_ml"])),
    Check("refill_above_reservoir", WARNING, _("Refill volume above the reservoir"), "refills",
          _refill_above_reservoir, ("volume_ml", "reservoir"),
          lambda row: f"{_number(row['volume_ml'])} > {_number(row['reservoir'])}"),
)
CHECK_CODES = tuple(check.code for check in CHECKS)


def _counts(records: QuerySet[Any], sites: Sequence[str]) -> dict[str, int]:
    from django.db.models import Count

    found = dict(records.order_by().values_list("q_site").annotate(n=Count("pk")))
    return {site: found.get(site, 0) for site in sites}


def _items(check: Check, records: QuerySet[Any], site: str | None,
           limit: int | None) -> tuple[QualityItem, ...]:
    if site is not None:
        records = records.filter(q_site=site)
    rows = records.order_by("q_site", "q_patient", "q_date", "pk").values(
        "pk", "q_site", "q_patient", "q_date", *check.value_fields)
    if limit is not None:
        rows = rows[:limit]
    patient_level = check.table == "patients"
    return tuple(
        QualityItem(check.code, row["q_site"], row["q_patient"], check.table,
                    None if patient_level else row["pk"], row["q_date"], check.describe(row))
        for row in rows)


def quality_report(user: User | None, *, on: date | None = None, check: str | None = None,
                   site: str | None = None, item_limit: int | None = None) -> QualityReport:
    """The data-quality report of the user's scope (``None``: the whole registry, for the
    command line).

    Counts cover every check and site; the items are listed for ``check`` and ``site`` only
    when given, at most ``item_limit`` per check.
    """
    from django.utils import timezone

    from itb.web.registry.models import Patient, Site
    from itb.web.registry.permissions import Action
    from itb.web.registry.selectors import patients_for, require, sites_for

    if user is None:
        patients, site_rows = Patient.objects.all(), Site.objects.all()
    else:
        require(user, Action.VIEW_QUALITY)
        patients, site_rows = patients_for(user), sites_for(user)
    on = on or timezone.localdate()
    sites = tuple(site_rows.order_by("code").values_list("code", "name"))
    site_codes = [code for code, _name in sites]
    results = []
    for spec in CHECKS:
        records = spec.records(patients.order_by(), on)
        found = _counts(records, site_codes)
        # A check with nothing to list skips its second (listing) query.
        listed = (check is None or check == spec.code) and (
            found.get(site, 0) if site is not None else sum(found.values())) > 0
        results.append(CheckResult(spec.code, spec.kind, spec.label, found,
                                   _items(spec, records, site, item_limit) if listed else ()))
    return QualityReport(on, sites, tuple(results))


# --- output for the command line ------------------------------------------------------------


def _patient_path(patient_id: str) -> str:
    from django.urls import reverse

    return reverse("registry:patient_detail", args=[patient_id])


def _item_rows(report: QualityReport) -> Iterable[tuple[CheckResult, QualityItem]]:
    for check in report.checks:
        for item in check.items:
            yield check, item


def _shown_value(item: QualityItem) -> str:
    """The value as people read it; CSV and JSON keep the plain value (a date, or empty)."""
    from django.utils.translation import gettext

    if item.check != "no_recent_refill":
        return item.value
    if not item.value:
        return gettext("never filled")
    return gettext("last fill %(date)s") % {"date": item.value}


def _render_table(report: QualityReport) -> str:
    sites = [code for code, _name in report.sites]
    header = [str(_("Check")), *sites, str(_("Total"))]
    lines: list[list[str]] = []
    for kind, heading in ((MISSING, _("Missing for the report")),
                          (WARNING, _("Accepted with a warning"))):
        lines.append([str(heading)])
        for check in report.of_kind(kind):
            lines.append([f"  {check.label}", *(str(check.counts[s]) for s in sites),
                          str(check.total)])
    label_width = max(len(line[0]) for line in [header, *lines])
    widths = [max(len(s), 5) for s in [*sites, str(_("Total"))]]

    def row(cells: list[str]) -> str:
        numbers = "  ".join(cell.rjust(width) for cell, width in zip(cells[1:], widths,
                                                                     strict=False))
        return f"{cells[0].ljust(label_width)}  {numbers}".rstrip()

    out = [str(format_lazy(_("Data quality on {date}"), date=report.on.isoformat())), "",
           row(header), *(row(line) for line in lines)]
    items = list(_item_rows(report))
    if items:
        columns = [str(_("Site")), str(_("Patient")), str(_("Record")), str(_("Value")),
                   str(_("Check"))]
        table = [[item.site, item.patient_id,
                  " ".join(filter(None, [str(item.table_label),
                                         item.date.isoformat() if item.date else ""])),
                  _shown_value(item), str(check.label)] for check, item in items]
        item_widths = [max(len(r[i]) for r in [columns, *table]) for i in range(4)]
        out += ["", *("  ".join([*(c.ljust(w) for c, w in zip(r[:4], item_widths,
                                                                strict=True)), r[4]])
                      for r in [columns, *table])]
    return "\n".join(out) + "\n"


def _item_record(check: CheckResult, item: QualityItem) -> dict[str, Any]:
    return {"check": check.code, "kind": check.kind, "label": str(check.label),
            "site": item.site, "patient_id": item.patient_id, "table": item.table,
            "record_id": item.record_id,
            "date": item.date.isoformat() if item.date else None, "value": item.value,
            "path": _patient_path(item.patient_id)}


def _render_csv(report: QualityReport) -> str:
    buffer = io.StringIO()
    columns = ["check", "kind", "label", "site", "patient_id", "table", "record_id", "date",
               "value", "path"]
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for check, item in _item_rows(report):
        writer.writerow(_item_record(check, item))
    return buffer.getvalue()


def _render_json(report: QualityReport) -> str:
    document = {
        "on": report.on.isoformat(),
        "sites": [{"code": code, "name": name} for code, name in report.sites],
        "checks": [
            {"check": check.code, "kind": check.kind, "label": str(check.label),
             "counts": check.counts, "total": check.total,
             "items": [_item_record(check, item) for item in check.items]}
            for check in report.checks],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render_quality(report: QualityReport, fmt: str, lang: str) -> str:
    """``table`` (counts per site, then the records), ``csv`` (one row per record) or
    ``json`` (counts and records), in ``lang``."""
    from django.utils import translation

    renderers = {"table": _render_table, "csv": _render_csv, "json": _render_json}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    with translation.override(lang):
        return renderers[fmt](report)
