"""``itb report`` output files: complete, in both languages, self-contained, all-or-nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from itb.analysis import StudyResult
from itb.reports.tables import build_tables
from itb.reports.writer import render_report, write_report

EXPECTED_FILES = {
    "report.html", "report.md", "report.json", "figure2.png", "figure2.svg",
    "flow.csv", "table1.csv", "figure2.csv", "table2.csv", "complication_proportion.csv",
    "complications_per_patient.csv", "assessments.csv", "follow_up.csv",
    "survival.png", "survival.svg", "survival.csv", "survival_at_risk.csv", "competing_risk.csv",
    "incidence.csv", "pump_ends.csv", "device_survival.csv", "literature.csv",
}


def test_every_output_file_is_written(tmp_path: Path, result: StudyResult) -> None:
    written = write_report(result, tmp_path / "out", "en")
    assert {p.name for p in written} == EXPECTED_FILES
    assert {p.name for p in (tmp_path / "out").iterdir()} == EXPECTED_FILES


def test_json_has_the_documented_keys(files_en: dict[str, bytes]) -> None:
    report = json.loads(files_en["report.json"])
    assert {"cutoff", "n_patients", "flow", "table1", "first_implantations_per_year",
            "complications", "assessment_combinations"} <= set(report)
    assert set(report["flow"]) >= {"on_therapy", "ended"}
    for group in ("overall", "low", "high"):
        summary = report["table1"][group]
        assert set(summary) >= {"n", "age", "usage_years", "sex", "syndrome", "diagnosis",
                                "contractures_before", "pump_implantations", "catheter_type",
                                "catheter_tip_level"}
        assert set(summary["age"]) == {"median", "q1", "q3", "iqr", "min", "max"}
        assert set(summary["usage_years"]) == {"mean", "sd"}
        assert all(isinstance(v, int) for v in summary["sex"].values())
    complications = report["complications"]
    assert set(complications["ci95"]) == {"wald", "wilson", "clopper_pearson"}
    assert all(len(ci) == 2 for ci in complications["ci95"].values())
    for item in complications["by_type"].values():
        assert set(item) == {"events", "patients", "mean_months_to_onset"}


def test_json_is_the_same_in_both_languages(files_et: dict[str, bytes],
                                            files_en: dict[str, bytes]) -> None:
    assert files_et["report.json"] == files_en["report.json"]


def test_report_is_reproducible(result: StudyResult) -> None:
    assert render_report(result, "et") == render_report(result, "et")


def test_html_is_self_contained(files_et: dict[str, bytes]) -> None:
    html = files_et["report.html"].decode()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="et">' in html
    assert "<svg" in html  # the figure is inline
    for remote in ("http://", "https://", "<script", "<link", "src="):
        assert remote not in html.split("<svg")[0], remote
    assert "@page { size: A4" in html


def test_estonian_wording_and_decimal_comma(files_et: dict[str, bytes]) -> None:
    markdown = files_et["report.md"].decode()
    assert "## Tabel 1. Uuritavate demograafilised ja kliinilised näitajad" in markdown
    assert "## Tabel 2. Intratekaalse baklofeenravi tüsistuste esinemine ja jaotuvus ajas" in (
        markdown)
    assert "| Waldi (uuringus kasutatud) | 5,2%–27,3% |" in markdown
    assert "Wilsoni vahemikku" in markdown  # the small-sample recommendation


def test_english_wording(files_en: dict[str, bytes]) -> None:
    markdown = files_en["report.md"].decode()
    assert "## Table 1. Demographic and clinical characteristics of the patients" in markdown
    assert "| Wald (the study's) | 5.2%–27.3% |" in markdown
    assert "we recommend the Wilson interval" in markdown
    assert "Tabel" not in markdown


def test_markdown_and_csv_carry_the_same_tables(result: StudyResult,
                                                files_en: dict[str, bytes]) -> None:
    markdown = files_en["report.md"].decode()
    for table in build_tables(result, "en"):
        assert f"## {table.title}" in markdown
        rows = list(csv.reader(io.StringIO(files_en[f"{table.key}.csv"].decode())))
        assert rows[0] == table.header
        assert len(rows) == len(table.rows) + 1
        assert all(len(row) == len(table.header) for row in rows)


def test_figure_is_png_and_svg(files_en: dict[str, bytes]) -> None:
    assert files_en["figure2.png"].startswith(b"\x89PNG\r\n\x1a\n")
    svg = files_en["figure2.svg"].decode()
    assert "<svg" in svg and "First implantations" in svg and "2022" in svg


def test_figure_shows_site_names(files_en: dict[str, bytes]) -> None:
    svg = files_en["figure2.svg"].decode()
    assert "Tallinna Lastehaigla" in svg


def test_a_failed_write_leaves_no_file(tmp_path: Path, result: StudyResult,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    real_write = Path.write_bytes
    calls: list[Path] = []

    def disk_fills_up(path: Path, data: bytes) -> int:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", disk_fills_up)
    with pytest.raises(OSError, match="No space left"):
        write_report(result, out, "en")
    assert list(out.iterdir()) == []
