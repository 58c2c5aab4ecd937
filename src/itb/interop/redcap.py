"""REDCap: the registry as a REDCap project (data dictionary), and records both ways.

The project is a classic (non-longitudinal) one: the record is the patient (``record_id`` is
the registry's ``patient_id``); the instrument ``patients`` holds the patient's own columns,
``identity`` the name and personal code (flagged as identifiers), and every other per-patient
table is a repeating instrument. Everything is derived from ``itb.registry_io.schema``: a
column added to the format appears in the dictionary and the round trip without a change here.

Field names are the column names; a name already used by an earlier instrument is prefixed
with its table (``implantations_site``). A REDCap project built differently is read through a
mapping file (TOML): see docs/redcap.md.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from itb.domain.codes import YES_NO, CodeList
from itb.interop.common import (
    TextRow,
    csv_rows,
    is_repeating,
    label,
    patient_specs,
    registry_text,
    sort_text_rows,
    write_file_atomically,
)
from itb.interop.problems import InteropInvalid, Issue, from_problem, issue
from itb.registry_io.loader import Registry
from itb.registry_io.problems import Problem
from itb.registry_io.records import cell, validate_rows
from itb.registry_io.schema import IDENTITY, PATIENTS, SITES, Column, FileSpec, Kind
from itb.registry_io.writer import dataset_toml, write_registry

# The 18 columns of a REDCap data dictionary, in REDCap's order.
DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
# Older REDCap versions wrote only the first 15 (before matrices and annotations), some with
# shorter names for two of them.
_OLD_NAMES = {"choices or calculations": "choices, calculations, or slider labels",
              "text validation type": "text validation type or show slider number"}
RECORD_ID = "record_id"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
EVENT_NAME = "redcap_event_name"
COMPLETE = "2"  # REDCap's "Complete" status of an instrument
# Identifying columns beyond the identity instrument (REDCap's de-identified export drops them).
IDENTIFIER_COLUMNS = frozenset({"birth_date"})
_RADIO_MAX = 4  # short code lists as radio buttons, longer ones as drop-downs
# Branching logic mirroring validation rules (docs/data-format.md), as (table.column) ->
# (the column it depends on, the REDCap condition with {field} for that column's field): a
# revision places no pump; a reason for the end of therapy only with its date.
BRANCHING = {
    "implantations.pump_model": ("kind", "[{field}] <> 'revision'"),
    "implantations.reservoir_ml": ("kind", "[{field}] <> 'revision'"),
    "patients.therapy_end_reason": ("therapy_end_date", "[{field}] <> ''"),
}


@dataclass(frozen=True, slots=True)
class Field:
    """One REDCap field and the registry column it holds."""

    name: str
    form: str
    spec: FileSpec
    column: Column

    @property
    def target(self) -> str:
        return f"{self.spec.table}.{self.column.name}"


def fields() -> list[Field]:
    """The project's fields, in dictionary order (``record_id`` first)."""
    out = [Field(RECORD_ID, PATIENTS.table, PATIENTS, PATIENTS.column("patient_id"))]
    used = {RECORD_ID}
    for spec in patient_specs():
        for column in spec.columns:
            if column.name == "patient_id":
                continue
            name = column.name if column.name not in used else f"{spec.table}_{column.name}"
            used.add(name)
            out.append(Field(name, spec.table, spec, column))
    return out


def forms() -> list[str]:
    return [spec.table for spec in patient_specs()]


# --- the data dictionary --------------------------------------------------------------------


def _number(value: float | None) -> str:
    return "" if value is None else (cell(value) or "")


def _choices(codes: CodeList, lang: str) -> str:
    return " | ".join(f"{item.code}, {item.label(lang)}" for item in codes)


