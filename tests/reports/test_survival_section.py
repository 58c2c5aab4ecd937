"""The time-to-event part of the reference cohort's report: report.json keys, the KM figure,
the tables and their plain-words explanations in both languages, the literature panel."""

from __future__ import annotations

import csv
import io
import json

import pytest

from itb.analysis import StudyResult


def test_report_json_has_the_issues_keys(files_en: dict[str, bytes]) -> None:
    report = json.loads(files_en["report.json"])
    for group in ("overall", "low", "high"):
        curve = report["survival"][group]
        assert curve["years"] == [1, 3, 5]
        assert len(curve["estimate"]) == len(curve["ci95"]) == len(curve["at_risk"]) == 3
        assert all(len(ci) == 2 for ci in curve["ci95"])
    assert report["survival"]["overall"]["n"] == 43
    assert report["survival"]["low"]["n"] + report["survival"]["high"]["n"] == 43
    assert report["survival"]["overall"]["events"] == 7  # F50: seven patients
    incidence = report["incidence"]
    assert set(incidence["overall"]) == {"events", "pump_years", "per_100_pump_years", "ci95"}
    assert incidence["overall"]["events"] == 10  # F51: ten complications, each counted
    assert sum(v["events"] for v in incidence["by_type"].values()) == 10
    assert incidence["by_type"]["csf_leak"]["events"] == 3
    assert all(set(v) == set(incidence["overall"]) for v in incidence["by_type"].values())
    assert set(report["devices"]) == {"pumps", "end_reasons", "catheter_revision_free"}
    assert report["survival"]["method"]["ci95"].startswith("log-log")


def test_pump_years_are_the_sum_of_usage_times(result: StudyResult) -> None:
    usage = result.table1["overall"].usage_years.mean
    assert usage is not None
    assert result.incidence.overall.pump_years == pytest.approx(usage * result.n_patients)
    rate = result.incidence.overall
    assert rate.per_100_pump_years == pytest.approx(100 * rate.events / rate.pump_years)


def test_the_pumps_are_every_initial_and_replacement(result: StudyResult) -> None:
    # F5: 30 patients with one pump, 12 with two, 1 with three -> 57 pumps, 14 replaced.
    ends = result.devices.end_reasons
    assert sum(end.pumps for end in ends.values()) == 30 + 2 * 12 + 3
    assert ends["replacement"].pumps == 12 + 2


def test_the_survival_figure_is_written_and_inlined(files_en: dict[str, bytes],
                                                    files_et: dict[str, bytes]) -> None:
    assert files_en["survival.png"].startswith(b"\x89PNG\r\n\x1a\n")
    svg_en, svg_et = files_en["survival.svg"].decode(), files_et["survival.svg"].decode()
    assert "At risk" in svg_en and "Years since the first implantation" in svg_en
    assert "Riskirühm" in svg_et and "Low functional level (n = 26)" in svg_en
    html = files_et["report.html"].decode()
    assert html.count("<svg") == 2  # Figure 2 and the KM curves
    assert 'aria-label="Kaplan–Meieri kõverad 95% usaldusvahemikuga' in html
    assert "![Kaplan–Meier curves" in files_en["report.md"].decode()
    assert "(survival.svg)" in files_en["report.md"].decode()


def test_the_sections_explain_themselves_in_both_languages(files_et: dict[str, bytes],
                                                           files_en: dict[str, bytes]) -> None:
    et, en = files_et["report.md"].decode(), files_en["report.md"].decode()
    for title in ("## Tüsistusteta elulemus (Kaplan–Meier)",
                  "## Tüsistuste esinemissagedus 100 pumba-aasta kohta",
                  "## Tüsistuste kumulatiivne esinemine, surm konkureeriva sündmusena",
                  "## Registri näitajad ja avaldatud andmed", "## Seadmete elulemus"):
        assert title in et
    for title in ("## Complication-free survival (Kaplan–Meier)",
                  "## Complications per 100 pump-years",
                  "## Cumulative incidence of complications with death as a competing event",
                  "## The registry beside published figures", "## Device survival"):
        assert title in en
    assert "a patient counts as at risk only for as long as they have been followed" in en
    assert "patsient loetakse riskirühma ainult seni, kuni teda on jälgitud" in et
    assert "1 − Kaplan–Meier treats patients who died as if they could still have" in en
    assert "log-log" in en and "log-log" in et
    # Seven patients with a complication in all: the log-rank tests come with the warning.
    assert "Caution: a group has fewer than 10 patients, or there are fewer than 10" in en
    assert "Ettevaatust: mõnes rühmas on alla 10 patsiendi" in et
    assert "Log-rank test (functional level): χ² = " in en
    assert "Log-rank test (catheter type): nothing to compare" in en  # Ascenda only
    assert "Tabel" not in en


def test_estonian_decimal_comma_in_the_incidence_table(files_et: dict[str, bytes],
                                                       result: StudyResult) -> None:
    rows = list(csv.reader(io.StringIO(files_et["incidence.csv"].decode())))
    assert rows[0] == ["Tüsistused", "Esinemiste arv (n)", "Pumba-aastad",
                       "100 pumba-aasta kohta", "95% uv (täpne Poissoni)"]
    overall = rows[1]
    rate = result.incidence.overall
    assert overall[0] == "Kõik tüsistused" and overall[1] == "10"
    assert overall[3] == f"{rate.per_100_pump_years:.1f}".replace(".", ",")


def test_the_literature_panel_cites_the_articles_sources(files_en: dict[str, bytes]) -> None:
    rows = list(csv.reader(io.StringIO(files_en["literature.csv"].decode())))
    by_figure = {row[0]: row[1:] for row in rows[1:]}
    registry, published, source = by_figure["Patients with a complication"]
    assert registry.startswith("16% (7/43") and published.startswith("16% (7/43")
    assert "Eesti Arst 2024" in source
    _, published, source = by_figure["Patients with a complication, international studies"]
    assert published == "41–78%"
    assert "[5] Ryan MV" in source and "[15] Abraham M" in source and "[16] Masrour M" in source
    # The article gives no per-pump-year rate: the panel says so rather than borrow one.
    registry, published, _ = by_figure["Complications per 100 pump-years"]
    assert published == "not given by the study or the sources it cites"
    assert registry.replace(".", "").isdigit()
    _, published, source = by_figure["Pump replacement for the battery"]
    assert published == "on average every 6–7 years" and "[3] Saulino M" in source
