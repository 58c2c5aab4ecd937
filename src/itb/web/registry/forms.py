"""Forms: they parse input (a date that is a date, a number that is a number) and nothing more.

The rules of the registry are the core's (``itb.registry_io``), applied by the services to the
patient's whole record; ``apply_problems`` puts what they find back on the form, at the field
of the edited row, or as a form-level error naming another record of the patient.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from itb.domain import codes
from itb.domain.codes import CodeList
from itb.registry_io.records import cell
from itb.registry_io.schema import EVENT_DATE
from itb.web.registry.models import Site
from itb.web.registry.services.records import FieldProblem, RecordInvalid, Row

# The label of every column (the model fields are named after the CSV columns).
LABELS: dict[str, Promise] = {
    "patient_id": _("Registry id"),
    "site": _("Site"),
    "sex": _("Sex"),
    "birth_date": _("Birth date"),
    "diagnosis": _("Diagnosis"),
    "diagnosis_detail": _("Diagnosis details"),
    "syndrome": _("Clinical syndrome"),
    "functional_level": _("Functional level"),
    "contractures_before": _("Contractures before implantation"),
    "therapy_end_date": _("Therapy end date"),
    "therapy_end_reason": _("Reason therapy ended"),
    "spasticity_origin": _("Origin of spasticity"),
    "implant_date": _("Date of surgery"),
    "kind": _("Kind of surgery"),
    "pump_model": _("Pump model"),
    "reservoir_ml": _("Pump reservoir, ml"),
    "catheter_type": _("Catheter type"),
    "catheter_tip_level": _("Catheter tip level"),
    "complication_date": _("Date of onset"),
    "type": _("Complication"),
    "detail": _("Details"),
    "assessment_date": _("Date of assessment"),
    "instrument": _("Instrument"),
    "phase": _("Phase"),
    "body_site": _("Body site"),
    "value": _("Value"),
    "refill_date": _("Date of refill"),
    "volume_ml": _("Volume, ml"),
    "concentration_mcg_ml": _("Concentration, µg/ml"),
    "daily_dose_mcg": _("Daily dose, µg"),
    "residual_ml": _("Residual withdrawn, ml"),
    "trial_date": _("Date of the bolus trial"),
    "dose_mcg": _("Bolus dose, µg"),
    "response": _("Spasticity responded"),
    "side_effects": _("Side effects"),
    "personal_code": _("Personal code"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
}

# What one row of each table is called when a problem on it is named elsewhere.
ROW_NAMES: dict[str, Promise] = {
    "patients": _("Patient record"),
    "implantations": _("Surgery"),
    "complications": _("Complication"),
    "assessments": _("Assessment"),
    "refills": _("Refill"),
    "screening_trials": _("Bolus trial"),
    "identity": _("Identity"),
}

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
PATIENT_ID = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
    _("Use letters, digits, '-', '_' or '.' (at most 64), starting with a letter or digit."))


def label(column: str) -> str:
    return str(LABELS.get(column, column))


# --- fields ---------------------------------------------------------------------------------

class DateField(forms.DateField):
    """A date: the browser's date picker sends YYYY-MM-DD; DD.MM.YYYY is accepted when typed."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    default_error_messages = {
        "invalid": _("This is not a date: enter it as YYYY-MM-DD (e.g. 2024-03-31)."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, input_formats=DATE_FORMATS, **kwargs)


