"""The files and columns of a registry directory (see docs/data-format.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from itb.domain import codes
from itb.domain.codes import CodeList


class Kind(Enum):
    ID = "id"
    SITE = "site"
    CODE = "code"
    DATE = "date"
    NUMBER = "number"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    codes: CodeList | None = None
    minimum: float | None = None
    maximum: float | None = None
    # Text longer than this cannot be stored (the database column's width).
    max_length: int | None = None
    # A column added to the format later: a file may leave it out of its header (every
    # value is then empty), so that files written before it stay valid.
    optional_column: bool = False


@dataclass(frozen=True, slots=True)
class FileSpec:
    table: str
    columns: tuple[Column, ...]
    required_file: bool = True

    @property
    def filename(self) -> str:
        return f"{self.table}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def _id() -> Column:
    return Column("patient_id", Kind.ID, required=True, max_length=64)


PATIENTS = FileSpec("patients", (
    _id(),
    Column("site", Kind.SITE, required=True),
    Column("sex", Kind.CODE, required=True, codes=codes.SEX),
    Column("birth_date", Kind.DATE, required=True),
    Column("diagnosis", Kind.CODE, required=True, codes=codes.DIAGNOSIS),
    Column("diagnosis_detail", Kind.TEXT, max_length=500),
    Column("syndrome", Kind.CODE, required=True, codes=codes.SYNDROME),
    Column("functional_level", Kind.CODE, required=True, codes=codes.FUNCTIONAL_LEVEL),
    Column("contractures_before", Kind.CODE, codes=codes.YES_NO),
    Column("therapy_end_date", Kind.DATE),
    Column("therapy_end_reason", Kind.CODE, codes=codes.THERAPY_END_REASON),
    Column("spasticity_origin", Kind.CODE, codes=codes.SPASTICITY_ORIGIN, optional_column=True),
))

IMPLANTATIONS = FileSpec("implantations", (
    _id(),
    Column("implant_date", Kind.DATE, required=True),
    Column("site", Kind.SITE, required=True),
    Column("kind", Kind.CODE, required=True, codes=codes.IMPLANTATION_KIND),
    Column("pump_model", Kind.CODE, codes=codes.PUMP_MODEL),
    Column("reservoir_ml", Kind.NUMBER, minimum=1, maximum=100),
    Column("catheter_type", Kind.CODE, codes=codes.CATHETER_TYPE),
    Column("catheter_tip_level", Kind.CODE, codes=codes.CATHETER_TIP_LEVEL),
))

COMPLICATIONS = FileSpec("complications", (
    _id(),
    Column("complication_date", Kind.DATE, required=True),
    Column("type", Kind.CODE, required=True, codes=codes.COMPLICATION_TYPE),
    Column("detail", Kind.TEXT, max_length=500),
))

ASSESSMENTS = FileSpec("assessments", (
    _id(),
    Column("assessment_date", Kind.DATE, required=True),
    Column("instrument", Kind.CODE, required=True, codes=codes.INSTRUMENT),
    Column("phase", Kind.CODE, required=True, codes=codes.PHASE),
    Column("body_site", Kind.TEXT, max_length=200),
    # Checked against the instrument's scale (itb.domain.scales), not as a plain number.
    Column("value", Kind.TEXT, required=True, max_length=16),
))

REFILLS = FileSpec("refills", (
    _id(),
    Column("refill_date", Kind.DATE, required=True),
    Column("volume_ml", Kind.NUMBER, minimum=0, maximum=100),
    Column("concentration_mcg_ml", Kind.NUMBER, minimum=0, maximum=10000),
    Column("daily_dose_mcg", Kind.NUMBER, minimum=0, maximum=5000),
    # Withdrawn from the reservoir before it was refilled (volume_ml is what is in it after).
    Column("residual_ml", Kind.NUMBER, minimum=0, maximum=100, optional_column=True),
))

# Intrathecal bolus trials before the implantation (itb.domain.followup.classify_screening).
SCREENING_TRIALS = FileSpec("screening_trials", (
    _id(),
    Column("trial_date", Kind.DATE, required=True),
    Column("dose_mcg", Kind.NUMBER, required=True, minimum=25, maximum=100),
    Column("response", Kind.CODE, required=True, codes=codes.YES_NO),
    Column("side_effects", Kind.TEXT, max_length=500),
), required_file=False)

SITES = FileSpec("sites", (
    Column("code", Kind.SITE, required=True),
    Column("name", Kind.TEXT, required=True, max_length=200),
), required_file=False)

# Names and personal codes: optional, kept apart from the pseudonymous clinical files and
# never read by the analysis. Its values never appear in a message (itb.registry_io.identity).
IDENTITY = FileSpec("identity", (
    _id(),
    # Checked digit by digit (itb.domain.personal_code), which also bounds its length.
    Column("personal_code", Kind.TEXT),
    Column("first_name", Kind.TEXT, max_length=100),
    Column("last_name", Kind.TEXT, max_length=100),
), required_file=False)

CLINICAL_FILES: tuple[FileSpec, ...] = (PATIENTS, IMPLANTATIONS, COMPLICATIONS, ASSESSMENTS,
                                        REFILLS, SCREENING_TRIALS)
ALL_FILES: tuple[FileSpec, ...] = (SITES, *CLINICAL_FILES, IDENTITY)

# The date column of each clinical table, i.e. when the recorded event happened.
EVENT_DATE = {
    "implantations": "implant_date",
    "complications": "complication_date",
    "assessments": "assessment_date",
    "refills": "refill_date",
    "screening_trials": "trial_date",
}
