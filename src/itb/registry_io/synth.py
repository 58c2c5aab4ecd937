"""A synthetic registry directory of N patients, for demos, tests and benchmarks.

The distributions follow the Estonian ITB study (Eesti Arst, 2024) loosely: 60 % low and 40 %
high functional level, 63 % men, the study's diagnoses and syndromes, ages at the first
implantation skewed young, first implantations from 2005 growing over time, a new pump every
6–7 years, occasional revisions, complications in about a fifth of the patients (early CSF
leaks, later catheter problems), screening and follow-up assessments, bolus trials before the
implantation, and refills every 60–180 days with doses titrated within the usual step and
residual volumes near the expected ones (a few far from it: a catheter or pump fault). Every
row passes ``itb validate``.

Generation is vectorised with numpy and written with polars, in chunks of patients so that
memory stays bounded; each chunk has its own random stream derived from ``(seed, chunk)``, so
the same seed always gives byte-identical files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl
from numpy.typing import NDArray

from itb.domain import codes
from itb.domain.codes import CodeList
from itb.domain.dates import DAYS_PER_YEAR
from itb.domain.scales import SCALES
from itb.registry_io.loader import DATASET_FILE
from itb.registry_io.schema import CLINICAL_FILES, SITES

CUTOFF = date(2024, 7, 31)
FIRST_YEAR = 2005
CHUNK_PATIENTS = 250_000
MAX_REPLACEMENTS = 4  # 2005 → 2024 at no less than 4.5 years per pump

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _day(value: date) -> int:
    return value.toordinal() - _EPOCH_ORDINAL


CUTOFF_DAY = _day(CUTOFF)

SITE_NAMES: dict[str, str] = {
    "TLH": "Tallinna Lastehaigla",
    "TUK": "Tartu Ülikooli Kliinikum",
    "PERH": "Põhja-Eesti Regionaalhaigla",
    "LTKH": "Lääne-Tallinna Keskhaigla",
}
SITE_CODES = tuple(SITE_NAMES)
_TLH, _PERH = SITE_CODES.index("TLH"), SITE_CODES.index("PERH")


class _Weights:
    """Codes and their probabilities, checked against a code list."""

    def __init__(self, code_list: CodeList | None, weights: dict[str, float]) -> None:
        if code_list is not None:
            unknown = [code for code in weights if code not in code_list]
            assert not unknown, f"not in {code_list.name}: {unknown}"
        self.codes = tuple(weights)
        p = np.array(list(weights.values()), dtype=np.float64)
        self.cdf = np.cumsum(p / p.sum())

    def index(self, code: str) -> int:
        return self.codes.index(code)

    def draw(self, rng: np.random.Generator, size: int) -> Ints:
        """Indices into ``codes``."""
        picked = np.searchsorted(self.cdf, rng.random(size), side="right")
        return np.minimum(picked, len(self.codes) - 1).astype(np.int64)


MALE_P = 0.63
ENDED_P = 0.10
COMPLICATION_P = 0.20
RANDOM_REVISION_P = 0.02
CATHETER_REVISION_P = 0.6

DIAGNOSIS = _Weights(codes.DIAGNOSIS, {
    "cerebral_palsy": 0.44, "other": 0.26, "brain_spinal_cord_injury": 0.12,
    "multiple_sclerosis": 0.09, "hereditary_spastic_paraplegia": 0.05, "neuroinfection": 0.02,
    "autoimmune_encephalitis": 0.02,
})
OTHER_DIAGNOSES = _Weights(None, {
    "Stroke": 0.25, "Hypoxic-ischaemic encephalopathy": 0.25, "Leukodystrophy": 0.1,
    "Spinal cord ischaemia": 0.1, "Mitochondrial disease": 0.1, "Genetic syndrome": 0.1,
    "": 0.1,
})
SYNDROME = _Weights(codes.SYNDROME, {
    "spastic_tetraparesis": 0.56, "spastic_paraparesis": 0.28,
    "spastic_tetraparesis_dystonia": 0.12, "spastic_hemiparesis": 0.02,
    "generalised_dystonia": 0.02,
})
# High functional level by syndrome: 40 % overall, more often with paraparesis.
HIGH_FUNCTION_P = {
    "spastic_tetraparesis": 0.31, "spastic_paraparesis": 0.65,
    "spastic_tetraparesis_dystonia": 0.20, "spastic_hemiparesis": 0.70,
    "generalised_dystonia": 0.30,
}
SITE_CHILD = _Weights(None, {"TLH": 0.55, "TUK": 0.40, "PERH": 0.05, "LTKH": 0.0})
SITE_ADULT = _Weights(None, {"TLH": 0.0, "TUK": 0.40, "PERH": 0.40, "LTKH": 0.20})
YES_NO_UNKNOWN = _Weights(None, {"yes": 0.45, "no": 0.45, "": 0.10})
END_REASON = _Weights(codes.THERAPY_END_REASON, {
    "death": 0.40, "replacement_not_possible": 0.20, "explanted": 0.25, "other": 0.15})
PUMP_BEFORE_2023 = _Weights(codes.PUMP_MODEL, {
    "synchromed_ii": 0.85, "prometra_ii": 0.08, "constant_flow": 0.04, "other": 0.03})
PUMP_FROM_2023 = _Weights(codes.PUMP_MODEL, {
    "synchromed_iii": 0.50, "synchromed_ii": 0.35, "prometra_ii": 0.10, "other": 0.05})
PUMP_MODELS = codes.PUMP_MODEL.codes
CATHETER_BEFORE_2012 = _Weights(codes.CATHETER_TYPE, {"silicone": 0.85, "other": 0.10})
CATHETER_FROM_2012 = _Weights(codes.CATHETER_TYPE, {
    "ascenda": 0.80, "silicone": 0.12, "other": 0.03})
CATHETER_TYPES = codes.CATHETER_TYPE.codes
CATHETER_UNKNOWN_P = 0.05
TIP_LEVEL = _Weights(codes.CATHETER_TIP_LEVEL, {
    "C5": 0.005, "C6": 0.005, "C7": 0.01, "T1": 0.005, "T2": 0.005, "T3": 0.01, "T4": 0.01,
    "T5": 0.015, "T6": 0.025, "T7": 0.04, "T8": 0.14, "T9": 0.18, "T10": 0.25, "T11": 0.16,
    "T12": 0.12, "L1": 0.02,
})
TIP_UNKNOWN_P = 0.05
COMPLICATION = _Weights(codes.COMPLICATION_TYPE, {
    "csf_leak": 0.18, "catheter_break": 0.10, "catheter_kink": 0.06, "catheter_occlusion": 0.06,
    "catheter_disconnection": 0.08, "catheter_migration": 0.12, "infection": 0.10,
    "pump_malfunction": 0.05, "wound_dehiscence": 0.05, "seroma": 0.05, "withdrawal": 0.06,
    "overdose": 0.03, "other": 0.06,
})
# Days after the surgery within which an early complication appears (first, last).
EARLY_ONSET = {"csf_leak": (1, 30), "wound_dehiscence": (3, 30), "seroma": (3, 45),
               "infection": (5, 90)}
OTHER_COMPLICATIONS = _Weights(None, {
    "": 0.5, "Pain at the pump pocket": 0.2, "Skin erosion over the pump": 0.15,
    "Side port access problem": 0.15,
})
ASSESSMENT_COUNT = _Weights(None, {"0": 0.30, "1": 0.15, "2": 0.30, "3": 0.10, "4": 0.15})
INSTRUMENT = _Weights(codes.INSTRUMENT, {
    "mas": 0.40, "goniometry": 0.25, "gmfm": 0.20, "tardieu": 0.05, "penn": 0.04,
    "pain_nrs": 0.03, "gmfcs": 0.03,
})
BODY_SITE = _Weights(None, {
    "right knee": 0.2, "left knee": 0.2, "right ankle": 0.15, "left ankle": 0.15,
    "hip adductors": 0.15, "right elbow": 0.075, "left elbow": 0.075,
})
INSTRUMENTS_WITH_BODY_SITE = ("mas", "tardieu", "goniometry")
# Spasticity origin by diagnosis (index of codes.SPASTICITY_ORIGIN; -1 unknown): brain
# diseases cerebral, spinal-cord ones spinal; an injury or "other" could be either.
ORIGIN_BY_DIAGNOSIS = {"cerebral_palsy": 0, "autoimmune_encephalitis": 0, "neuroinfection": 0,
                       "hereditary_spastic_paraplegia": 1, "multiple_sclerosis": 1}
ORIGIN_UNKNOWN_P = 0.10
TITRATION_START = 0.6  # of the final dose, at the first refill
TITRATION_STEP = 1.08  # per refill: within the stricter (cerebral) 15 % cap
TRIALS_RECORDED_P = 0.8
TRIAL_RESPONSE = _Weights(None, {"25": 0.15, "50": 0.50, "75": 0.25, "100": 0.10})
SIDE_EFFECTS = _Weights(None, {"": 0.85, "nausea": 0.05, "drowsiness": 0.05, "headache": 0.03,
                               "transient hypotonia": 0.02})
RESIDUAL_MISSING_P = 0.10
RESIDUAL_FAULT_P = 0.005
CONCENTRATIONS = np.array([500, 1000, 2000], dtype=np.int64)


def write_synthetic_registry(out: Path, n_patients: int, seed: int = 2012) -> dict[str, int]:
    """Write a synthetic registry of ``n_patients`` into ``out``; return rows per file name.

    The directory gets every registry file plus ``dataset.toml`` (cut-off 2024-07-31, a title
    saying the data are synthetic). The same ``seed`` gives byte-identical files.
    """
    if n_patients < 1:
        raise ValueError("n_patients must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    width = max(7, len(str(n_patients)))
    counts = {spec.filename: 0 for spec in (SITES, *CLINICAL_FILES)}

    sites = pl.DataFrame({"code": list(SITE_CODES), "name": list(SITE_NAMES.values())})
    sites.write_csv(out / SITES.filename)
    counts[SITES.filename] = sites.height

    handles: dict[str, BinaryIO] = {}
    try:
        for spec in CLINICAL_FILES:
            handles[spec.table] = (out / spec.filename).open("wb")
        for chunk, start in enumerate(range(0, n_patients, CHUNK_PATIENTS)):
            size = min(CHUNK_PATIENTS, n_patients - start)
            rng = np.random.default_rng([seed % 2**64, chunk])
            frames = _chunk(rng, start, size, width)
            for spec in CLINICAL_FILES:
                frame = frames[spec.table].select(spec.column_names)
                frame.write_csv(handles[spec.table], include_header=chunk == 0,
                                float_precision=1)
                counts[spec.filename] += frame.height
    finally:
        for handle in handles.values():
            handle.close()

    (out / DATASET_FILE).write_text(
        f'title = "Synthetic ITB registry: {n_patients} invented patients (seed {seed})"\n'
        f"cutoff = {CUTOFF.isoformat()}\n", encoding="utf-8")
    return counts


# --- One chunk of patients ---------------------------------------------------------------


def _chunk(rng: np.random.Generator, start: int, m: int, width: int) -> dict[str, pl.DataFrame]:
    ids = (pl.Series(np.arange(start + 1, start + m + 1, dtype=np.int64)).cast(pl.String)
           .str.zfill(width))
    ids = pl.select(pl.lit("S") + ids).to_series()

    people = _people(rng, m)
    complications, catheter_revisions = _complications(rng, people)
    implantations = _implantations(rng, people, catheter_revisions)
    assessments = _assessments(rng, people)
    refills = _refills(rng, people, implantations["min_reservoir"])
    # Drawn after everything else, so that the columns above stay as they were.
    refills["residual_ml"] = _residuals(rng, refills)
    origin = _origins(rng, people)
    trials = _screening_trials(rng, people)

    patients = pl.DataFrame({
        "patient_id": ids,
        "site": _lookup(SITE_CODES, people["site"]),
        "sex": _lookup(("M", "F"), np.where(people["male"], 0, 1)),
        "birth_date": _dates(people["birth"]),
        "diagnosis": _lookup(DIAGNOSIS.codes, people["diagnosis"]),
        "diagnosis_detail": _lookup(OTHER_DIAGNOSES.codes, people["detail"]),
        "syndrome": _lookup(SYNDROME.codes, people["syndrome"]),
        "functional_level": _lookup(("low", "high"), people["high"].astype(np.int64)),
        "contractures_before": _lookup(YES_NO_UNKNOWN.codes, people["contractures"]),
        "therapy_end_date": _dates(people["end"], people["ended"]),
        "therapy_end_reason": _lookup(END_REASON.codes,
                                      np.where(people["ended"], people["reason"], -1)),
        "spasticity_origin": _lookup(codes.SPASTICITY_ORIGIN.codes, origin),
    })
    frames = {"patients": patients}
    for table, columns in (("implantations", implantations), ("complications", complications),
                           ("assessments", assessments), ("refills", refills),
                           ("screening_trials", trials)):
        patient = columns.pop("patient")
        for internal in ("min_reservoir", "_day", "_volume", "_rate", "_j"):
            columns.pop(internal, None)
        frames[table] = pl.DataFrame({"patient_id": ids.gather(patient), **columns})
    # The order `itb export` writes (patient, then date): an import/export round trip is exact.
    frames["assessments"] = frames["assessments"].sort("patient_id", "assessment_date",
                                                       maintain_order=True)
    return frames


def _people(rng: np.random.Generator, m: int) -> dict[str, NDArray]:
    """Per-patient attributes; dates as days since 1970-01-01."""
    male = rng.random(m) < MALE_P
    diagnosis = DIAGNOSIS.draw(rng, m)
    syndrome = SYNDROME.draw(rng, m)
    high_p = np.array([HIGH_FUNCTION_P[code] for code in SYNDROME.codes])
    high = rng.random(m) < high_p[syndrome]
    detail = np.where(diagnosis == DIAGNOSIS.index("other"), OTHER_DIAGNOSES.draw(rng, m), -1)
    detail[detail == OTHER_DIAGNOSES.index("")] = -1
    age = _age_at_first_implant(rng, diagnosis)
    first = _first_implant_days(rng, m)
    birth = first - np.ceil(age * DAYS_PER_YEAR).astype(np.int64) - rng.integers(1, 30, m)
    site = np.where(age < 18, SITE_CHILD.draw(rng, m), SITE_ADULT.draw(rng, m))
    contractures = YES_NO_UNKNOWN.draw(rng, m)
    contractures[contractures == YES_NO_UNKNOWN.index("")] = -1
    ended = rng.random(m) < ENDED_P
    end = first + np.ceil(rng.random(m) * (CUTOFF_DAY - first)).astype(np.int64)
    reason = END_REASON.draw(rng, m)
    return {
        "high": high, "male": male, "diagnosis": diagnosis,
        "syndrome": syndrome, "detail": detail, "birth": birth, "first": first, "site": site,
        "contractures": contractures, "ended": ended, "end": end, "reason": reason,
        "follow_end": np.where(ended, end, CUTOFF_DAY),
    }


def _age_at_first_implant(rng: np.random.Generator, diagnosis: Ints) -> Floats:
    """Years, 2–80 (completed), skewed young: cerebral palsy in childhood, MS in middle age."""
    m = diagnosis.size
    by_diagnosis = {
        "cerebral_palsy": 2 + rng.gamma(2.0, 4.5, m),
        "multiple_sclerosis": rng.normal(47, 10, m),
        "brain_spinal_cord_injury": 12 + rng.gamma(2.0, 10.0, m),
        "hereditary_spastic_paraplegia": 8 + rng.gamma(2.0, 10.0, m),
    }
    age = 2 + rng.gamma(1.3, 14.0, m)
    for code, values in by_diagnosis.items():
        age = np.where(diagnosis == DIAGNOSIS.index(code), values, age)
    return np.clip(age, 2.0, 80.0)


def _first_implant_days(rng: np.random.Generator, m: int) -> Ints:
    """First implantations 2005 → cut-off, yearly numbers growing linearly."""
    years = np.arange(FIRST_YEAR, CUTOFF.year + 1)
    starts = np.array([_day(date(int(y), 1, 1)) for y in years], dtype=np.int64)
    ends = np.minimum(np.append(starts[1:], CUTOFF_DAY + 1), CUTOFF_DAY + 1)
    lengths = ends - starts
    weights = (years - FIRST_YEAR + 1) * lengths / 365.0
    cdf = np.cumsum(weights / weights.sum())
    year = np.minimum(np.searchsorted(cdf, rng.random(m), side="right"), years.size - 1)
    return starts[year] + np.floor(rng.random(m) * lengths[year]).astype(np.int64)


def _year(days: Ints) -> Ints:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _surgery_site(people: dict[str, NDArray], patient: Ints, day: Ints) -> Ints:
    """The patient's site; children's hospital patients move to an adult one at 18."""
    site = people["site"][patient]
    adult = (day - people["birth"][patient]) >= 18 * DAYS_PER_YEAR
    return np.where((site == _TLH) & adult, _PERH, site)


def _complications(rng: np.random.Generator,
                   people: dict[str, NDArray]) -> tuple[dict[str, object], dict[str, Ints]]:
    m = people["first"].size
    first, follow_end = people["first"], people["follow_end"]
    u = rng.random(m)
    count = np.where(rng.random(m) < COMPLICATION_P, 1 + (u < 0.3) + (u < 0.1), 0)
    patient = np.repeat(np.arange(m), count)
    k = patient.size
    kind = COMPLICATION.draw(rng, k)
    start, stop = first[patient], follow_end[patient]
    span = stop - start
    # Late complications: anywhere in follow-up after the first month (if there is one).
    late_from = np.where(span > 30, 30, 0)
    day = start + late_from + np.floor(rng.random(k) * (span - late_from + 1)).astype(np.int64)
    for code, (low, high) in EARLY_ONSET.items():
        early = kind == COMPLICATION.index(code)
        if code == "infection":
            early &= rng.random(k) < 0.7
        day = np.where(early, start + rng.integers(low, high + 1, k), day)
    day = np.minimum(day, stop)
    detail = np.where(kind == COMPLICATION.index("other"), OTHER_COMPLICATIONS.draw(rng, k), -1)
    detail[detail == OTHER_COMPLICATIONS.index("")] = -1

    order = np.lexsort((day, patient))
    patient, kind, day, detail = patient[order], kind[order], day[order], detail[order]

    catheter = np.isin(kind, [COMPLICATION.index(c) for c in COMPLICATION.codes
                              if codes.complication_group(c) == "catheter"])
    revised = catheter & (rng.random(k) < CATHETER_REVISION_P)
    revision_day = day + rng.integers(0, 15, k)
    revised &= (revision_day > first[patient]) & (revision_day <= follow_end[patient])
    frame = {
        "patient": patient,
        "complication_date": _dates(day),
        "type": _lookup(COMPLICATION.codes, kind),
        "detail": _lookup(OTHER_COMPLICATIONS.codes, detail),
    }
    return frame, {"patient": patient[revised], "day": revision_day[revised]}


def _implantations(rng: np.random.Generator, people: dict[str, NDArray],
                   catheter_revisions: dict[str, Ints]) -> dict[str, object]:
    m = people["first"].size
    first, follow_end, birth = people["first"], people["follow_end"], people["birth"]

    # A new pump every 6–7 years while on therapy.
    gaps = np.maximum(rng.normal(6.5, 0.5, (m, MAX_REPLACEMENTS)), 4.5) * DAYS_PER_YEAR
    due = first[:, None] + np.cumsum(gaps.astype(np.int64), axis=1)
    replaced = due <= follow_end[:, None]
    replacement_patient = np.nonzero(replaced)[0]

    # Occasional revisions (no new pump): after catheter problems, and a few others.
    other = np.nonzero((rng.random(m) < RANDOM_REVISION_P) & (follow_end - first >= 2))[0]
    other_day = first[other] + 1 + np.floor(
        rng.random(other.size) * (follow_end[other] - first[other])).astype(np.int64)
    revision_patient = np.concatenate([catheter_revisions["patient"], other])
    revision_day = np.concatenate([catheter_revisions["day"], np.minimum(other_day,
                                                                         follow_end[other])])

    patient = np.concatenate([np.arange(m), replacement_patient, revision_patient])
    day = np.concatenate([first, due[replaced], revision_day])
    kind = np.concatenate([np.zeros(m, np.int64), np.ones(replacement_patient.size, np.int64),
                           np.full(revision_patient.size, 2, np.int64)])
    order = np.lexsort((kind, day, patient))
    patient, day, kind = patient[order], day[order], kind[order]
    k = patient.size
    year = _year(day)
    is_pump = kind < 2

    model = np.where(year >= 2023, _pump_index(PUMP_FROM_2023, rng, k),
                     _pump_index(PUMP_BEFORE_2023, rng, k))
    small = (day - birth[patient]) < 12 * DAYS_PER_YEAR
    reservoir = np.where(rng.random(k) < np.where(small, 0.8, 0.25), 20, 40)
    reservoir = np.where(model == PUMP_MODELS.index("constant_flow"), 35, reservoir)
    model = np.where(is_pump, model, -1)
    reservoir = np.where(is_pump, reservoir, 0)

    # The catheter of the initial implantation stays through pump replacements.
    initial_year = _year(first)
    catheter = np.where(initial_year >= 2012, _catheter_index(CATHETER_FROM_2012, rng, m),
                        _catheter_index(CATHETER_BEFORE_2012, rng, m))
    catheter[rng.random(m) < CATHETER_UNKNOWN_P] = -1
    tip = TIP_LEVEL.draw(rng, m)
    tip[rng.random(m) < TIP_UNKNOWN_P] = -1
    new_catheter = np.where(year >= 2012, CATHETER_TYPES.index("ascenda"),
                            CATHETER_TYPES.index("silicone"))
    catheter_type = np.where(kind == 2, new_catheter, catheter[patient])

    pump_reservoir = np.where(is_pump, reservoir, 10**6)
    min_reservoir = np.full(m, 10**6, dtype=np.int64)
    np.minimum.at(min_reservoir, patient, pump_reservoir)
    return {
        "patient": patient,
        "implant_date": _dates(day),
        "site": _lookup(SITE_CODES, _surgery_site(people, patient, day)),
        "kind": _lookup(codes.IMPLANTATION_KIND.codes, kind),
        "pump_model": _lookup(PUMP_MODELS, model),
        "reservoir_ml": pl.select(pl.when(pl.lit(pl.Series(is_pump)))
                                  .then(pl.lit(pl.Series(reservoir, dtype=pl.Int32))))
        .to_series(),
        "catheter_type": _lookup(CATHETER_TYPES, catheter_type),
        "catheter_tip_level": _lookup(TIP_LEVEL.codes, tip[patient]),
        "min_reservoir": min_reservoir,
    }


def _pump_index(weights: _Weights, rng: np.random.Generator, size: int) -> Ints:
    return np.array([PUMP_MODELS.index(c) for c in weights.codes])[weights.draw(rng, size)]


def _catheter_index(weights: _Weights, rng: np.random.Generator, size: int) -> Ints:
    return np.array([CATHETER_TYPES.index(c) for c in weights.codes])[weights.draw(rng, size)]


def _assessments(rng: np.random.Generator, people: dict[str, NDArray]) -> dict[str, object]:
    """Screening before the first implantation, each one followed up with the same instrument.

    A patient's rows come in pairs: row 2i is a screening, row 2i + 1 its follow-up.
    """
    m = people["first"].size
    count = ASSESSMENT_COUNT.draw(rng, m)
    patient = np.repeat(np.arange(m), count)
    k = patient.size
    group_start = np.cumsum(count) - count
    j = np.arange(k) - group_start[patient]
    follow_up = (j % 2) == 1
    pair_row = np.arange(k) - follow_up  # the screening row of each row's pair

    instrument = INSTRUMENT.draw(rng, k)[pair_row]
    body = BODY_SITE.draw(rng, k)[pair_row]
    with_body = np.isin(instrument, [INSTRUMENT.index(c) for c in INSTRUMENTS_WITH_BODY_SITE])
    body = np.where(with_body, body, -1)

    # Severity 0 (none) … 1 (worst) at screening, lower at follow-up.
    severity = rng.beta(4.0, 2.0, k)[pair_row]
    severity = np.where(follow_up, np.maximum(severity - rng.uniform(0.0, 0.4, k), 0.0),
                        severity)
    value = _assessment_values(instrument, severity)

    first, follow_end = people["first"][patient], people["follow_end"][patient]
    screening_day = first - rng.integers(0, 121, k)
    follow_up_day = np.minimum(first + rng.integers(60, 541, k), follow_end)
    day = np.where(follow_up, follow_up_day, screening_day)
    return {
        "patient": patient,
        "assessment_date": _dates(day),
        "instrument": _lookup(INSTRUMENT.codes, instrument),
        "phase": _lookup(codes.PHASE.codes, follow_up.astype(np.int64)),
        "body_site": _lookup(BODY_SITE.codes, body),
        "value": value,
    }


def _assessment_values(instrument: Ints, severity: Floats) -> pl.Series:
    """Each row's value as text on its instrument's scale (itb.domain.scales)."""
    vocabulary: list[str] = []
    index = np.zeros(instrument.size, dtype=np.int64)
    for code in INSTRUMENT.codes:
        scale = SCALES[code]
        if scale.is_ordinal:
            texts = list(scale.levels)
            position = np.rint(severity * (len(texts) - 1))
        elif code == "goniometry":  # joint range in degrees: worse spasticity, smaller range
            texts = [str(d) for d in range(-180, 181)]
            position = np.rint(170 - severity * 100) + 180
        elif code == "gmfm":  # per cent, one decimal
            texts = [f"{t / 10:.1f}" for t in range(1001)]
            position = np.rint((1 - severity) * 950)
        else:
            assert scale.integer and scale.minimum == 0 and scale.maximum is not None
            top = int(scale.maximum)
            texts = [str(v) for v in range(top + 1)]
            position = np.rint(severity * top)
        rows = instrument == INSTRUMENT.index(code)
        index = np.where(rows, len(vocabulary) + position.astype(np.int64), index)
        vocabulary += texts
    return _lookup(tuple(vocabulary), index)


def _refills(rng: np.random.Generator, people: dict[str, NDArray],
             min_reservoir: Ints) -> dict[str, object]:
    """Refills from about 30 days after the first implantation until therapy end or cut-off.

    Each patient has a daily dose and a concentration; the refill interval is what the
    smallest reservoir they had lasts at that dose, kept within 60–173 days.
    """
    m = people["first"].size
    first, follow_end = people["first"], people["follow_end"]
    reservoir = min_reservoir.astype(np.float64)
    dose = np.clip(rng.lognormal(np.log(220.0), 0.55, m), 50.0, 900.0)
    # Filled to 85–100 %, refilled before the 2 mL alarm (with a margin) and, jitter
    # included, within the 180-day stability limit: most refills are on time.
    lasts = (0.85 * reservoir[:, None] - 2.5) * CONCENTRATIONS[None, :] / dose[:, None]
    concentration = np.argmax(lasts >= 70, axis=1)
    concentration = np.where(lasts[:, -1] < 70, CONCENTRATIONS.size - 1, concentration)
    concentration = np.minimum(concentration + (rng.random(m) < 0.1), CONCENTRATIONS.size - 1)
    interval = np.clip(lasts[np.arange(m), concentration], 60.0, 173.0)

    start = first + rng.integers(26, 36, m)
    count = np.where(follow_end >= start, (follow_end - start) // interval + 1, 0)
    count = count.astype(np.int64)
    patient = np.repeat(np.arange(m), count)
    k = patient.size
    j = np.arange(k) - (np.cumsum(count) - count)[patient]
    jitter = np.where(j > 0, rng.integers(-7, 8, k), 0)
    day = start[patient] + np.rint(j * interval[patient]).astype(np.int64) + jitter
    keep = day <= follow_end[patient]
    patient, j, day = patient[keep], j[keep], day[keep]
    k = patient.size

    # Titrated up by at most 8 % a refill, with ±1.5 % adjustments: every step within the cap.
    titration = np.minimum(TITRATION_START * TITRATION_STEP ** j, 1.0)
    daily = np.clip(np.rint(dose[patient] * titration * rng.uniform(0.985, 1.015, k)), 50, 900)
    volume = np.round(reservoir[patient] * rng.uniform(0.85, 1.0, k), 1)
    return {
        "patient": patient,
        "refill_date": _dates(day),
        # As `itb export` writes a number (records.cell): 24, not 24.0.
        "volume_ml": pl.Series(volume, dtype=pl.Float64).cast(pl.String)
        .str.replace(r"\.0$", ""),
        "concentration_mcg_ml": pl.Series(CONCENTRATIONS[concentration[patient]],
                                          dtype=pl.Int32),
        "daily_dose_mcg": pl.Series(daily.astype(np.int64), dtype=pl.Int32),
        # For the residual volumes (_residuals); not columns of the file.
        "_day": day, "_volume": volume, "_j": j,
        "_rate": daily / CONCENTRATIONS[concentration[patient]],
    }


def _residuals(rng: np.random.Generator, refills: dict[str, object]) -> pl.Series:
    """What was withdrawn at each refill: the expected residual (previous volume − previous
    rate × days) give or take 5 % of the volume delivered; a few far off (a fault: the pump
    delivered much less). None at a patient's first refill (filled at surgery) and sometimes
    not recorded."""
    day = np.asarray(refills["_day"], dtype=np.int64)
    volume = np.asarray(refills["_volume"], dtype=np.float64)
    rate = np.asarray(refills["_rate"], dtype=np.float64)
    j = np.asarray(refills["_j"], dtype=np.int64)
    k = day.size
    previous = np.maximum(np.arange(k) - 1, 0)
    delivered = rate[previous] * (day - day[previous])
    expected = np.maximum(volume[previous] - delivered, 0.0)
    noise = rng.normal(0.0, 0.05, k) * delivered
    fault = rng.random(k) < RESIDUAL_FAULT_P
    residual = np.where(fault, expected + np.maximum(3.0, 0.5 * delivered), expected + noise)
    residual = np.round(np.clip(residual, 0.0, 100.0), 1)
    recorded = (j > 0) & (rng.random(k) >= RESIDUAL_MISSING_P)
    series = pl.Series(np.where(recorded, residual, np.nan), dtype=pl.Float64)
    # As `itb export` writes a number (records.cell): 3, not 3.0; empty when not recorded.
    return (pl.select(pl.when(series.is_nan()).then(None).otherwise(series)).to_series()
            .cast(pl.String).str.replace(r"\.0$", ""))


def _origins(rng: np.random.Generator, people: dict[str, NDArray]) -> Ints:
    """Index into codes.SPASTICITY_ORIGIN by diagnosis (either, by chance, for injuries and
    others), sometimes unknown (-1)."""
    diagnosis = people["diagnosis"]
    m = diagnosis.size
    by_code = np.array([ORIGIN_BY_DIAGNOSIS.get(code, -1) for code in DIAGNOSIS.codes])
    origin = np.where(by_code[diagnosis] >= 0, by_code[diagnosis], rng.integers(0, 2, m))
    return np.where(rng.random(m) < ORIGIN_UNKNOWN_P, -1, origin).astype(np.int64)


def _screening_trials(rng: np.random.Generator, people: dict[str, NDArray]
                      ) -> dict[str, object]:
    """Bolus trials of 25, 50, … µg on consecutive days up to the first dose that worked,
    3–8 weeks before the first implantation (for most patients: some have none recorded).
    Every patient here got a pump, so each responded by 100 µg."""
    first, birth = people["first"], people["birth"]
    m = first.size
    recorded = rng.random(m) < TRIALS_RECORDED_P
    responded_at = TRIAL_RESPONSE.draw(rng, m)  # 0: 25 µg … 3: 100 µg
    offset = np.minimum(rng.integers(21, 57, m), first - birth - 5)
    count = np.where(recorded, responded_at + 1, 0)
    patient = np.repeat(np.arange(m), count)
    j = np.arange(patient.size) - (np.cumsum(count) - count)[patient]
    return {
        "patient": patient,
        "trial_date": _dates(first[patient] - offset[patient] + j),
        "dose_mcg": pl.Series(25 * (j + 1), dtype=pl.Int32),
        "response": _lookup(("no", "yes"), (j == responded_at[patient]).astype(np.int64)),
        "side_effects": _lookup(SIDE_EFFECTS.codes, SIDE_EFFECTS.draw(rng, patient.size)),
    }


# --- Columns -------------------------------------------------------------------------------


def _lookup(vocabulary: tuple[str, ...], index: Ints) -> pl.Series:
    """Text column from indices into ``vocabulary``; -1 (or an empty text) is null."""
    nullable = pl.select(pl.when(pl.lit(pl.Series(index >= 0)))
                         .then(pl.lit(pl.Series(index, dtype=pl.Int64)))).to_series()
    texts = pl.Series([text or None for text in vocabulary], dtype=pl.String)
    return texts.gather(nullable)


def _dates(days: Ints, present: Bools | None = None) -> pl.Series:
    series = pl.Series(days.astype(np.int32)).cast(pl.Date)
    if present is None:
        return series
    return pl.select(pl.when(pl.lit(pl.Series(present))).then(pl.lit(series))).to_series()

