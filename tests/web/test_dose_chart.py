"""The dose-history chart's SVG builder: axes, step lines with gaps, markers, its words."""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree

import pytest
from django.utils import translation

from itb.web.registry.templatetags.dose_chart import (
    COMPLICATION,
    SURGERY,
    DoseHistory,
    DosePoint,
    Marker,
    dose_chart,
    nice_ceiling,
    render_svg,
    summary,
    time_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("value", "top"), [
    (0, 1), (0.7, 1), (1, 1), (1.1, 2), (2.2, 2.5), (3, 5), (440, 500), (550, 1000),
    (1001, 2000), (2000, 2000),
])
def test_an_axis_ends_at_a_round_number(value: float, top: float) -> None:
    assert nice_ceiling(value) == pytest.approx(top)


def test_time_ticks_are_years_or_quarters() -> None:
    assert [label for _, label in time_ticks(date(2013, 1, 10), date(2024, 7, 31))] == \
        ["2014", "2016", "2018", "2020", "2022", "2024"]  # every 2nd: at most ~8
    assert [label for _, label in time_ticks(date(2023, 11, 5), date(2024, 7, 31))] == \
        ["2024-01", "2024-04", "2024-07"]


def history(*points: DosePoint, markers: tuple[Marker, ...] = (),
            end: date = date(2021, 1, 1)) -> DoseHistory:
    return DoseHistory(points, markers, end)


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # well-formed XML, or this raises


def test_the_chart_is_well_formed_with_one_dot_per_refill_and_markers() -> None:
    chart = history(
        DosePoint(date(2019, 1, 1), 100, 500), DosePoint(date(2019, 7, 1), 150, 500),
        DosePoint(date(2020, 1, 1), 150, 1000),
        markers=(Marker(date(2019, 3, 1), COMPLICATION, "Catheter kink <T10>"),
                 Marker(date(2018, 12, 1), SURGERY, "Initial implantation")))
    root = parse(render_svg(chart))
    assert root.get("role") == "img"
    assert len(root.findall(f"{SVG}circle")) == 3
    assert len(root.findall(f".//{SVG}g[@class='marker marker-complication']")) == 1
    assert len(root.findall(f".//{SVG}g[@class='marker marker-surgery']")) == 1
    # Text is escaped, not markup.
    assert "Catheter kink <T10>" in "".join(root.itertext())
    dose = root.find(f"{SVG}path[@class='line line-dose']")
    assert dose is not None
    # A step line: one move, then horizontal and vertical steps only.
    assert re.fullmatch(r"M[\d.]+ [\d.]+(H[\d.]+|V[\d.]+)+", dose.get("d", ""))


def test_an_unknown_dose_leaves_a_gap_in_the_line() -> None:
    chart = history(DosePoint(date(2019, 1, 1), 100, 500),
                    DosePoint(date(2019, 7, 1), None, 500),
                    DosePoint(date(2020, 1, 1), 120, 500))
    dose = parse(render_svg(chart)).find(f"{SVG}path[@class='line line-dose']")
    assert dose is not None and dose.get("d", "").count("M") == 2


def test_the_summary_says_range_latest_and_counts() -> None:
    chart = history(DosePoint(date(2019, 1, 1), 100, 500),
                    DosePoint(date(2020, 1, 1), 162.5, 1000),
                    markers=(Marker(date(2019, 3, 1), COMPLICATION, "Infection"),))
    with translation.override("en"):
        text = summary(chart)
    assert text == ("Daily dose between 100 and 162.5 µg/day; latest 162.5 µg/day on "
                    "2020-01-01. Concentrations: 500, 1000 µg/ml. Refills: 2; "
                    "complications: 1.")
    with translation.override("et"):
        assert "100 kuni 162,5" in summary(chart)


def test_nothing_is_drawn_without_a_dose_or_concentration() -> None:
    assert dose_chart(history()) == ""
    assert dose_chart(history(DosePoint(date(2019, 1, 1), None, None))) == ""
    assert dose_chart(history(DosePoint(date(2019, 1, 1), 100, None))).startswith("<svg")


def test_a_single_refill_gets_a_readable_time_span() -> None:
    root = parse(render_svg(history(DosePoint(date(2020, 6, 1), 100, 500),
                                    end=date(2020, 6, 1))))
    circle = root.find(f"{SVG}circle")
    assert circle is not None and 64 < float(circle.get("cx", "0")) < 740
