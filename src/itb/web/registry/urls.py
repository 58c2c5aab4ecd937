"""The registry's pages. A patient's events are addressed by their table's name."""

from django.urls import path, register_converter

from itb.web.registry.models import EVENT_MODELS
from itb.web.registry.views import (
    account,
    audit,
    events,
    followup,
    interop,
    patients,
    quality,
    report,
)


class TableConverter:
    """One of the event tables: implantations, complications, assessments, refills,
    screening_trials (the bolus trials)."""

    regex = "|".join(EVENT_MODELS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TableConverter, "table")

app_name = "registry"
urlpatterns = [
    path("", patients.patient_list, name="patient_list"),
    path("find-patient/", patients.personal_code_search, name="personal_code_search"),
    path("new-patient/", patients.patient_create, name="patient_create"),
    path("patients/<str:patient_id>/", patients.patient_detail, name="patient_detail"),
    path("patients/<str:patient_id>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<str:patient_id>/delete/", patients.patient_delete, name="patient_delete"),
    path("patients/<str:patient_id>/identity/", patients.identity_edit, name="identity_edit"),
    path("patients/<str:patient_id>/fhir.json", interop.patient_bundle, name="patient_bundle"),
    path("exports/fhir.json", interop.scope_bundle, name="scope_bundle"),
    path("exports/deidentified.zip", interop.deidentified_extract,
         name="deidentified_extract"),
    path("patients/<str:patient_id>/identity/delete/", patients.identity_delete,
         name="identity_delete"),
    path("patients/<str:patient_id>/<table:table>/new/", events.event_create,
         name="event_create"),
    path("patients/<str:patient_id>/<table:table>/<int:pk>/edit/", events.event_edit,
         name="event_edit"),
    path("patients/<str:patient_id>/<table:table>/<int:pk>/delete/", events.event_delete,
         name="event_delete"),
    path("follow-up/", followup.follow_up_board, name="follow_up"),
    path("follow-up/due.<str:fmt>", followup.follow_up_download, name="follow_up_download"),
    path("report/", report.report, name="report"),
    path("report/files/<str:name>", report.report_file, name="report_file"),
    path("language/", account.set_language, name="set_language"),
    path("audit/", audit.audit, name="audit"),
    path("audit/patients/<str:patient_id>/", audit.audit_patient, name="audit_patient"),
    path("audit/users/<str:username>/", audit.audit_user, name="audit_user"),
    path("quality/", quality.quality, name="quality"),
]
