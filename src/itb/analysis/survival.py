"""Time-to-event analysis: complication-free survival, competing risk, incidence rates, devices.

Definitions (docs/definitions.md, "Time to event"): time runs in days from the first
(initial) implantation and is reported in years of 365.25 days; follow-up ends at
``therapy_end_date`` or the data cut-off. The number at risk at t counts patients whose time
is >= t (R's ``summary(survfit, times = t)``). Kaplan–Meier 95% intervals are log-log
(R's ``conf.type = "log-log"``, lifelines' exponential Greenwood): they stay inside [0, 1].

The estimators are lifelines' (Kaplan–Meier with its exponential-Greenwood interval, the
k-sample log-rank test), fitted to the follow-up aggregated by day (``DayTable``: a few
thousand rows even for 10^6 patients) with the counts as case weights, which gives the
numbers of one row per patient. The Aalen–Johansen cumulative incidence is written from
lifelines' Kaplan–Meier of either event, as lifelines' own ``AalenJohansenFitter`` computes
it, because that fitter breaks tied times by random jitter, and day-resolution data is
full of ties. lifelines is imported when an estimate is made (it takes about a second), not
with this module. The tests check the estimators by hand, against scipy.stats (ecdf,
logrank, chi2) and against statsmodels' numbers kept as a fixture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from itb.analysis.index import PatientIndex, day_key
from itb.domain import codes
from itb.domain.dates import DAYS_PER_YEAR
from itb.registry_io.loader import Registry

YEARS = (1, 3, 5)
DEVICE_YEARS = (1, 3, 5, 7)  # 7: the article's 6–7-year battery life of a pump
EARLY_DAYS = 90
# Below these, a log-rank p-value means little: chi-square approximation, next to no power.
MIN_GROUP_PATIENTS = 10
MIN_EVENTS = 10
UNKNOWN = "unknown"

# Status of one patient's follow-up in the competing-risk analysis.
CENSORED, EVENT, COMPETING = 0, 1, 2


# --- estimators on a day-aggregated table -----------------------------------------------------


@dataclass(frozen=True)
class DayTable:
    """Follow-up aggregated by day: distinct ``days`` (sorted) with how many patients' times
    end there (``n``), how many of them with the event (``events``) and with the competing
    event (``competing``)."""

    days: np.ndarray
    n: np.ndarray
    events: np.ndarray
    competing: np.ndarray

    @classmethod
    def from_times(cls, days: Any, status: Any) -> DayTable:
        """From one time (days) and status (0 censored, 1 event, 2 competing) per patient."""
        days = np.asarray(days, dtype=np.int64)
        status = np.asarray(status, dtype=np.int64)
        if days.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, empty)
        # Counting per day (times span a few thousand days) instead of sorting: O(n).
        low = int(days.min())
        offset = days - low
        n = np.bincount(offset)
        present = np.flatnonzero(n)
        return cls(present + low, n[present],
                   np.bincount(offset[status == EVENT], minlength=n.size)[present],
                   np.bincount(offset[status == COMPETING], minlength=n.size)[present])

    @property
    def total(self) -> int:
        return int(self.n.sum())

    @property
    def at_risk(self) -> np.ndarray:
        """Patients whose time is >= each day (censored on that day are still at risk)."""
        return self.total - np.concatenate(([0], np.cumsum(self.n)[:-1]))

    def at_risk_at(self, years: float) -> int:
        return int(self.n[self.days >= years * DAYS_PER_YEAR].sum())


@dataclass(frozen=True)
class KaplanMeier:
    """The Kaplan–Meier estimate after each day of a ``DayTable`` with its log-log 95% CI."""

    days: np.ndarray
    survival: np.ndarray
    lower: np.ndarray  # NaN where the log-log interval is undefined (S = 1 or S = 0)
    upper: np.ndarray
    table: DayTable

    def at(self, years: float) -> tuple[float | None, float | None, float | None]:
        """S(t) and its CI at t years (events on day t included); None where no one is at
        risk any more (the estimate is undefined beyond the longest follow-up)."""
        if self.table.at_risk_at(years) == 0:
            return None, None, None
        index = int(np.searchsorted(self.days, years * DAYS_PER_YEAR, side="right")) - 1
        if index < 0:
            return 1.0, None, None
        return (float(self.survival[index]), _finite(self.lower[index]),
                _finite(self.upper[index]))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _case_weights(table: DayTable, events: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A DayTable as lifelines' weighted input: per day, a row of its events and one of the
    rest (censored, or the competing event where it is not counted), weighted by count."""
    durations = np.concatenate((table.days, table.days))
    observed = np.concatenate((np.ones(table.days.size, dtype=bool),
                               np.zeros(table.days.size, dtype=bool)))
    weights = np.concatenate((events, table.n - events))
    keep = weights > 0
    return durations[keep], observed[keep], weights[keep]


