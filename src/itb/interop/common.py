"""What every interchange format shares: the registry's tables as cell text, column labels,
and writing a file or a directory all at once."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from itb.registry_io.loader import Registry
from itb.registry_io.records import cell
from itb.registry_io.schema import ALL_FILES, IDENTITY, PATIENTS, SITES, FileSpec
from itb.registry_io.writer import sort_rows

# A row of a table: column name -> cell text (None for an empty cell).
TextRow = dict[str, str | None]

# Column labels (Estonian, English): the wording of the web forms. A column added to the
# format without a label here is labelled by its name, so every column is always exported.
LABELS: dict[str, tuple[str, str]] = {
    "patient_id": ("Registri ID", "Registry id"),
    "site": ("Haigla", "Site"),
    "sex": ("Sugu", "Sex"),
    "birth_date": ("Sünnikuupäev", "Birth date"),
    "diagnosis": ("Diagnoos", "Diagnosis"),
    "diagnosis_detail": ("Diagnoosi täpsustus", "Diagnosis details"),
    "syndrome": ("Kliiniline sündroom", "Clinical syndrome"),
    "functional_level": ("Funktsionaalne tase", "Functional level"),
    "contractures_before": ("Kontraktuurid enne implantatsiooni",
                            "Contractures before implantation"),
    "therapy_end_date": ("Ravi lõpu kuupäev", "Therapy end date"),
    "therapy_end_reason": ("Ravi lõpu põhjus", "Reason therapy ended"),
    "implant_date": ("Operatsiooni kuupäev", "Date of surgery"),
    "kind": ("Operatsiooni liik", "Kind of surgery"),
    "pump_model": ("Pumba mudel", "Pump model"),
    "reservoir_ml": ("Pumba reservuaar, ml", "Pump reservoir, ml"),
    "catheter_type": ("Kateetri tüüp", "Catheter type"),
    "catheter_tip_level": ("Kateetri tipu asukoht", "Catheter tip level"),
    "complication_date": ("Tekkimise kuupäev", "Date of onset"),
    "type": ("Tüsistus", "Complication"),
    "detail": ("Täpsustus", "Details"),
    "assessment_date": ("Hindamise kuupäev", "Date of assessment"),
    "instrument": ("Hindamisvahend", "Instrument"),
    "phase": ("Faas", "Phase"),
    "body_site": ("Kehapiirkond", "Body site"),
    "value": ("Väärtus", "Value"),
    "refill_date": ("Täitmise kuupäev", "Date of refill"),
    "volume_ml": ("Maht, ml", "Volume, ml"),
    "concentration_mcg_ml": ("Kontsentratsioon, µg/ml", "Concentration, µg/ml"),
    "daily_dose_mcg": ("Ööpäevane annus, µg", "Daily dose, µg"),
    "personal_code": ("Isikukood", "Personal code"),
    "first_name": ("Eesnimi", "First name"),
    "last_name": ("Perekonnanimi", "Last name"),
    "code": ("Haigla kood", "Site code"),
    "name": ("Haigla nimi", "Site name"),
}

TABLE_LABELS: dict[str, tuple[str, str]] = {
    "patients": ("Patsiendi andmed", "Patient record"),
    "implantations": ("Operatsioonid", "Surgeries"),
    "complications": ("Tüsistused", "Complications"),
    "assessments": ("Hindamised", "Assessments"),
    "refills": ("Pumba täitmised", "Refills"),
    "identity": ("Isikuandmed", "Identity"),
    "sites": ("Haiglad", "Sites"),
}


def label(name: str, lang: str, labels: dict[str, tuple[str, str]] = LABELS) -> str:
    pair = labels.get(name)
    if pair is None:
        return name.replace("_", " ").capitalize()
    return pair[0] if lang == "et" else pair[1]


@lru_cache(maxsize=1)
def patient_specs() -> tuple[FileSpec, ...]:
    """Every per-patient table of the format (identity last), in the format's order."""
    specs = [spec for spec in ALL_FILES if "patient_id" in spec.column_names
             and spec is not IDENTITY]
    return (*specs, IDENTITY)


def is_repeating(spec: FileSpec) -> bool:
    """Tables with any number of rows per patient (the others have at most one)."""
    return spec is not PATIENTS and spec is not IDENTITY and spec is not SITES


def registry_text(registry: Registry) -> dict[str, list[TextRow]]:
    """Every table of a validated registry as rows of cell text, formatted as ``itb export``
    writes them; ``identity`` only when the registry has one."""
    tables: dict[str, list[TextRow]] = {}
    for spec in patient_specs():
        frame = getattr(registry, spec.table, None)
        if frame is None:
            continue
        names = spec.column_names
        tables[spec.table] = [dict(zip(names, (cell(v) for v in row), strict=True))
                              for row in frame.select(names).iter_rows()]
    tables["sites"] = [{"code": code, "name": name} for code, name in registry.site_names.items()]
    return tables


def sort_text_rows(spec: FileSpec, rows: Iterable[TextRow]) -> list[TextRow]:
    """Rows in the order the registry writer puts them (patient, event date, given order)."""
    given = list(rows)
    order = sort_rows(spec, [(*(row.get(c.name) for c in spec.columns), index)
                             for index, row in enumerate(given)])
    return [given[entry[-1]] for entry in order]


def write_file_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it: all or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_directory_atomically(target: Path, fill: Callable[[Path], None]) -> None:
    """Let ``fill`` write into a new directory, then move it to ``target`` (which must not
    exist or be empty): a failure leaves nothing behind."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(17, "the output directory exists and is not empty", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(staging)
        if target.exists():
            target.rmdir()
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of CSV text with the line each starts on (a quoted value may span lines)."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for row in reader:
        if row:
            yield start, row
        start = reader.line_num + 1
