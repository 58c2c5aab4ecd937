"""Problems with interchange files (REDCap, mapping, key files), as ``file:line: column: message``
in Estonian and English, like the registry's own validation problems."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from itb.registry_io.problems import Problem

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (Estonian, English)
    "file_missing": ("fail puudub", "the file is missing"),
    "file_empty": ("fail on tühi (päiserida puudub)", "the file is empty (no header row)"),
    "file_not_utf8": ("fail ei ole UTF-8 kodeeringus", "the file is not UTF-8 text"),
    "file_not_csv": ("faili ei saa lugeda CSV-na: {detail}", "cannot be read as CSV: {detail}"),
    "dictionary_header": (
        "see ei ole REDCapi andmesõnastik: veerg „{value}“ puudub",
        "this is not a REDCap data dictionary: the column '{value}' is missing"),
    "field_name_missing": ("välja nimi on tühi", "the field name is empty"),
    "field_repeated": ("väli {value} on sõnastikus mitu korda",
                       "the field {value} appears more than once in the dictionary"),
    "field_unmapped": (
        "väljal {value} pole registris vastet: lisa see vastavusfaili jaotisse [fields] "
        "või loendisse ignore",
        "the field {value} has no registry column: name it in the mapping file's [fields] "
        "or list it in ignore"),
    "column_unknown": ("veergu {value} pole andmesõnastikus",
                       "the column {value} is not a field of the dictionary"),
    "record_id_missing": ("kirje tunnuse veerg {value} puudub",
                          "the record id column {value} is missing"),
    "row_width": ("real on {found} välja, päises {expected}",
                  "the row has {found} fields, the header has {expected}"),
    "checkbox_many": ("märgitud on mitu valikut ({value}); registri veerg lubab ühte",
                      "several choices are ticked ({value}); the registry column takes one"),
    "code_unmapped": ("kood „{value}“ puudub vastavusfaili koodide seast",
                      "the code '{value}' is not in the mapping file's codes"),
    "value_conflict": ("kirjel on sellele väljale erinevad väärtused („{value}“ ja „{other}“)",
                       "the record has different values for this field ('{value}' and "
                       "'{other}')"),
    "mapping_malformed": ("vastavusfaili ei saa lugeda: {detail}",
                          "the mapping file cannot be read: {detail}"),
    "mapping_target": (
        "„{value}“ ei ole registri veerg kujul tabel.veerg (nt patients.sex)",
        "'{value}' is not a registry column in the form table.column (e.g. patients.sex)"),
    "mapping_key": ("tundmatu võti „{value}“; lubatud: {allowed}",
                    "unknown key '{value}'; allowed: {allowed}"),
    "site_repeated": ("haigla kood {value} on valikute seas mitu korda",
                      "the site code {value} appears more than once among the choices"),
    "key_malformed": ("võtmefail peab sisaldama vähemalt 32 baiti (64 kuueteistkümnendmärki)",
                      "the key file must hold at least 32 bytes (64 hexadecimal digits)"),
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem; ``text`` is the message in Estonian and English."""

    file: str
    line: int | None
    column: str | None
    text: tuple[str, str]

    def message(self, lang: str = "en") -> str:
        return self.text[0] if lang == "et" else self.text[1]

    def render(self, lang: str = "en") -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.column:
            where = f"{where}: {self.column}"
        return f"{where}: {self.message(lang)}"


def issue(file: str, line: int | None, column: str | None, code: str, **params: Any) -> Issue:
    et, en = MESSAGES[code]
    return Issue(file, line, column, (et.format(**params), en.format(**params)))


def from_problem(problem: Problem, file: str, line: int | None, column: str | None) -> Issue:
    """A registry validation problem, re-addressed to where its value came from."""
    return Issue(file, line, column, (problem.message("et"), problem.message("en")))


class InteropInvalid(Exception):
    """The input cannot be converted; nothing was written."""

    def __init__(self, problems: Iterable[Issue]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s)")

    def render(self, lang: str = "en") -> str:
        return "\n".join(problem.render(lang) for problem in self.problems)
