"""``load_registry(path)``: a registry directory, validated, as typed tables."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from itb.domain.dates import parse_iso_date
from itb.registry_io.patient_runs import KnownRuns
from itb.registry_io.problems import Problem
from itb.registry_io.reader import RawTable, read_table
from itb.registry_io.schema import ALL_FILES, SCREENING_TRIALS, SITES, FileSpec, Kind
from itb.registry_io.validate import ROW, Validated, validate_tables

DATASET_FILE = "dataset.toml"


class RegistryInvalid(Exception):
    """The directory has problems; nothing should be computed or written from it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the registry data")
        self.problems = problems

    def render(self, lang: str = "en") -> str:
        return "\n".join(problem.render(lang) for problem in self.problems)


_POLARS_TYPE = {Kind.DATE: pl.Date, Kind.NUMBER: pl.Float64}


def empty_table(spec: FileSpec) -> pl.DataFrame:
    """A table of ``spec`` with no rows, typed as a loaded one (for an optional file)."""
    return pl.DataFrame(schema={c.name: _POLARS_TYPE.get(c.kind, pl.String)
                                for c in spec.columns})


def _no_screening_trials() -> pl.DataFrame:
    return empty_table(SCREENING_TRIALS)


@dataclass(frozen=True)
class Registry:
    """Validated registry tables: dates are ``pl.Date``, numbers ``pl.Float64``.

    ``identity`` (names and personal codes) is there only when the directory has an
    ``identity.csv``; the analysis never reads it.
    """

    patients: pl.DataFrame
    implantations: pl.DataFrame
    complications: pl.DataFrame
    assessments: pl.DataFrame
    refills: pl.DataFrame
    cutoff: date
    site_names: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    source: Path | None = None
    identity: pl.DataFrame | None = None
    # Bolus trials (screening_trials.csv, optional): no rows when the file is absent.
    screening_trials: pl.DataFrame = field(default_factory=_no_screening_trials)
    # Each table's rows matched to their patients while validating, for the analysis.
    known_runs: KnownRuns | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DatasetInfo:
    cutoff: date | None = None
    title: str | None = None


def read_dataset_info(directory: Path) -> tuple[DatasetInfo, list[Problem]]:
    """The optional ``dataset.toml``: the data cut-off and a title."""
    path = directory / DATASET_FILE
    if not path.is_file():
        return DatasetInfo(), []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return DatasetInfo(), [Problem(DATASET_FILE, None, None, "dataset_malformed",
                                       {"detail": str(error)})]
    cutoff = data.get("cutoff")
    if cutoff is not None and (not isinstance(cutoff, date) or isinstance(cutoff, datetime)):
        cutoff = parse_iso_date(str(cutoff))
        if cutoff is None:
            return DatasetInfo(), [Problem(DATASET_FILE, None, "cutoff", "cutoff_malformed",
                                           {"value": data.get("cutoff")})]
    title = data.get("title")
    return DatasetInfo(cutoff, str(title) if title is not None else None), []


def resolve_cutoff(directory: Path, cutoff: date | None) -> tuple[date, DatasetInfo,
                                                                  list[Problem]]:
    """``--cutoff`` wins, then ``dataset.toml``, then today."""
    info, problems = read_dataset_info(directory)
    return cutoff or info.cutoff or date.today(), info, problems


def load_registry(path: str | Path, cutoff: date | None = None) -> Registry:
    """Read and validate a registry directory; raise RegistryInvalid listing every problem."""
    directory = Path(path)
    if not directory.is_dir():
        raise RegistryInvalid([Problem(str(directory), None, None, "file_missing")])
    effective_cutoff, info, problems = resolve_cutoff(directory, cutoff)

    raw: dict[str, RawTable] = {}
    for spec in ALL_FILES:
        table, file_problems = read_table(directory, spec)
        problems += file_problems
        if table is not None:
            raw[spec.table] = table

    site_codes, site_problems = site_codes_of(raw)
    problems += site_problems
    validated = validate_tables(raw, effective_cutoff, site_codes)
    problems += validated.problems
    if problems:
        raise RegistryInvalid(problems)
    return registry_of(validated, effective_cutoff, info, directory)


def site_codes_of(raw: dict[str, RawTable]) -> tuple[frozenset[str] | None, list[Problem]]:
    """The site codes of sites.csv (None without it), and its repeated codes."""
    if "sites" not in raw:
        return None, []
    sites = raw["sites"]
    codes = sites.frame.get_column("code")
    repeated = codes.is_not_null() & ~codes.is_first_distinct()
    return frozenset(codes.drop_nulls().to_list()), [
        Problem(SITES.filename, sites.line(row), "code", "duplicate_code", {"value": codes[row]})
        for row in repeated.arg_true().to_list()]


def registry_of(validated: Validated, cutoff: date, info: DatasetInfo,
                directory: Path) -> Registry:
    """The registry of tables that ``validate_tables`` found no problem in."""
    typed = validated.tables
    site_names: dict[str, str] = {}
    if "sites" in typed:
        site_names = dict(typed["sites"].select("code", "name").iter_rows())
    tables = {name: frame.drop(ROW) for name, frame in typed.items()}
    known_runs = None if validated.patient_order is None else KnownRuns(
        tables, validated.patient_order, validated.runs)
    return Registry(
        patients=tables["patients"],
        implantations=tables["implantations"],
        complications=tables["complications"],
        assessments=tables["assessments"],
        refills=tables["refills"],
        cutoff=cutoff,
        site_names=site_names,
        title=info.title,
        source=directory,
        identity=tables.get("identity"),
        screening_trials=tables.get("screening_trials", _no_screening_trials()),
        known_runs=known_runs,
    )
