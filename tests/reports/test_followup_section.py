"""The report's follow-up section: report.json's "follow_up" and the table in both languages."""

from __future__ import annotations

import json

from itb.analysis import analyse
from itb.analysis.followup import follow_up_summary
from itb.cli import REFERENCE_COHORT
from itb.registry_io import load_registry
from itb.reports.tables import build_tables
from itb.reports.writer import render_report


def test_json_and_table_of_the_reference_cohort() -> None:
    registry = load_registry(REFERENCE_COHORT)
    result = analyse(registry)
    assert result.follow_up == follow_up_summary(registry)
    files = render_report(result, "en")
    data = json.loads(files["report.json"])["follow_up"]
    assert data["refills"] == registry.refills.height == 690
    assert data["pump_replacements"] == 14
    assert data["refills_per_patient_year"] * data["patient_years"] == 690
    assert data["share_on_time"] == data["refills_on_time"] / data["refill_intervals"]
    table = next(t for t in build_tables(result, "en") if t.key == "follow_up")
    cells = {row.cells[0]: row.cells[1] for row in table.rows}
    assert cells["Refills, n"] == "690"
    assert cells["Refills per patient-year"] == "4.0"
    assert cells["Pump replacements, n"] == "14"
    assert "follow_up.csv" in files
    assert "Follow-up: pump refills and replacements" in files["report.md"].decode()


def test_estonian_table_uses_a_decimal_comma() -> None:
    result = analyse(load_registry(REFERENCE_COHORT))
    table = next(t for t in build_tables(result, "et") if t.key == "follow_up")
    assert table.title == "Järelkontroll: pumba täitmised ja vahetused"
    cells = {row.cells[0]: row.cells[1] for row in table.rows}
    assert cells["Täitmisi patsiendiaasta kohta"] == "4,0"
    assert cells["Pumbaravi kokku, patsiendiaastat"] == "174,5"