def kaplan_meier(table: DayTable, competing_is_event: bool = False) -> KaplanMeier:
    from lifelines import KaplanMeierFitter

    events = table.events + (table.competing if competing_is_event else 0)
    if table.days.size == 0:
        empty = np.zeros(0)
        return KaplanMeier(table.days, empty, empty, empty, table)
    durations, observed, weights = _case_weights(table, events)
    fitter = KaplanMeierFitter().fit(durations, observed, weights=weights)
    survival = fitter.survival_function_.iloc[:, 0].reindex(table.days).to_numpy(dtype=float)
    bounds = fitter.confidence_interval_survival_function_.reindex(table.days) \
        .to_numpy(dtype=float)
    lower, upper = bounds[:, 0].copy(), bounds[:, 1].copy()
    # The log-log interval is undefined where S is 1 (no event yet) or 0.
    undefined = (survival >= 1.0) | (survival <= 0.0)
    lower[undefined] = np.nan
    upper[undefined] = np.nan
    return KaplanMeier(table.days, survival, lower, upper, table)


def cumulative_incidence(table: DayTable) -> np.ndarray:
    """Aalen–Johansen cumulative incidence of the event with the competing event removing
    patients from risk: sum over days of S(t−) · d_event / n_at_risk, S the Kaplan–Meier
    of either event."""
    at_risk = table.at_risk
    overall = kaplan_meier(table, competing_is_event=True).survival
    before = np.concatenate(([1.0], overall[:-1]))
    return np.cumsum(before * table.events / at_risk)


def _step_at(days: np.ndarray, values: np.ndarray, years: float, start: float) -> float:
    index = int(np.searchsorted(days, years * DAYS_PER_YEAR, side="right")) - 1
    return start if index < 0 else float(values[index])


@dataclass(frozen=True)
class LogRank:
    groups: list[str]
    chi2: float | None
    df: int
    p_value: float | None
    too_small: bool  # some group has < MIN_GROUP_PATIENTS patients, or < MIN_EVENTS events


def logrank(tables: dict[str, DayTable]) -> LogRank:
    """The k-sample log-rank test (chi-square with k − 1 degrees of freedom), lifelines'."""
    groups = [g for g, t in tables.items() if t.total > 0]
    events_all = sum(int(tables[g].events.sum()) for g in groups)
    too_small = (any(tables[g].total < MIN_GROUP_PATIENTS for g in groups)
                 or events_all < MIN_EVENTS)
    if len(groups) < 2 or events_all == 0:
        return LogRank(groups, None, max(len(groups) - 1, 0), None, too_small)
    from lifelines.statistics import multivariate_logrank_test

    rows = [_case_weights(tables[g], tables[g].events) for g in groups]
    labels = np.concatenate([np.full(r[0].size, i) for i, r in enumerate(rows)])
    durations, observed, weights = (np.concatenate([r[k] for r in rows]) for k in range(3))
    test = multivariate_logrank_test(durations, labels, observed, weights=weights)
    return LogRank(groups, float(test.test_statistic), int(test.degrees_of_freedom),
                   float(test.p_value), too_small)