class NumberField(forms.DecimalField):
    """A number, with a decimal point or the Estonian decimal comma; the range is the core's."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    default_error_messages = {
        "invalid": _("This is not a number."),
        "max_decimal_places": _("Use at most %(max)s decimals."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, decimal_places=2, **kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = value.strip().replace(",", ".").replace(" ", "")
        try:
            return super().to_python(value)
        except InvalidOperation:  # pragma: no cover - DecimalField reports "invalid" itself
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class CodeField(forms.CharField):
    """A code of a code list, offered in the user's language.

    Deliberately not a ChoiceField: an unknown code is the core's problem to report (in the
    same words as for a file), not Django's.
    """

    def __init__(self, code_list: CodeList, **kwargs: Any) -> None:
        self.code_list = code_list
        super().__init__(required=False, widget=forms.Select, **kwargs)

    def offer(self, lang: str) -> None:
        self.widget.choices = [("", "—"), *((c.code, c.label(lang)) for c in self.code_list)]


class SiteField(forms.CharField):
    """A site by its code; the offered sites are set by the form (the user's scope)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, widget=forms.Select, **kwargs)

    def offer(self, sites: Iterable[Site]) -> None:
        self.widget.choices = [("", "—"), *((s.code, f"{s.code} – {s.name}") for s in sites)]


def _text(max_length: int) -> forms.CharField:
    return forms.CharField(required=False, max_length=max_length)


# --- forms ----------------------------------------------------------------------------------

class RecordForm(forms.Form):
    """A form of one registry row; ``version`` is the stored version it was opened at."""

    table: ClassVar[str]
    # Columns the core requires: marked in the form (the core says so when one is empty).
    required_columns: ClassVar[frozenset[str]] = frozenset()
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, sites: Iterable[Site] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lang = get_language() or "et"
        for name, form_field in self.fields.items():
            if name in LABELS:
                form_field.label = LABELS[name]
            if isinstance(form_field, CodeField):
                form_field.offer(lang)
            elif isinstance(form_field, SiteField):
                form_field.offer(sites)
        for name in self.required_columns & set(self.fields):
            # Marked for the eye and for screen readers; the core reports a missing value.
            self.fields[name].marked_required = True  # type: ignore[attr-defined]
            self.fields[name].widget.attrs["aria-required"] = "true"

    @property
    def columns(self) -> list[str]:
        return [name for name in self.fields if name != "version"]

    def row(self) -> Row:
        """The entered row: field -> value (text stripped; empty text is an empty cell)."""
        return {name: self.cleaned_data.get(name) for name in self.columns}

    @property
    def version_value(self) -> int | None:
        return self.cleaned_data.get("version")


def initial_of(instance: Any, form_class: type[RecordForm]) -> dict[str, Any]:
    """A stored row as a form's initial values (a site as its code)."""
    values: dict[str, Any] = {"version": instance.version}
    for name in form_class.base_fields:
        if name == "version":
            continue
        value = getattr(instance, name)
        values[name] = value.code if isinstance(value, Site) else value
    return values


class PatientForm(RecordForm):
    table = "patients"
    required_columns = frozenset({"site", "sex", "birth_date", "diagnosis", "syndrome",
                                  "functional_level"})
    site = SiteField()
    sex = CodeField(codes.SEX)
    birth_date = DateField()
    diagnosis = CodeField(codes.DIAGNOSIS)
    diagnosis_detail = _text(500)
    syndrome = CodeField(codes.SYNDROME)
    functional_level = CodeField(codes.FUNCTIONAL_LEVEL)
    contractures_before = CodeField(codes.YES_NO)
    therapy_end_date = DateField()
    therapy_end_reason = CodeField(codes.THERAPY_END_REASON)
    # Sets the usual largest titration step (docs/follow-up.md); empty = unknown.
    spasticity_origin = CodeField(codes.SPASTICITY_ORIGIN)


class NewPatientForm(PatientForm):
    """A new patient: the registry id is given once, at registration."""

    required_columns = PatientForm.required_columns | {"patient_id"}
    patient_id = forms.CharField(required=False, max_length=64, validators=[PATIENT_ID])
    field_order = ["patient_id"]


class ImplantationForm(RecordForm):
    table = "implantations"
    required_columns = frozenset({"implant_date", "site", "kind"})
    implant_date = DateField()
    site = SiteField()
    kind = CodeField(codes.IMPLANTATION_KIND)
    pump_model = CodeField(codes.PUMP_MODEL)
    reservoir_ml = NumberField()
    catheter_type = CodeField(codes.CATHETER_TYPE)
    catheter_tip_level = CodeField(codes.CATHETER_TIP_LEVEL)


class InitialImplantationForm(ImplantationForm):
    """The initial implantation entered with a new patient (its kind is fixed)."""

    required_columns = frozenset({"implant_date", "site"})
    prefix = "initial"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["kind"]
        del self.fields["version"]


class ComplicationForm(RecordForm):
    table = "complications"
    required_columns = frozenset({"complication_date", "type"})
    complication_date = DateField()
    type = CodeField(codes.COMPLICATION_TYPE)
    detail = _text(500)


class AssessmentForm(RecordForm):
    table = "assessments"
    required_columns = frozenset({"assessment_date", "instrument", "phase", "value"})
    assessment_date = DateField()
    instrument = CodeField(codes.INSTRUMENT)
    phase = CodeField(codes.PHASE)
    body_site = _text(200)
    value = forms.CharField(required=False, max_length=16,
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))


class RefillForm(RecordForm):
    """A refill: what was withdrawn, what the reservoir holds after it, the drug and dose."""

    table = "refills"
    required_columns = frozenset({"refill_date"})
    refill_date = DateField()
    residual_ml = NumberField()
    volume_ml = NumberField()
    concentration_mcg_ml = NumberField()
    daily_dose_mcg = NumberField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # In the form, say which volume: the one in the reservoir after the refill.
        self.fields["volume_ml"].label = _("Volume after the refill, ml")
        self.fields["daily_dose_mcg"].label = _("Daily dose, µg (24-hour total)")


