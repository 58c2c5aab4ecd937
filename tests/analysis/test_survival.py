"""Time-to-event estimators (lifelines' fitted to day counts as case weights): by hand on a
tiny registry (ties, censoring, a death, a complication on the day of surgery), and against
independent implementations: scipy.stats (ecdf, logrank, chi2), statsmodels' numbers kept as
a fixture (tests/fixtures/survival_statsmodels.json, written by scripts/survival_fixture.py),
and lifelines itself fitted to one row per patient and, on untied times, its Aalen–Johansen
fitter."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from itb.analysis.study import patient_cohort
from itb.analysis.survival import (
    COMPETING,
    EVENT,
    DayTable,
    TimeToEvent,
    cumulative_incidence,
    kaplan_meier,
    logrank,
    poisson_interval,
    pump_periods,
    time_to_event,
)
from itb.registry_io.loader import Registry

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "survival_statsmodels.json"
CUTOFF = date(2024, 1, 1)
DAY = date.fromisoformat
Z = 1.959963984540054


def tiny_registry() -> Registry:
    """Six patients, all first implanted on 2020-01-01 (cut-off 2024-01-01, day 1461):

    A  low   complication on the day of surgery (day 0); pump replaced 2022-01-01;
             another complication 2022-03-01 (59 days after the replacement)
    B  low   died 2020-07-01 (day 182), no complication: the competing event
    C  high  complications 2021-01-01 (day 366) and 2022-06-01; a revision 2021-06-01
    D  high  no complication, followed to the cut-off (day 1461)
    E  low   complication 2021-01-01 (day 366): tied with C
    F  high  pump explanted 2021-01-01 (day 366): censored on the day of two events
    """
    patients = pl.DataFrame({
        "patient_id": list("ABCDEF"),
        "birth_date": [DAY("2000-01-01")] * 6,
        "functional_level": ["low", "low", "high", "high", "low", "high"],
        "therapy_end_date": [None, DAY("2020-07-01"), None, None, None, DAY("2021-01-01")],
        "therapy_end_reason": [None, "death", None, None, None, "explanted"],
    }, schema_overrides={"therapy_end_date": pl.Date, "therapy_end_reason": pl.String})
    start = DAY("2020-01-01")
    implantations = pl.DataFrame({
        "patient_id": [*"ABCDEF", "A", "C"],
        "implant_date": [start] * 6 + [DAY("2022-01-01"), DAY("2021-06-01")],
        "site": ["TLN", "TLN", "TRT", "TRT", "TLN", "TRT", "TLN", "TRT"],
        "kind": ["initial"] * 6 + ["replacement", "revision"],
        "catheter_type": ["ascenda", "ascenda", "silicone", "silicone", "ascenda", None,
                          "ascenda", "silicone"],
        "catheter_tip_level": [None] * 8,
    }, schema_overrides={"catheter_tip_level": pl.String, "catheter_type": pl.String})
    complications = pl.DataFrame({
        "patient_id": ["A", "A", "C", "C", "E"],
        "complication_date": [start, DAY("2022-03-01"), DAY("2021-01-01"), DAY("2022-06-01"),
                              DAY("2021-01-01")],
        "type": ["csf_leak", "infection", "catheter_kink", "catheter_break", "infection"],
    })
    empty = pl.DataFrame()
    return Registry(patients, implantations, complications, empty, empty, cutoff=CUTOFF)


@pytest.fixture(scope="module")
def tiny() -> TimeToEvent:
    registry = tiny_registry()
    return time_to_event(registry, patient_cohort(registry))


def loglog(s: float, greenwood: float) -> tuple[float, float]:
    """The log-log 95% interval written out: S^exp(±z·√V / log S)."""
    se = math.sqrt(greenwood) / abs(math.log(s))
    return s ** math.exp(Z * se), s ** math.exp(-Z * se)


# --- by hand ---------------------------------------------------------------------------------


def test_kaplan_meier_by_hand(tiny: TimeToEvent) -> None:
    # Day 0: 6 at risk, A's complication -> 5/6. Day 182: B's death is censored for KM.
    # Day 366: C, D, E, F at risk (F censored that day still counts), C and E -> 5/6 · 2/4.
    overall = tiny.survival.overall
    assert (overall.n, overall.events) == (6, 3)
    assert overall.years == [1, 3, 5]
    assert overall.estimate[0] == pytest.approx(5 / 6)
    assert overall.estimate[1] == pytest.approx(5 / 12)
    assert overall.estimate[2] is None  # no one followed 5 years
    # At risk at t: time >= t. Day 366 > 365.25, so all four are at risk at 1 year.
    assert overall.at_risk == [4, 1, 0]
    low, high = loglog(5 / 6, 1 / (6 * 5))
    assert overall.ci95[0] == [pytest.approx(low), pytest.approx(high)]
    low, high = loglog(5 / 12, 1 / (6 * 5) + 2 / (4 * 2))
    assert overall.ci95[1] == [pytest.approx(low), pytest.approx(high)]
    assert overall.ci95[2] == [None, None]


def test_groups_by_functional_level_catheter_and_site(tiny: TimeToEvent) -> None:
    survival = tiny.survival
    low = survival.by_functional_level["low"]  # A day 0 event, B censored 182, E event 366
    assert (low.n, low.events) == (3, 2)
    assert low.estimate[0] == pytest.approx(2 / 3)
    assert low.at_risk == [1, 0, 0] and low.estimate[1] is None
    high = survival.by_functional_level["high"]  # C event 366 of C, D, F at risk
    assert high.estimate[0] == 1.0 and high.ci95[0] == [None, None]  # S = 1: no interval
    assert high.estimate[1] == pytest.approx(2 / 3)
    assert list(survival.by_catheter_type) == ["ascenda", "silicone", "unknown"]
    assert survival.by_catheter_type["unknown"].n == 1  # F
    assert set(survival.by_site) == {"TLN", "TRT"}
    # The comparison leaves the unknown catheter out and warns: the groups are tiny.
    assert survival.comparisons["catheter_type"].groups == ["ascenda", "silicone"]
    assert all(test.too_small for test in survival.comparisons.values())


def test_competing_risk_by_hand(tiny: TimeToEvent) -> None:
    # Overall KM of either event: day 0 5/6, day 182 (B's death, 5 at risk) 4/6, day 366.
    # CIF of a complication: 1/6 on day 0; + S(day 182) · 2/4 = 4/6 · 1/2 on day 366.
    risk = tiny.survival.competing_risk
    assert (risk.n, risk.complications, risk.deaths) == (6, 3, 1)
    assert risk.cumulative_incidence[0] == pytest.approx(1 / 6)
    assert risk.cumulative_incidence[1] == pytest.approx(1 / 6 + 1 / 3)
    assert risk.one_minus_km[1] == pytest.approx(7 / 12)
    # 1 − KM counts B as if still at risk: it is larger once a death came first.
    assert risk.one_minus_km[1] > risk.cumulative_incidence[1]
    assert risk.cumulative_incidence[2] is None and risk.one_minus_km[2] is None


def test_incidence_counts_every_complication_per_pump_year(tiny: TimeToEvent) -> None:
    days = 1461 * 4 + 182 + 366  # A, C, D, E to the cut-off; B to death; F to explant
    pump_years = days / 365.25
    overall = tiny.incidence.overall
    assert overall.events == 5
    assert overall.pump_years == pytest.approx(pump_years)
    assert overall.per_100_pump_years == pytest.approx(500 / pump_years)
    from scipy.stats import chi2

    assert overall.ci95 == [pytest.approx(100 * chi2.ppf(0.025, 10) / 2 / pump_years),
                            pytest.approx(100 * chi2.ppf(0.975, 12) / 2 / pump_years)]
    assert tiny.incidence.by_type["infection"].events == 2
    assert list(tiny.incidence.by_type) == ["csf_leak", "catheter_break", "catheter_kink",
                                            "infection"]  # code-list order
    assert tiny.incidence.by_group["catheter"].events == 2
    low = tiny.incidence.by_functional_level["low"]  # A 2 + E 1 over A, B, E's time
    assert low.events == 3
    assert low.pump_years == pytest.approx((1461 * 2 + 182) / 365.25)


def test_early_complications_and_their_own_exposure(tiny: TimeToEvent) -> None:
    # Early: A's on the day of surgery and A's 59 days after the replacement. C's 2022-06-01
    # is 365 days after its revision: late. Every surgery opens a 90-day window (8 of them;
    # B's and F's follow-up is longer than 90 days).
    early, late = tiny.incidence.early, tiny.incidence.late
    assert (early.events, late.events) == (2, 3)
    assert early.pump_years == pytest.approx(8 * 90 / 365.25)
    assert early.pump_years + late.pump_years == pytest.approx(tiny.incidence.overall.pump_years)


def test_a_short_window_counts_only_its_days() -> None:
    registry = tiny_registry()
    # B dies 30 days after surgery: its early window holds only 30 days.
    patients = registry.patients.with_columns(
        pl.when(pl.col("patient_id") == "B").then(pl.lit(DAY("2020-01-31")))
        .otherwise(pl.col("therapy_end_date")).alias("therapy_end_date"))
    registry = Registry(patients, registry.implantations, registry.complications,
                        registry.assessments, registry.refills, cutoff=CUTOFF)
    result = time_to_event(registry, patient_cohort(registry))
    assert result.incidence.early.pump_years == pytest.approx((7 * 90 + 30) / 365.25)


def test_pump_periods_and_device_survival(tiny: TimeToEvent) -> None:
    periods = pump_periods(tiny_registry()).sort("patient_id", "start")
    rows = {(r["patient_id"], r["start"]): r for r in periods.iter_rows(named=True)}
    assert len(rows) == 7  # six initial pumps and A's replacement; C's revision is no pump
    first_a = rows[("A", DAY("2020-01-01"))]
    assert (first_a["end_reason"], first_a["days"], first_a["complication"]) == (
        "replacement", 731, True)
    assert rows[("A", DAY("2022-01-01"))]["end_reason"] == "in_place"
    assert rows[("B", DAY("2020-01-01"))]["end_reason"] == "death"
    assert rows[("F", DAY("2020-01-01"))]["end_reason"] == "explanted"
    assert not rows[("D", DAY("2020-01-01"))]["complication"]
    devices = tiny.devices
    # Pump events: F explanted day 366 (6 of 7 pumps at risk), A's replaced day 731 (4 at
    # risk: A's first, C, D, E; A's second ended on day 730).
    assert devices.pumps.years == [1, 3, 5, 7]
    assert devices.pumps.estimate[:2] == [1.0, pytest.approx(5 / 6 * 3 / 4)]
    assert devices.pumps.at_risk[:2] == [6, 3]
    assert devices.end_reasons["in_place"].pumps == 4
    assert devices.end_reasons["replacement"].median_years == pytest.approx(731 / 365.25)
    # Revision-free: C's revision on day 517, with A, C, D, E still followed.
    revision = devices.catheter_revision_free
    assert revision.events == 1
    assert revision.estimate[:2] == [1.0, pytest.approx(3 / 4)]


def test_a_complication_on_the_replacement_day_belongs_to_the_new_pump() -> None:
    registry = tiny_registry()
    complications = pl.concat([registry.complications, pl.DataFrame({
        "patient_id": ["D"], "complication_date": [DAY("2022-01-01")], "type": ["seroma"]})])
    implantations = pl.concat([registry.implantations, pl.DataFrame({
        "patient_id": ["D"], "implant_date": [DAY("2022-01-01")], "site": ["TRT"],
        "kind": ["replacement"], "catheter_type": ["silicone"], "catheter_tip_level": [None]},
        schema_overrides={"catheter_tip_level": pl.String})])
    registry = Registry(registry.patients, implantations, complications, registry.assessments,
                        registry.refills, cutoff=CUTOFF)
    periods = {r["start"]: r["complication"] for r in
               pump_periods(registry).filter(pl.col("patient_id") == "D").iter_rows(named=True)}
    assert periods == {DAY("2020-01-01"): False, DAY("2022-01-01"): True}


def test_the_report_json_shape(tiny: TimeToEvent) -> None:
    survival = tiny.survival.to_dict()
    for group in ("overall", "low", "high"):
        assert set(survival[group]) == {"n", "events", "years", "estimate", "ci95", "at_risk"}
        assert len(survival[group]["ci95"]) == 3
    incidence = tiny.incidence.to_dict()
    assert set(incidence["overall"]) == {"events", "pump_years", "per_100_pump_years", "ci95"}
    assert all(set(v) == set(incidence["overall"]) for v in incidence["by_type"].values())
    json.dumps({"s": survival, "i": incidence, "d": tiny.devices.to_dict()})  # plain JSON


# --- against independent implementations ------------------------------------------------------


@pytest.fixture(scope="module")
def fixture() -> dict:  # type: ignore[type-arg]
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_kaplan_meier_against_statsmodels(fixture: dict) -> None:  # type: ignore[type-arg]
    table = DayTable.from_times(fixture["days"], fixture["status"])
    km = kaplan_meier(table)
    for day, s, se, at_risk in zip(fixture["query_days"], fixture["survival"],
                                   fixture["survival_se"], fixture["at_risk"], strict=True):
        estimate, low, high = km.at(day / 365.25)
        assert estimate == pytest.approx(s, abs=1e-12)
        assert table.at_risk_at(day / 365.25) == at_risk
        # statsmodels gives Greenwood's SE of S; the log-log interval from it (delta method):
        theta_se = se / (s * abs(math.log(s)))
        assert low == pytest.approx(s ** math.exp(Z * theta_se), rel=1e-9)
        assert high == pytest.approx(s ** math.exp(-Z * theta_se), rel=1e-9)


def test_cumulative_incidence_against_statsmodels(fixture: dict) -> None:  # type: ignore[type-arg]
    table = DayTable.from_times(fixture["days"], fixture["status"])
    cif = cumulative_incidence(table)
    for day, expected in zip(fixture["query_days"], fixture["cumulative_incidence"],
                             strict=True):
        index = int(np.searchsorted(table.days, day, side="right")) - 1
        assert (0.0 if index < 0 else cif[index]) == pytest.approx(expected, abs=1e-12)


def test_logrank_against_statsmodels(fixture: dict) -> None:  # type: ignore[type-arg]
    days, status = np.array(fixture["days"]), np.array(fixture["status"])
    groups = np.array(fixture["groups"])
    event = (status == EVENT).astype(int)
    test = logrank({g: DayTable.from_times(days[groups == g], event[groups == g])
                    for g in ("a", "b", "c")})
    assert test.df == 2
    assert test.chi2 == pytest.approx(fixture["logrank"]["chi2"], rel=1e-9)
    assert test.p_value == pytest.approx(fixture["logrank"]["p_value"], rel=1e-9)


def test_kaplan_meier_against_scipy_and_lifelines(fixture: dict) -> None:  # type: ignore[type-arg]
    from lifelines import KaplanMeierFitter
    from scipy.stats import CensoredData, ecdf

    days = np.array(fixture["days"], dtype=float)
    event = np.array(fixture["status"]) == EVENT
    km = kaplan_meier(DayTable.from_times(days, event.astype(int)))
    sf = ecdf(CensoredData(uncensored=days[event], right=days[~event])).sf
    ci = sf.confidence_interval(0.95, method="log-log")
    fitter = KaplanMeierFitter().fit(days, event)
    ll = fitter.confidence_interval_survival_function_.to_numpy()
    timeline = fitter.survival_function_.index.to_numpy()
    for index, day in enumerate(km.days):
        if not km.table.events[index]:
            continue
        assert km.survival[index] == pytest.approx(sf.evaluate(day), abs=1e-12)
        assert km.lower[index] == pytest.approx(ci.low.evaluate(day), rel=1e-9)
        assert km.upper[index] == pytest.approx(ci.high.evaluate(day), rel=1e-9)
        row = int(np.searchsorted(timeline, day))
        assert (km.lower[index], km.upper[index]) == (
            pytest.approx(ll[row, 0], rel=1e-9), pytest.approx(ll[row, 1], rel=1e-9))


def test_two_sample_logrank_against_scipy_and_lifelines() -> None:
    from lifelines.statistics import multivariate_logrank_test
    from scipy.stats import CensoredData
    from scipy.stats import logrank as scipy_logrank

    rng = np.random.default_rng(5)
    days = np.floor(rng.exponential(700, 120) / 7) * 7  # weeks: ties
    event = rng.random(120) < 0.6
    group = np.where(rng.random(120) < 0.4, "x", "y")
    ours = logrank({g: DayTable.from_times(days[group == g], event[group == g].astype(int))
                    for g in ("x", "y")})

    def sample(g: str) -> CensoredData:
        chosen = group == g
        return CensoredData(uncensored=days[chosen & event], right=days[chosen & ~event])

    theirs = scipy_logrank(sample("x"), sample("y"))
    assert ours.chi2 == pytest.approx(theirs.statistic ** 2, rel=1e-9)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    three = np.where(days > 300, group, "z")
    ours3 = logrank({g: DayTable.from_times(days[three == g], event[three == g].astype(int))
                     for g in ("x", "y", "z")})
    lifelines = multivariate_logrank_test(days, three, event)
    assert ours3.chi2 == pytest.approx(lifelines.test_statistic, rel=1e-9)
    assert ours3.p_value == pytest.approx(lifelines.p_value, rel=1e-9)


def test_aalen_johansen_against_lifelines_without_ties() -> None:
    from lifelines import AalenJohansenFitter

    # lifelines breaks tied times by jittering; with distinct times it needs none.
    rng = np.random.default_rng(7)
    days = rng.permutation(np.arange(1, 61) * 11)
    status = rng.choice([0, EVENT, COMPETING], 60, p=[0.4, 0.4, 0.2])
    cif = cumulative_incidence(DayTable.from_times(days, status))
    fitter = AalenJohansenFitter(calculate_variance=False).fit(days, status,
                                                               event_of_interest=EVENT)
    theirs = fitter.cumulative_density_.iloc[:, 0]
    order = np.sort(days)
    assert cif == pytest.approx(theirs.reindex(order).to_numpy(), abs=1e-12)


@pytest.mark.parametrize("events", [0, 1, 7, 250])
def test_poisson_interval_is_the_chi_square_one(events: int) -> None:
    from scipy.stats import chi2

    low, high = poisson_interval(events, 12.5)  # type: ignore[misc]
    expected_low = 0.0 if events == 0 else chi2.ppf(0.025, 2 * events) / 2 / 12.5
    assert low == pytest.approx(expected_low, rel=1e-10, abs=1e-15)
    assert high == pytest.approx(chi2.ppf(0.975, 2 * events + 2) / 2 / 12.5, rel=1e-10)
    assert poisson_interval(events, 0.0) is None


def test_no_complications_at_all() -> None:
    registry = tiny_registry()
    registry = Registry(registry.patients, registry.implantations,
                        registry.complications.clear(), registry.assessments,
                        registry.refills, cutoff=CUTOFF)
    result = time_to_event(registry, patient_cohort(registry))
    assert result.survival.overall.estimate[:2] == [1.0, 1.0]
    assert result.survival.comparisons["functional_level"].p_value is None
    assert result.incidence.overall.events == 0
    assert result.incidence.overall.ci95 is not None and result.incidence.overall.ci95[0] == 0.0
    assert result.incidence.by_type == {}


def test_the_definitions_document_the_constants() -> None:
    from itb.analysis import survival

    definitions = (Path(__file__).resolve().parents[2] / "docs" / "definitions.md").read_text(
        encoding="utf-8")
    section = definitions.split("## Time to event", 1)[1].split("\n## ", 1)[0]
    assert f"at most {survival.EARLY_DAYS} days after the latest surgery" in section
    assert f"fewer than {survival.MIN_GROUP_PATIENTS} patients" in section
    assert f"fewer than {survival.MIN_EVENTS} first complications" in section
    assert "**log-log**" in section and "365.25 days" in section
    assert ", ".join(str(y) for y in survival.DEVICE_YEARS[:-1]) + " and 7 years" in section


def test_the_results_do_not_depend_on_row_order(tiny: TimeToEvent) -> None:
    registry = tiny_registry()
    shuffled = Registry(registry.patients.reverse(), registry.implantations.reverse(),
                        registry.complications.reverse(), registry.assessments,
                        registry.refills, cutoff=CUTOFF)
    again = time_to_event(shuffled, patient_cohort(shuffled))
    assert again.survival.to_dict() == tiny.survival.to_dict()
    assert again.incidence == tiny.incidence
    assert again.devices.to_dict() == tiny.devices.to_dict()
