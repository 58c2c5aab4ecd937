#!/usr/bin/env python3
"""Build the synthetic ITB reference cohort in ``data/reference-cohort/``.

The cohort is SYNTHETIC: no row describes a real person.  It is designed so that every
published figure of the Estonian intrathecal baclofen study (Soomre, Tammaru,
Kadastik-Eerme, Eesti Arst 2024) can be reproduced from it.  Where the article is silent
(per-year counts of Figure 2, exact ages, dates, catheter tip levels, assessments, refills)
the choices below are ours; see ``data/reference-cohort/README.md``.

The constrained fields are written out as explicit tables (``PEOPLE``, ``THERAPY``,
``LATER_SURGERIES``, ``COMPLICATIONS``, ``ASSESSMENTS``, ``ORIGIN``).  Only the refill
schedule and the bolus trials are derived by small deterministic rules.  There is no
randomness.  Relative to the cut-off (the date the demo's follow-up board is computed for)
the refills leave exactly one patient overdue (``OVERDUE_PATIENT``), one residual volume far
from the expected one (``RESIDUAL_FAULT_PATIENT``) and a few patients due within 30 days.

After writing, the script reads its own CSV files back and checks every published target
with plain assertions (an independent computation), so a successful run proves them.

Usage:  python scripts/build_reference_cohort.py [output_dir]
"""

import csv
import math
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

CUTOFF = date(2024, 7, 31)
OUT_DIR = Path(__file__).resolve().parent.parent / "data" / "reference-cohort"

# ---------------------------------------------------------------------------------------------
# Code abbreviations used in the tables
# ---------------------------------------------------------------------------------------------
CP = "cerebral_palsy"
HSP = "hereditary_spastic_paraplegia"
MS = "multiple_sclerosis"
TRAUMA = "brain_spinal_cord_injury"
NEUROINF = "neuroinfection"
AIE = "autoimmune_encephalitis"
OTHER = "other"

TETRA = "spastic_tetraparesis"
PARA = "spastic_paraparesis"
HEMI = "spastic_hemiparesis"
DYST = "generalised_dystonia"
TETRA_D = "spastic_tetraparesis_dystonia"

DEATH = "death"
RNP = "replacement_not_possible"

COLUMNS: dict[str, str] = {
    "patients.csv": (
        "patient_id,site,sex,birth_date,diagnosis,diagnosis_detail,syndrome,"
        "functional_level,contractures_before,therapy_end_date,therapy_end_reason,"
        "spasticity_origin"
    ),
    "implantations.csv": (
        "patient_id,implant_date,site,kind,pump_model,reservoir_ml,catheter_type,catheter_tip_level"
    ),
    "complications.csv": "patient_id,complication_date,type,detail",
    "assessments.csv": "patient_id,assessment_date,instrument,phase,body_site,value",
    "refills.csv": (
        "patient_id,refill_date,volume_ml,concentration_mcg_ml,daily_dose_mcg,residual_ml"
    ),
    "screening_trials.csv": "patient_id,trial_date,dose_mcg,response,side_effects",
    "sites.csv": "code,name",
}

SITES: tuple[tuple[str, str], ...] = (
    ("TLH", "Tallinna Lastehaigla"),
    ("TUK", "Tartu Ülikooli Kliinikum"),
    ("PERH", "Põhja-Eesti Regionaalhaigla"),
    ("LTKH", "Lääne-Tallinna Keskhaigla"),
)

# ---------------------------------------------------------------------------------------------
# Per-patient tables.  Patient ids follow the date of the first implantation.
# ---------------------------------------------------------------------------------------------
# (patient_id, follow-up site, sex, birth_date, diagnosis, syndrome, functional level,
#  contractures before ITB)
PEOPLE: tuple[tuple[str, str, str, str, str, str, str, str], ...] = (
    ("ITB001", "TLH", "M", "2001-11-24", CP, TETRA, "low", "yes"),
    ("ITB002", "LTKH", "F", "2005-06-23", CP, TETRA_D, "low", "yes"),
    ("ITB003", "TLH", "F", "2008-04-21", OTHER, TETRA, "low", "yes"),
    ("ITB004", "PERH", "M", "1996-11-11", OTHER, TETRA_D, "low", "yes"),
    ("ITB005", "LTKH", "F", "2005-09-06", OTHER, TETRA, "low", "yes"),
    ("ITB006", "PERH", "M", "2002-04-04", CP, TETRA, "low", "yes"),
    ("ITB007", "TLH", "M", "2011-02-22", CP, TETRA, "low", "yes"),
    ("ITB008", "TUK", "M", "1986-05-25", HSP, PARA, "high", "no"),
    ("ITB009", "TLH", "M", "2008-05-22", CP, TETRA, "low", "yes"),
    ("ITB010", "PERH", "M", "2005-04-25", CP, PARA, "high", "yes"),
    ("ITB011", "TUK", "M", "1991-03-22", TRAUMA, PARA, "high", "no"),
    ("ITB012", "TLH", "F", "2006-01-08", CP, TETRA_D, "low", "yes"),
    ("ITB013", "TUK", "M", "2001-11-28", CP, TETRA, "low", "yes"),
    ("ITB014", "TUK", "F", "1980-05-02", MS, PARA, "high", "no"),
    ("ITB015", "LTKH", "M", "1955-03-01", OTHER, TETRA, "low", "yes"),
    ("ITB016", "TLH", "M", "2011-12-05", CP, TETRA, "low", "no"),
    ("ITB017", "PERH", "F", "2002-10-24", CP, PARA, "high", "yes"),
    ("ITB018", "PERH", "M", "1978-03-21", TRAUMA, TETRA, "high", "yes"),
    ("ITB019", "TLH", "F", "2005-12-24", CP, TETRA, "low", "yes"),
    ("ITB020", "LTKH", "M", "1974-10-29", HSP, PARA, "high", "no"),
    ("ITB021", "TUK", "M", "1984-09-25", NEUROINF, TETRA, "low", "no"),
    ("ITB022", "PERH", "M", "1961-01-30", OTHER, TETRA, "low", "yes"),
    ("ITB023", "TLH", "M", "2005-11-04", CP, PARA, "low", "yes"),
    ("ITB024", "TUK", "F", "1970-09-01", MS, PARA, "high", "no"),
    ("ITB025", "TLH", "M", "2006-07-10", OTHER, DYST, "low", "no"),
    ("ITB026", "PERH", "M", "1954-04-14", TRAUMA, TETRA, "high", "yes"),
    ("ITB027", "TLH", "M", "2006-08-12", CP, TETRA, "low", "yes"),
    ("ITB028", "TUK", "F", "2006-06-04", CP, TETRA_D, "low", "yes"),
    ("ITB029", "TLH", "M", "2014-03-27", CP, HEMI, "high", "no"),
    ("ITB030", "PERH", "M", "2001-12-23", CP, TETRA, "low", "yes"),
    ("ITB031", "TUK", "M", "1999-10-16", CP, TETRA_D, "high", "yes"),
    ("ITB032", "PERH", "F", "1988-08-14", OTHER, TETRA, "high", "yes"),
    ("ITB033", "PERH", "M", "1968-07-07", TRAUMA, TETRA, "high", "yes"),
    ("ITB034", "TLH", "F", "2005-08-19", CP, TETRA, "low", "yes"),
    ("ITB035", "TUK", "F", "2004-06-18", OTHER, PARA, "high", "no"),
    ("ITB036", "PERH", "F", "1998-04-10", CP, PARA, "low", "yes"),
    ("ITB037", "TUK", "F", "1994-01-20", AIE, TETRA, "low", "no"),
    ("ITB038", "TUK", "M", "1964-11-19", OTHER, PARA, "high", "no"),
    ("ITB039", "PERH", "M", "1960-11-20", MS, TETRA, "high", "no"),
    ("ITB040", "TUK", "M", "2005-11-17", TRAUMA, TETRA, "high", "no"),
    ("ITB041", "PERH", "M", "1982-09-16", OTHER, TETRA, "low", "no"),
    ("ITB042", "TUK", "F", "1975-07-30", MS, PARA, "low", "no"),
    ("ITB043", "PERH", "F", "1968-06-11", OTHER, TETRA, "low", "yes"),
)