def dictionary_rows(lang: str = "et", sites: Mapping[str, str] | None = None) -> list[list[str]]:
    """The data dictionary's rows (without the header). ``sites`` (code -> name) makes the
    site fields drop-downs; without it they are text."""
    rows = []
    names = {item.target: item.name for item in fields()}
    for item in fields():
        column = item.column
        kind, choices, validation, minimum, maximum, note = "text", "", "", "", "", ""
        if column.kind is Kind.CODE and column.codes is not None:
            kind = "radio" if len(column.codes.items) <= _RADIO_MAX else "dropdown"
            choices = _choices(column.codes, lang)
        elif column.kind is Kind.SITE and sites:
            kind = "dropdown"
            choices = " | ".join(f"{code}, {name}" for code, name in sites.items())
        elif column.kind is Kind.DATE:
            validation, minimum = "date_ymd", "1900-01-01"
        elif column.kind is Kind.NUMBER:
            validation = "number"
            minimum, maximum = _number(column.minimum), _number(column.maximum)
        elif column.kind is Kind.TEXT and (column.max_length or 0) >= 500:
            kind = "notes"
        if column.kind is Kind.TEXT and column.max_length:
            note = {"et": f"kuni {column.max_length} märki",
                    "en": f"at most {column.max_length} characters"}[lang]
        identifier = item.spec is IDENTITY or column.name in IDENTIFIER_COLUMNS
        branching = ""
        if item.target in BRANCHING:
            depends, condition = BRANCHING[item.target]
            other = names.get(f"{item.spec.table}.{depends}")
            branching = condition.format(field=other) if other else ""
        row = [item.name, item.form, "", kind, label(column.name, lang), choices, note,
               validation, minimum, maximum, "y" if identifier else "", branching,
               "y" if column.required else "", "", "", "", "",
               f"registry: {item.target}"]
        rows.append(row)
    return rows


def render_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_dictionary(path: Path, lang: str = "et", sites: Mapping[str, str] | None = None
                     ) -> int:
    rows = dictionary_rows(lang, sites)
    write_file_atomically(path, render_csv(DICTIONARY_COLUMNS, rows))
    return len(rows)


@dataclass(frozen=True, slots=True)
class DictionaryField:
    name: str
    form: str
    kind: str
    choices: tuple[tuple[str, str], ...]
    line: int


def _read_text(path: Path, problems: list[Issue]) -> str | None:
    name = path.name
    if not path.is_file():
        problems.append(issue(name, None, None, "file_missing"))
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(issue(name, None, None, "file_not_utf8"))
        return None
    if not text.strip():
        problems.append(issue(name, None, None, "file_empty"))
        return None
    return text


def parse_choices(text: str) -> tuple[tuple[str, str], ...]:
    """``code, label | code, label`` as pairs (a label may itself hold commas)."""
    pairs = []
    for part in text.split("|"):
        if not part.strip():
            continue
        code, _, name = part.partition(",")
        pairs.append((code.strip(), name.strip()))
    return tuple(pairs)


def read_dictionary(path: Path) -> list[DictionaryField]:
    """A REDCap data dictionary (18 columns, or the older 15): its data fields in order."""
    problems: list[Issue] = []
    text = _read_text(path, problems)
    if text is None:
        raise InteropInvalid(problems)
    try:
        rows = list(csv_rows(text))
    except csv.Error as error:
        raise InteropInvalid([issue(path.name, None, None, "file_not_csv",
                                    detail=str(error))]) from None
    header = [_OLD_NAMES.get(_key(h), _key(h)) for h in rows[0][1]]
    where = {}
    for wanted in DICTIONARY_COLUMNS[:15]:
        key = _key(wanted)
        if key not in header:
            problems.append(issue(path.name, 1, None, "dictionary_header", value=wanted))
        else:
            where[wanted] = header.index(key)
    if problems:
        raise InteropInvalid(problems)

    out: list[DictionaryField] = []
    seen: dict[str, int] = {}
    for line, row in rows[1:]:
        def get(name: str, row: list[str] = row) -> str:
            index = where[name]
            return row[index].strip() if index < len(row) else ""

        name = get("Variable / Field Name")
        if not name:
            problems.append(issue(path.name, line, "Variable / Field Name", "field_name_missing"))
            continue
        if name in seen:
            problems.append(issue(path.name, line, "Variable / Field Name", "field_repeated",
                                  value=name))
            continue
        seen[name] = line
        kind = get("Field Type").lower()
        if kind == "descriptive":  # text on the form, holds no data
            continue
        choices = parse_choices(get("Choices, Calculations, OR Slider Labels")) \
            if kind in ("radio", "dropdown", "checkbox") else ()
        out.append(DictionaryField(name, get("Form Name"), kind, choices, line))
    if problems:
        raise InteropInvalid(problems)
    return out


