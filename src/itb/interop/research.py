"""Research files: a codebook for Stata and R, an Excel workbook, and the de-identified
extract as a directory with its README (docs/research-exports.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from itb.interop.common import (
    LABELS,
    TABLE_LABELS,
    TextRow,
    label,
    patient_specs,
    registry_text,
    sort_text_rows,
    write_directory_atomically,
)
from itb.interop.deidentify import (
    AGE_FLAG,
    MAX_SHIFT,
    OLDEST_AGE,
    Extract,
    Options,
    deidentify,
    read_key,
)
from itb.registry_io.loader import Registry
from itb.registry_io.schema import IDENTITY, SITES, Column, FileSpec, Kind
from itb.registry_io.writer import dataset_toml

CODEBOOK_COLUMNS = ("file", "variable", "label", "type", "format", "code", "code_label")
_FLAG_LABEL = {"et": "Vanem kui 89 aastat (vanus rühmitatud)",
               "en": "Older than 89 (age grouped)"}


def _type(column: Column, days: bool) -> tuple[str, str]:
    """The codebook's type and format of a column: what Stata/R should read it as."""
    if column.kind is Kind.DATE:
        return ("integer", "days since the first implantation") if days else \
            ("date", "YYYY-MM-DD")
    if column.kind is Kind.NUMBER:
        lo = "" if column.minimum is None else f"{column.minimum:g}"
        hi = "" if column.maximum is None else f"{column.maximum:g}"
        return "numeric", f"{lo}–{hi}" if lo or hi else ""
    if column.kind is Kind.CODE:
        return "categorical", ""
    return "string", "" if column.max_length is None else f"at most {column.max_length} chars"


def codebook_rows(specs: Sequence[FileSpec], columns: Mapping[str, Sequence[str]] | None,
                  lang: str, days: bool = False) -> list[list[str]]:
    """One row per variable (code empty), then one per code of a categorical variable."""
    rows: list[list[str]] = []
    for spec in specs:
        names = list(columns[spec.table]) if columns is not None else list(spec.column_names)
        by_name = {(f"{c.name}_days" if days and c.kind is Kind.DATE else c.name): c
                   for c in spec.columns}
        for name in names:
            if name == AGE_FLAG:
                rows.append([spec.filename, name, _FLAG_LABEL[lang], "categorical", "", "", ""])
                rows += [[spec.filename, name, "", "", "", c, c] for c in ("yes", "no")]
                continue
            column = by_name[name]
            kind, form = _type(column, days)
            rows.append([spec.filename, name, label(column.name, lang, LABELS), kind, form,
                         "", ""])
            if column.codes is not None:
                rows += [[spec.filename, name, "", "", "", item.code, item.label(lang)]
                         for item in column.codes]
    return rows