# Free-text diagnosis detail (English).  For `other` the article's list of ten conditions is
# used for eleven patients, so "cerebral infarction" occurs twice.
DETAILS: dict[str, str] = {
    "ITB003": "brain developmental anomaly",
    "ITB004": "progressive monogenic neurodegenerative disease",
    "ITB005": "Rett syndrome",
    "ITB008": "hereditary spastic paraplegia (SPG4)",
    "ITB011": "traumatic spinal cord injury",
    "ITB014": "secondary progressive multiple sclerosis",
    "ITB015": "cerebral infarction",
    "ITB018": "traumatic cervical spinal cord injury",
    "ITB020": "hereditary spastic paraplegia",
    "ITB021": "tick-borne encephalitis",
    "ITB022": "cervical epidural abscess",
    "ITB024": "primary progressive multiple sclerosis",
    "ITB025": "pantothenate kinase-associated neurodegeneration",
    "ITB026": "traumatic brain injury",
    "ITB032": "Labrune syndrome",
    "ITB033": "traumatic cervical spinal cord injury",
    "ITB035": "tethered cord with epidermoid cyst",
    "ITB037": "anti-NMDA receptor encephalitis",
    "ITB038": "transverse myelitis",
    "ITB039": "secondary progressive multiple sclerosis",
    "ITB040": "traumatic brain injury",
    "ITB041": "anoxic brain injury",
    "ITB042": "primary progressive multiple sclerosis",
    "ITB043": "cerebral infarction",
}

# (patient_id, initial implantation date, implanting site, catheter tip level ("" = unknown),
#  reservoir ml, plateau daily dose mcg, therapy_end_date, therapy_end_reason)
THERAPY: tuple[tuple[str, str, str, str, int, int, str, str], ...] = (
    ("ITB001", "2012-12-11", "TLH", "", 20, 240, "2019-06-18", RNP),
    ("ITB002", "2013-10-15", "TLH", "", 20, 180, "", ""),
    ("ITB003", "2014-11-18", "TLH", "T9", 20, 120, "2022-10-04", DEATH),
    ("ITB004", "2015-09-15", "TLH", "T2", 40, 420, "2023-03-07", DEATH),
    ("ITB005", "2015-11-10", "TLH", "T2", 20, 150, "", ""),
    ("ITB006", "2016-09-13", "TLH", "T9", 40, 300, "", ""),
    ("ITB007", "2016-11-08", "TLH", "T11", 20, 90, "", ""),
    ("ITB008", "2017-05-16", "TUK", "T10", 40, 350, "", ""),
    ("ITB009", "2017-09-12", "TLH", "T12", 20, 160, "", ""),
    ("ITB010", "2017-11-21", "TLH", "T10", 20, 200, "", ""),
    ("ITB011", "2018-01-23", "TUK", "T11", 40, 480, "", ""),
    ("ITB012", "2018-03-13", "TLH", "T4", 20, 220, "", ""),
    ("ITB013", "2018-05-08", "TUK", "T8", 40, 260, "", ""),
    ("ITB014", "2019-01-15", "TUK", "T10", 40, 650, "", ""),
    ("ITB015", "2019-02-19", "PERH", "T5", 40, 300, "2022-04-12", DEATH),
    ("ITB016", "2019-03-26", "TLH", "T12", 20, 110, "", ""),
    ("ITB017", "2019-05-21", "TLH", "T10", 40, 250, "", ""),
    ("ITB018", "2020-01-21", "PERH", "T6", 40, 520, "", ""),
    ("ITB019", "2020-02-25", "TLH", "T9", 40, 200, "", ""),
    ("ITB020", "2020-04-07", "PERH", "T10", 40, 400, "", ""),
    ("ITB021", "2020-06-09", "TUK", "T7", 40, 350, "", ""),
    ("ITB022", "2021-01-19", "PERH", "T5", 40, 280, "2024-01-09", DEATH),
    ("ITB023", "2021-02-23", "TLH", "T10", 40, 230, "", ""),
    ("ITB024", "2021-03-30", "TUK", "T11", 40, 450, "", ""),
    ("ITB025", "2021-05-11", "TLH", "C4", 40, 320, "", ""),
    ("ITB026", "2021-06-15", "PERH", "C7", 40, 300, "", ""),
    ("ITB027", "2022-01-18", "TLH", "T8", 40, 210, "", ""),
    ("ITB028", "2022-02-15", "TUK", "T4", 40, 260, "", ""),
    ("ITB029", "2022-03-15", "TLH", "C6", 20, 80, "", ""),
    ("ITB030", "2022-04-12", "PERH", "T8", 40, 330, "", ""),
    ("ITB031", "2022-05-10", "TUK", "T4", 40, 380, "", ""),
    ("ITB032", "2022-06-14", "PERH", "T3", 40, 300, "", ""),
    ("ITB033", "2022-09-06", "PERH", "T8", 40, 600, "", ""),
    ("ITB034", "2023-01-24", "TLH", "T7", 40, 190, "", ""),
    ("ITB035", "2023-02-28", "TUK", "T10", 40, 280, "", ""),
    ("ITB036", "2023-03-28", "PERH", "T10", 40, 310, "", ""),
    ("ITB037", "2023-05-09", "TUK", "T7", 40, 360, "", ""),
    ("ITB038", "2023-06-13", "TUK", "T10", 40, 420, "", ""),
    ("ITB039", "2023-09-19", "PERH", "T1", 40, 500, "", ""),
    ("ITB040", "2024-01-16", "TUK", "C5", 40, 400, "", ""),
    ("ITB041", "2024-02-20", "PERH", "T6", 40, 350, "", ""),
    ("ITB042", "2024-04-09", "TUK", "T11", 40, 400, "", ""),
    ("ITB043", "2024-05-28", "PERH", "T6", 40, 300, "", ""),
)