def _key(name: str) -> str:
    return " ".join(name.strip().lower().split())


# --- the mapping file -----------------------------------------------------------------------


@dataclass
class FieldMapping:
    """Their field names and codes -> the registry's (``mapping.toml``, docs/redcap.md)."""

    record_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # their field -> table.column
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # their field -> codes
    ignore: frozenset[str] = frozenset()


_MAPPING_KEYS = ("record_id", "fields", "codes", "ignore")


def read_mapping(path: Path) -> FieldMapping:
    problems: list[Issue] = []
    text = _read_text(path, problems)
    if text is None:
        raise InteropInvalid(problems)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InteropInvalid([issue(path.name, None, None, "mapping_malformed",
                                    detail=str(error))]) from None
    targets = {f"{f.spec.table}.{f.column.name}" for f in fields()}
    problems += [issue(path.name, None, key, "mapping_key", value=key,
                       allowed=", ".join(_MAPPING_KEYS))
                 for key in data if key not in _MAPPING_KEYS]
    mapped = {str(k): str(v) for k, v in dict(data.get("fields", {})).items()}
    problems += [issue(path.name, None, f"fields.{k}", "mapping_target", value=v)
                 for k, v in mapped.items() if v not in targets]
    codes = {str(k): {str(a): str(b) for a, b in dict(v).items()}
             for k, v in dict(data.get("codes", {})).items()}
    if problems:
        raise InteropInvalid(problems)
    record_id = data.get("record_id")
    return FieldMapping(None if record_id is None else str(record_id), mapped, codes,
                    frozenset(str(x) for x in data.get("ignore", [])))


# --- records: registry -> REDCap ------------------------------------------------------------


