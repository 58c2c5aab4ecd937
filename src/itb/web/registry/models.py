"""The registry's database: the CSV format's tables, plus sites, users and identity.

Field names are the CSV column names, so a validation problem's column is a form field.
Codes are stored as the code-list codes (labels come from itb.domain.codes in the user's
language). Empty text means unknown, as an empty cell does in the files.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from itb.domain import codes
from itb.domain.codes import CodeList


def choices(code_list: CodeList) -> list[tuple[str, str]]:
    return [(code, code) for code in code_list.codes]


class Role(models.TextChoices):
    CLINICIAN = "clinician", "clinician"
    COORDINATOR = "coordinator", "coordinator"
    RESEARCHER = "researcher", "researcher"
    ADMINISTRATOR = "administrator", "administrator"


class Site(models.Model):
    code = models.CharField(max_length=16, unique=True,
                            validators=[RegexValidator(r"^[A-Z0-9_-]{1,16}$")])
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class UserProfile(models.Model):
    """A user's role, site memberships and language."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="profile")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLINICIAN)
    sites = models.ManyToManyField(Site, blank=True, related_name="members")
    language = models.CharField(max_length=2, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class Versioned(models.Model):
    """Optimistic locking: a save must name the version it was edited from."""

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Patient(Versioned):
    patient_id = models.CharField(max_length=64, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    sex = models.CharField(max_length=1, choices=choices(codes.SEX))
    birth_date = models.DateField()
    diagnosis = models.CharField(max_length=40, choices=choices(codes.DIAGNOSIS))
    diagnosis_detail = models.CharField(max_length=500, blank=True)
    syndrome = models.CharField(max_length=40, choices=choices(codes.SYNDROME))
    functional_level = models.CharField(max_length=8, choices=choices(codes.FUNCTIONAL_LEVEL))
    contractures_before = models.CharField(max_length=3, blank=True,
                                           choices=choices(codes.YES_NO))
    therapy_end_date = models.DateField(null=True, blank=True)
    therapy_end_reason = models.CharField(max_length=32, blank=True,
                                          choices=choices(codes.THERAPY_END_REASON))
    spasticity_origin = models.CharField(max_length=8, blank=True,
                                         choices=choices(codes.SPASTICITY_ORIGIN))

    class Meta:
        ordering = ["patient_id"]
        # Each filter of the list with the list's order: a filtered page walks its index in
        # patient_id order and stops after 50 rows (SQLite sorted every match otherwise).
        # PostgreSQL also has an index for the id-prefix search (migration 0004).
        indexes = [
            models.Index(fields=["site", "patient_id"]),
            models.Index(fields=["functional_level", "patient_id"]),
            models.Index(fields=["therapy_end_date", "patient_id"]),
        ]

    def __str__(self) -> str:
        return self.patient_id


class PatientIdentity(Versioned):
    """Name and personal identification code, kept apart from the clinical record."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="identity")
    personal_code = models.CharField(max_length=11, blank=True, db_index=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"identity of {self.patient.patient_id}"


class PatientEvent(Versioned):
    """A dated row of one patient's therapy."""

    DATE_FIELD = ""  # the column that dates the event

    class Meta:
        abstract = True


class Implantation(PatientEvent):
    DATE_FIELD = "implant_date"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE,
                                related_name="implantations")
    implant_date = models.DateField()
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="implantations")
    kind = models.CharField(max_length=12, choices=choices(codes.IMPLANTATION_KIND))
    pump_model = models.CharField(max_length=20, blank=True, choices=choices(codes.PUMP_MODEL))
    reservoir_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    catheter_type = models.CharField(max_length=12, blank=True,
                                     choices=choices(codes.CATHETER_TYPE))
    catheter_tip_level = models.CharField(max_length=3, blank=True,
                                          choices=choices(codes.CATHETER_TIP_LEVEL))

    class Meta:
        ordering = ["patient", "implant_date", "id"]


class Complication(PatientEvent):
    DATE_FIELD = "complication_date"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE,
                                related_name="complications")
    complication_date = models.DateField()
    type = models.CharField(max_length=24, choices=choices(codes.COMPLICATION_TYPE))
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["patient", "complication_date", "id"]


class Assessment(PatientEvent):
    DATE_FIELD = "assessment_date"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assessments")
    assessment_date = models.DateField()
    instrument = models.CharField(max_length=12, choices=choices(codes.INSTRUMENT))
    phase = models.CharField(max_length=10, choices=choices(codes.PHASE))
    body_site = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=16)

    class Meta:
        ordering = ["patient", "assessment_date", "id"]


class Refill(PatientEvent):
    DATE_FIELD = "refill_date"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="refills")
    refill_date = models.DateField()
    volume_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    concentration_mcg_ml = models.DecimalField(max_digits=8, decimal_places=2, null=True,
                                               blank=True)
    daily_dose_mcg = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    residual_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["patient", "refill_date", "id"]
        # A patient's latest refill is one index lookup: the list's "Last refill" column, and
        # its sort, which read every patient's refills without it (PostgreSQL, 10⁵ patients:
        # 1.4 s a sorted page, 0.35 s with it).
        indexes = [models.Index(fields=["patient", "refill_date"])]


class ScreeningTrial(PatientEvent):
    """An intrathecal bolus trial before the implantation (screening_trials.csv)."""

    DATE_FIELD = "trial_date"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE,
                                related_name="screening_trials")
    trial_date = models.DateField()
    dose_mcg = models.DecimalField(max_digits=6, decimal_places=2)
    response = models.CharField(max_length=3, choices=choices(codes.YES_NO))
    side_effects = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["patient", "trial_date", "id"]


# Every per-patient table of a registry directory (screening_trials.csv: the bolus trials),
# each with its forms on the patient page.
EVENT_MODELS: dict[str, type[PatientEvent]] = {
    "implantations": Implantation,
    "complications": Complication,
    "assessments": Assessment,
    "refills": Refill,
    "screening_trials": ScreeningTrial,
}


class ImportRecord(models.Model):
    """One import of a registry directory: who imported what, when.

    An import writes its rows in bulk, which bypasses django-auditlog's per-row signals (and
    per-row entries for 10⁵ patients would bury the trail); instead each import that changes
    anything leaves this one record, itself audited, so it is the import's single entry in the
    audit trail. ``patient_ids`` lists the patients it created or changed.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    origin = models.CharField(max_length=200)  # e.g. "itb import (operating-system user x)"
    source = models.CharField(max_length=500)  # the directory imported
    cutoff = models.DateField()
    # The imported dataset.toml, verbatim, so that an export can give it back unchanged.
    dataset_toml = models.TextField(blank=True)
    summary = models.JSONField(default=dict)  # counts created / updated / deleted per table
    patient_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import of {self.source} at {self.created_at:%Y-%m-%d %H:%M}"