# Surgeries after the initial implantation: (patient_id, date, site, kind, reservoir_ml).
# `replacement` = new pump (battery end after ~6-7 years; ITB002's first replacement is the
# explant + new pump after the pump-pocket infection).  `revision` = catheter revision after a
# catheter complication, no new pump (reservoir 0 -> pump fields left empty).
LATER_SURGERIES: tuple[tuple[str, str, str, str, int], ...] = (
    ("ITB002", "2014-11-04", "TLH", "replacement", 20),
    ("ITB002", "2021-05-04", "TLH", "replacement", 40),
    ("ITB003", "2021-04-13", "TLH", "replacement", 20),
    ("ITB004", "2022-02-08", "PERH", "replacement", 40),
    ("ITB005", "2022-05-17", "TLH", "replacement", 40),
    ("ITB006", "2021-01-29", "PERH", "revision", 0),
    ("ITB006", "2023-02-14", "PERH", "replacement", 40),
    ("ITB007", "2023-04-18", "TLH", "replacement", 20),
    ("ITB008", "2023-10-24", "TUK", "replacement", 40),
    ("ITB009", "2024-01-30", "TLH", "replacement", 40),
    ("ITB010", "2019-03-05", "TLH", "revision", 0),
    ("ITB010", "2022-08-02", "TLH", "revision", 0),
    ("ITB010", "2024-03-26", "PERH", "replacement", 40),
    ("ITB011", "2024-02-06", "TUK", "replacement", 40),
    ("ITB012", "2024-04-16", "TLH", "replacement", 40),
    ("ITB013", "2019-04-03", "TUK", "revision", 0),
    ("ITB013", "2024-06-18", "TUK", "replacement", 40),
    ("ITB014", "2024-06-25", "TUK", "replacement", 40),
    ("ITB018", "2021-07-28", "PERH", "revision", 0),
    ("ITB024", "2023-02-13", "TUK", "revision", 0),
)

# (patient_id, date, type, detail).  Days after the preceding surgery are in the comments.
COMPLICATIONS: tuple[tuple[str, str, str, str], ...] = (
    # 377 d after the initial implantation; explant + new pump on 2014-11-04
    ("ITB002", "2014-10-27", "infection", "pump pocket infection"),
    # 38 d after the initial implantation
    ("ITB006", "2016-10-21", "csf_leak", "CSF leak at the lumbar incision; treated conservatively"),
    # 1593 d after the initial implantation
    ("ITB006", "2021-01-23", "catheter_kink", "kink at the paraspinal anchor; catheter revised"),
    # 462 d after the initial implantation
    ("ITB010", "2019-02-26", "catheter_break", "catheter fracture; catheter revised"),
    # 1238 d after the catheter revision of 2019-03-05
    ("ITB010", "2022-07-25", "catheter_kink", "kink after growth; catheter revised"),
    # 326 d after the initial implantation
    ("ITB013", "2019-03-30", "catheter_occlusion", "occluded catheter tip; catheter revised"),
    # 24 d after the initial implantation
    ("ITB018", "2020-02-14", "csf_leak", "subcutaneous CSF collection; resolved"),
    # 549 d after the initial implantation
    ("ITB018", "2021-07-23", "catheter_break", "catheter fracture; catheter revised"),
    # 682 d after the initial implantation
    ("ITB024", "2023-02-10", "catheter_disconnection", "disconnected at the pump; revised"),
    # 48 d after the initial implantation
    ("ITB033", "2022-10-24", "csf_leak", "CSF leak; epidural blood patch"),
)

# (patient_id, instrument, body_site, screening value, follow-up value ("" = none)).
# Screening is 3 weeks before the initial implantation, follow-up 26 weeks after it.
ASSESSMENTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("ITB006", "mas", "left hip adductors", "3", "1+"),
    ("ITB007", "gmfm", "", "18.5", "21.0"),
    ("ITB007", "mas", "left hip adductors", "4", "2"),
    ("ITB008", "goniometry", "right knee (popliteal angle)", "70", "45"),
    ("ITB009", "mas", "right knee flexors", "3", "2"),
    ("ITB010", "goniometry", "right knee (popliteal angle)", "65", "40"),
    ("ITB010", "mas", "right knee flexors", "3", "1"),
    ("ITB011", "mas", "right knee flexors", "3", "1"),
    ("ITB012", "goniometry", "left knee (popliteal angle)", "80", "60"),
    ("ITB012", "mas", "left hip adductors", "4", "2"),
    ("ITB013", "mas", "left hip adductors", "3", "2"),
    ("ITB014", "mas", "right knee flexors", "2", "1"),
    ("ITB016", "gmfm", "", "24.0", "27.5"),
    ("ITB016", "mas", "left hip adductors", "3", "1+"),
    ("ITB017", "goniometry", "right knee (popliteal angle)", "60", "35"),
    ("ITB017", "mas", "right knee flexors", "2", "1"),
    ("ITB018", "mas", "left knee flexors", "3", "1+"),
    ("ITB019", "gmfm", "", "31.2", "33.8"),
    ("ITB019", "mas", "left hip adductors", "3", "1+"),
    ("ITB020", "goniometry", "left knee (popliteal angle)", "55", "40"),
    ("ITB023", "goniometry", "right knee (popliteal angle)", "75", "50"),
    ("ITB023", "mas", "right knee flexors", "3", "1+"),
    ("ITB024", "mas", "right knee flexors", "2", "1"),
    ("ITB025", "mas", "right elbow flexors", "2", "1+"),
    ("ITB027", "gmfm", "", "27.9", "30.1"),
    ("ITB027", "mas", "left hip adductors", "4", "2"),
    ("ITB028", "goniometry", "left knee (popliteal angle)", "85", "65"),
    ("ITB028", "mas", "left hip adductors", "3", "2"),
    ("ITB029", "gmfm", "", "71.4", "74.0"),
    ("ITB030", "mas", "left hip adductors", "3", "1+"),
    ("ITB031", "mas", "right hip adductors", "3", "1"),
    ("ITB032", "mas", "left knee flexors", "2", "1"),
    ("ITB033", "mas", "right knee flexors", "3", "1"),
    ("ITB034", "gmfm", "", "35.6", "38.2"),
    ("ITB034", "mas", "left hip adductors", "3", "1+"),
    ("ITB035", "goniometry", "right knee (popliteal angle)", "60", "45"),
    ("ITB036", "goniometry", "left knee (popliteal angle)", "70", "50"),
    ("ITB037", "mas", "left hip adductors", "3", "1+"),
    ("ITB038", "mas", "right knee flexors", "3", "1"),
    ("ITB039", "mas", "left knee flexors", "2", "1"),
    ("ITB040", "mas", "right elbow flexors", "3", "1+"),
    ("ITB041", "mas", "left hip adductors", "3", ""),
    ("ITB042", "mas", "right knee flexors", "3", ""),
    ("ITB043", "mas", "left hip adductors", "4", ""),
)