def records_header() -> list[str]:
    header = [RECORD_ID, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    for form in forms():
        header += [f.name for f in fields() if f.form == form and f.name != RECORD_ID]
        header.append(f"{form}_complete")
    return header


def records_rows(tables: Mapping[str, Sequence[TextRow]]) -> list[list[str]]:
    """A REDCap flat export (raw values) of the registry tables: per patient, one row for the
    non-repeating instruments, then one per instance of each repeating one."""
    header = records_header()
    position = {name: i for i, name in enumerate(header)}
    by_form: dict[str, list[Field]] = {}
    for item in fields():
        by_form.setdefault(item.form, []).append(item)
    per_patient: dict[str, dict[str, list[TextRow]]] = {}
    for spec in patient_specs():
        for row in sort_text_rows(spec, tables.get(spec.table, ())):
            per_patient.setdefault(str(row["patient_id"]), {}).setdefault(spec.table,
                                                                          []).append(row)
    out = []
    for patient in (str(row["patient_id"]) for row in tables["patients"]):
        own = per_patient.get(patient, {})
        first = [""] * len(header)
        first[0] = patient
        for spec in patient_specs():
            if is_repeating(spec) or not own.get(spec.table):
                continue
            _fill(first, position, by_form[spec.table], own[spec.table][0])
            first[position[f"{spec.table}_complete"]] = COMPLETE
        out.append(first)
        for spec in patient_specs():
            if not is_repeating(spec):
                continue
            for instance, row in enumerate(own.get(spec.table, []), start=1):
                line = [""] * len(header)
                line[0], line[1], line[2] = patient, spec.table, str(instance)
                _fill(line, position, by_form[spec.table], row)
                line[position[f"{spec.table}_complete"]] = COMPLETE
                out.append(line)
    return out


def _fill(line: list[str], position: Mapping[str, int], form_fields: Sequence[Field],
          row: TextRow) -> None:
    for item in form_fields:
        if item.name != RECORD_ID:
            line[position[item.name]] = row.get(item.column.name) or ""


def export_records(registry: Registry, path: Path, mapping: Path | None = None,
                   project: Path | None = None) -> int:
    """Write the registry as REDCap records; return the number of rows.

    With a ``mapping`` (the file ``import`` reads) the records are in the other project's
    field names and codes; its data dictionary (``project``) also gives its checkbox and
    yes/no fields their REDCap form and its instruments' ``_complete`` columns."""
    header, rows = records_header(), records_rows(registry_text(registry))
    if mapping is not None:
        their = read_dictionary(project) if project is not None else None
        header, rows = _to_their_project(header, rows, read_mapping(mapping), their)
    write_file_atomically(path, render_csv(header, rows))
    return len(rows)


def _to_their_project(header: list[str], rows: list[list[str]], plan: FieldMapping,
                      their: list[DictionaryField] | None
                      ) -> tuple[list[str], list[list[str]]]:
    """Our records re-expressed in a mapped project's fields and codes (the inverse of the
    mapping ``import`` applies)."""
    ours = {f.name: f for f in fields()}
    name_of = {target: name for name, target in plan.fields.items()}
    info = {item.name: item for item in their or []}
    form_of = {f.name: f.form for f in fields()}
    columns: list[tuple[str, Callable[[list[str]], str]]] = []
    for index, name in enumerate(header):
        if name.endswith("_complete") and name[:-9] in forms():
            if their is None:
                columns.append((name, lambda row, i=index: row[i]))
            continue  # their instruments' status columns come from their dictionary
        if name == RECORD_ID:
            columns.append((plan.record_id or RECORD_ID, lambda row, i=index: row[i]))
            continue
        if name not in ours:
            columns.append((name, lambda row, i=index: row[i]))  # redcap_repeat_*
            continue
        theirs = name_of.get(ours[name].target, name)
        if theirs in plan.ignore:
            continue
        back = {}
        for their_code, our_code in plan.codes.get(theirs, {}).items():
            back.setdefault(our_code, their_code)
        kind = info[theirs].kind if theirs in info else ""
        if kind == "checkbox":
            for code, _ in info[theirs].choices:
                columns.append((f"{theirs}___{code.lower()}",
                                lambda row, i=index, c=code, b=back: (
                                    "" if not row[i] else "1" if b.get(row[i], row[i]) == c
                                    else "0")))
        elif kind in ("yesno", "truefalse") and ours[name].column.codes is YES_NO \
                and not back:
            columns.append((theirs, lambda row, i=index: {"yes": "1", "no": "0"}.get(
                row[i], row[i])))
        else:
            columns.append((theirs, lambda row, i=index, b=back: b.get(row[i], row[i])
                            if row[i] else ""))
    if their is not None:
        # Each of their instruments' status: complete on the rows that hold its fields.
        held: dict[str, list[int]] = {}
        for item in their:
            target = plan.fields.get(item.name) or (ours[item.name].target
                                                     if item.name in ours else None)
            if target is not None:
                our_name = next(f.name for f in fields() if f.target == target)
                held.setdefault(item.form, []).append(header.index(
                    f"{form_of[our_name]}_complete"))
        for form, indexes in held.items():
            columns.append((f"{form}_complete", lambda row, ix=tuple(set(indexes)): (
                COMPLETE if any(row[i] for i in ix) else "")))
    return [name for name, _ in columns], [[get(row) for _, get in columns] for row in rows]


# --- records: REDCap -> registry ------------------------------------------------------------


@dataclass
class _Source:
    """Where each value of a converted row came from, to point problems at the records file."""

    line: int
    fields: dict[str, str] = field(default_factory=dict)  # registry column -> REDCap column


@dataclass
class Conversion:
    tables: dict[str, list[TextRow]]
    sources: dict[str, list[_Source]]
    sites: dict[str, str]


def convert_records(records: Path, dictionary: Path, mapping: Path | None = None) -> Conversion:
    """REDCap records (flat raw export) as registry tables, not yet validated."""
    their = read_dictionary(dictionary)
    plan = read_mapping(mapping) if mapping is not None else FieldMapping()
    ours = {f.name: f for f in fields()}
    targets = {f.target: f for f in fields()}
    problems: list[Issue] = []

    # Their field -> our field.
    field_of: dict[str, Field] = {}
    record_id = plan.record_id or (their[0].name if their else RECORD_ID)
    for item in their:
        if item.name == record_id or item.name in plan.ignore:
            continue
        if item.name in plan.fields:
            field_of[item.name] = targets[plan.fields[item.name]]
        elif item.name in ours and item.name != RECORD_ID:
            field_of[item.name] = ours[item.name]
        else:
            problems.append(issue(dictionary.name, item.line, item.name, "field_unmapped",
                                  value=item.name))
    info = {item.name: item for item in their}
    # The site fields' choices (every site field of the project, in dictionary order).
    sites: dict[str, str] = {}
    for name, target in field_of.items():
        if target.column.kind is not Kind.SITE or not info[name].choices:
            continue
        seen: set[str] = set()
        for code, site_name in info[name].choices:
            code = plan.codes.get(name, {}).get(code, code)
            if code in seen:
                problems.append(issue(dictionary.name, info[name].line, name,
                                      "site_repeated", value=code))
            seen.add(code)
            sites.setdefault(code, site_name)
    if problems:
        raise InteropInvalid(problems)

    text = _read_text(records, problems)
    if text is None:
        raise InteropInvalid(problems)
    try:
        rows = list(csv_rows(text))
    except csv.Error as error:
        raise InteropInvalid([issue(records.name, None, None, "file_not_csv",
                                    detail=str(error))]) from None
    header = rows[0][1]
    columns = _columns(records.name, header, record_id, field_of, info, plan, problems)
    if problems:
        raise InteropInvalid(problems)

    tables: dict[str, list[TextRow]] = {spec.table: [] for spec in patient_specs()}
    sources: dict[str, list[_Source]] = {spec.table: [] for spec in patient_specs()}
    single: dict[tuple[str, str], int] = {}  # (table, patient) -> index of its one row
    id_index, file = header.index(record_id), records.name
    specs = patient_specs()
    for line, row in rows[1:]:
        if len(row) != len(header):
            problems.append(issue(records.name, line, None, "row_width", found=len(row),
                                  expected=len(header)))
            continue
        patient = row[id_index].strip()
        values: dict[str, dict[str, tuple[str, str]]] = {}  # table -> column -> (value, col)
        for name, (target, indexes) in columns.items():
            if len(indexes) == 1 and not row[indexes[0][0]]:
                continue  # empty: most cells of a flat export
            value = _value(file, line, name, target, info[name], indexes, row, plan, problems)
            if value:
                values.setdefault(target.spec.table, {})[target.column.name] = (value, name)
        for spec in specs:
            got = values.get(spec.table)
            if is_repeating(spec):
                if got:
                    tables[spec.table].append({"patient_id": patient}
                                              | {k: v for k, (v, _) in got.items()})
                    sources[spec.table].append(_Source(line, {"patient_id": record_id} | {
                        k: c for k, (_, c) in got.items()}))
                continue
            if not got and not (spec is PATIENTS and patient):
                continue
            key = (spec.table, patient)
            if key not in single:
                single[key] = len(tables[spec.table])
                tables[spec.table].append({"patient_id": patient})
                sources[spec.table].append(_Source(line, {"patient_id": record_id}))
            merged, source = tables[spec.table][single[key]], sources[spec.table][single[key]]
            for column, (value, name) in (got or {}).items():
                if merged.get(column) not in (None, value):
                    problems.append(issue(records.name, line, name, "value_conflict",
                                          value=merged[column], other=value))
                merged[column] = value
                source.fields.setdefault(column, name)
    if problems:
        raise InteropInvalid(problems)
    return Conversion(tables, sources, sites)


def _columns(file: str, header: list[str], record_id: str, field_of: Mapping[str, Field],
             info: Mapping[str, DictionaryField], plan: FieldMapping, problems: list[Issue]
             ) -> dict[str, tuple[Field, list[tuple[int, str]]]]:
    """Their field -> (our field, [(column index, checkbox code or '')])."""
    if record_id not in header:
        problems.append(issue(file, 1, record_id, "record_id_missing", value=record_id))
        return {}
    columns: dict[str, tuple[Field, list[tuple[int, str]]]] = {}
    for index, name in enumerate(header):
        if name in (record_id, REPEAT_INSTRUMENT, REPEAT_INSTANCE, EVENT_NAME,
                    "redcap_data_access_group", "redcap_survey_identifier"):
            continue
        base, checkbox, code = name.rpartition("___")
        if checkbox and base in info and info[base].kind == "checkbox":
            name, choice = base, code
        else:
            choice = ""
        if name in field_of:
            columns.setdefault(name, (field_of[name], []))[1].append((index, choice))
        elif name in plan.ignore or name in info:
            continue  # ignored on purpose (or the record id)
        elif name.endswith("_complete") and (name[:-9] in {i.form for i in info.values()}
                                             or name[:-9] in forms()):
            continue  # the instrument's completion status
        else:
            problems.append(issue(file, 1, name, "column_unknown", value=name))
    return columns


def _value(file: str, line: int, name: str, target: Field, item: DictionaryField,
           indexes: list[tuple[int, str]], row: list[str], plan: FieldMapping,
           problems: list[Issue]) -> str:
    codes = plan.codes.get(name)
    if item.kind == "checkbox":
        # A ticked box's column name holds its code in lower case: give it back its case.
        by_lower = {code.lower(): code for code, _ in item.choices}
        ticked = [by_lower.get(choice, choice) for index, choice in indexes
                  if row[index].strip() == "1"]
        if len(ticked) > 1:
            problems.append(issue(file, line, name, "checkbox_many", value=", ".join(ticked)))
            return ""
        raw = ticked[0] if ticked else ""
    else:
        raw = row[indexes[0][0]].strip() if target.column.kind is not Kind.TEXT \
            else row[indexes[0][0]]
    if not raw:
        return ""
    if codes is not None:
        if raw not in codes:
            problems.append(issue(file, line, name, "code_unmapped", value=raw))
            return ""
        return codes[raw]
    if item.kind in ("yesno", "truefalse") and target.column.codes is YES_NO:
        return {"1": "yes", "0": "no"}.get(raw, raw)
    if target.column.kind is Kind.NUMBER:
        try:
            return cell(float(raw)) or ""
        except ValueError:
            return raw  # validation names it
    return raw


def import_records(records: Path, dictionary: Path, out_dir: Path,
                   mapping: Path | None = None, cutoff: date | None = None,
                   title: str | None = None) -> dict[str, int]:
    """Convert REDCap records into a registry directory, validated first: on any problem
    raise InteropInvalid (each problem at the records file's line and REDCap column) and
    write nothing."""
    conversion = convert_records(records, dictionary, mapping)
    effective = cutoff or date.today()
    tables: dict[str, list[TextRow]] = {}
    sources: dict[str, list[_Source]] = {}
    for spec in patient_specs():
        rows = conversion.tables[spec.table]
        if spec is IDENTITY and not rows:
            continue
        order = sort_text_rows(spec, [row | {"__i": str(i)} for i, row in enumerate(rows)])
        tables[spec.table] = [{k: v for k, v in row.items() if k != "__i"} for row in order]
        sources[spec.table] = [conversion.sources[spec.table][int(str(row["__i"]))]
                               for row in order]
    site_codes = frozenset(conversion.sites) if conversion.sites else None
    problems = validate_rows(tables, effective, site_codes)
    if problems:
        raise InteropInvalid(_readdress(problems, tables, sources, records.name))
    sites = conversion.sites or {code: code for code in dict.fromkeys(
        str(row["site"]) for table in ("patients", "implantations")
        for row in tables.get(table, []) if row.get("site"))}
    files: dict[str, list[list[str | None]]] = {
        name: [[row.get(c) for c in _spec(name).column_names] for row in rows]
        for name, rows in tables.items()}
    files["sites"] = [[code, name] for code, name in sites.items()]
    return write_registry(out_dir, files, dataset_toml(title, effective))


def _spec(table: str) -> FileSpec:
    return next(spec for spec in (*patient_specs(), SITES) if spec.table == table)


def _readdress(problems: Sequence[Problem], tables: Mapping[str, list[TextRow]],
               sources: Mapping[str, list[_Source]], file: str) -> list[Issue]:
    by_file = {_spec(name).filename: name for name in tables}
    out = []
    for problem in problems:
        table, line, column = by_file.get(problem.file), problem.line, problem.column
        if table is None or line is None or not 2 <= line < len(sources[table]) + 2:
            out.append(from_problem(problem, problem.file, line, column))
            continue
        source = sources[table][line - 2]
        out.append(from_problem(problem, file, source.line,
                                source.fields.get(column or "", column)))
    return sorted(out, key=lambda i: (i.line or 0, i.column or ""))
