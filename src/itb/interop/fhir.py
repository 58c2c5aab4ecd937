"""The registry as a FHIR R4 ``Bundle`` (type ``collection``), see docs/fhir.md.

Resources: Organization (site), Patient, Condition (diagnosis, clinical syndrome), Procedure
(implantations, revisions, screening trials), Device (pump, catheter) with a
DeviceUseStatement giving when it was implanted (R4's Device has no implant date),
AdverseEvent (complications: an adverse event of the therapy, linked to the suspected device,
which a Condition cannot be), Observation (assessments; refills' dose with concentration and
volume as components). Every resource has a ``urn:uuid`` full URL derived from the registry's
ids, so the same registry always gives the same bundle; references point at those URLs.

Codes: the registry's own code lists (system ``urn:itb:codes:<list>``) everywhere; standard
codes only where we are sure of them (ICD-10 for three diagnoses, LOINC 72514-3 for the pain
numeric rating scale, UCUM units). The de-identified bundle is built from the de-identified
tables (itb.interop.deidentify) and carries no name and no identifier.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from itb.domain import codes
from itb.domain.codes import CodeList
from itb.interop.common import TextRow, label, registry_text, sort_text_rows
from itb.interop.deidentify import Options, deidentify
from itb.registry_io.loader import Registry
from itb.registry_io.schema import IMPLANTATIONS, REFILLS, Kind

Resource = dict[str, Any]
_NAMESPACE = uuid.UUID("6f1f3a52-0b7e-4d1a-9a43-1e7b3f0c2a10")  # this registry's uuid5 space
SYSTEM = "urn:itb:codes"
PATIENT_ID_SYSTEM = "urn:itb:patient-id"
PERSONAL_CODE_SYSTEM = "urn:itb:personal-code"  # a site maps it to its national system
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DEVICE_NAME_TYPE = "model-name"
# Standard codes we are sure of; everything else carries only the registry's code.
ICD10_DIAGNOSES = {"cerebral_palsy": ("G80", "Cerebral palsy"),
                   "hereditary_spastic_paraplegia": ("G11.4", "Hereditary spastic paraplegia"),
                   "multiple_sclerosis": ("G35", "Multiple sclerosis")}
LOINC_INSTRUMENTS = {"pain_nrs": ("72514-3",
                                  "Pain severity - 0-10 verbal numeric rating [Score] - Reported")}
# UCUM units of the refill numbers (by column; a new number column is exported without one).
UNITS = {"volume_ml": ("mL", "mL"), "residual_ml": ("mL", "mL"),
         "concentration_mcg_ml": ("ug/mL", "µg/mL"), "daily_dose_mcg": ("ug/d", "µg/day")}
INSTRUMENT_UNITS = {"goniometry": ("deg", "°"), "gmfm": ("%", "%")}
INTEGER_INSTRUMENTS = frozenset({"tardieu", "penn", "pain_nrs"})


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _url(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def _coding(code_list: CodeList, code: str, lang: str) -> dict[str, str]:
    return {"system": f"{SYSTEM}:{code_list.name}", "code": code,
            "display": code_list.label(code, lang)}


def _concept(code_list: CodeList, code: str, lang: str,
             extra: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    return {"coding": [_coding(code_list, code, lang), *extra],
            "text": code_list.label(code, lang)}


def _quantity(value: str, unit: tuple[str, str] | None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": float(value)}
    if unit is not None:
        quantity |= {"unit": unit[1], "system": UCUM, "code": unit[0]}
    return quantity


class _Bundle:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, resource: Resource) -> str:
        url = _url(resource["id"])
        self.entries.append({"fullUrl": url, "resource": resource})
        return url


def build_bundle(tables: Mapping[str, Sequence[TextRow]], cutoff: date, lang: str = "en",
                 deidentified: bool = False, identity: Sequence[TextRow] = ()) -> Resource:
    """The bundle of registry tables (cell text, ``common.registry_text``)."""
    bundle = _Bundle()
    sites = {str(row["code"]): str(row["name"]) for row in tables.get("sites", [])}
    orgs: dict[str, str] = {}
    for code in dict.fromkeys([*sites, *(str(r["site"]) for r in tables["patients"])]):
        org = {"resourceType": "Organization", "id": _id("site", code),
               "identifier": [{"system": "urn:itb:site", "value": code}],
               "name": sites.get(code, code)}
        orgs[code] = bundle.add(org)
    people = {str(row["patient_id"]): row for row in identity}
    by_patient: dict[str, dict[str, list[TextRow]]] = {}
    for table, rows in tables.items():
        if table in ("patients", "sites", "identity"):
            continue
        spec_rows = rows
        if table == IMPLANTATIONS.table:
            spec_rows = sort_text_rows(IMPLANTATIONS, rows)
        for row in spec_rows:
            by_patient.setdefault(str(row["patient_id"]), {}).setdefault(table, []).append(row)
    for row in tables["patients"]:
        pid = str(row["patient_id"])
        _patient(bundle, row, people.get(pid), orgs, by_patient.get(pid, {}), lang,
                 deidentified)
    return {"resourceType": "Bundle", "id": _id("bundle", *(str(r["patient_id"])
                                                          for r in tables["patients"])),
            "type": "collection", "timestamp": f"{cutoff.isoformat()}T00:00:00Z",
            "entry": bundle.entries}


def _patient(bundle: _Bundle, row: TextRow, person: TextRow | None, orgs: Mapping[str, str],
             events: Mapping[str, list[TextRow]], lang: str, deidentified: bool) -> None:
    pid = str(row["patient_id"])
    patient: Resource = {"resourceType": "Patient", "id": _id("patient", pid),
                         "gender": {"M": "male", "F": "female"}.get(str(row["sex"]), "unknown"),
                         "birthDate": row["birth_date"],
                         "managingOrganization": {"reference": orgs[str(row["site"])]}}
    if not deidentified:
        patient["identifier"] = [{"system": PATIENT_ID_SYSTEM, "value": pid}]
        if person is not None:
            if person.get("personal_code"):
                patient["identifier"].append({"system": PERSONAL_CODE_SYSTEM,
                                              "value": person["personal_code"]})
            name = {k: v for k, v in (("family", person.get("last_name")),
                                      ("given", [person["first_name"]]
                                       if person.get("first_name") else None)) if v}
            if name:
                patient["name"] = [name]
    if row.get("therapy_end_reason") == "death" and row.get("therapy_end_date"):
        patient["deceasedDateTime"] = row["therapy_end_date"]
    subject = {"reference": bundle.add(patient)}

    for list_, column in ((codes.DIAGNOSIS, "diagnosis"), (codes.SYNDROME, "syndrome")):
        code = row.get(column)
        if code is None:
            continue
        extra = [{"system": ICD10, "code": ICD10_DIAGNOSES[code][0],
                  "display": ICD10_DIAGNOSES[code][1]}] \
            if column == "diagnosis" and code in ICD10_DIAGNOSES else []
        concept = _concept(list_, code, lang, extra)
        if column == "diagnosis" and row.get("diagnosis_detail"):
            concept["text"] = f"{concept['text']}: {row['diagnosis_detail']}"
        bundle.add({"resourceType": "Condition", "id": _id("condition", pid, column),
                    "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL,
                                                   "code": "active"}]},
                    "category": [{"coding": [{"system": CONDITION_CATEGORY,
                                              "code": "problem-list-item"}]}],
                    "code": concept, "subject": subject})

    devices = _surgeries(bundle, pid, subject, orgs, events.get("implantations", []), row,
                         lang)
    for index, trial in enumerate(events.get("screening_trials", [])):
        procedure: Resource = {
            "resourceType": "Procedure", "id": _id("trial", pid, str(index)),
            "status": "completed", "subject": subject, "performedDateTime": trial["trial_date"],
            "code": {"coding": [{"system": f"{SYSTEM}:procedure", "code": "bolus_trial",
                                 "display": label("bolus_trial", lang, _PROCEDURES)}],
                     "text": label("bolus_trial", lang, _PROCEDURES)}}
        if trial.get("response"):
            procedure["outcome"] = _concept(codes.YES_NO, str(trial["response"]), lang)
        bundle.add(procedure)
    for index, event in enumerate(events.get("complications", [])):
        _complication(bundle, pid, index, subject, event, devices, lang)
    for index, assessment in enumerate(events.get("assessments", [])):
        _assessment(bundle, pid, index, subject, assessment, lang)
    for index, refill in enumerate(events.get("refills", [])):
        _refill(bundle, pid, index, subject, refill, lang)


_PROCEDURES: dict[str, tuple[str, str]] = {
    "bolus_trial": ("Intratekaalse baklofeeni boolustest", "Intrathecal baclofen bolus trial"),
    "pump": ("Implanteeritav intratekaalne infusioonipump",
             "Implantable intrathecal infusion pump"),
    "catheter": ("Intratekaalne kateeter", "Intrathecal catheter"),
    "reservoir": ("Reservuaari maht", "Reservoir volume"),
    "tip_level": ("Kateetri tipu asukoht", "Catheter tip level"),
    "daily_dose": ("Baklofeeni ööpäevane annus (programmeeritud)",
                   "Baclofen daily dose (programmed)"),
}


def _surgeries(bundle: _Bundle, pid: str, subject: dict[str, str], orgs: Mapping[str, str],
               surgeries: Sequence[TextRow], patient: TextRow, lang: str
               ) -> list[tuple[str, str, str]]:
    """Procedures and devices; returns (since date, kind 'pump'/'catheter', device url)."""
    devices: list[tuple[str, str, str]] = []
    pumps = [i for i, s in enumerate(surgeries) if s.get("kind") in codes.PUMP_KINDS]
    end = patient.get("therapy_end_date")
    for index, surgery in enumerate(surgeries):
        when = str(surgery["implant_date"])
        focal = []
        if surgery.get("kind") in codes.PUMP_KINDS:
            later = [surgeries[i]["implant_date"] for i in pumps if i > index]
            until = later[0] if later else end
            device: Resource = {
                "resourceType": "Device", "id": _id("pump", pid, str(index)),
                "status": "inactive" if until else "active", "patient": subject,
                "type": {"text": label("pump", lang, _PROCEDURES)}}
            if surgery.get("pump_model"):
                device["deviceName"] = [{"name": codes.PUMP_MODEL.label(
                    str(surgery["pump_model"]), lang), "type": DEVICE_NAME_TYPE}]
                device["type"]["coding"] = [_coding(codes.PUMP_MODEL,
                                                    str(surgery["pump_model"]), lang)]
            if surgery.get("reservoir_ml"):
                device["property"] = [{"type": {"text": label("reservoir", lang, _PROCEDURES)},
                                       "valueQuantity": [_quantity(str(surgery["reservoir_ml"]),
                                                                   ("mL", "mL"))]}]
            url = bundle.add(device)
            devices.append((when, "pump", url))
            focal.append({"manipulated": {"reference": url}})
            _use(bundle, pid, index, subject, url, when, until)
        if surgery.get("catheter_type"):
            catheter: Resource = {
                "resourceType": "Device", "id": _id("catheter", pid, str(index)),
                "patient": subject,
                "type": _concept(codes.CATHETER_TYPE, str(surgery["catheter_type"]), lang)}
            catheter["type"]["text"] = (f"{label('catheter', lang, _PROCEDURES)}: "
                                        f"{catheter['type']['text']}")
            if surgery.get("catheter_tip_level"):
                catheter["property"] = [{"type": {"text": label("tip_level", lang, _PROCEDURES)},
                                         "valueCode": [_concept(codes.CATHETER_TIP_LEVEL, str(
                                             surgery["catheter_tip_level"]), lang)]}]
            url = bundle.add(catheter)
            devices.append((when, "catheter", url))
            focal.append({"manipulated": {"reference": url}})
        procedure: Resource = {
            "resourceType": "Procedure", "id": _id("surgery", pid, str(index)),
            "status": "completed", "subject": subject, "performedDateTime": when,
            "code": _concept(codes.IMPLANTATION_KIND, str(surgery["kind"]), lang),
            "performer": [{"actor": {"reference": orgs[str(surgery["site"])]}}]}
        if focal:
            procedure["focalDevice"] = focal
        bundle.add(procedure)
    return devices


def _use(bundle: _Bundle, pid: str, index: int, subject: dict[str, str], device: str,
         start: str, end: str | None) -> None:
    period = {"start": start} | ({"end": end} if end else {})
    bundle.add({"resourceType": "DeviceUseStatement", "id": _id("use", pid, str(index)),
                "status": "completed" if end else "active", "subject": subject,
                "timingPeriod": period, "device": {"reference": device}})


def _complication(bundle: _Bundle, pid: str, index: int, subject: dict[str, str],
                  event: TextRow, devices: Sequence[tuple[str, str, str]], lang: str) -> None:
    kind = str(event["type"])
    group = codes.complication_group(kind)
    concept = _concept(codes.COMPLICATION_TYPE, kind, lang,
                       [_coding(codes.COMPLICATION_GROUP, group, lang)])
    if event.get("detail"):
        concept["text"] = f"{concept['text']}: {event['detail']}"
    resource: Resource = {"resourceType": "AdverseEvent", "id": _id("complication", pid,
                                                                    str(index)),
                          "actuality": "actual", "subject": subject, "event": concept,
                          "date": event["complication_date"]}
    # The device in place at the time, for pump and catheter complications.
    suspects = [url for since, what, url in devices
                if what == group and since <= str(event["complication_date"])]
    if suspects:
        resource["suspectEntity"] = [{"instance": {"reference": suspects[-1]}}]
    bundle.add(resource)


def _assessment(bundle: _Bundle, pid: str, index: int, subject: dict[str, str],
                row: TextRow, lang: str) -> None:
    instrument = str(row["instrument"])
    extra = [{"system": LOINC, "code": LOINC_INSTRUMENTS[instrument][0],
              "display": LOINC_INSTRUMENTS[instrument][1]}] \
        if instrument in LOINC_INSTRUMENTS else []
    resource: Resource = {
        "resourceType": "Observation", "id": _id("assessment", pid, str(index)),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]},
                     _concept(codes.PHASE, str(row["phase"]), lang)],
        "code": _concept(codes.INSTRUMENT, instrument, lang, extra),
        "subject": subject, "effectiveDateTime": row["assessment_date"]}
    value = str(row["value"])
    if instrument in INSTRUMENT_UNITS:
        resource["valueQuantity"] = _quantity(value, INSTRUMENT_UNITS[instrument])
    elif instrument in INTEGER_INSTRUMENTS:
        resource["valueInteger"] = int(value)
    else:
        resource["valueString"] = value
    if row.get("body_site"):
        resource["bodySite"] = {"text": row["body_site"]}
    bundle.add(resource)


def _refill(bundle: _Bundle, pid: str, index: int, subject: dict[str, str], row: TextRow,
            lang: str) -> None:
    """The refill as an Observation of the programmed dose; its other numbers as components
    (every number column of refills.csv, so a column added to the format comes along)."""
    code, components_codes = _refill_codes(lang)
    resource: Resource = {
        "resourceType": "Observation", "id": _id("refill", pid, str(index)),
        "status": "final", "code": code,
        "subject": subject, "effectiveDateTime": row["refill_date"]}
    if row.get("daily_dose_mcg"):
        resource["valueQuantity"] = _quantity(str(row["daily_dose_mcg"]),
                                              UNITS["daily_dose_mcg"])
    else:
        resource["dataAbsentReason"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
            "code": "unknown"}]}
    components = [{"code": concept, "valueQuantity": _quantity(str(row[name]), UNITS.get(name))}
                  for name, concept in components_codes.items() if row.get(name)]
    if components:
        resource["component"] = components
    bundle.add(resource)


@lru_cache(maxsize=4)
def _refill_codes(lang: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The refill Observation's code and its components' codes (shared: never changed)."""
    dose_name = label("daily_dose", lang, _PROCEDURES)
    code = {"coding": [{"system": f"{SYSTEM}:refill", "code": "daily_dose_mcg",
                        "display": dose_name}], "text": dose_name}
    components = {
        column.name: {"coding": [{"system": f"{SYSTEM}:refill", "code": column.name,
                                  "display": label(column.name, lang)}],
                      "text": label(column.name, lang)}
        for column in REFILLS.columns
        if column.kind is Kind.NUMBER and column.name != "daily_dose_mcg"}
    return code, components


def render(bundle: Resource, indent: int | None = None) -> str:
    """The bundle as JSON: compact by default (the C encoder; an indented one of a large
    registry takes many times longer)."""
    separators = (",", ":") if indent is None else None
    return json.dumps(bundle, ensure_ascii=False, indent=indent, separators=separators) + "\n"


def export_bundle(registry: Registry, lang: str = "en", deidentified: bool = False,
                  key: bytes | None = None, patients: Sequence[str] = ()) -> Resource:
    """The registry's bundle (only ``patients``, when given); de-identified (with the
    extract's key), no identity at all."""
    tables = registry_text(registry)
    if patients:
        wanted = set(patients)
        tables = {name: rows if name == "sites" else
                  [row for row in rows if row.get("patient_id") in wanted]
                  for name, rows in tables.items()}
    identity = tables.pop("identity", [])
    if deidentified:
        if key is None:
            raise ValueError("a de-identified bundle needs the key")
        extract = deidentify(tables, registry.cutoff, key, Options(dates="shift"))
        tables = {**extract.tables, "sites": tables["sites"]}
        identity = []
    return build_bundle(tables, registry.cutoff, lang, deidentified, identity)