def poisson_interval(events: int, exposure: float) -> tuple[float, float] | None:
    """Exact (Garwood) 95% interval of a Poisson rate: chi2.ppf(0.025, 2k)/2 and
    chi2.ppf(0.975, 2k + 2)/2 over the exposure, written as the equal gamma quantiles."""
    from scipy.special import gammaincinv

    if exposure <= 0:
        return None
    low = 0.0 if events == 0 else float(gammaincinv(events, 0.025))
    return low / exposure, float(gammaincinv(events + 1, 0.975)) / exposure


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """Drawing data of one KM curve: a step after each day (years)."""

    years: list[float]
    estimate: list[float]
    lower: list[float | None]
    upper: list[float | None]
    risk_years: list[int]  # whole years 0 … the longest follow-up, for a risk table
    at_risk: list[int]


@dataclass(frozen=True)
class SurvivalEstimate:
    n: int
    events: int
    years: list[int]
    estimate: list[float | None]
    ci95: list[list[float | None]]
    at_risk: list[int]
    curve: Curve | None = None  # for the figure; not in report.json

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "events": self.events, "years": self.years,
                "estimate": self.estimate, "ci95": self.ci95, "at_risk": self.at_risk}


@dataclass(frozen=True)
class CompetingRisk:
    """Complications with death as a competing event, beside 1 − KM."""

    n: int
    complications: int
    deaths: int  # deaths before any complication
    years: list[int]
    cumulative_incidence: list[float | None]
    one_minus_km: list[float | None]


@dataclass(frozen=True)
class Rate:
    events: int
    pump_years: float
    per_100_pump_years: float | None
    ci95: list[float] | None


@dataclass(frozen=True)
class Incidence:
    overall: Rate
    by_type: dict[str, Rate]
    by_group: dict[str, Rate]  # complication group (catheter, pump, …)
    by_functional_level: dict[str, Rate]
    early: Rate  # within EARLY_DAYS after a surgery; exposure the same windows
    late: Rate

    def to_dict(self) -> dict[str, Any]:
        def rate(r: Rate) -> dict[str, Any]:
            return {"events": r.events, "pump_years": r.pump_years,
                    "per_100_pump_years": r.per_100_pump_years, "ci95": r.ci95}

        return {"overall": rate(self.overall),
                "by_type": {k: rate(v) for k, v in self.by_type.items()},
                "by_group": {k: rate(v) for k, v in self.by_group.items()},
                "by_functional_level": {k: rate(v) for k, v in self.by_functional_level.items()},
                "early": rate(self.early), "late": rate(self.late),
                "early_days": EARLY_DAYS}


@dataclass(frozen=True)
class PumpEnd:
    pumps: int
    median_years: float | None
    after_complication: int  # pumps with a complication recorded during their life


@dataclass(frozen=True)
class Devices:
    pumps: SurvivalEstimate  # time to replacement or explant
    end_reasons: dict[str, PumpEnd]
    catheter_revision_free: SurvivalEstimate

    def to_dict(self) -> dict[str, Any]:
        return {"pumps": self.pumps.to_dict(),
                "end_reasons": {k: vars(v) for k, v in self.end_reasons.items()},
                "catheter_revision_free": self.catheter_revision_free.to_dict()}


@dataclass(frozen=True)
class Survival:
    """Complication-free survival: overall, by functional level, catheter type, site."""

    overall: SurvivalEstimate
    by_functional_level: dict[str, SurvivalEstimate]
    by_catheter_type: dict[str, SurvivalEstimate]
    by_site: dict[str, SurvivalEstimate]
    comparisons: dict[str, LogRank]
    competing_risk: CompetingRisk
    method: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"overall": self.overall.to_dict()}
        data.update({g: e.to_dict() for g, e in self.by_functional_level.items()})
        data["by_catheter_type"] = {k: v.to_dict() for k, v in self.by_catheter_type.items()}
        data["by_site"] = {k: v.to_dict() for k, v in self.by_site.items()}
        data["comparisons"] = {k: vars(v) for k, v in self.comparisons.items()}
        data["competing_risk"] = vars(self.competing_risk)
        data["method"] = self.method
        return data


@dataclass(frozen=True)
class TimeToEvent:
    survival: Survival
    incidence: Incidence
    devices: Devices