SCREENING_BEFORE = timedelta(days=21)
FOLLOW_UP_AFTER = timedelta(days=182)

# Spasticity origin: brain diseases cerebral, spinal-cord ones spinal; by diagnosis, and by
# the detail for injuries and `other` ("" = unknown: a neurodegenerative disease of both).
ORIGIN_BY_DIAGNOSIS = {CP: "cerebral", NEUROINF: "cerebral", AIE: "cerebral", HSP: "spinal",
                       MS: "spinal"}
ORIGIN: dict[str, str] = {
    "ITB003": "cerebral", "ITB004": "", "ITB005": "cerebral", "ITB011": "spinal",
    "ITB015": "cerebral", "ITB018": "spinal", "ITB022": "spinal", "ITB025": "cerebral",
    "ITB026": "cerebral", "ITB032": "cerebral", "ITB033": "spinal", "ITB035": "spinal",
    "ITB038": "spinal", "ITB040": "cerebral", "ITB041": "cerebral", "ITB043": "cerebral",
}

# Refill arithmetic (docs/follow-up.md): the low-reservoir alarm of the SynchroMed II, the
# drug-stability limit, the stricter (cerebral) titration cap, the residual tolerance.
ALARM_ML = 2
STABILITY_DAYS = 180
TITRATION_CAP = 0.15
RESIDUAL_TOLERANCE = (0.20, 2.0)  # of the delivered volume, or mL, whichever is larger
# The demo's follow-up board at the cut-off: this patient missed the last refill (overdue),
# and this one's latest residual is far above the expected one (a catheter problem?).
# These three have not come yet for a refill due within 30 days of the cut-off.
OVERDUE_PATIENT = "ITB021"
RESIDUAL_FAULT_PATIENT = "ITB024"
DUE_SOON_PATIENTS = ("ITB008", "ITB017", "ITB029")
# The window (days from the cut-off) the due date of their last refill falls in.
LAST_DUE = {OVERDUE_PATIENT: (-28, -7), **{pid: (3, 30) for pid in DUE_SOON_PATIENTS}}

# Bolus trials: 25, 50, … µg on consecutive days, the last (the dose that worked) on the day
# of the screening assessments, 3 weeks before the implantation; the doses that worked, in
# patient order, cycle through this list.
RESPONSE_DOSES = (50, 50, 25, 75, 50, 100, 50, 25, 75, 50, 50)
SIDE_EFFECTS = {"ITB004": "nausea", "ITB012": "drowsiness", "ITB021": "headache",
                "ITB030": "transient hypotonia of the legs", "ITB038": "nausea"}


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Surgery:
    patient_id: str
    day: date
    site: str
    kind: str
    reservoir_ml: int  # 0 for revisions (no pump)
    tip: str


def d(text: str) -> date:
    return date.fromisoformat(text)


def surgeries() -> list[Surgery]:
    tips = {row[0]: row[3] for row in THERAPY}
    rows = [Surgery(row[0], d(row[1]), row[2], "initial", row[4], row[3]) for row in THERAPY]
    for pid, day, site, kind, res in LATER_SURGERIES:
        rows.append(Surgery(pid, d(day), site, kind, res, tips[pid]))
    return sorted(rows, key=lambda s: (s.patient_id, s.day))


def therapy_stop(pid: str) -> date:
    """First day on which nothing may happen any more (therapy end, or the day after cut-off)."""
    end = next(row[6] for row in THERAPY if row[0] == pid)
    return d(end) if end else CUTOFF + timedelta(days=1)


def due_in_days(volume: float, conc: float, dose: float) -> int:
    """Days from a refill to the next one due: to the low-reservoir alarm, at most the
    drug-stability limit (whole days, rounded down)."""
    return min(math.floor((volume - ALARM_ML) * conc / dose + 1e-9), STABILITY_DAYS)


