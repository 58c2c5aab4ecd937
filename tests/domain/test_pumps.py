"""Pump models, the site-overridable catalogue and the replacement dates (hand-computed)."""

from __future__ import annotations

from datetime import date

import pytest

from itb.domain.codes import PUMP_MODEL
from itb.domain.pumps import (
    DEFAULT_CATALOGUE,
    IN_REPLACEMENT_WINDOW,
    NOT_DUE,
    PAST_SERVICE_LIFE,
    Implantation,
    PumpCatalogue,
    PumpModel,
    add_months,
    add_years,
    current_pump,
    end_of_service,
    pump_replacement,
    replacement_schedule,
    replacement_status,
)


def test_the_catalogue_has_every_pump_model_code() -> None:
    assert DEFAULT_CATALOGUE.codes == PUMP_MODEL.codes


@pytest.mark.parametrize(("code", "volumes", "alarm", "life", "eri_days"), [
    ("synchromed_ii", (20.0, 40.0), 2.0, 7, 90),
    ("synchromed_iii", (20.0, 40.0), 2.0, 7, 90),
    ("prometra_ii", (20.0, 40.0), 3.0, 10, None),
    ("constant_flow", (), 2.0, None, None),
    ("other", (), 2.0, None, None),
])
def test_default_models(code: str, volumes: tuple[float, ...], alarm: float, life: int | None,
                        eri_days: int | None) -> None:
    model = DEFAULT_CATALOGUE.get(code)
    assert (model.reservoir_volumes_ml, model.alarm_volume_ml, model.service_life_years,
            model.stops_after_eri_days) == (volumes, alarm, life, eri_days)


def test_a_site_overrides_a_model_without_changing_the_default() -> None:
    site = DEFAULT_CATALOGUE.replace("synchromed_ii", alarm_volume_ml=3.0)
    assert site.get("synchromed_ii").alarm_volume_ml == 3.0
    assert site.get("synchromed_ii").service_life_years == 7
    assert DEFAULT_CATALOGUE.get("synchromed_ii").alarm_volume_ml == 2.0
    assert site.codes == DEFAULT_CATALOGUE.codes  # replaced in place, order kept


def test_a_site_adds_a_model_or_replaces_one_by_code() -> None:
    tricumed = PumpModel("tricumed_ip2000v", "Tricumed IP 2000 V", (20.0, 35.0, 50.0))
    site = DEFAULT_CATALOGUE.with_model(tricumed)
    assert site.codes == (*DEFAULT_CATALOGUE.codes, "tricumed_ip2000v")
    assert site.get("tricumed_ip2000v") == tricumed
    assert "tricumed_ip2000v" not in DEFAULT_CATALOGUE
    other = PumpModel("other", "Other pump", alarm_volume_ml=1.5)
    assert DEFAULT_CATALOGUE.with_model(other).get("other").alarm_volume_ml == 1.5


@pytest.mark.parametrize(("code", "expected"), [
    ("prometra_ii", "prometra_ii"), (None, "other"), ("not_a_pump", "other"),
])
def test_model_for_falls_back_to_other(code: str | None, expected: str) -> None:
    assert DEFAULT_CATALOGUE.model_for(code).code == expected


def test_unknown_code_is_a_key_error_for_get() -> None:
    with pytest.raises(KeyError):
        DEFAULT_CATALOGUE.get("not_a_pump")


@pytest.mark.parametrize("changes", [
    {"alarm_volume_ml": -1.0}, {"reservoir_volumes_ml": (0.0,)}, {"service_life_years": 0},
])
def test_impossible_model_figures_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DEFAULT_CATALOGUE.replace("other", **changes)


def test_duplicate_codes_are_refused() -> None:
    with pytest.raises(ValueError):
        PumpCatalogue((PumpModel("a", "A"), PumpModel("a", "A again")))