def _csv(header: Sequence[str], rows: Sequence[Sequence[str | None]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue()


def _typed(column: Column | None, value: str | None) -> object:
    """A cell's value as Excel should hold it: dates as dates, numbers as numbers."""
    if value is None or column is None:
        return value
    if column.kind is Kind.DATE:
        return date.fromisoformat(value)
    if column.kind is Kind.NUMBER:
        return float(value)
    return value


def workbook_bytes(tables: Mapping[str, Sequence[TextRow]],
                   columns: Mapping[str, Sequence[str]], specs: Sequence[FileSpec],
                   lang: str, days: bool = False) -> bytes:
    """An .xlsx workbook: one sheet per table, then a ``data dictionary`` sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    # Write-only: rows are streamed out (a registry of thousands of patients in seconds).
    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def header(sheet: Any, names: Sequence[str]) -> list[Any]:
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            cells.append(cell)
        return cells

    for spec in specs:
        sheet = book.create_sheet(spec.table[:31])
        sheet.freeze_panes = "A2"
        names = list(columns[spec.table])
        by_name = {c.name: c for c in spec.columns}
        sheet.append(header(sheet, names))
        dates = {n for n in names if n in by_name and by_name[n].kind is Kind.DATE and not days}
        for row in tables[spec.table]:
            values: list[Any] = []
            for name in names:
                value = row.get(name)
                if days and name.endswith("_days"):
                    values.append(None if value is None else int(str(value)))
                elif name in dates and value is not None:
                    cell = WriteOnlyCell(sheet, value=date.fromisoformat(value))
                    cell.number_format = "yyyy-mm-dd"
                    values.append(cell)
                else:
                    values.append(_typed(by_name.get(name), value))
            sheet.append(values)
    dictionary = book.create_sheet("data dictionary")
    dictionary.append(header(dictionary, CODEBOOK_COLUMNS))
    for row in codebook_rows(specs, columns, lang, days):
        dictionary.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def registry_workbook(registry: Registry, lang: str = "et") -> bytes:
    """The registry (without identities) as a workbook, sites included."""
    tables = registry_text(registry)
    specs = [SITES, *(s for s in patient_specs() if s is not IDENTITY and s.table in tables)]
    columns = {spec.table: list(spec.column_names) for spec in specs}
    return workbook_bytes(tables, columns, specs, lang)


# --- the de-identified extract as a directory ------------------------------------------------

README = {
    "en": """# De-identified extract

Made by `itb` {version} from {source} on {today}. Data cut-off: {cutoff}.
Tables: {tables}. Codebook: `codebook.csv` (every variable, its type and its codes).

## How it was de-identified

- Names and personal identification codes are not in the extract (`identity.csv` was not read).
- `patient_id` is a keyed hash of the registry id (HMAC-SHA-256, first hex digits, prefixed
  `D`). {key_text}
- {date_text}
- Ages over {oldest} are grouped: a patient who would be older than {oldest} on their latest
  recorded date has a birth date that makes them exactly {oldest_plus} then, and
  `age_over_89 = yes` in `patients.csv` ({grouped} patient(s)).
- {text_text}
- Sites (hospitals) are kept.

Small numbers can still identify people: publish counts only through
`itb report --suppress-below K`.

## Reading it

Stata: `import delimited using patients.csv, varnames(1) stringcols(_all)` and the codes from
`codebook.csv`. R: `read.csv("patients.csv", na.strings = "")`; dates with `as.Date()`.
""",
    "et": """# Isikustamata väljavõte

Koostatud tarkvaraga `itb` {version} andmetest {source} {today}. Andmete lõppkuupäev: {cutoff}.
Tabelid: {tables}. Koodiraamat: `codebook.csv` (iga muutuja, selle tüüp ja koodid).

## Kuidas andmed isikustamata on

- Nimesid ja isikukoode väljavõttes ei ole (faili `identity.csv` ei loetud).
- `patient_id` on registri ID võtmega räsi (HMAC-SHA-256, esimesed kuueteistkümnendmärgid,
  eesliide `D`). {key_text}
- {date_text}
- Üle {oldest}-aastaste vanus on rühmitatud: patsiendil, kes oleks viimasel registreeritud
  kuupäeval vanem kui {oldest}, on sünnikuupäev, mille järgi ta on siis täpselt {oldest_plus},
  ja failis `patients.csv` `age_over_89 = yes` ({grouped} patsient(i)).
- {text_text}
- Haiglad on alles.

Väikesed arvud võivad inimese ikkagi ära tunda: avalda arve ainult käsuga
`itb report --suppress-below K`.

## Lugemine

Stata: `import delimited using patients.csv, varnames(1) stringcols(_all)` ja koodid failist
`codebook.csv`. R: `read.csv("patients.csv", na.strings = "")`; kuupäevad `as.Date()` abil.
""",
}

_KEY_TEXT = {
    ("en", True): "The key was made for this extract and not kept: its ids cannot be linked to "
                  "another extract's.",
    ("en", False): "The key is kept by the registry: extracts made with it give a patient the "
                   "same id.",
    ("et", True): "Võti loodi selle väljavõtte jaoks ja seda ei hoitud alles: ID-sid ei saa "
                  "teise väljavõttega siduda.",
    ("et", False): "Võtit hoiab register: sama võtmega väljavõtetes on patsiendil sama ID.",
}
_DATE_TEXT = {
    ("en", "shift"): f"Every date is moved back by a per-patient random number of days between "
                     f"0 and {MAX_SHIFT} (the same for all of one patient's dates): intervals "
                     f"within a patient are true, calendar dates and years are not. The files "
                     f"are a registry directory: `itb report` reads them.",
    ("en", "days"): "Every date is replaced by the number of days since the patient's first "
                    "implantation (column `<name>_days`; negative before it).",
    ("et", "shift"): f"Iga kuupäeva on nihutatud tagasi patsiendi juhusliku päevade arvu võrra "
                     f"vahemikus 0…{MAX_SHIFT} (ühe patsiendi kõigil kuupäevadel sama): "
                     f"vahemikud patsiendi sees on õiged, kalendrikuupäevad ja aastad mitte. "
                     f"Failid on registri kaust: `itb report` loeb neid.",
    ("et", "days"): "Iga kuupäev on asendatud päevade arvuga patsiendi esimesest "
                    "implantatsioonist (veerg `<nimi>_days`; enne seda negatiivne).",
}


def _text_text(extract: Extract, lang: str) -> str:
    if extract.options.keep_free_text:
        return {"en": "Free-text columns are kept as entered: check them before sharing.",
                "et": "Vabateksti veerud on alles nii, nagu sisestati: kontrolli neid enne "
                      "jagamist."}[lang]
    columns = ", ".join(f"`{c}`" for c in extract.blanked) or "–"
    return {"en": f"Free-text columns are emptied (they can name people): {columns}.",
            "et": f"Vabateksti veerud on tühjendatud (need võivad inimesi nimetada): "
                  f"{columns}."}[lang]


def write_extract(registry: Registry, out_dir: Path, key_file: Path | None,
                  options: Options | None = None, excel: bool = False, lang: str = "et",
                  source: str | None = None) -> dict[str, int]:
    """Write the de-identified extract of ``registry`` into ``out_dir`` (new or empty): the
    tables as CSV, ``codebook.csv``, ``README.md`` and, asked for, ``extract.xlsx``."""
    from itb import __version__

    options = options or Options()
    key, created = read_key(key_file)
    tables = registry_text(registry)
    extract = deidentify(tables, registry.cutoff, key, options)
    days = options.dates == "days"
    specs = [s for s in patient_specs() if s.table in extract.tables]
    sites = tables["sites"]
    files: dict[str, str] = {}
    if sites:
        files[SITES.filename] = _csv(SITES.column_names,
                                     [[row["code"], row["name"]] for row in sites])
    counts: dict[str, int] = {}
    for spec in specs:
        names = extract.columns[spec.table]
        # Sorted by pseudonym: the registry's order would tell which id is which.
        rows = sort_text_rows(spec, extract.tables[spec.table])
        files[spec.filename] = _csv(names, [[row.get(n) for n in names] for row in rows])
        counts[spec.filename] = len(rows)
    files["codebook.csv"] = _csv(CODEBOOK_COLUMNS, codebook_rows(specs, extract.columns, lang,
                                                                 days))
    if not days:
        files["dataset.toml"] = dataset_toml(
            None if registry.title is None else f"{registry.title} (de-identified)",
            registry.cutoff)
    table_names = ", ".join(f"`{s.filename}` ({label(s.table, lang, TABLE_LABELS)})"
                            for s in specs)
    files["README.md"] = README[lang].format(
        version=__version__, source=source or "a registry", today=date.today().isoformat(),
        cutoff=registry.cutoff.isoformat(), tables=table_names,
        key_text=_KEY_TEXT[(lang, created and key_file is None)],
        date_text=_DATE_TEXT[(lang, options.dates)], oldest=OLDEST_AGE,
        oldest_plus=OLDEST_AGE + 1, grouped=extract.grouped_ages,
        text_text=_text_text(extract, lang))
    book = workbook_bytes(extract.tables, extract.columns, specs, lang, days) if excel else None

    def fill(directory: Path) -> None:
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8", newline="")
        if book is not None:
            (directory / "extract.xlsx").write_bytes(book)

    write_directory_atomically(out_dir, fill)
    return counts
