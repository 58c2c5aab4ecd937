"""``itb due``: the follow-up list from a registry directory, as a table, CSV, JSON and an
iCalendar file (parsed back with the icalendar library). The database path is tested in
tests/web/test_due_database.py."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from icalendar import Calendar

from itb.cli import EXIT_INVALID, EXIT_OK, REFERENCE_COHORT, main

ON = "2024-07-31"  # the reference cohort's cut-off: the demo's follow-up date
COHORT = str(REFERENCE_COHORT)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["due", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_table_in_english_overdue_first(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, COHORT, "--on", ON, "--lang", "en")
    assert status == EXIT_OK and err == ""
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["Patient", "Site", "Next"]
    assert lines[2].split()[:5] == ["ITB021", "TUK", "2024-07-22", "9", "d"]
    assert "refill overdue" in lines[2]
    assert [line.split()[0] for line in lines[2:8]] == [
        "ITB021", "ITB008", "ITB017", "ITB029", "ITB034", "ITB024"]
    assert "residual volume off" in lines[7]
    assert lines[-1] == "6 patients as of 2024-07-31; 1 overdue."


def test_table_in_estonian_by_default(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITB_LANG", raising=False)
    status, out, _ = run(capsys, COHORT, "--on", ON)
    assert status == EXIT_OK
    assert out.splitlines()[0].startswith("Patsient")
    assert "9 p hiljaks jäänud" in out and "täitmine hilineb" in out
    assert out.splitlines()[-1] == "6 patsienti 2024-07-31 seisuga; 1 hilineb."


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, COHORT, "--on", ON, "--format", "json")
    assert status == EXIT_OK
    document = json.loads(out)
    assert isinstance(document, list) and len(document) == 6
    first = document[0]
    assert first["patient_id"] == "ITB021" and first["site"] == "TUK"
    assert first["next_refill_due"] == "2024-07-22"
    assert first["days_overdue"] == 9
    assert first["pump_replacement_due"] == "2027-06-09"
    assert first["flags"] == ["refill_overdue"]
    for entry in document:
        assert isinstance(entry["days_overdue"], int) and entry["days_overdue"] >= 0
        date.fromisoformat(entry["next_refill_due"])
        assert isinstance(entry["flags"], list)
    assert [e["days_overdue"] for e in document[1:]] == [0] * 5
    assert document[-1]["flags"] == ["residual_mismatch"]


def test_days_site_and_all(capsys: pytest.CaptureFixture[str]) -> None:
    def ids(*args: str) -> list[str]:
        status, out, _ = run(capsys, COHORT, "--on", ON, "--format", "json", *args)
        assert status == EXIT_OK
        return [entry["patient_id"] for entry in json.loads(out)]

    assert ids("--days", "5") == ["ITB021", "ITB008", "ITB024"]
    assert ids("--days", "0") == ["ITB021", "ITB024"]
    assert ids("--site", "TUK") == ["ITB021", "ITB008", "ITB024"]
    assert len(ids("--all")) == 38  # every patient on therapy
    assert ids("--all", "--site", "LTKH")  # follow-up only, but its patients are listed


def test_csv_parses_with_one_row_per_patient(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, COHORT, "--on", ON, "--format", "csv")
    assert status == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["patient_id"] for row in rows][:2] == ["ITB021", "ITB008"]
    assert rows[0]["days_overdue"] == "9" and rows[0]["flags"] == "refill_overdue"
    assert rows[1]["flags"] == "" and rows[1]["limited_by"] in ("alarm", "stability")


def test_ics_parses_back_as_icalendar(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, COHORT, "--on", ON, "--format", "ics", "--lang", "en")
    assert status == EXIT_OK
    calendar = Calendar.from_ical(out)
    assert calendar["VERSION"] == "2.0" and "PRODID" in calendar
    events = calendar.walk("VEVENT")
    # One event per listed patient's next refill; no replacement window opens within 30 days.
    assert len(events) == 6
    for event in events:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert prop in event, prop
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert type(start) is date and end == start + timedelta(days=1)  # all-day
    first = events[0]
    assert str(first["UID"]) == "refill-ITB021@itb-registry"
    assert first.decoded("DTSTART") == date(2024, 7, 22)
    assert str(first["SUMMARY"]) == "OVERDUE – pump refill: ITB021 (TUK)"
    assert "low-reservoir alarm" in str(first["DESCRIPTION"])
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_ics_is_stable_and_lists_replacement_windows_with_all(
        capsys: pytest.CaptureFixture[str]) -> None:
    args = (COHORT, "--on", ON, "--format", "ics", "--all")
    first, again = run(capsys, *args)[1], run(capsys, *args)[1]
    assert first == again  # same data and date, same file: subscribers see no churn
    events = Calendar.from_ical(first).walk("VEVENT")
    refills = [e for e in events if str(e["UID"]).startswith("refill-")]
    windows = [e for e in events if str(e["UID"]).startswith("pump-replacement-")]
    assert len(refills) == 38 and len(windows) == 38
    itb021 = next(e for e in windows if "ITB021" in str(e["UID"]))
    assert str(itb021["UID"]) == "pump-replacement-ITB021-2020-06-09@itb-registry"
    assert itb021.decoded("DTSTART") == date(2026, 12, 9)
    assert itb021.decoded("DTEND") == date(2027, 6, 10)  # through the replacement due date
    # A later date moves the refill event (same UID) rather than adding another.
    later = run(capsys, COHORT, "--on", "2024-09-30", "--format", "ics", "--all")[1]
    moved = {str(e["UID"]) for e in Calendar.from_ical(later).walk("VEVENT")}
    assert moved == {str(e["UID"]) for e in events}


def test_bad_usage_and_bad_data_exit_2_without_a_traceback(
        capsys: pytest.CaptureFixture[str], make_registry, valid_files) -> None:
    for args in (["--on", "2024-02-30"], ["--days", "-1"], ["--days", "x"],
                 ["--format", "xml"]):
        with pytest.raises(SystemExit) as caught:
            main(["due", COHORT, *args])
        assert caught.value.code == EXIT_INVALID
        assert "Traceback" not in capsys.readouterr().err

    status, out, err = run(capsys, COHORT, "--site", "XYZ", "--lang", "en")
    assert status == EXIT_INVALID and out == ""
    assert err == "itb: no site XYZ; sites: LTKH, PERH, TLH, TUK\n"

    broken = make_registry(refills=valid_files["refills"] + "P01,2016-13-01,20,500,150\n")
    status, out, err = run(capsys, str(broken), "--lang", "en")
    assert status == EXIT_INVALID and out == ""
    assert "refills.csv:5: refill_date: '2016-13-01' is not a real calendar date" in err


def test_an_empty_list_says_so(capsys: pytest.CaptureFixture[str], make_registry) -> None:
    # On 2015-11-01 only P01 of the minimal registry is on therapy: refilled 2015-10-20
    # (20 mL, 150 µg/day at 500 µg/mL), next due 2015-12-19, no flags.
    directory = make_registry()
    status, out, _ = run(capsys, str(directory), "--on", "2015-11-01", "--days", "1",
                         "--lang", "en")
    assert status == EXIT_OK
    assert out == "No patients on the list (2015-11-01).\n"
    status, out, _ = run(capsys, str(directory), "--on", "2015-11-01", "--format", "json")
    assert json.loads(out) == []


def test_today_is_the_default_date(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, COHORT, "--format", "json", "--all")
    assert status == EXIT_OK
    document = json.loads(out)
    # Computed for today, long after the cohort's last refills: every patient is overdue.
    due = [date.fromisoformat(e["next_refill_due"]) for e in document]
    assert all(e["days_overdue"] == (date.today() - d).days for e, d in zip(document, due,
                                                                           strict=True))
