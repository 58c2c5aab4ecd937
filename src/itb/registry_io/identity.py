"""The rules of ``identity.csv``: names and personal codes of the registry's patients.

Every row belongs to a patient of ``patients.csv`` (once), its personal code is a valid
isikukood that agrees with the patient's sex and birth date, and no code belongs to two
patients. A problem names the row, the column and what is wrong, never the code or a name:
messages reach terminals and logs, which must not carry identities.
"""

from __future__ import annotations

import polars as pl

from itb.domain.personal_code import personal_code_problems
from itb.registry_io.problems import Problem
from itb.registry_io.reader import RawTable

CODE = "personal_code"


def identity_problems(raw: RawTable, identity: pl.DataFrame, patients: pl.DataFrame | None,
                      row: str) -> list[Problem]:
    """Every problem of the identity rows; ``row`` is the frames' row-index column.

    ``patients`` is the validated patients frame, when there is one: without it (an identity
    edited on its own) only the code's own structure and uniqueness can be checked.
    """
    problems = _repeated_patients(raw, identity, row)
    problems += _repeated_codes(raw, identity, row)
    people = None
    if patients is not None:
        problems += _unknown_patients(raw, identity, patients, row)
        people = patients.select("patient_id", "sex", "birth_date").unique(
            "patient_id", keep="first")
    problems += _code_problems(raw, identity, people, row)
    return problems


def _repeated_patients(raw: RawTable, identity: pl.DataFrame, row: str) -> list[Problem]:
    ids = identity.filter(pl.col("patient_id").is_not_null())
    first = ids.group_by("patient_id").agg(pl.col(row).min().alias("_first"))
    repeated = ids.join(first, on="patient_id").filter(pl.col(row) != pl.col("_first"))
    return [Problem(raw.filename, raw.line(r), "patient_id", "duplicate_patient",
                    {"value": patient_id, "first_line": raw.line(f)})
            for r, patient_id, f in repeated.select(row, "patient_id", "_first").iter_rows()]


def _repeated_codes(raw: RawTable, identity: pl.DataFrame, row: str) -> list[Problem]:
    """A code given again for another patient (the same patient twice is a repeated patient)."""
    coded = identity.filter(pl.col(CODE).is_not_null())
    first = coded.sort(row).group_by(CODE, maintain_order=True).agg(
        pl.col(row).first().alias("_first"), pl.col("patient_id").first().alias("_owner"))
    again = coded.join(first, on=CODE).filter(
        (pl.col(row) != pl.col("_first")) & (pl.col("patient_id") != pl.col("_owner")))
    return [Problem(raw.filename, raw.line(r), CODE, "personal_code_duplicate",
                    {"other": owner, "first_line": raw.line(f)})
            for r, owner, f in again.select(row, "_owner", "_first").iter_rows()]


def _unknown_patients(raw: RawTable, identity: pl.DataFrame, patients: pl.DataFrame,
                      row: str) -> list[Problem]:
    known = patients.select("patient_id").drop_nulls().unique()
    orphans = identity.join(known, on="patient_id", how="anti").filter(
        pl.col("patient_id").is_not_null())
    return [Problem(raw.filename, raw.line(r), "patient_id", "patient_unknown",
                    {"value": patient_id})
            for r, patient_id in orphans.select(row, "patient_id").iter_rows()]


def _code_problems(raw: RawTable, identity: pl.DataFrame, people: pl.DataFrame | None,
                   row: str) -> list[Problem]:
    coded = identity.filter(pl.col(CODE).is_not_null()).select(row, "patient_id", CODE)
    if people is None:
        coded = coded.with_columns(sex=pl.lit(None, pl.String), birth_date=pl.lit(None, pl.Date))
    else:
        coded = coded.join(people, on="patient_id", how="left", maintain_order="left")
    problems: list[Problem] = []
    for r, code, sex, birth in coded.select(row, CODE, "sex", "birth_date").iter_rows():
        problems += [Problem(raw.filename, raw.line(r), CODE, problem)
                     for problem in personal_code_problems(code, sex, birth)]
    return problems
