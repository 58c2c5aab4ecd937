"""The study's descriptive analysis: patient flow, Table 1, Figure 2, Table 2, assessments.

Definitions (docs/definitions.md): age in completed years at the initial implantation; usage
time in years of 365.25 days from the initial implantation to therapy end or cut-off; months
of 30.4375 days; quantiles by linear interpolation (R type 7); sample SD.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from itb.analysis.followup import FollowUpSummary, follow_up_summary
from itb.analysis.index import PatientIndex, day_key, key_day, key_patient
from itb.analysis.stats import Interval, proportion_intervals
from itb.analysis.survival import Devices, Incidence, Survival, time_to_event
from itb.domain import codes
from itb.domain.dates import DAYS_PER_MONTH, DAYS_PER_YEAR
from itb.registry_io.loader import Registry
from itb.registry_io.patient_runs import UNKNOWN_PATIENT

GROUPS = ("overall", "low", "high")
UNKNOWN = "unknown"
NO_ASSESSMENT = "none"
AGE_BAND_WIDTH = 10


@dataclass(frozen=True)
class AgeSummary:
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    min: int | None
    max: int | None


@dataclass(frozen=True)
class MeanSd:
    mean: float | None
    sd: float | None


@dataclass(frozen=True)
class GroupSummary:
    """One column of Table 1."""

    n: int
    age: AgeSummary
    age_bands: dict[str, int]
    usage_years: MeanSd
    sex: dict[str, int]
    syndrome: dict[str, int]
    diagnosis: dict[str, int]
    contractures_before: dict[str, int]
    pump_implantations: dict[str, int]
    catheter_type: dict[str, int]
    catheter_tip_level: dict[str, int]


@dataclass(frozen=True)
class ComplicationType:
    events: int
    patients: int
    mean_months_to_onset: float | None


@dataclass(frozen=True)
class ComplicationSummary:
    """Table 2 and the complication proportion."""

    patients: int
    events: int
    proportion: float
    ci95: dict[str, Interval]
    patients_by_count: dict[str, int]
    by_type: dict[str, ComplicationType]
    by_group: dict[str, ComplicationType]


@dataclass(frozen=True)
class StudyResult:
    cutoff: date
    n_patients: int
    flow: dict[str, Any]
    table1: dict[str, GroupSummary]
    other_diagnoses: list[str]
    first_implantations_per_year: dict[str, int]
    first_implantations_by_site: dict[str, dict[str, int]]
    complications: ComplicationSummary
    assessment_combinations: dict[str, int]
    survival: Survival
    incidence: Incidence
    devices: Devices
    site_names: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    follow_up: FollowUpSummary | None = None  # refills and pump lifetimes (issue 4)

    def to_dict(self) -> dict[str, Any]:
        """The ``report.json`` document: plain JSON types only."""
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat()
        data["complications"]["ci95"] = {
            method: interval.as_list() for method, interval in self.complications.ci95.items()}
        data["survival"] = self.survival.to_dict()
        data["incidence"] = self.incidence.to_dict()
        data["devices"] = self.devices.to_dict()
        return data


def analyse(registry: Registry) -> StudyResult:
    index = PatientIndex(registry)  # every table's patient indices, found once
    cohort = patient_cohort(registry, index)
    n = cohort.height
    if n == 0:
        raise ValueError("the registry has no patients")
    # The follow-up section (the refills: most rows by far) runs on a second thread beside
    # the rest: both spend their time in numpy and polars, which release the GIL. What it
    # reads of the shared index is found already, but for the refills' runs: only it reads
    # those.
    with ThreadPoolExecutor(max_workers=1) as pool:
        follow_up = pool.submit(follow_up_summary, registry, index=index)
        complications = _complications(registry, n, index)
        events = time_to_event(registry, cohort, index)
        return StudyResult(
            cutoff=registry.cutoff,
            n_patients=n,
            flow=_flow(cohort),
            table1=_table1(cohort),
            other_diagnoses=_other_diagnoses(cohort),
            first_implantations_per_year=_per_year(cohort, registry.cutoff),
            first_implantations_by_site=_per_year_by_site(cohort, registry.cutoff),
            complications=complications,
            assessment_combinations=_assessment_combinations(registry, index),
            survival=events.survival,
            incidence=events.incidence,
            devices=events.devices,
            site_names=dict(registry.site_names),
            title=registry.title,
            follow_up=follow_up.result(),
        )


def patient_cohort(registry: Registry, index: PatientIndex | None = None) -> pl.DataFrame:
    """One row per patient with the derived variables of the definitions (``index``: the
    analysis's shared one, if any)."""
    index = index if index is not None else PatientIndex(registry)
    implants = registry.implantations
    # Each patient's initial implantation (the first one: validation allows one) and number
    # of pumps, by integer patient index: joins on the text ids cost a second at 10^6.
    i_pid = index.rows("implantations")
    known = i_pid != UNKNOWN_PATIENT
    kind = implants.get_column("kind")
    initial = np.flatnonzero((kind == "initial").fill_null(False).to_numpy() & known)
    pids, first = np.unique(i_pid[initial], return_index=True)
    row = np.full(index.ids.len(), -1, dtype=np.int64)
    row[pids] = initial[first]
    row = row[index.rank]  # per patients row
    initial_columns = implants.select(
        pl.col("implant_date").alias("first_implant_date"),
        pl.col("site").alias("implant_site"),
        "catheter_type",
        "catheter_tip_level",
    ).select(pl.all().gather(pl.Series(row).set(pl.Series(row < 0), None)))
    is_pump = kind.is_in(list(codes.PUMP_KINDS)).fill_null(False).to_numpy() & known
    pumps = np.bincount(i_pid[is_pump], minlength=index.ids.len())[index.rank]
    birth, first_date = pl.col("birth_date"), pl.col("first_implant_date")
    birthday_not_reached = _month_day(first_date) < _month_day(birth)
    follow_up_end = pl.coalesce(pl.col("therapy_end_date"), pl.lit(registry.cutoff))
    return (
        registry.patients.hstack(initial_columns)
        .with_columns(pl.Series("pump_implantations", pumps, dtype=pl.UInt32))
        .with_columns(
            (first_date.dt.year() - birth.dt.year() - birthday_not_reached.cast(pl.Int32))
            .alias("age"),
            ((follow_up_end - first_date).dt.total_days() / DAYS_PER_YEAR).alias("usage_years"),
        )
    )


def _month_day(when: pl.Expr) -> pl.Expr:
    """Month and day as one comparable number (Int32: polars' month and day are Int8)."""
    return when.dt.month().cast(pl.Int32) * 100 + when.dt.day().cast(pl.Int32)


def _in_group(cohort: pl.DataFrame, group: str) -> pl.DataFrame:
    return cohort if group == "overall" else cohort.filter(pl.col("functional_level") == group)


def _counts(frame: pl.DataFrame, column: str, order: tuple[str, ...] | None = None,
            unknown: bool = False) -> dict[str, int]:
    """Counts per value: every code of ``order`` (zeros too), then others, then unknown."""
    return _ordered_counts(dict(frame.get_column(column).value_counts().iter_rows()), order,
                           unknown)


def _ordered_counts(tally: dict[Any, int], order: tuple[str, ...] | None = None,
                    unknown: bool = False) -> dict[str, int]:
    """``_counts`` of a tally {value: count} (None: the nulls')."""
    # The values as text after counting: casting every row first cost more than the count.
    observed = {str(value): n for value, n in tally.items() if value is not None}
    result = {code: observed.pop(code, 0) for code in order or ()}
    result.update(sorted(observed.items()))
    if unknown:
        result[UNKNOWN] = tally.get(None, 0)
    return result


_TABLE1_COUNTS = ("sex", "syndrome", "diagnosis", "contractures_before", "pump_implantations",
                  "catheter_type", "catheter_tip_level")


def _table1(cohort: pl.DataFrame) -> dict[str, GroupSummary]:
    # Only Table 1's columns are filtered into the groups.
    columns = cohort.select("functional_level", "age", "usage_years", *_TABLE1_COUNTS)
    return {group: _group_summary(_in_group(columns, group)) for group in GROUPS}


def _group_summary(group: pl.DataFrame) -> GroupSummary:
    # The columns' counts and the statistics in one select: polars runs them in parallel.
    age = pl.col("age").drop_nulls().cast(pl.Float64)
    usage = pl.col("usage_years").drop_nulls()
    stats = group.select(
        *(pl.col(c).value_counts().implode() for c in _TABLE1_COUNTS),
        *(age.quantile(q, interpolation="linear").alias(f"q{q}") for q in (0.25, 0.5, 0.75)),
        pl.col("age").min().alias("min_age"), pl.col("age").max().alias("max_age"),
        usage.mean().alias("usage_mean"), usage.std().alias("usage_sd"),
        usage.len().alias("usage_n"),
    ).row(0, named=True)
    tallies = {c: {item[c]: item["count"] for item in stats[c]} for c in _TABLE1_COUNTS}
    q1, median, q3 = stats["q0.25"], stats["q0.5"], stats["q0.75"]
    # The distinct levels once (not a set of every row per code: that was O(codes × rows)).
    present = {level for level in tallies["catheter_tip_level"] if level is not None}
    tip_levels = [c for c in codes.CATHETER_TIP_LEVEL.codes if c in present]
    return GroupSummary(
        n=group.height,
        age=AgeSummary(
            median=median, q1=q1, q3=q3,
            iqr=None if q1 is None or q3 is None else q3 - q1,
            min=stats["min_age"], max=stats["max_age"],
        ),
        age_bands=_age_bands(group.get_column("age").drop_nulls()),
        usage_years=MeanSd(
            mean=stats["usage_mean"],
            sd=stats["usage_sd"] if stats["usage_n"] > 1 else None,
        ),
        sex=_ordered_counts(tallies["sex"], codes.SEX.codes),
        syndrome=_ordered_counts(tallies["syndrome"], codes.SYNDROME.codes),
        diagnosis=_ordered_counts(tallies["diagnosis"], codes.DIAGNOSIS.codes),
        contractures_before=_ordered_counts(tallies["contractures_before"],
                                            codes.YES_NO.codes, unknown=True),
        pump_implantations=dict(sorted(
            _ordered_counts(tallies["pump_implantations"]).items(),
            key=lambda item: int(item[0]))),
        catheter_type=_ordered_counts(tallies["catheter_type"], codes.CATHETER_TYPE.codes,
                                      unknown=True),
        catheter_tip_level=_ordered_counts(tallies["catheter_tip_level"], tuple(tip_levels),
                                           unknown=True),
    )


def _band_index(age: int) -> int:
    return 0 if age <= AGE_BAND_WIDTH else (age - 1) // AGE_BAND_WIDTH


def age_band(age: int) -> str:
    """0–10, 11–20, 21–30, … (the study's bands; the first one spans 0 to 10 years)."""
    index = _band_index(age)
    low = 0 if index == 0 else index * AGE_BAND_WIDTH + 1
    return f"{low}-{(index + 1) * AGE_BAND_WIDTH}"


def _age_bands(age: pl.Series) -> dict[str, int]:
    """Patients per age band, every band from the youngest's to the oldest's included."""
    if age.len() == 0:
        return {}
    index = pl.DataFrame({"age": age}).select(
        pl.when(pl.col("age") <= AGE_BAND_WIDTH).then(0)
        .otherwise((pl.col("age") - 1) // AGE_BAND_WIDTH).alias("band"))
    counts = dict(index.get_column("band").value_counts().iter_rows())
    top = _band_index(int(age.max()))  # type: ignore[arg-type]
    return {age_band(0 if i == 0 else i * AGE_BAND_WIDTH + 1): int(counts.get(i, 0))
            for i in range(top + 1)}


def _flow(cohort: pl.DataFrame) -> dict[str, Any]:
    ended = cohort.filter(pl.col("therapy_end_date").is_not_null())
    return {
        "implanted": cohort.height,
        "on_therapy": cohort.height - ended.height,
        "ended": _counts(ended, "therapy_end_reason", codes.THERAPY_END_REASON.codes),
    }


def _other_diagnoses(cohort: pl.DataFrame) -> list[str]:
    details = cohort.filter(pl.col("diagnosis") == "other").get_column("diagnosis_detail")
    return sorted(set(details.drop_nulls().to_list()))


def _year_range(cohort: pl.DataFrame, cutoff: date) -> list[int]:
    years = cohort.get_column("first_implant_date").drop_nulls().dt.year()
    if years.len() == 0:
        return []
    return list(range(int(years.min()), max(int(years.max()), cutoff.year) + 1))  # type: ignore[arg-type]


def _per_year(cohort: pl.DataFrame, cutoff: date) -> dict[str, int]:
    counts = dict(cohort.get_column("first_implant_date").drop_nulls().dt.year()
                  .value_counts().iter_rows())
    return {str(year): int(counts.get(year, 0)) for year in _year_range(cohort, cutoff)}


def _per_year_by_site(cohort: pl.DataFrame, cutoff: date) -> dict[str, dict[str, int]]:
    """Initial implantations per implanting site and year (Figure 2's stacks)."""
    rows = (cohort.filter(pl.col("first_implant_date").is_not_null())
            .group_by("implant_site", pl.col("first_implant_date").dt.year().alias("year"))
            .len().iter_rows())
    table: dict[str, dict[str, int]] = {}
    for site, year, count in rows:
        table.setdefault(site, {})[str(year)] = count
    years = [str(year) for year in _year_range(cohort, cutoff)]
    # Sites in the order they started implanting: the oldest at the bottom of the stacks.
    order = sorted(table, key=lambda site: (min(table[site]), site))
    return {site: {year: table[site].get(year, 0) for year in years} for site in order}


def complication_onsets(registry: Registry, index: PatientIndex | None = None
                        ) -> pl.DataFrame:
    """Each complication, in (patient, date) order, with the date of the latest surgery of
    any kind on or before it and the months since."""
    index = index if index is not None else PatientIndex(registry)
    # The latest surgery by binary search among sorted (patient index, day) keys: an as-of
    # join by the text ids sorted 1.6 million surgeries by their text at 10^6 patients.
    # Two surgeries on one day match alike.
    surgeries = np.sort(day_key(index.rows("implantations"),
                                _days(registry.implantations, "implant_date")))
    events = registry.complications
    pid = index.rows("complications")
    key = day_key(pid, _days(events, "complication_date"))
    if not bool(np.all(key[1:] >= key[:-1])):
        order = np.argsort(key, kind="stable")
        events, pid, key = events[order], pid[order], key[order]
    at = np.searchsorted(surgeries, key, side="right") - 1
    latest = surgeries[np.maximum(at, 0)]
    # Another patient's surgery, or an unknown patient's (validation allows none): no onset.
    found = (at >= 0) & (pid != UNKNOWN_PATIENT) & (key_patient(latest) == pid)
    surgery = pl.Series("surgery_date", key_day(latest), dtype=pl.Int32).cast(pl.Date)
    return events.with_columns(surgery.set(pl.Series(~found), None)).with_columns(
        ((pl.col("complication_date") - pl.col("surgery_date")).dt.total_days()
         / DAYS_PER_MONTH).alias("months_to_onset"),
        pl.col("type").replace_strict(
            {c.code: c.group for c in codes.COMPLICATION_TYPE}, return_dtype=pl.String)
        .alias("group"),
    )


def _days(frame: pl.DataFrame, column: str) -> np.ndarray:
    """A date column as days since 1970-01-01."""
    return frame.get_column(column).cast(pl.Int64).to_numpy()


def _complications(registry: Registry, n_patients: int, index: PatientIndex
                   ) -> ComplicationSummary:
    onsets = complication_onsets(registry, index)
    per_patient = onsets.group_by("patient_id").len()
    with_any = per_patient.height
    by_count = dict(per_patient.get_column("len").value_counts().sort("len").iter_rows())

    def summarise(column: str, order: tuple[str, ...]) -> dict[str, ComplicationType]:
        rows = {key: (events, patients, months) for key, events, patients, months in
                onsets.group_by(column).agg(
                    pl.len(), pl.col("patient_id").n_unique(),
                    pl.col("months_to_onset").mean()).iter_rows()}
        return {key: ComplicationType(int(rows[key][0]), int(rows[key][1]),
                                      None if rows[key][2] is None else float(rows[key][2]))
                for key in order if key in rows}

    return ComplicationSummary(
        patients=with_any,
        events=onsets.height,
        proportion=with_any / n_patients,
        ci95=proportion_intervals(with_any, n_patients),
        patients_by_count={str(k): int(v) for k, v in by_count.items()},
        by_type=summarise("type", codes.COMPLICATION_TYPE.codes),
        by_group=summarise("group", codes.COMPLICATION_GROUP.codes),
    )


def _assessment_combinations(registry: Registry, index: PatientIndex) -> dict[str, int]:
    # Each patient's set of instruments as a bit mask, by integer patient index (a list per
    # patient and joining its texts cost seconds at 10^6 patients, a group-by on the text ids
    # most of a second); the few distinct masks are then named.
    instruments = sorted(codes.INSTRUMENT.codes)
    bit = registry.assessments.get_column("instrument").replace_strict(
        {code: 1 << i for i, code in enumerate(instruments)}, return_dtype=pl.Int64)
    pid = index.rows("assessments")
    # One more slot, for UNKNOWN_PATIENT: rows of a patient not in the registry count nowhere.
    mask = np.zeros(index.ids.len() + 1, dtype=np.int64)
    np.bitwise_or.at(mask, pid, bit.fill_null(0).to_numpy())
    assessed = np.zeros(mask.size, dtype=bool)
    assessed[pid] = True
    masks, patients = np.unique(mask[:-1][assessed[:-1]], return_counts=True)
    counts = {"+".join(code for i, code in enumerate(instruments) if bits >> i & 1): n
              for bits, n in zip(masks.tolist(), patients.tolist(), strict=True)}
    if not assessed[:-1].all():
        counts[NO_ASSESSMENT] = int(np.count_nonzero(~assessed[:-1]))
    ordered = sorted(((k, v) for k, v in counts.items() if k != NO_ASSESSMENT),
                     key=lambda item: (-item[1], item[0]))
    if NO_ASSESSMENT in counts:
        ordered.append((NO_ASSESSMENT, counts[NO_ASSESSMENT]))
    return {key: int(value) for key, value in ordered}
