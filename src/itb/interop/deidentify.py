"""A de-identified research extract of a registry (docs/research-exports.md).

- No names and no personal codes: ``identity.csv`` is never read into the extract.
- Patient ids are replaced by a keyed hash (HMAC-SHA-256 with a secret key): the same key
  gives the same pseudonym in every extract, so extracts can be linked by whoever holds the
  key and by nobody else.
- Dates are either shifted back by a per-patient number of days in 0…364 (the same shift for
  all of one patient's dates, so every interval within a patient stays true; REDCap's method),
  or replaced by the number of days since the patient's first implantation.
- Ages over 89 are grouped: a patient who would be 90 or older on their latest recorded date
  gets a birth date that makes them exactly 90 then, and ``age_over_89 = yes``.
- Free-text columns (optional text, e.g. ``detail``) are emptied unless asked to keep them:
  free text can name people.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from itb.interop.common import TextRow, patient_specs
from itb.interop.problems import InteropInvalid, issue
from itb.registry_io.schema import IDENTITY, PATIENTS, Column, FileSpec, Kind

DateMode = Literal["shift", "days"]
KEY_BYTES = 32
MAX_SHIFT = 364
OLDEST_AGE = 89  # older ages are grouped (HIPAA Safe Harbor's "90 or older")
AGE_FLAG = "age_over_89"


@dataclass(frozen=True)
class Options:
    dates: DateMode = "shift"
    keep_free_text: bool = False


@dataclass
class Extract:
    """The de-identified tables and the columns of each, in order."""

    tables: dict[str, list[TextRow]]
    columns: dict[str, list[str]]
    options: Options
    blanked: list[str] = field(default_factory=list)  # table.column emptied as free text
    grouped_ages: int = 0


def read_key(path: Path | None) -> tuple[bytes, bool]:
    """The secret key: read from ``path`` (created with a new random key when missing), or a
    new random key for this extract only (``path`` None). Returns (key, created)."""
    if path is None:
        return secrets.token_bytes(KEY_BYTES), True
    path = Path(path)
    if not path.exists():
        key = secrets.token_bytes(KEY_BYTES)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(key.hex() + "\n", encoding="ascii")
        return key, True
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise InteropInvalid([issue(path.name, None, None, "key_malformed")])
    return key, False


def _digest(key: bytes, purpose: str, patient_id: str) -> bytes:
    return hmac.new(key, f"{purpose}\x00{patient_id}".encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, patient_id: str, length: int = 12) -> str:
    return "D" + _digest(key, "id", patient_id).hex()[:length]


def shift_days(key: bytes, patient_id: str) -> int:
    """The patient's date shift, 0…364 days, from the key (reproducible, unguessable)."""
    return int.from_bytes(_digest(key, "shift", patient_id)[:8], "big") % (MAX_SHIFT + 1)


def free_text(column: Column) -> bool:
    return column.kind is Kind.TEXT and not column.required


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def deidentify(tables: Mapping[str, Sequence[TextRow]], cutoff: date, key: bytes,
               options: Options = Options()) -> Extract:
    """De-identify validated registry tables (as cell text, ``common.registry_text``)."""
    specs = [spec for spec in patient_specs() if spec is not IDENTITY and spec.table in tables]
    patients = [str(row["patient_id"]) for row in tables["patients"]]
    ids = _pseudonyms(key, patients)
    first_implant: dict[str, date] = {}
    for row in tables.get("implantations", []):
        if row.get("kind") == "initial" and row.get("implant_date"):
            first_implant[str(row["patient_id"])] = date.fromisoformat(str(row["implant_date"]))
    latest = _latest_dates(specs, tables, cutoff)

    extract = Extract({}, {}, options)
    for spec in specs:
        extract.columns[spec.table] = _columns(spec, options)
        if spec is PATIENTS:
            extract.columns[spec.table].append(AGE_FLAG)
        extract.tables[spec.table] = []
        for row in tables[spec.table]:
            patient = str(row["patient_id"])
            out: TextRow = {}
            for column in spec.columns:
                value = row.get(column.name)
                if column.name == "patient_id":
                    out["patient_id"] = ids[patient]
                elif column.kind is Kind.DATE:
                    day = None if value is None else date.fromisoformat(value)
                    if spec is PATIENTS and column.name == "birth_date" and day is not None:
                        day = _group_age(day, latest[patient], extract)
                        out[AGE_FLAG] = "yes" if day != date.fromisoformat(str(value)) else "no"
                    out.update(_date_value(column.name, day, patient, key, first_implant,
                                           options))
                elif free_text(column) and not options.keep_free_text:
                    out[column.name] = None
                else:
                    out[column.name] = value
            extract.tables[spec.table].append(out)
        if not options.keep_free_text:
            extract.blanked += [f"{spec.table}.{c.name}" for c in spec.columns if free_text(c)]
    return extract


def _pseudonyms(key: bytes, patients: Sequence[str]) -> dict[str, str]:
    for length in (12, 16, 24, 64):  # longer only in the unlikely case of a collision
        ids = {patient: pseudonym(key, patient, length) for patient in patients}
        if len(set(ids.values())) == len(ids):
            return ids
    raise ValueError("pseudonyms collide")  # two identical patient ids: not a valid registry


def _columns(spec: FileSpec, options: Options) -> list[str]:
    if options.dates == "shift":
        return list(spec.column_names)
    return [f"{c.name}_days" if c.kind is Kind.DATE else c.name for c in spec.columns]


def _latest_dates(specs: Sequence[FileSpec], tables: Mapping[str, Sequence[TextRow]],
                  cutoff: date) -> dict[str, date]:
    """Each patient's latest recorded date (the cut-off while still on therapy)."""
    latest: dict[str, date] = {}
    for spec in specs:
        dates = [c.name for c in spec.columns if c.kind is Kind.DATE]
        for row in tables[spec.table]:
            patient = str(row["patient_id"])
            for name in dates:
                value = row.get(name)
                if value is not None and (patient not in latest
                                          or date.fromisoformat(value) > latest[patient]):
                    latest[patient] = date.fromisoformat(value)
    for row in tables["patients"]:
        if row.get("therapy_end_date") is None:
            latest[str(row["patient_id"])] = cutoff
    return latest


def _group_age(birth: date, latest: date, extract: Extract) -> date:
    if _age(birth, latest) <= OLDEST_AGE:
        return birth
    extract.grouped_ages += 1
    return _years_before(latest, OLDEST_AGE + 1)


def _date_value(name: str, day: date | None, patient: str, key: bytes,
                first_implant: Mapping[str, date], options: Options) -> TextRow:
    if options.dates == "shift":
        shifted = None if day is None else day - timedelta(days=shift_days(key, patient))
        return {name: None if shifted is None else shifted.isoformat()}
    origin = first_implant.get(patient)
    days = None if day is None or origin is None else (day - origin).days
    return {f"{name}_days": None if days is None else str(days)}