def refill_rows(all_surgeries: list[Surgery]) -> list[list[str]]:
    """Deterministic refill schedule.

    Per pump: first refill 30 days after implantation, then every 60-180 days, at ~75 % of
    the time to the low-reservoir alarm (at most 13 weeks apart while titrating).  The dose
    starts at half the patient's plateau dose and rises by at most 15 % a refill (the
    stricter titration cap) until the plateau.  Refills stop before the next pump, before an
    infection of the pump, and before therapy end / after the cut-off; the overdue
    patient's stop at the last refill whose due date is 1–4 weeks before the cut-off, the
    due-soon patients' at the last one due within 30 days after it.

    The residual withdrawn is the expected one (previous volume - previous rate x days)
    within 0.2 mL, except for the fault patient's latest refill; empty at the first refill
    of a pump (filled at surgery).
    """
    plateau = {row[0]: row[5] for row in THERAPY}
    infections = {d(c[1]) for c in COMPLICATIONS if c[2] == "infection"}
    out: list[list[str]] = []
    by_patient: dict[str, list[Surgery]] = defaultdict(list)
    for s in all_surgeries:
        if s.kind != "revision":
            by_patient[s.patient_id].append(s)
    for pid, pumps in sorted(by_patient.items()):
        for i, pump in enumerate(pumps):
            stop = pumps[i + 1].day if i + 1 < len(pumps) else therapy_stop(pid)
            stop = min([stop, *(x for x in infections if pump.day < x < stop)])
            volume = pump.reservoir_ml - 2
            conc = next((c for c in (500, 1000, 2000) if volume * c / plateau[pid] >= 100), 2000)
            day = pump.day + timedelta(days=30)
            previous: tuple[date, int] | None = None  # day and dose of this pump's last refill
            while day < stop:
                dose = dose_at(pid, previous[1] if previous else None, plateau[pid])
                interval = int(due_in_days(volume, conc, dose) * 0.75)
                interval = max(60, min(91 if dose < plateau[pid] else STABILITY_DAYS, interval))
                residual = ""
                if previous is not None:
                    expected = max(volume - previous[1] / conc * (day - previous[0]).days, 0.0)
                    residual = ml(max(expected + ((len(out) % 5) - 2) / 10, 0.0))
                out.append([pid, day.isoformat(), str(volume), str(conc), str(dose), residual])
                previous = (day, dose)
                day += timedelta(days=interval)
    out = [row for row in out if not _missed(row, out)]
    return [_with_fault(row, out) for row in out]


_doses: dict[str, int] = {}  # each patient's dose so far (titration carries over pumps)


def dose_at(pid: str, previous: int | None, plateau: int) -> int:
    """Half the plateau at first, then up by at most 15 % (in 5 µg steps) to the plateau."""
    last = _doses.get(pid) if previous is None else previous
    if last is None:
        dose = max(50, round(plateau * 0.5 / 5) * 5)
    else:
        dose = min(plateau, max(last + 5, math.floor(last * (1 + TITRATION_CAP) / 5) * 5))
    _doses[pid] = dose
    return dose


def _due(row: list[str]) -> date:
    return d(row[1]) + timedelta(days=due_in_days(float(row[2]), float(row[3]), float(row[4])))


def _missed(row: list[str], rows: list[list[str]]) -> bool:
    """A refill of a LAST_DUE patient after the latest one whose due date falls in the
    patient's window (the overdue patient did not come; the others are yet to come)."""
    if row[0] not in LAST_DUE:
        return False
    first, last = (CUTOFF + timedelta(days=days) for days in LAST_DUE[row[0]])
    own = [r for r in rows if r[0] == row[0]]
    latest = next(r for r in reversed(own) if first <= _due(r) <= last)
    return d(row[1]) > d(latest[1])


def _with_fault(row: list[str], rows: list[list[str]]) -> list[str]:
    """The fault patient's latest refill: far more left in the reservoir than expected."""
    own = [r for r in rows if r[0] == RESIDUAL_FAULT_PATIENT]
    if row is not own[-1]:
        return row
    previous = own[-2]
    delivered = float(previous[4]) / float(previous[3]) * (d(row[1]) - d(previous[1])).days
    expected = max(float(previous[2]) - delivered, 0.0)
    return [*row[:5], ml(min(expected + max(4.0, 0.5 * delivered), float(previous[2])))]


def ml(volume: float) -> str:
    """A volume to 0.1 mL, written as ``itb export`` writes a number: 22, not 22.0."""
    text = f"{volume:.1f}"
    return text.removesuffix(".0")


def screening_rows() -> list[list[str]]:
    """Bolus trials up to the dose that worked, ending on the screening assessment day."""
    out: list[list[str]] = []
    for index, (pid, initial, *_rest) in enumerate(THERAPY):
        worked = RESPONSE_DOSES[index % len(RESPONSE_DOSES)]
        doses = list(range(25, worked + 1, 25))
        last_day = d(initial) - SCREENING_BEFORE
        for k, dose in enumerate(doses):
            day = last_day - timedelta(days=len(doses) - 1 - k)
            response = "yes" if dose == worked else "no"
            side = SIDE_EFFECTS.get(pid, "") if dose == worked else ""
            out.append([pid, day.isoformat(), str(dose), response, side])
    return out


def assessment_rows() -> list[list[str]]:
    initial = {row[0]: d(row[1]) for row in THERAPY}
    out: list[list[str]] = []
    for pid, instrument, body_site, before, after in ASSESSMENTS:
        screening = initial[pid] - SCREENING_BEFORE
        out.append([pid, screening.isoformat(), instrument, "screening", body_site, before])
        if after:
            follow_up = initial[pid] + FOLLOW_UP_AFTER
            if follow_up >= therapy_stop(pid):
                raise ValueError(f"{pid}: follow-up {follow_up} after therapy end / cut-off")
            out.append([pid, follow_up.isoformat(), instrument, "follow_up", body_site, after])
    return out


def write_csv(out_dir: Path, name: str, rows: list[list[str]]) -> None:
    with (out_dir / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS[name].split(","))
        writer.writerows(rows)


def pump_fields(s: Surgery) -> tuple[str, str]:
    """pump_model and reservoir_ml; empty on revisions (no new pump)."""
    return ("", "") if s.kind == "revision" else ("synchromed_ii", str(s.reservoir_ml))