METHOD = {
    "estimator": "Kaplan-Meier (lifelines)",
    "ci95": "log-log (Greenwood variance of log(-log S))",
    "time_origin": "first implantation",
    "event": "first complication",
    "censoring": "therapy end or data cut-off",
    "year_days": "365.25",
    "at_risk": "patients with time >= t",
    "competing_event": "death before any complication (Aalen-Johansen)",
    "logrank_warning": (f"a group with fewer than {MIN_GROUP_PATIENTS} patients, or fewer "
                        f"than {MIN_EVENTS} events in all"),
}


# --- from the registry -----------------------------------------------------------------------


def time_to_event(registry: Registry, cohort: pl.DataFrame,
                  index: PatientIndex | None = None) -> TimeToEvent:
    """Every time-to-event result; ``cohort`` is ``study.patient_cohort(registry)``, ``index``
    the analysis's shared ``PatientIndex``, if any."""
    events = _events(registry, cohort, index if index is not None else PatientIndex(registry))
    return TimeToEvent(_survival(events.follow), _incidence(events), _devices(events))


@dataclass(frozen=True)
class _Events:
    """The registry keyed by patient index (``pid``, the row of ``follow``): from the
    ``PatientIndex``, every step is integer arithmetic on sorted arrays (string keys cost
    seconds per join or sort at 10^6 patients). Days are days since 1970-01-01."""

    follow: pl.DataFrame  # one row per patient
    start: np.ndarray  # first implantation, per patient
    end: np.ndarray  # therapy end or cut-off, per patient
    surgery_pid: np.ndarray  # every implantation row, sorted by (pid, day)
    surgery_day: np.ndarray
    surgery_pump: np.ndarray  # kind initial or replacement
    surgery_revision: np.ndarray
    complication_pid: np.ndarray  # every complication, sorted by (pid, day)
    complication_day: np.ndarray
    complication_type: pl.Series


def _latest_on_or_before(pid: np.ndarray, day: np.ndarray, at_pid: np.ndarray,
                         at_day: np.ndarray) -> np.ndarray:
    """For each (at_pid, at_day), the index of the latest row of the same patient with
    day <= at_day in the sorted (pid, day) arrays, or -1."""
    index = np.searchsorted(day_key(pid, day), day_key(at_pid, at_day), side="right") - 1
    found = index >= 0
    found[found] = pid[index[found]] == at_pid[found]
    return np.where(found, index, -1)


