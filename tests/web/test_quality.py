"""Data quality: each check on a small registry, counts per site, the page, the command."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from itb.cli import main
from itb.web.registry.models import (
    Assessment,
    Implantation,
    Patient,
    Refill,
    Role,
    Site,
)
from itb.web.registry.quality import (
    CHECK_CODES,
    MISSING,
    WARNING,
    QualityReport,
    quality_report,
    render_quality,
)
from tests.web.conftest import make_user

pytestmark = pytest.mark.django_db

ON = date(2024, 8, 1)


def patient(patient_id: str, site: Site, **fields: Any) -> Patient:
    values = {"sex": "F", "birth_date": date(2008, 3, 14), "diagnosis": "cerebral_palsy",
              "syndrome": "spastic_tetraparesis", "functional_level": "low",
              "contractures_before": "yes", **fields}
    return Patient.objects.create(patient_id=patient_id, site=site, **values)


def implant(who: Patient, day: date, kind: str = "initial", reservoir: str | None = "20",
            tip: str = "T10") -> Implantation:
    pump = kind != "revision"
    return Implantation.objects.create(
        patient=who, implant_date=day, site=who.site, kind=kind,
        pump_model="synchromed_ii" if pump else "",
        reservoir_ml=Decimal(reservoir) if pump and reservoir else None,
        catheter_type="ascenda", catheter_tip_level=tip)


def refill(who: Patient, day: date, volume: str, dose: str = "150") -> Refill:
    return Refill.objects.create(patient=who, refill_date=day, volume_ml=Decimal(volume),
                                 concentration_mcg_ml=Decimal("500"),
                                 daily_dose_mcg=Decimal(dose))


def assess(who: Patient) -> Assessment:
    return Assessment.objects.create(patient=who, assessment_date=date(2016, 4, 20),
                                     instrument="penn", phase="follow_up", value="2")


@pytest.fixture
def sites() -> dict[str, Site]:
    return {code: Site.objects.create(code=code, name=f"{code} hospital")
            for code in ("PRN", "TLN", "TRT")}


@pytest.fixture
def registry(sites: dict[str, Site]) -> dict[str, Any]:
    """Seven patients; the comments say which checks each one should (not) fail."""
    tln, trt = sites["TLN"], sites["TRT"]
    # P01: complete, nothing to report.
    p01 = patient("P01", tln)
    implant(p01, date(2015, 4, 20))
    assess(p01)
    r01 = refill(p01, date(2024, 6, 1), "18")
    # P02: nothing but the patient row: no initial implantation, no contracture status, no
    # assessment, on therapy and never filled.
    p02 = patient("P02", tln, contractures_before="")
    # P03: unknown tip level on the initial implantation, a 35 ml replacement pump, a refill
    # of 45 ml into it with a dose of 1200 µg/day, last filled over 180 days ago.
    p03 = patient("P03", trt, contractures_before="no")
    i03 = implant(p03, date(2018, 9, 5), reservoir="40", tip="")
    i03b = implant(p03, date(2023, 1, 10), kind="replacement", reservoir="35", tip="T8")
    assess(p03)
    refill(p03, date(2019, 1, 1), "40", dose="1000")  # at the limits, not above them
    r03 = refill(p03, date(2023, 6, 1), "45", dose="1200")
    # P04: therapy ended, so no refill is expected.
    p04 = patient("P04", trt, therapy_end_date=date(2020, 1, 1), therapy_end_reason="death")
    implant(p04, date(2015, 1, 1))
    assess(p04)
    # P05: implanted within the last 180 days: the pump was filled at surgery.
    p05 = patient("P05", tln)
    implant(p05, date(2024, 5, 1))
    assess(p05)
    # P06: 40 ml pump, a revision (no new pump), then a 20 ml pump; 38 ml went into the 40 ml
    # pump (fine) and later 30 ml into the 20 ml one (above its reservoir).
    p06 = patient("P06", tln)
    implant(p06, date(2016, 1, 1), reservoir="40")
    implant(p06, date(2020, 1, 1), kind="revision")
    refill(p06, date(2020, 6, 1), "38")
    implant(p06, date(2021, 1, 1), kind="replacement", reservoir="20")
    r06 = refill(p06, date(2024, 7, 1), "30")
    assess(p06)
    return {"p01": p01, "p02": p02, "p03": p03, "i03": i03, "i03b": i03b, "r01": r01,
            "r03": r03, "r06": r06}


def counts(report: QualityReport) -> dict[str, dict[str, int]]:
    return {check.code: check.counts for check in report.checks}


def items(report: QualityReport, code: str) -> list[tuple[str, str, int | None, str]]:
    check = next(c for c in report.checks if c.code == code)
    return [(i.site, i.patient_id, i.record_id, i.value) for i in check.items]


def test_counts_per_site_for_every_check(registry: dict[str, Any]) -> None:
    report = quality_report(None, on=ON)
    assert report.sites == (("PRN", "PRN hospital"), ("TLN", "TLN hospital"),
                            ("TRT", "TRT hospital"))
    assert counts(report) == {
        "no_initial_implantation": {"PRN": 0, "TLN": 1, "TRT": 0},
        "unknown_tip_level": {"PRN": 0, "TLN": 0, "TRT": 1},
        "missing_contractures": {"PRN": 0, "TLN": 1, "TRT": 0},
        "no_assessment": {"PRN": 0, "TLN": 1, "TRT": 0},
        "no_recent_refill": {"PRN": 0, "TLN": 1, "TRT": 1},
        "dose_above_review": {"PRN": 0, "TLN": 0, "TRT": 1},
        "reservoir_not_standard": {"PRN": 0, "TLN": 0, "TRT": 1},
        "refill_above_reservoir": {"PRN": 0, "TLN": 1, "TRT": 1},
    }
    assert [c.code for c in report.missing] == list(CHECK_CODES[:5])
    assert all(c.kind == WARNING for c in report.warnings)
    assert all(c.kind == MISSING for c in report.missing)
    assert report.site_total("TLN") == 5 and report.site_total("PRN") == 0
    assert report.total == 10


def test_each_item_names_its_patient_and_record(registry: dict[str, Any]) -> None:
    report = quality_report(None, on=ON)
    assert items(report, "no_initial_implantation") == [("TLN", "P02", None, "")]
    assert items(report, "missing_contractures") == [("TLN", "P02", None, "")]
    assert items(report, "no_assessment") == [("TLN", "P02", None, "")]
    assert items(report, "unknown_tip_level") == [("TRT", "P03", registry["i03"].pk, "")]
    # The last fill is shown: a refill, or the implantation of a pump, whichever is later.
    assert items(report, "no_recent_refill") == [("TLN", "P02", None, ""),
                                                 ("TRT", "P03", None, "2023-06-01")]
    assert items(report, "dose_above_review") == [("TRT", "P03", registry["r03"].pk, "1200")]
    assert items(report, "reservoir_not_standard") == [
        ("TRT", "P03", registry["i03b"].pk, "35")]
    assert items(report, "refill_above_reservoir") == [
        ("TLN", "P06", registry["r06"].pk, "30 > 20"),
        ("TRT", "P03", registry["r03"].pk, "45 > 35")]
    dose = next(c for c in report.checks if c.code == "dose_above_review")
    assert dose.items[0].date == date(2023, 6, 1) and dose.items[0].table == "refills"


@pytest.mark.parametrize(("days", "flagged"), [(180, False), (181, True)])
def test_no_refill_counts_from_more_than_180_days(registry: dict[str, Any], days: int,
                                                   flagged: bool) -> None:
    on = registry["r01"].refill_date + timedelta(days=days)
    patients = [i[1] for i in items(quality_report(None, on=on), "no_recent_refill")]
    assert ("P01" in patients) is flagged


def test_a_pump_placed_since_counts_as_a_fill(registry: dict[str, Any]) -> None:
    # P05 has no refill at all; 180 days after the surgery it is not yet flagged.
    on = date(2024, 5, 1) + timedelta(days=180)
    assert "P05" not in [i[1] for i in items(quality_report(None, on=on), "no_recent_refill")]
    later = quality_report(None, on=on + timedelta(days=1))
    assert ("TLN", "P05", None, "2024-05-01") in items(later, "no_recent_refill")


def test_filters_and_limits_list_items_but_counts_stay_whole(registry: dict[str, Any]) -> None:
    report = quality_report(None, on=ON, check="refill_above_reservoir", site="TRT")
    assert items(report, "refill_above_reservoir") == [
        ("TRT", "P03", registry["r03"].pk, "45 > 35")]
    assert items(report, "no_assessment") == []
    assert counts(report)["no_assessment"] == {"PRN": 0, "TLN": 1, "TRT": 0}
    limited = quality_report(None, on=ON, item_limit=1)
    check = next(c for c in limited.checks if c.code == "refill_above_reservoir")
    assert len(check.items) == 1 and check.total == 2 and check.truncated


def test_the_number_of_queries_does_not_grow_with_the_patients(
        registry: dict[str, Any], sites: dict[str, Site]) -> None:
    with CaptureQueriesContext(connection) as few:
        quality_report(None, on=ON)
    for n in range(30):
        patient(f"X{n:02}", sites["PRN"], contractures_before="")
    with CaptureQueriesContext(connection) as many:
        report = quality_report(None, on=ON)
    assert counts(report)["missing_contractures"]["PRN"] == 30
    assert len(many.captured_queries) == len(few.captured_queries)


def test_only_users_who_may_see_quality_get_the_report(registry: dict[str, Any],
                                                        sites: dict[str, Site]) -> None:
    coordinator = make_user("coord", Role.COORDINATOR)
    assert counts(quality_report(coordinator, on=ON)) == counts(quality_report(None, on=ON))
    for role in (Role.CLINICIAN, Role.RESEARCHER, Role.ADMINISTRATOR):
        with pytest.raises(PermissionDenied):
            quality_report(make_user(f"u-{role}", role, [sites["TLN"]]), on=ON)


def test_render_csv_json_and_table(registry: dict[str, Any]) -> None:
    report = quality_report(None, on=ON)
    rows = list(csv.DictReader(io.StringIO(render_quality(report, "csv", "en"))))
    assert len(rows) == report.total
    row = next(r for r in rows if r["check"] == "dose_above_review")
    assert row == {"check": "dose_above_review", "kind": "warning",
                   "label": "Daily dose above 1000 µg/day", "site": "TRT",
                   "patient_id": "P03", "table": "refills",
                   "record_id": str(registry["r03"].pk), "date": "2023-06-01",
                   "value": "1200",
                   "path": reverse("registry:patient_detail", args=["P03"])}

    document = json.loads(render_quality(report, "json", "en"))
    assert document["on"] == "2024-08-01"
    assert [s["code"] for s in document["sites"]] == ["PRN", "TLN", "TRT"]
    by_code = {c["check"]: c for c in document["checks"]}
    assert by_code["no_recent_refill"]["counts"] == {"PRN": 0, "TLN": 1, "TRT": 1}
    assert by_code["no_recent_refill"]["total"] == 2

    table = render_quality(report, "table", "en")
    assert "Data quality on 2024-08-01" in table
    assert "Missing for the report" in table and "Accepted with a warning" in table
    line = next(li for li in table.splitlines() if li.strip().startswith("Refill volume"))
    assert line.split()[-4:] == ["0", "1", "1", "2"]
    assert any(li.startswith("TRT") and "P03" in li and "45 > 35" in li
               for li in table.splitlines())
    assert any(li.startswith("TRT") and "last fill 2023-06-01" in li
               for li in table.splitlines())
    assert any(li.startswith("TLN") and "P02" in li and "never filled" in li
               for li in table.splitlines())
    with pytest.raises(ValueError, match="unknown format"):
        render_quality(report, "xml", "en")


def test_command_prints_the_report(registry: dict[str, Any], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    # Django is already set up for the tests (on the test database); the command's own
    # set-up is then a no-op apart from the data directory it is given.
    monkeypatch.setenv("ITB_DATA_DIR", str(tmp_path))
    (tmp_path / "registry.sqlite3").touch()
    status = main(["quality", "--data-dir", str(tmp_path), "--format", "json", "--lang", "en"])
    assert status == 0
    document = json.loads(capsys.readouterr().out)
    assert {c["check"] for c in document["checks"]} == set(CHECK_CODES)


def test_command_refuses_a_directory_without_a_database(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    missing = tmp_path / "typo"
    status = main(["quality", "--data-dir", str(missing), "--lang", "en"])
    assert status == 1
    assert "no registry database" in capsys.readouterr().err
    assert not missing.exists()  # nothing created where the user mistyped


# --- the page -------------------------------------------------------------------------------


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_shows_counts_and_links_each_record_to_its_patient(
        registry: dict[str, Any]) -> None:
    client = signed_in(make_user("coord", Role.COORDINATOR))
    response = client.get(reverse("registry:quality"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="?check=no_assessment&amp;site=TLN"' in html
    for patient_id in ("P02", "P03", "P06"):
        assert f'href="{reverse("registry:patient_detail", args=[patient_id])}"' in html


def test_page_lists_one_check_of_one_site(registry: dict[str, Any]) -> None:
    client = signed_in(make_user("coord", Role.COORDINATOR))
    response = client.get(reverse("registry:quality"),
                          {"check": "refill_above_reservoir", "site": "TLN"})
    assert response.status_code == 200
    listed = [(i.site, i.patient_id) for c in response.context["report"].checks
              for i in c.items]
    assert listed == [("TLN", "P06")]


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.RESEARCHER, Role.ADMINISTRATOR])
def test_page_is_refused_to_other_roles(registry: dict[str, Any], sites: dict[str, Site],
                                        role: Role) -> None:
    client = signed_in(make_user("someone", role, [sites["TLN"]]))
    assert client.get(reverse("registry:quality")).status_code == 403


def test_page_sends_anonymous_users_to_sign_in() -> None:
    response = Client().get(reverse("registry:quality"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