@pytest.mark.parametrize(("start", "years", "expected"), [
    (date(2017, 5, 10), 7, date(2024, 5, 10)),
    (date(2016, 2, 29), 7, date(2023, 2, 28)),  # leap day → 28 February in a common year
    (date(2016, 2, 29), 8, date(2024, 2, 29)),  # … and stays 29 February in a leap year
    (date(2016, 2, 29), 10, date(2026, 2, 28)),
])
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2024, 8, 31), -6, date(2024, 2, 29)),  # clamped to the end of a leap February
    (date(2023, 8, 31), -6, date(2023, 2, 28)),
    (date(2024, 5, 10), -6, date(2023, 11, 10)),  # across a year boundary
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2024, 3, 31), -1, date(2024, 2, 29)),
    (date(2024, 12, 15), 1, date(2025, 1, 15)),
])
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(("implanted", "code", "window_opens", "due"), [
    (date(2017, 5, 10), "synchromed_ii", date(2023, 11, 10), date(2024, 5, 10)),
    (date(2017, 8, 31), "synchromed_ii", date(2024, 2, 29), date(2024, 8, 31)),
    (date(2016, 2, 29), "synchromed_ii", date(2022, 8, 28), date(2023, 2, 28)),
    (date(2016, 2, 29), "prometra_ii", date(2025, 8, 28), date(2026, 2, 28)),
])
def test_replacement_schedule(implanted: date, code: str, window_opens: date, due: date) -> None:
    schedule = replacement_schedule(implanted, DEFAULT_CATALOGUE.get(code))
    assert schedule is not None
    assert (schedule.implant_date, schedule.window_opens, schedule.due_date) == (
        implanted, window_opens, due)


@pytest.mark.parametrize("code", ["constant_flow", "other"])
def test_no_service_life_means_no_replacement_due(code: str) -> None:
    assert replacement_schedule(date(2010, 1, 1), DEFAULT_CATALOGUE.get(code)) is None
    assert replacement_status(None, date(2040, 1, 1)) == NOT_DUE


@pytest.mark.parametrize(("on", "status"), [
    (date(2023, 11, 9), NOT_DUE),
    (date(2023, 11, 10), IN_REPLACEMENT_WINDOW),  # the window opens on its first day
    (date(2024, 5, 9), IN_REPLACEMENT_WINDOW),
    (date(2024, 5, 10), PAST_SERVICE_LIFE),  # the service life is reached on the due date
    (date(2026, 1, 1), PAST_SERVICE_LIFE),
])
def test_replacement_status(on: date, status: str) -> None:
    schedule = replacement_schedule(date(2017, 5, 10), DEFAULT_CATALOGUE.get("synchromed_ii"))
    assert replacement_status(schedule, on) == status


def test_a_shorter_window_can_be_chosen() -> None:
    schedule = replacement_schedule(date(2017, 5, 10), DEFAULT_CATALOGUE.get("synchromed_ii"), 3)
    assert schedule is not None and schedule.window_opens == date(2024, 2, 10)


IMPLANTATIONS = (
    Implantation(date(2012, 3, 1), "initial", "constant_flow"),
    Implantation(date(2015, 6, 1), "replacement", "synchromed_ii"),
    Implantation(date(2019, 1, 15), "revision"),  # a catheter revision: the pump stays
)


@pytest.mark.parametrize(("on", "expected"), [
    (date(2012, 2, 29), None),
    (date(2012, 3, 1), IMPLANTATIONS[0]),
    (date(2015, 5, 31), IMPLANTATIONS[0]),
    (date(2015, 6, 1), IMPLANTATIONS[1]),
    (date(2020, 1, 1), IMPLANTATIONS[1]),  # a revision places no pump
])
def test_current_pump(on: date, expected: Implantation | None) -> None:
    assert current_pump(reversed(IMPLANTATIONS), on) == expected


def test_pump_replacement_counts_from_the_latest_pump_not_the_revision() -> None:
    schedule = pump_replacement(IMPLANTATIONS, date(2022, 1, 1))
    assert schedule is not None
    assert (schedule.window_opens, schedule.due_date) == (date(2021, 12, 1), date(2022, 6, 1))
    assert schedule.status(date(2022, 1, 1)) == IN_REPLACEMENT_WINDOW
    # Before the SynchroMed II, the constant-flow pump had no battery to run out.
    assert pump_replacement(IMPLANTATIONS, date(2015, 1, 1)) is None
    assert pump_replacement((), date(2015, 1, 1)) is None


def test_a_pump_without_a_recorded_model_is_the_other_model() -> None:
    assert pump_replacement([Implantation(date(2015, 6, 1), "initial")], date(2030, 1, 1)) is None
    site = DEFAULT_CATALOGUE.replace("other", service_life_years=7)
    schedule = pump_replacement([Implantation(date(2015, 6, 1), "initial")], date(2022, 1, 1),
                                site)
    assert schedule is not None and schedule.due_date == date(2022, 6, 1)


def test_end_of_service_is_90_days_after_the_elective_replacement_alarm() -> None:
    # 2024: 31 days to 1 February, + 29 to 1 March, + 30 to 31 March = 90.
    assert end_of_service(DEFAULT_CATALOGUE.get("synchromed_ii"), date(2024, 1, 1)) == date(
        2024, 3, 31)
    assert end_of_service(DEFAULT_CATALOGUE.get("prometra_ii"), date(2024, 1, 1)) is None
