"""Export: the database, in a user's scope, as a registry directory (``itb export``).

The files are written by ``itb.registry_io.writer``: the same format, order and formatting as
every registry directory, so that importing a directory and exporting it gives the same bytes.
``identity.csv`` is written only when asked for, and only for users who may handle identities.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db.models import Max, QuerySet

from itb.registry_io.loader import Registry, load_registry
from itb.registry_io.records import SPECS
from itb.registry_io.schema import EVENT_DATE, IMPLANTATIONS, PATIENTS, FileSpec, Kind
from itb.registry_io.writer import Row, dataset_toml, write_registry
from itb.web.registry import selectors
from itb.web.registry.models import (
    EVENT_MODELS,
    ImportRecord,
    Patient,
    PatientIdentity,
    Site,
)
from itb.web.registry.permissions import Action
from itb.web.registry.selectors import User

# Progress: told of every n rows done. ProgressStart: called once with the total, returns one.
Progress = Callable[[int], None]
ProgressStart = Callable[[int], Progress]


def orm_paths(spec: FileSpec) -> list[str]:
    """The ``values_list`` paths of a file's columns: the field names are the column names,
    except for keys (a row's patient, a site), which are the ids people know."""
    paths = []
    for column in spec.columns:
        if column.name == "patient_id" and spec is not PATIENTS:
            paths.append("patient__patient_id")
        elif column.kind is Kind.SITE and spec.table != "sites":
            paths.append(f"{column.name}__code")
        else:
            paths.append(column.name)
    return paths


@dataclass(frozen=True)
class Scope:
    """What an export reads: a user's patients and sites, or (no user) the whole registry."""

    patients: QuerySet[Patient]
    sites: QuerySet[Site]

    @classmethod
    def of(cls, user: User | None, with_identity: bool) -> Scope:
        if user is None:  # the command line: whoever can read the database reads it all
            return cls(Patient.objects.all(), Site.objects.all())
        if with_identity:
            selectors.require(user, Action.IMPORT_EXPORT)
        elif not selectors.can(user, Action.IMPORT_EXPORT):
            selectors.require(user, Action.EXPORT_DEIDENTIFIED)
        return cls(selectors.patients_for(user), selectors.sites_for(user))

    def rows(self, table: str) -> QuerySet[Any]:
        if table == "patients":
            return self.patients
        if table == "identity":
            return PatientIdentity.objects.filter(patient__in=self.patients)
        return EVENT_MODELS[table].objects.filter(patient__in=self.patients)


def export_registry(out_dir: Path, user: User | None, with_identity: bool = False,
                    progress: ProgressStart | None = None) -> dict[str, int]:
    """Write the registry (the user's scope; all of it for ``user=None``, the command line)
    into ``out_dir``; return the rows written per file name.

    ``progress(total)`` is called once the rows are read; the function it returns is told of
    every ``n`` of the ``total`` rows written."""
    scope = Scope.of(user, with_identity)
    names = ["patients", *EVENT_MODELS] + (["identity"] if with_identity else [])
    # Ordered by id: among a patient's rows of one date, the writer keeps the entry order.
    tables: dict[str, list[Row]] = {
        name: list(scope.rows(name).order_by("id").values_list(*orm_paths(SPECS[name])))
        for name in names}
    tables["sites"] = _sites(scope, tables)
    advance = progress(sum(map(len, tables.values()))) if progress is not None else None
    return write_registry(out_dir, tables, _dataset(scope), advance)


_IMPLANT_SITE = IMPLANTATIONS.column_names.index("site")


def _sites(scope: Scope, tables: dict[str, list[Row]]) -> list[Row]:
    """The scope's sites and every site the exported rows name (a clinician's patient may
    have had surgery elsewhere), in the order they were entered: a valid directory."""
    named = {row[1] for row in tables["patients"]}
    named |= {row[_IMPLANT_SITE] for row in tables["implantations"]}
    sites = Site.objects.filter(code__in=named) | scope.sites
    return list(sites.distinct().order_by("id").values_list("code", "name"))


def _dataset(scope: Scope) -> str:
    """The ``dataset.toml`` of the last import, verbatim, while its cut-off covers every date
    exported; once data after it were entered, the cut-off becomes today."""
    latest = _latest_date(scope)
    record = ImportRecord.objects.order_by("-created_at", "-id").first()
    if record is None:
        return dataset_toml(None, max(date.today(), latest or date.min))
    stored = _parse(record.dataset_toml)
    title = None if stored.get("title") is None else str(stored["title"])
    if latest is not None and latest > record.cutoff:
        return dataset_toml(title, max(date.today(), latest))
    if stored.get("cutoff") == record.cutoff:
        return record.dataset_toml
    # Imported with --cutoff, or without a dataset.toml: say the cut-off that was used.
    return dataset_toml(title, record.cutoff)


def _parse(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:  # validated on import; an old record may predate that
        return {}


def _latest_date(scope: Scope) -> date | None:
    dates = list(scope.patients.aggregate(Max("birth_date"), Max("therapy_end_date")).values())
    dates += [scope.rows(table).aggregate(latest=Max(column))["latest"]
              for table, column in EVENT_DATE.items()]
    known = [d for d in dates if d is not None]
    return max(known) if known else None


@contextmanager
def export_for_research(user: User | None) -> Iterator[Registry]:
    """The user's scope (all of it for ``user=None``) as a validated Registry without
    identities, for a de-identified extract (itb.interop.research): exported into a temporary
    directory that is removed afterwards."""
    if user is not None:
        selectors.require(user, Action.EXPORT_DEIDENTIFIED)
    with tempfile.TemporaryDirectory(prefix="itb-research-") as directory:
        export_registry(Path(directory) / "registry", user, with_identity=False)
        yield load_registry(Path(directory) / "registry")