class ScreeningTrialForm(RecordForm):
    """An intrathecal bolus (screening) trial before the first implantation."""

    table = "screening_trials"
    required_columns = frozenset({"trial_date", "dose_mcg", "response"})
    trial_date = DateField()
    dose_mcg = NumberField()
    response = CodeField(codes.YES_NO)
    side_effects = _text(500)


EVENT_FORMS: dict[str, type[RecordForm]] = {
    "implantations": ImplantationForm,
    "complications": ComplicationForm,
    "assessments": AssessmentForm,
    "refills": RefillForm,
    "screening_trials": ScreeningTrialForm,
}


class IdentityForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    personal_code = forms.CharField(required=False, max_length=20,
                                    widget=forms.TextInput(attrs={"autocomplete": "off",
                                                                  "inputmode": "numeric"}))
    first_name = forms.CharField(required=False, max_length=100)
    last_name = forms.CharField(required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("personal_code", "first_name", "last_name"):
            self.fields[name].label = LABELS[name]

    def clean_personal_code(self) -> str:
        # Written with spaces by some: the code itself is the digits.
        return "".join(self.cleaned_data["personal_code"].split())

    def row(self) -> Row:
        return {name: self.cleaned_data[name].strip()
                for name in ("personal_code", "first_name", "last_name")}


class PersonalCodeSearchForm(forms.Form):
    """Sent by POST only: a personal code never appears in a URL (and so in no access log)."""

    personal_code = forms.CharField(max_length=20, label=_("Personal code"),
                                    widget=forms.TextInput(attrs={"autocomplete": "off",
                                                                  "inputmode": "numeric"}))

    def clean_personal_code(self) -> str:
        return "".join(self.cleaned_data["personal_code"].split())


class VersionForm(forms.Form):
    """A delete confirmation: the version the user saw when deciding."""

    version = forms.IntegerField(widget=forms.HiddenInput)


# --- problems back onto forms ---------------------------------------------------------------

def describe_row(table: str, row: Mapping[str, Any], lang: str) -> str:
    """A row of the patient's record in words, e.g. "Complication: Catheter kink, 2016-07-01"."""
    kind = {
        "implantations": ("kind", codes.IMPLANTATION_KIND),
        "complications": ("type", codes.COMPLICATION_TYPE),
        "assessments": ("instrument", codes.INSTRUMENT),
    }.get(table)
    if table == "patients":
        return gettext("Patient record %(id)s") % {"id": row.get("patient_id") or ""}
    what = str(ROW_NAMES[table])
    if kind is not None and row.get(kind[0]):
        what = f"{what}: {kind[1].label(str(row[kind[0]]), lang)}"
    when = cell(row.get(EVENT_DATE[table])) if table in EVENT_DATE else None
    return f"{what}, {when}" if when else what


def capitalized(text: str) -> str:
    """The core writes messages to follow "file:line: column:"; alone they start a sentence."""
    return text[:1].upper() + text[1:]


def apply_problems(forms_by_table: Mapping[str, forms.Form], error: RecordInvalid,
                   main: forms.Form) -> None:
    """The core's problems onto the forms, in the active language.

    A problem on an entered row goes to its field (or the form, when the column has no field);
    a problem on another row of the record goes to ``main`` as a form-level error that names
    that record, e.g. when moving the initial implantation after a complication.
    """
    lang = get_language() or "et"
    for problem in error.problems:
        text = problem.message(lang)
        table = error.on_edited_row(problem)
        form = forms_by_table.get(table) if table else None
        if form is not None:
            if problem.column in form.fields:
                form.add_error(problem.column, capitalized(text))
            else:
                form.add_error(None, f"{label(problem.column)}: {text}"
                               if problem.column else capitalized(text))
            continue
        other_table, index = error.row_of(problem)
        if index is None or other_table not in error.rows:
            main.add_error(None, capitalized(text))
            continue
        row = error.rows[other_table][index]
        where = describe_row(other_table, row, lang)
        column = f" – {label(problem.column)}" if problem.column else ""
        main.add_error(None, f"{where}{column}: {text}")


def apply_field_problem(form: forms.Form, problem: FieldProblem) -> None:
    field_name = problem.field if problem.field in form.fields else None
    for text in problem.messages:
        form.add_error(field_name, capitalized(str(text)))