def build(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    therapy = {row[0]: row for row in THERAPY}
    patients = [
        [pid, site, sex, birth, dx, DETAILS.get(pid, ""), syn, level, contr, *therapy[pid][6:8],
         ORIGIN.get(pid, ORIGIN_BY_DIAGNOSIS.get(dx, ""))]
        for pid, site, sex, birth, dx, syn, level, contr in PEOPLE
    ]
    write_csv(out_dir, "patients.csv", sorted(patients))
    all_surgeries = surgeries()
    implant_rows = [
        [s.patient_id, s.day.isoformat(), s.site, s.kind, *pump_fields(s), "ascenda", s.tip]
        for s in all_surgeries
    ]
    write_csv(out_dir, "implantations.csv", implant_rows)
    write_csv(out_dir, "complications.csv", sorted([list(c) for c in COMPLICATIONS]))
    assessments = sorted(assessment_rows(), key=lambda r: (r[0], r[1], r[2], r[4]))
    write_csv(out_dir, "assessments.csv", assessments)
    refills = sorted(refill_rows(all_surgeries), key=lambda r: (r[0], r[1]))
    write_csv(out_dir, "refills.csv", refills)
    write_csv(out_dir, "screening_trials.csv", screening_rows())
    write_csv(out_dir, "sites.csv", [list(s) for s in SITES])
    (out_dir / "dataset.toml").write_text(
        "# SYNTHETIC data: no real person. Built by scripts/build_reference_cohort.py to\n"
        "# reproduce the published figures of Soomre, Tammaru, Kadastik-Eerme (Eesti Arst 2024).\n"
        'title = "ITB reference cohort (synthetic, Estonia 2012-2024)"\n'
        "cutoff = 2024-07-31\n",
        encoding="utf-8",
        newline="\n",
    )


# ---------------------------------------------------------------------------------------------
# Self-check: read the CSV files back and verify every target independently
# ---------------------------------------------------------------------------------------------
def read(out_dir: Path, name: str) -> list[dict[str, str]]:
    raw = (out_dir / name).read_bytes()
    assert b"\r" not in raw, f"{name}: CR line endings"
    text = raw.decode("utf-8")
    assert text.splitlines()[0] == COLUMNS[name], f"{name}: header"
    return list(csv.DictReader(text.splitlines()))


def quantile7(values: list[float], p: float) -> float:
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def completed_years(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def rounds_to(value: float, target: float) -> bool:
    """Round(value, 1) == target, and value at least 0.01 away from the rounding boundary."""
    return abs(value - target) <= 0.04


def unique_top(counter: Counter[str], key: str, count: int) -> bool:
    top = counter.most_common()
    return top[0] == (key, count) and (len(top) == 1 or top[1][1] < count)


def check(out_dir: Path) -> list[str]:
    report: list[str] = []
    pats = read(out_dir, "patients.csv")
    imps = read(out_dir, "implantations.csv")
    comps = read(out_dir, "complications.csv")
    asses = read(out_dir, "assessments.csv")
    refs = read(out_dir, "refills.csv")
    sites = read(out_dir, "sites.csv")
    toml = (out_dir / "dataset.toml").read_text(encoding="utf-8")
    assert "cutoff = 2024-07-31" in toml.splitlines() and "title = " in toml and "ynthetic" in toml
    assert [s["code"] for s in sites] == ["TLH", "TUK", "PERH", "LTKH"]

    # --- sorting and integrity ---------------------------------------------------------------
    dated = {"implant_date": imps, "complication_date": comps, "assessment_date": asses}
    for key, rows in {"patient_id": pats, **dated, "refill_date": refs}.items():
        keys = [(r["patient_id"], r[key]) for r in rows]
        assert keys == sorted(keys), "rows not sorted by patient_id, date"
    ids = [p["patient_id"] for p in pats]
    assert ids == [f"ITB{i:03d}" for i in range(1, 44)]
    pat = {p["patient_id"]: p for p in pats}
    birth = {pid: d(p["birth_date"]) for pid, p in pat.items()}
    end = {
        pid: d(p["therapy_end_date"]) if p["therapy_end_date"] else None for pid, p in pat.items()
    }
    for p in pats:
        assert p["site"] in {"TLH", "TUK", "PERH", "LTKH"} and p["sex"] in {"M", "F"}
        assert bool(p["therapy_end_date"]) == bool(p["therapy_end_reason"])
        assert p["therapy_end_reason"] in {"", DEATH, RNP}
    allowed_tips = {f"C{i}" for i in range(1, 8)} | {f"T{i}" for i in range(1, 13)}
    allowed_tips |= {f"L{i}" for i in range(1, 6)} | {""}
    by_pid: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in imps:
        by_pid[r["patient_id"]].append(r)
        day = d(r["implant_date"])
        assert birth[r["patient_id"]] < day <= CUTOFF
        stop = end[r["patient_id"]]
        assert stop is None or day < stop
        assert r["catheter_type"] == "ascenda" and r["catheter_tip_level"] in allowed_tips
        assert r["site"] != "LTKH", "no implantations at LTKH"
        first_year = {"TLH": date(2012, 12, 1), "TUK": date(2017, 1, 1), "PERH": date(2019, 1, 1)}
        assert day >= first_year[r["site"]], f"{r['site']} implanting before it started"
        if r["kind"] == "revision":
            assert r["pump_model"] == "" and r["reservoir_ml"] == ""
        else:
            assert r["pump_model"] in {"synchromed_ii", "synchromed_iii"}
            assert r["reservoir_ml"] in {"20", "40"}
    initial: dict[str, date] = {}
    for pid, rows in by_pid.items():
        kinds = [r["kind"] for r in rows]
        assert kinds[0] == "initial" and kinds.count("initial") == 1
        initial[pid] = d(rows[0]["implant_date"])
        assert date(2012, 12, 1) <= initial[pid] <= CUTOFF
    assert set(initial) == set(pat)
    for r in comps:
        day = d(r["complication_date"])
        assert initial[r["patient_id"]] <= day <= CUTOFF
        assert end[r["patient_id"]] is None or day < end[r["patient_id"]]
    for r in asses:
        day = d(r["assessment_date"])
        phase = "screening" if day <= initial[r["patient_id"]] else "follow_up"
        assert r["phase"] == phase and day <= CUTOFF
        assert end[r["patient_id"]] is None or day < end[r["patient_id"]]
        if r["instrument"] == "mas":
            assert r["value"] in {"0", "1", "1+", "2", "3", "4"}
        elif r["instrument"] == "goniometry":
            assert -180 <= float(r["value"]) <= 180
        else:
            assert r["instrument"] == "gmfm" and 0 <= float(r["value"]) <= 100
    per_patient_rows = Counter(r["patient_id"] for r in asses)
    assert all(1 <= n <= 4 for n in per_patient_rows.values())
    last_refill: dict[str, dict[str, str]] = {}
    for r in refs:
        pid, day = r["patient_id"], d(r["refill_date"])
        assert initial[pid] < day <= CUTOFF and (end[pid] is None or day < end[pid])
        pumps = [x for x in by_pid[pid] if x["kind"] != "revision" and d(x["implant_date"]) < day]
        reservoir = int(pumps[-1]["reservoir_ml"])
        volume, conc, dose = (
            int(r["volume_ml"]),
            int(r["concentration_mcg_ml"]),
            int(r["daily_dose_mcg"]),
        )
        assert 0 < volume <= reservoir and conc in {500, 1000, 2000} and 50 <= dose <= 900
        assert day - d(pumps[-1]["implant_date"]) >= timedelta(days=25)
        prev = last_refill.get(pid)
        if prev and d(prev["refill_date"]) > d(pumps[-1]["implant_date"]):  # same pump
            gap = (day - d(prev["refill_date"])).days
            lasts = (
                int(prev["volume_ml"])
                * int(prev["concentration_mcg_ml"])
                / int(prev["daily_dose_mcg"])
            )
            assert 56 <= gap <= 183 and gap < lasts, f"{pid} refill gap {gap}"
        last_refill[pid] = r
    assert set(last_refill) == set(pat), "every patient has refills"
    report += check_follow_up(out_dir, pat, by_pid, refs, initial, end)

    # --- F1-F4 -------------------------------------------------------------------------------
    assert len(pats) == 43
    ongoing = sum(1 for p in pats if not p["therapy_end_date"])
    reasons = Counter(p["therapy_end_reason"] for p in pats if p["therapy_end_reason"])
    assert ongoing == 38 and reasons == {DEATH: 4, RNP: 1}
    report.append("F1-F4  patients 43, on therapy 38, deaths 4, replacement not possible 1")

    # --- F5 ----------------------------------------------------------------------------------
    pumps_n = Counter(
        sum(1 for r in rows if r["kind"] in {"initial", "replacement"}) for rows in by_pid.values()
    )
    assert pumps_n == {1: 30, 2: 12, 3: 1}
    report.append(f"F5     pumps once/twice/three times: {pumps_n[1]}/{pumps_n[2]}/{pumps_n[3]}")

    # --- F6/F7 Figure 2 ----------------------------------------------------------------------
    per_year = Counter(day.year for day in initial.values())
    expected_years = {
        2012: 1,
        2013: 1,
        2014: 1,
        2015: 2,
        2016: 2,
        2017: 3,
        2018: 3,
        2019: 4,
        2020: 4,
        2021: 5,
        2022: 7,
        2023: 6,
        2024: 4,
    }
    assert dict(per_year) == expected_years
    assert unique_top(Counter({str(y): n for y, n in per_year.items()}), "2022", 7)
    first = next(r for r in imps if r["patient_id"] == "ITB001")
    assert first["implant_date"].startswith("2012-12") and first["site"] == "TLH"
    assert min(d(r["implant_date"]) for r in imps if r["site"] == "TUK").year == 2017
    assert min(d(r["implant_date"]) for r in imps if r["site"] == "PERH").year == 2019
    report.append(
        "F6-F7  first implantations/year "
        + " ".join(f"{y}:{n}" for y, n in sorted(per_year.items()))
    )

    # --- ages F8-F11, F31 ----------------------------------------------------------------------
    age = {pid: completed_years(birth[pid], initial[pid]) for pid in pat}
    bands = Counter(
        f"{(a - 1) // 10 * 10 + 1}-{(a - 1) // 10 * 10 + 10}" if a > 10 else "0-10"
        for a in age.values()
    )
    assert unique_top(bands, "11-20", bands["11-20"])
    ages = [float(a) for a in age.values()]
    median, q1, q3 = quantile7(ages, 0.5), quantile7(ages, 0.25), quantile7(ages, 0.75)
    assert median == 18 and q3 - q1 == 27 and min(ages) == 5 and max(ages) == 67
    report.append(
        f"F8-F11 age bands {dict(sorted(bands.items()))}; median {median:g}, "
        f"IQR {q3 - q1:g} ({q1:g}-{q3:g}), range {min(ages):g}-{max(ages):g}"
    )
    for level, med, lo, hi in (("low", 15, 5, 63), ("high", 33, 7, 67)):
        xs = [float(age[pid]) for pid in pat if pat[pid]["functional_level"] == level]
        assert statistics.median(xs) == quantile7(xs, 0.5) == med
        assert (min(xs), max(xs)) == (lo, hi)
        report.append(f"F31    {level}: n {len(xs)}, median age {med}, range {lo}-{hi}")

    # --- F12 usage ---------------------------------------------------------------------------
    usage = [((end[pid] or CUTOFF) - initial[pid]).days / 365.25 for pid in pat]
    mean, sd = statistics.mean(usage), statistics.stdev(usage)
    assert 3.5 <= mean < 4.5 and 2.65 <= sd < 2.75
    report.append(f"F12    usage mean {mean:.3f} (-> {round(mean)}), SD {sd:.3f} (-> {sd:.1f})")

    # --- F13-F30 -----------------------------------------------------------------------------
    def count(field: str, rows: list[dict[str, str]] = pats) -> Counter[str]:
        return Counter(r[field] for r in rows)

    assert count("sex") == {"M": 27, "F": 16}
    assert count("syndrome") == {TETRA: 24, PARA: 12, HEMI: 1, DYST: 1, TETRA_D: 5}
    assert count("diagnosis") == {CP: 19, HSP: 2, MS: 4, TRAUMA: 5, NEUROINF: 1, AIE: 1, OTHER: 11}
    assert count("contractures_before") == {"yes": 27, "no": 16}
    assert count("functional_level") == {"low": 26, "high": 17}
    others = Counter(p["diagnosis_detail"] for p in pats if p["diagnosis"] == OTHER)
    assert set(others) == {
        "pantothenate kinase-associated neurodegeneration",
        "brain developmental anomaly",
        "cerebral infarction",
        "Labrune syndrome",
        "tethered cord with epidermoid cyst",
        "anoxic brain injury",
        "Rett syndrome",
        "transverse myelitis",
        "progressive monogenic neurodegenerative disease",
        "cervical epidural abscess",
    }
    report.append("F13-F30 sex, syndromes, diagnoses, contractures 27/16, level low 26/high 17")

    # --- F32/F33 -----------------------------------------------------------------------------
    low = [p for p in pats if p["functional_level"] == "low"]
    high = [p for p in pats if p["functional_level"] == "high"]
    assert unique_top(count("syndrome", low), TETRA, 18)
    hs = count("syndrome", high).most_common()
    assert hs[0] == (PARA, 9) and hs[1] == (TETRA, 6) and hs[2][1] < 6
    assert unique_top(count("diagnosis", low), CP, 15)
    hd = count("diagnosis", high).most_common()
    assert hd[0] == (TRAUMA, 5) and hd[1] == (CP, 4) and hd[2][1] < 4
    report.append(
        "F32-F33 low: tetraparesis 18, CP 15; high: paraparesis 9, tetra 6, trauma 5, CP 4"
    )

    # --- F40-F42 catheter at the initial implantation ------------------------------------------
    init_rows = [r for r in imps if r["kind"] == "initial"]
    assert len(init_rows) == 43 and all(r["catheter_type"] == "ascenda" for r in init_rows)
    tips = Counter(r["catheter_tip_level"] for r in init_rows)
    unknown = tips.pop("")
    assert unique_top(tips, "T10", 9) and unknown == 2
    report.append(
        f"F40-F42 ascenda 43/43, tip T10 {tips['T10']} (next {tips.most_common()[1][1]}),"
        f" unknown {unknown}"
    )

    # --- F50-F57 complications ---------------------------------------------------------------
    per_patient = Counter(r["patient_id"] for r in comps)
    assert len(per_patient) == 7 and Counter(per_patient.values()) == {2: 3, 1: 4}
    months: dict[str, list[float]] = defaultdict(list)
    for r in comps:
        day = d(r["complication_date"])
        last = max(
            d(x["implant_date"]) for x in by_pid[r["patient_id"]] if d(x["implant_date"]) <= day
        )
        months[r["type"]].append((day - last).days / 30.4375)
    expected = {
        "csf_leak": (3, 1.2),
        "catheter_break": (2, 16.6),
        "catheter_kink": (2, 46.5),
        "catheter_occlusion": (1, 10.7),
        "catheter_disconnection": (1, 22.4),
        "infection": (1, 12.4),
    }
    assert set(months) == set(expected)
    for kind, (n, target) in expected.items():
        mean_months = statistics.mean(months[kind])
        assert len(months[kind]) == n and rounds_to(mean_months, target), (kind, mean_months)
        report.append(f"F5x    {kind}: n {n}, mean {mean_months:.3f} months (-> {target})")

    # --- F60 assessment combinations -----------------------------------------------------------
    combos: dict[str, set[str]] = {pid: set() for pid in pat}
    for r in asses:
        combos[r["patient_id"]].add(r["instrument"])
    combo_counts = Counter("+".join(sorted(c)) or "none" for c in combos.values())
    assert combo_counts == {
        "mas": 19,
        "goniometry+mas": 5,
        "gmfm+mas": 5,
        "goniometry": 4,
        "gmfm": 1,
        "none": 9,
    }
    report.append(f"F60    assessments {dict(sorted(combo_counts.items()))}")

    # --- plausibility ------------------------------------------------------------------------
    for r in init_rows:
        if r["site"] == "TLH":
            assert age[r["patient_id"]] <= 18, "TLH implants children"
    for pid, p in pat.items():
        if p["site"] == "TLH":
            assert completed_years(birth[pid], end[pid] or CUTOFF) <= 18
    report.append(
        f"rows: implantations {len(imps)}, complications {len(comps)}, "
        f"assessments {len(asses)}, refills {len(refs)}"
    )
    return report


def check_follow_up(out_dir: Path, pat: dict[str, dict[str, str]],
                    by_pid: dict[str, list[dict[str, str]]], refs: list[dict[str, str]],
                    initial: dict[str, date], end: dict[str, date | None]) -> list[str]:
    """Titration steps, residual volumes, bolus trials, and the follow-up board at the
    cut-off (one overdue, one residual fault, the patients due within 30 days)."""
    assert {p["spasticity_origin"] for p in pat.values()} <= {"cerebral", "spinal", ""}
    own: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in refs:
        own[r["patient_id"]].append(r)
    faults, overdue, soon = [], [], []
    for pid, rows in own.items():
        pump_days = [d(x["implant_date"]) for x in by_pid[pid] if x["kind"] != "revision"]
        for prev, cur in pairwise(rows):
            step = abs(int(cur["daily_dose_mcg"]) / int(prev["daily_dose_mcg"]) - 1)
            assert step <= TITRATION_CAP + 1e-9, f"{pid} {cur['refill_date']}: step {step:.2f}"
        for k, cur in enumerate(rows):
            day = d(cur["refill_date"])
            prev = rows[k - 1] if k else None
            new_pump = prev is None or any(d(prev["refill_date"]) < p <= day for p in pump_days)
            if new_pump:
                assert cur["residual_ml"] == "", f"{pid} {day}: residual after a new pump"
                continue
            assert prev is not None
            delivered = (int(prev["daily_dose_mcg"]) / int(prev["concentration_mcg_ml"])
                         * (day - d(prev["refill_date"])).days)
            expected = max(int(prev["volume_ml"]) - delivered, 0.0)
            tolerance = max(RESIDUAL_TOLERANCE[0] * delivered, RESIDUAL_TOLERANCE[1])
            if abs(float(cur["residual_ml"]) - expected) > tolerance:
                faults.append((pid, cur["refill_date"], k == len(rows) - 1))
        if end[pid] is None:
            last = rows[-1]
            assert max(d(last["refill_date"]), *pump_days) >= CUTOFF - timedelta(days=180)
            if max(pump_days) <= d(last["refill_date"]):
                due = d(last["refill_date"]) + timedelta(days=due_in_days(
                    int(last["volume_ml"]), int(last["concentration_mcg_ml"]),
                    int(last["daily_dose_mcg"])))
                if due < CUTOFF:
                    overdue.append(pid)
                elif due <= CUTOFF + timedelta(days=30):
                    soon.append(pid)
    assert [(f[0], f[2]) for f in faults] == [(RESIDUAL_FAULT_PATIENT, True)], faults
    assert overdue == [OVERDUE_PATIENT], overdue
    assert set(DUE_SOON_PATIENTS) <= set(soon) and len(soon) >= 3, soon

    trials = read(out_dir, "screening_trials.csv")
    by_patient: dict[str, list[dict[str, str]]] = defaultdict(list)
    for t in trials:
        by_patient[t["patient_id"]].append(t)
    assert set(by_patient) == set(pat), "every patient had a bolus trial"
    for pid, rows in by_patient.items():
        doses = [int(t["dose_mcg"]) for t in rows]
        assert doses == list(range(25, 25 * len(rows) + 1, 25)) and doses[-1] <= 100
        assert [t["response"] for t in rows] == ["no"] * (len(rows) - 1) + ["yes"]
        assert d(rows[-1]["trial_date"]) == initial[pid] - SCREENING_BEFORE
    return [
        f"follow-up at the cut-off: overdue {overdue}, due within 30 days {sorted(soon)}, "
        f"residual fault {faults[0][:2]}; titration steps <= {TITRATION_CAP:.0%}",
        f"bolus trials {len(trials)} in {len(by_patient)} patients",
    ]


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR
    build(out_dir)
    for line in check(out_dir):
        print(line)
    print(f"OK: all targets verified in {out_dir}")


if __name__ == "__main__":
    main()