def _events(registry: Registry, cohort: pl.DataFrame, index: PatientIndex) -> _Events:
    # The cohort's rows are the patients table's: those with an initial implantation, in id
    # order, are ``follow``; a table row's patient index is mapped to its row there.
    started = cohort.get_column("first_implant_date").is_not_null().to_numpy()[index.order]
    rows = index.order[started]
    follow = cohort.select(
        "patient_id", "first_implant_date", "functional_level", "catheter_type",
        "implant_site", "therapy_end_date", "therapy_end_reason",
        pl.coalesce(pl.col("therapy_end_date"), pl.lit(registry.cutoff)).alias("end_date"))
    if not (rows.size == cohort.height and bool(np.all(rows[1:] > rows[:-1]))):
        follow = follow[rows]  # not already all of them in id order, as registries usually are
    # Index i of the sorted ids (and the slot for UNKNOWN_PATIENT, -1) -> follow's row or -1.
    follow_row = np.full(started.size + 1, -1, dtype=np.int64)
    follow_row[np.flatnonzero(started)] = np.arange(rows.size)

    def keyed(table: str, date_column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows of ``table`` in ``follow``: their positions, patients (follow's row) and
        days, sorted by (patient, day); rows of unknown patients or without follow-up
        dropped."""
        frame = getattr(registry, table)
        pid = follow_row[index.rows(table)]
        day = frame.get_column(date_column).cast(pl.Int64).to_numpy()
        kept = np.flatnonzero(pid >= 0)
        key = day_key(pid[kept], day[kept])
        if not bool(np.all(key[1:] >= key[:-1])):
            kept = kept[np.argsort(key, kind="stable")]
        return kept, pid[kept], day[kept]

    c_rows, c_pid, c_day = keyed("complications", "complication_date")
    s_rows, s_pid, s_day = keyed("implantations", "implant_date")
    kind = registry.implantations.get_column("kind")
    start = follow.get_column("first_implant_date").cast(pl.Int64).to_numpy()
    end = follow.get_column("end_date").cast(pl.Int64).to_numpy()
    count = np.bincount(c_pid, minlength=follow.height)
    first = np.ones(c_pid.size, dtype=bool)
    first[1:] = c_pid[1:] != c_pid[:-1]
    first_day = np.zeros(follow.height, dtype=np.int64)
    first_day[c_pid[first]] = c_day[first]
    has = count > 0
    died = (follow.get_column("therapy_end_reason") == "death").fill_null(False).to_numpy()
    follow = follow.with_columns(
        pl.Series("days", np.where(has, first_day, end) - start),
        pl.Series("status", np.where(has, EVENT, np.where(died, COMPETING, CENSORED))),
        pl.Series("complications", count),
        pl.Series("exposure_days", end - start),
        pl.col("catheter_type").fill_null(UNKNOWN),
        pl.col("functional_level").fill_null(UNKNOWN),
    )
    return _Events(follow, start, end, s_pid, s_day,
                   kind.is_in(list(codes.PUMP_KINDS)).fill_null(False).to_numpy()[s_rows],
                   (kind == "revision").fill_null(False).to_numpy()[s_rows], c_pid, c_day,
                   registry.complications.get_column("type").gather(c_rows))


def _day_tables(frame: pl.DataFrame, by: str | None) -> dict[str, DayTable]:
    """DayTables per value of ``by`` (nulls already filled), or one: "overall"."""
    days = frame.get_column("days").to_numpy()
    status = frame.get_column("status").to_numpy()
    if by is None:
        return {"overall": DayTable.from_times(days, status)}
    column = frame.get_column(by).cast(pl.String).fill_null(UNKNOWN)
    # A mask per value: the groups are few, and counting beats a group-by on strings.
    return {str(value): DayTable.from_times(days[mask], status[mask])
            for value in column.unique().sort().to_list()
            if (mask := (column == value).to_numpy()).any()}


def estimate(table: DayTable, years: tuple[int, ...] = YEARS, curve: bool = True
             ) -> SurvivalEstimate:
    km = kaplan_meier(table)
    at = [km.at(t) for t in years]
    return SurvivalEstimate(
        n=table.total, events=int(table.events.sum()), years=list(years),
        estimate=[s for s, _, _ in at],
        ci95=[[low, high] for _, low, high in at],
        at_risk=[table.at_risk_at(t) for t in years],
        curve=_curve(km) if curve else None)


MAX_CURVE_POINTS = 400  # a step per day is invisible beyond this; keeps the SVG small


def _curve(km: KaplanMeier) -> Curve:
    days, survival, lower, upper = km.days, km.survival, km.lower, km.upper
    if days.size > MAX_CURVE_POINTS:
        # Evaluate the step function on a regular grid (plus the last day): the same picture.
        grid = np.unique(np.concatenate((np.linspace(0, days[-1], MAX_CURVE_POINTS),
                                         [days[-1]])))
        index = np.searchsorted(days, grid, side="right") - 1
        index = np.maximum(index, 0)
        days, survival, lower, upper = grid, survival[index], lower[index], upper[index]
    start = [0.0] if days.size == 0 or days[0] > 0 else []
    longest = int(km.table.days[-1] // DAYS_PER_YEAR) if km.table.days.size else 0
    risk_years = list(range(longest + 1))
    return Curve(
        years=start + (days / DAYS_PER_YEAR).tolist(),
        estimate=[1.0] * len(start) + survival.tolist(),
        lower=[None] * len(start) + [_finite(v) for v in lower],
        upper=[None] * len(start) + [_finite(v) for v in upper],
        risk_years=risk_years, at_risk=[km.table.at_risk_at(y) for y in risk_years])


def _ordered(tables: dict[str, DayTable], order: tuple[str, ...]) -> dict[str, DayTable]:
    known = [k for k in order if k in tables]
    others = sorted(k for k in tables if k not in order and k != UNKNOWN)
    return {k: tables[k] for k in [*known, *others, *([UNKNOWN] if UNKNOWN in tables else [])]}


def _survival(follow: pl.DataFrame) -> Survival:
    overall = _day_tables(follow, None).get("overall", DayTable.from_times([], []))
    by_level = _ordered(_day_tables(follow, "functional_level"), codes.FUNCTIONAL_LEVEL.codes)
    by_catheter = _ordered(_day_tables(follow, "catheter_type"), codes.CATHETER_TYPE.codes)
    by_site = _ordered(_day_tables(follow, "implant_site"), ())

    def known(tables: dict[str, DayTable]) -> dict[str, DayTable]:
        return {k: v for k, v in tables.items() if k != UNKNOWN}

    overall_estimate = estimate(overall)  # its S(t) at YEARS gives 1 − KM below
    incidence = cumulative_incidence(overall)
    return Survival(
        overall=overall_estimate,
        by_functional_level={g: estimate(by_level.get(g, DayTable.from_times([], [])))
                             for g in ("low", "high")},
        by_catheter_type={k: estimate(v, curve=False) for k, v in by_catheter.items()},
        by_site={k: estimate(v, curve=False) for k, v in by_site.items()},
        comparisons={"functional_level": logrank(known(by_level)),
                     "catheter_type": logrank(known(by_catheter)),
                     "site": logrank(by_site)},
        competing_risk=CompetingRisk(
            n=overall.total, complications=int(overall.events.sum()),
            deaths=int(overall.competing.sum()), years=list(YEARS),
            cumulative_incidence=[
                None if overall.at_risk_at(t) == 0
                else _step_at(overall.days, incidence, t, 0.0) for t in YEARS],
            one_minus_km=[None if s is None else 1.0 - s for s in overall_estimate.estimate]),
        method=dict(METHOD),
    )


def _rate(events: int, exposure_days: float) -> Rate:
    pump_years = exposure_days / DAYS_PER_YEAR
    interval = poisson_interval(events, pump_years)
    return Rate(events, pump_years,
                None if pump_years <= 0 else 100 * events / pump_years,
                None if interval is None else [100 * interval[0], 100 * interval[1]])


def _incidence(events: _Events) -> Incidence:
    """Every complication (not only the first) per 100 pump-years of usage time."""
    follow = events.follow
    total_days = float(follow.get_column("exposure_days").sum())
    count = int(events.complication_pid.size)
    by_type = {str(k): int(v) for k, v in events.complication_type.value_counts().iter_rows()}
    by_group: dict[str, int] = {}
    for code, n in by_type.items():
        group = codes.complication_group(code)
        by_group[group] = by_group.get(group, 0) + n
    # A mask per level (integer sums: any order gives the same), not a group-by on the text.
    level = follow.get_column("functional_level")
    complications = follow.get_column("complications").to_numpy()
    exposure = follow.get_column("exposure_days").to_numpy()
    by_level = {}
    for group in ("low", "high"):
        chosen = (level == group).to_numpy()
        by_level[group] = (int(complications[chosen].sum()), float(exposure[chosen].sum()))
    early_events, early_days = _early(events)
    return Incidence(
        overall=_rate(count, total_days),
        by_type={k: _rate(by_type[k], total_days) for k in codes.COMPLICATION_TYPE.codes
                 if k in by_type},
        by_group={k: _rate(by_group[k], total_days) for k in codes.COMPLICATION_GROUP.codes
                  if k in by_group},
        by_functional_level={g: _rate(*by_level[g]) for g in ("low", "high")},
        early=_rate(early_events, early_days),
        late=_rate(count - early_events, total_days - early_days),
    )


def _early(events: _Events) -> tuple[int, float]:
    """Complications within EARLY_DAYS after a surgery (any kind), and the days of follow-up
    inside those windows (each surgery's window ends at the next surgery or follow-up end)."""
    pid, day = events.surgery_pid, events.surgery_day
    distinct = np.ones(pid.size, dtype=bool)  # two surgeries on one day open one window
    distinct[1:] = (pid[1:] != pid[:-1]) | (day[1:] != day[:-1])
    pid, day = pid[distinct], day[distinct]
    end = events.end[pid]
    window_end = end.copy()
    same_next = pid[1:] == pid[:-1]
    window_end[:-1][same_next] = np.minimum(day[1:][same_next], end[:-1][same_next])
    early_days = float(np.clip(np.minimum(window_end - day, EARLY_DAYS), 0, None).sum())
    latest = _latest_on_or_before(pid, day, events.complication_pid, events.complication_day)
    found = latest >= 0
    since = events.complication_day[found] - day[latest[found]]
    return int((since <= EARLY_DAYS).sum()), early_days


def pump_periods(registry: Registry) -> pl.DataFrame:
    """One row per pump (implantation of kind initial or replacement): its start, end, days,
    how it ended (``replacement``, ``explanted``, ``death``, ``therapy_ended``, ``in_place``)
    and whether a complication was recorded during its life (one on the day of a
    replacement belongs to the new pump's surgery)."""
    from itb.analysis.study import patient_cohort  # study builds on this module

    index = PatientIndex(registry)
    events = _events(registry, patient_cohort(registry, index), index)
    pumps = _pumps(events)
    return pl.DataFrame({
        "patient_id": events.follow.get_column("patient_id").gather(pumps.pid),
        "start": pl.Series(pumps.start).cast(pl.Date),
        "end": pl.Series(pumps.start + pumps.days).cast(pl.Date),
        "days": pumps.days,
        "end_reason": np.array(PUMP_END_REASONS)[pumps.reason],
        "complication": pumps.complication})


@dataclass(frozen=True)
class _Pumps:
    pid: np.ndarray
    start: np.ndarray
    days: np.ndarray
    reason: np.ndarray  # index into PUMP_END_REASONS
    complication: np.ndarray


PUMP_END_REASONS = ("replacement", "explanted", "death", "therapy_ended", "in_place")
PUMP_END_EVENTS = ("replacement", "explanted")


def _pumps(events: _Events) -> _Pumps:
    is_pump = events.surgery_pump
    pid, start = events.surgery_pid[is_pump], events.surgery_day[is_pump]
    replaced = np.zeros(pid.size, dtype=bool)
    replaced[:-1] = pid[1:] == pid[:-1]
    end = events.end[pid].copy()
    end[:-1][replaced[:-1]] = start[1:][replaced[:-1]]
    follow = events.follow
    reason = follow.get_column("therapy_end_reason")
    explanted = (reason == "explanted").fill_null(False).to_numpy()[pid]
    died = (reason == "death").fill_null(False).to_numpy()[pid]
    ended = follow.get_column("therapy_end_date").is_not_null().to_numpy()[pid]
    code = np.select([replaced, explanted, died, ended], [0, 1, 2, 3], 4)
    # Each complication belongs to the latest pump placed on or before its date.
    owner = _latest_on_or_before(pid, start, events.complication_pid, events.complication_day)
    complication = np.zeros(pid.size, dtype=bool)
    complication[owner[owner >= 0]] = True
    return _Pumps(pid, start, end - start, code, complication)




def _devices(events: _Events) -> Devices:
    pumps = _pumps(events)
    is_event = np.isin(pumps.reason, [PUMP_END_REASONS.index(r) for r in PUMP_END_EVENTS])
    pump_table = DayTable.from_times(pumps.days, is_event.astype(np.int64))
    end_reasons = {}
    for code, reason in enumerate(PUMP_END_REASONS):
        chosen = pumps.reason == code
        if chosen.any():
            end_reasons[reason] = PumpEnd(int(chosen.sum()),
                                          float(np.median(pumps.days[chosen])) / DAYS_PER_YEAR,
                                          int(pumps.complication[chosen].sum()))
    # Catheter revision-free: the first revision surgery, else censored like the patient.
    is_revision = events.surgery_revision
    pid, day = events.surgery_pid[is_revision], events.surgery_day[is_revision]
    first = np.ones(pid.size, dtype=bool)
    first[1:] = pid[1:] != pid[:-1]
    until = events.end.copy()
    until[pid[first]] = day[first]
    revised = np.zeros(until.size, dtype=np.int64)
    revised[pid[first]] = 1
    return Devices(
        pumps=estimate(pump_table, DEVICE_YEARS),
        end_reasons=end_reasons,
        catheter_revision_free=estimate(DayTable.from_times(until - events.start, revised),
                                        DEVICE_YEARS),
    )
