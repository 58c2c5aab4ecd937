"""Import: a registry directory into the database (``itb import``).

The directory is read and validated by ``load_registry``, the validation of ``itb validate``;
with any problem nothing is written. Then, in one transaction, sites are added or renamed and
every patient of the files replaces that patient in the database: patients not in the files
are left alone. Only what differs is written: a patient's fields are compared, and each of a
patient's tables (surgeries, complications, assessments, refills, bolus trials, identity) is
compared as a whole, in file order, and replaced only when it differs. Re-importing the same
files therefore writes nothing: no new rows, the same primary keys, no audit entries.

Rows are written in bulk (10⁵ patients in well under two minutes), past django-auditlog's
per-row signals; each import that changes anything leaves one ``ImportRecord`` instead, itself
audited: who imported which directory, when, with counts and the patients it touched.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from auditlog.context import disable_auditlog, set_actor
from django.db import connection, models, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    DecimalField,
    Expression,
    ExpressionWrapper,
    F,
    Func,
)
from django.db.models.functions import Cast, Round
from django.utils import timezone

from itb.registry_io import Registry, RegistryInvalid, load_registry
from itb.registry_io.loader import DATASET_FILE
from itb.registry_io.problems import Problem
from itb.registry_io.reader import read_table
from itb.registry_io.records import SPECS
from itb.registry_io.schema import EVENT_DATE, IDENTITY, PATIENTS, FileSpec, Kind
from itb.web.registry.models import (
    EVENT_MODELS,
    ImportRecord,
    Patient,
    PatientIdentity,
    Site,
    Versioned,
)
from itb.web.registry.permissions import Action
from itb.web.registry.selectors import User, require
from itb.web.registry.services.exporting import orm_paths

# Progress: told of every n rows done. ProgressStart: called once with the total, returns one.
Progress = Callable[[int], None]
ProgressStart = Callable[[int], Progress]

BATCH = 5_000  # rows per bulk INSERT / UPDATE
ORDER = "_order"  # a row's place among the patient's rows of the table
IMPORT_LOCK = 0x17B_1A4  # PostgreSQL advisory lock: one import at a time


@dataclass
class ImportResult:
    """What an import did: counts per table (created, updated, deleted, unchanged)."""

    source: Path
    cutoff: date
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    patient_ids: list[str] = field(default_factory=list)  # created or changed
    record: ImportRecord | None = None

    @property
    def changed(self) -> bool:
        return any(n for table in self.counts.values()
                   for what, n in table.items() if what != "unchanged")


def import_registry(directory: Path, user: User | None = None, *, cutoff: date | None = None,
                    origin: str | None = None, progress: ProgressStart | None = None
                    ) -> ImportResult:
    """Import ``directory``; raise ``RegistryInvalid`` (nothing written) on any problem.

    ``user`` is the signed-in user of an import from the web (who must be allowed to import);
    ``None`` is the command line. ``progress(total)`` is called once the files are read; the
    function it returns is told of every ``n`` of the ``total`` rows done.
    """
    directory = Path(directory)
    if user is not None:
        require(user, Action.IMPORT_EXPORT)
    registry = load_registry(directory, cutoff)
    result = ImportResult(directory, registry.cutoff)
    with transaction.atomic():
        _one_import_at_a_time()
        with disable_auditlog():  # bulk writes: the ImportRecord below is the audit entry
            _Importer(registry, result, progress).run()
        if result.changed:
            result.record = _record(result, registry, user, origin)
    if result.changed:
        refresh_statistics()
    return result


def refresh_statistics() -> None:
    """Fresh planner statistics for the registry's tables after a bulk write.

    Without them PostgreSQL planned the list's queries on an empty-table guess after the
    first import of 10⁵ patients (9 314 refills per patient expected instead of 23, and JIT
    switched on). Not SQLite: with statistics its planner chose to sort all 10⁵ patients by
    way of the site index for each page of the list (70 → 380 ms a page); without them it
    walks the patient_id index, which is what every page wants.
    """
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in
              (Site, Patient, PatientIdentity, ImportRecord, *EVENT_MODELS.values())]
    quoted = [connection.ops.quote_name(table) for table in tables]
    # VACUUM too where it can run (not in a transaction): it marks the new pages all-visible,
    # so that counting and paging use index-only scans at once.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {', '.join(quoted)}")


def _one_import_at_a_time() -> None:
    """Two imports adding the same patients would collide; the second waits for the first.

    SQLite needs nothing: its transactions start IMMEDIATE (settings), one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])


def _record(result: ImportResult, registry: Registry, user: User | None,
            origin: str | None) -> ImportRecord:
    dataset = result.source / DATASET_FILE
    text = dataset.read_text(encoding="utf-8-sig") if dataset.is_file() else ""
    if origin is None:
        origin = (f"web import by {user.get_username()}" if user is not None
                  else f"itb import (operating-system user {getpass.getuser()})")
    actor = user if user is not None and user.is_authenticated else None
    with set_actor(actor):
        return ImportRecord.objects.create(
            user=actor, origin=origin[:200], source=str(result.source.resolve())[:500],
            cutoff=registry.cutoff, dataset_toml=text, summary=result.counts,
            patient_ids=result.patient_ids)


# --- comparing: the files and the database as frames of the same canonical values -------------

def _canonical(spec: FileSpec, frame: pl.DataFrame, *, hundredths: bool = False
               ) -> pl.DataFrame:
    """Text with "" as null (the database stores unknown text as ""), dates as dates, numbers
    as whole hundredths (the database keeps two decimals; ``hundredths``: they are already)."""
    columns = []
    for column in spec.columns:
        col = pl.col(column.name)
        if column.kind is Kind.NUMBER and hundredths:
            columns.append(col.cast(pl.Int64))
        elif column.kind is Kind.NUMBER:
            columns.append((col.cast(pl.Float64) * 100).round(0).cast(pl.Int64))
        elif column.kind is Kind.DATE:
            columns.append(col.cast(pl.Date))
        else:
            columns.append(pl.when(col.cast(pl.String) == "").then(None)
                           .otherwise(col.cast(pl.String)).alias(column.name))
    extra = [c for c in frame.columns if c not in spec.column_names]
    return frame.select(*columns, *extra)


def _ordered(spec: FileSpec, frame: pl.DataFrame, tiebreak: str) -> pl.DataFrame:
    """Rows in file order, each numbered within its patient (ORDER)."""
    keys = ["patient_id"] + ([EVENT_DATE[spec.table]] if spec.table in EVENT_DATE else [])
    return frame.sort([*keys, tiebreak], maintain_order=True).with_columns(
        pl.int_range(pl.len()).over("patient_id").alias(ORDER))


def _differing(spec: FileSpec, files: pl.DataFrame, stored: pl.DataFrame) -> set[str]:
    """Patients whose rows of this table differ (values, number or order)."""
    on = [*spec.column_names, ORDER]
    left = files.select(on).join(stored.select(on), on=on, how="anti", nulls_equal=True)
    right = stored.select(on).join(files.select(on), on=on, how="anti", nulls_equal=True)
    return set(left.get_column("patient_id")) | set(right.get_column("patient_id"))


def _stored(spec: FileSpec, queryset: models.QuerySet[Any], key: str, keys: Sequence[Any],
            extra: Sequence[str] = ()) -> pl.DataFrame:
    """The stored rows of ``spec``'s table whose ``key`` is one of ``keys``, as a canonical
    frame (``extra``: integer fields besides the columns).

    Read past Django's per-value converters (a ``Decimal`` and a ``date`` per value made
    re-reading 2.7 million rows cost a minute and gigabytes): numbers already as hundredths,
    dates as text (SQLite) or days since 1970 (PostgreSQL, whatever its DateStyle); on
    PostgreSQL as CSV from COPY, parsed by polars.
    """
    postgresql = connection.vendor == "postgresql"
    selected: list[str] = []
    annotations: dict[str, Any] = {}
    schema: dict[str, Any] = {}
    for index, (column, path) in enumerate(zip(spec.columns, orm_paths(spec), strict=True)):
        alias = f"itb_{index}"  # an annotation may not shadow the field it reads
        if column.kind is Kind.NUMBER:
            hundredths = ExpressionWrapper(F(path) * 100, output_field=DecimalField())
            annotations[alias] = Cast(Round(hundredths), BigIntegerField())
            schema[column.name] = pl.Int64
        elif column.kind is Kind.DATE and postgresql:
            annotations[alias] = Func(F(path), template="(%(expressions)s - DATE '1970-01-01')",
                                      output_field=BigIntegerField())
            schema[column.name] = pl.Int64
        elif column.kind is Kind.DATE:
            annotations[alias] = Cast(F(path), CharField())
            schema[column.name] = pl.String
        else:
            alias = path
            schema[column.name] = pl.String
        selected.append(alias)
    schema.update({name: pl.Int64 for name in extra})
    queryset = queryset.order_by().annotate(**annotations).values_list(*selected, *extra)
    sql, params = queryset.filter(OneOf(key, keys)).query.sql_with_params()
    with connection.cursor() as cursor:
        if postgresql:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
                stored = pl.read_csv(b"".join(copy), has_header=False, schema=schema)
        else:
            cursor.execute(sql, params)
            stored = pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")
    dates = [pl.col(column.name).cast(pl.Date) if postgresql
             else pl.col(column.name).str.to_date("%Y-%m-%d")
             for column in spec.columns if column.kind is Kind.DATE]
    return _canonical(spec, stored.with_columns(dates), hundredths=True)


class OneOf(Expression):
    """``column IN (keys)`` with the keys as one parameter: a JSON array on SQLite (read by
    ``json_each``, which Django's JSONField needs anyway), an array on PostgreSQL.

    One statement for any number of keys, compiled once: 2 000-key ``__in`` chunks cost more
    to build and compile in Django than to run (8 s of a re-import of 10⁵ patients).
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, keys: Sequence[Any]) -> None:
        super().__init__()
        self.column: Any = F(column)
        self.keys = list(keys)

    def resolve_expression(self, *args: Any, **kwargs: Any) -> OneOf:
        resolved = self.copy()
        resolved.column = self.column.resolve_expression(*args, **kwargs)
        return resolved

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.column)
        return one_of(column, self.keys, params, vendor=connection.vendor)


def one_of(column: str, keys: Sequence[Any], params: Sequence[Any] = (), *,
           vendor: str | None = None) -> tuple[str, list[Any]]:
    """SQL and parameters of ``column IN (keys)``, the keys as one parameter (``OneOf``), for
    the ``vendor``'s database (the default connection's)."""
    if (vendor or connection.vendor) == "postgresql":
        return f"{column} = ANY(%s)", [*params, list(keys)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(list(keys))]


# --- writing ------------------------------------------------------------------------------------

class _Importer:
    def __init__(self, registry: Registry, result: ImportResult,
                 progress: ProgressStart | None) -> None:
        self.registry = registry
        self.result = result
        self.advance: Progress = (progress(total_rows(registry)) if progress is not None
                                  else lambda rows: None)
        self.now = timezone.now()
        self.site_pk: dict[str, int] = {}
        self.patient_pk: dict[str, int] = {}  # every patient of the files, once created
        self.existing: list[str] = []  # the patients of the files already in the database
        self.touched: set[str] = set()

    def run(self) -> None:
        self._sites()
        self._patients()
        for table in EVENT_MODELS:
            self._events(table)
        if self.registry.identity is not None:
            self._identities(self.registry.identity)
        self.result.patient_ids = sorted(self.touched)

    def _count(self, table: str, **counts: int) -> None:
        self.result.counts[table] = counts

    # sites: added or renamed, never removed (other patients may be at them)
    def _sites(self) -> None:
        wanted = dict(self.registry.site_names)
        used = set(self.registry.patients.get_column("site"))
        used |= set(self.registry.implantations.get_column("site"))
        for code in sorted(used - set(wanted)):  # no sites.csv: the code is all there is
            wanted[code] = code
        stored = {site.code: site for site in Site.objects.filter(code__in=list(wanted))}
        new = [Site(code=code, name=name) for code, name in wanted.items() if code not in stored]
        renamed = [site for code, site in stored.items()
                   if code in self.registry.site_names and site.name != wanted[code]]
        for site in renamed:
            site.name = wanted[site.code]
        Site.objects.bulk_create(new)
        Site.objects.bulk_update(renamed, ["name"])
        self.site_pk = dict(Site.objects.filter(code__in=list(wanted)).values_list("code", "pk"))
        self._count("sites", created=len(new), updated=len(renamed),
                    unchanged=len(stored) - len(renamed))

    # patients: created, or updated where a field differs
    def _patients(self) -> None:
        files = _canonical(PATIENTS, self.registry.patients).with_columns(pl.lit(0).alias(ORDER))
        ids = files.get_column("patient_id").to_list()
        stored = _stored(PATIENTS, Patient.objects.all(), "patient_id", ids,
                         extra=("id", "version")).with_columns(pl.lit(0).alias(ORDER))
        self.existing = stored.get_column("patient_id").to_list()
        known = set(self.existing)
        changed = _differing(PATIENTS, files, stored) & known

        created = self._create(Patient, PATIENTS,
                               files.filter(~pl.col("patient_id").is_in(self.existing)))
        updates = files.filter(pl.col("patient_id").is_in(list(changed))).join(
            stored.select("patient_id", "id", "version"), on="patient_id")
        self._update(Patient, PATIENTS, updates)
        self.advance(files.height - created - updates.height)

        self.patient_pk = dict(Patient.objects.filter(OneOf("patient_id", ids))
                               .values_list("patient_id", "pk"))
        self.touched |= set(self.patient_pk) - known
        self.touched |= changed
        self._count("patients", created=created, updated=len(changed),
                    unchanged=len(known) - len(changed))

    # a patient's rows of one table: kept when equal to the file's, else replaced
    def _events(self, table: str) -> None:
        spec, model = SPECS[table], EVENT_MODELS[table]
        files = _ordered(spec, _canonical(spec, getattr(self.registry, table))
                         .with_row_index("_file_row"), "_file_row")
        replace = self._replaced(spec, model, files)
        deleted = self._delete(model, replace & set(self.existing))
        rows = files.filter(pl.col("patient_id").is_in(list(replace)))
        created = self._create(model, spec, rows)
        self.advance(files.height - created)
        self._count(table, created=created, deleted=deleted)

    def _replaced(self, spec: FileSpec, model: type[models.Model],
                  files: pl.DataFrame) -> set[str]:
        """The patients whose rows of this table are to be (re)written."""
        new = set(self.patient_pk) - set(self.existing)
        if not self.existing:
            return new
        pks = [self.patient_pk[patient_id] for patient_id in self.existing]
        stored = _ordered(spec, _stored(spec, model.objects.all(), "patient_id", pks,
                                        extra=("id",)), "id")
        differing = _differing(spec, files.filter(pl.col("patient_id").is_in(self.existing)),
                               stored)
        self.touched |= differing
        return new | differing

    def _delete(self, model: type[models.Model], patient_ids: set[str]) -> int:
        pks = [self.patient_pk[patient_id] for patient_id in sorted(patient_ids)]
        # By SQL, not QuerySet.delete(): with auditlog's signals connected, Django would read
        # every row into a model instance first. The event tables have no dependent rows.
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(model._meta.get_field("patient").column)
        if not pks:
            return 0
        where, params = one_of(column, pks)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
            return cursor.rowcount

    # identity: created, updated, or deleted when identity.csv leaves a patient out
    def _identities(self, identity: pl.DataFrame) -> None:
        files = _canonical(IDENTITY, identity).with_row_index("_file_row")
        self._refuse_codes_of_others(files)
        pks = [self.patient_pk[patient_id] for patient_id in self.existing]
        stored = _stored(IDENTITY, PatientIdentity.objects.all(), "patient_id", pks,
                         extra=("id", "version"))
        changed = files.join(stored, on=list(IDENTITY.column_names), how="anti",
                             nulls_equal=True)
        gone = stored.join(files, on="patient_id", how="anti")
        create = changed.join(stored, on="patient_id", how="anti")
        update = changed.join(stored.select("patient_id", "id", "version"), on="patient_id")

        created = self._create(PatientIdentity, IDENTITY, create)
        self._update(PatientIdentity, IDENTITY, update)
        PatientIdentity.objects.filter(OneOf("pk", gone.get_column("id").to_list())).delete()
        self.advance(files.height - created - update.height)
        self.touched |= set(changed.get_column("patient_id")) | set(gone.get_column("patient_id"))
        self._count("identity", created=created, updated=update.height, deleted=gone.height)

    def _refuse_codes_of_others(self, files: pl.DataFrame) -> None:
        """A code the database holds for a patient not in the files: one person, two ids."""
        codes = files.get_column("personal_code").drop_nulls().to_list()
        owners = dict(PatientIdentity.objects.filter(OneOf("personal_code", codes))
                      .values_list("personal_code", "patient__patient_id"))
        clashes = files.filter(pl.col("personal_code").is_in(
            [code for code, owner in owners.items() if owner not in self.patient_pk]))
        if clashes.height == 0:
            return
        # The file line of each row (a quoted value may span lines): read again, rarely.
        assert self.registry.source is not None
        raw, _problems = read_table(self.registry.source, IDENTITY)
        line = raw.line if raw is not None else (lambda row: row + 2)
        raise RegistryInvalid([
            Problem(IDENTITY.filename, line(row), "personal_code", "personal_code_in_registry",
                    {"other": owners[code]})
            for row, code in clashes.select("_file_row", "personal_code").iter_rows()])

    # from canonical rows to the database's columns
    def _model_frame(self, spec: FileSpec, rows: pl.DataFrame, *, as_text: bool = False
                     ) -> pl.DataFrame:
        """``rows`` with the model's attribute names and values: keys as primary keys,
        numbers as decimals, unknown text as "" (plus ``id`` and ``version`` when there).

        ``as_text``: numbers and dates as the text the driver would send for a ``Decimal``
        and a ``date`` ("12.50", "2024-07-31"), made by polars instead of value by value.
        """
        columns = []
        for column in spec.columns:
            col = pl.col(column.name)
            if column.name == "patient_id" and spec is not PATIENTS:  # the foreign key
                columns.append(col.replace_strict(self.patient_pk, return_dtype=pl.Int64))
            elif column.kind is Kind.SITE:
                columns.append(col.replace_strict(self.site_pk, return_dtype=pl.Int64)
                               .alias(f"{column.name}_id"))
            elif column.kind is Kind.NUMBER:
                number = col.cast(pl.Decimal(12, 2)) / 100
                columns.append(number.cast(pl.String) if as_text else number)
            elif column.kind is Kind.DATE:
                columns.append(col.cast(pl.String) if as_text else col)
            else:
                columns.append(col.fill_null(""))
        extra = [name for name in ("id", "version") if name in rows.columns]
        return rows.select(*columns, *extra)

    def _create(self, model: type[Versioned], spec: FileSpec, rows: pl.DataFrame) -> int:
        """Insert new rows: COPY of polars' CSV on PostgreSQL, one prepared statement on SQLite.

        Not ``bulk_create``, nor Python values adapted one by one: building and adapting
        2.7 million rows' values in Python was most of an import of 10⁵ patients. The values
        are the text Django would send (``_model_frame(as_text=True)``); the columns are
        checked to be all of the model's.
        """
        now = str(connection.ops.adapt_datetimefield_value(self.now))
        frame = self._model_frame(spec, rows, as_text=True).with_columns(
            version=pl.lit(1), created_at=pl.lit(now), updated_at=pl.lit(now))
        meta = model._meta
        fields = {field.attname: field for field in meta.concrete_fields}
        missing = set(fields) - set(frame.columns) - {meta.pk.attname}
        if missing:
            raise RuntimeError(f"{meta.label}: no value for {sorted(missing)}")
        quote = connection.ops.quote_name
        table = quote(meta.db_table)
        columns = ", ".join(quote(fields[name].column) for name in frame.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Every text quoted: "" is empty text, an unquoted empty field NULL.
                with cursor.cursor.copy(
                        f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                    for batch in frame.iter_slices(BATCH):
                        copy.write(batch.write_csv(include_header=False,
                                                   quote_style="non_numeric"))
                        self.advance(batch.height)
            else:
                placeholders = ", ".join(["%s"] * frame.width)
                sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
                for batch in frame.iter_slices(BATCH):
                    cursor.executemany(sql, batch.rows())
                    self.advance(batch.height)
        return frame.height

    def _update(self, model: type[Versioned], spec: FileSpec, rows: pl.DataFrame) -> None:
        """Save changed rows (with ``id`` and ``version``); the new version makes a form
        opened before the import stale."""
        frame = self._model_frame(spec, rows)
        # A row's patient stays; the key of Patient itself (patient_id) is its own text.
        unchanged = {"id", "version"} | (set() if spec is PATIENTS else {"patient_id"})
        fields = [name for name in frame.columns if name not in unchanged]
        for batch in frame.iter_slices(BATCH):
            instances = [model(**dict(zip(batch.columns, values, strict=True)))
                         for values in batch.iter_rows()]
            for instance in instances:
                instance.version += 1
                instance.updated_at = self.now
            model.objects.bulk_update(instances, [*fields, "version", "updated_at"],
                                      batch_size=500)
            self.advance(batch.height)


def total_rows(registry: Registry) -> int:
    """The rows of ``registry``'s files: the length of an import's progress bar."""
    tables = [registry.patients, *(getattr(registry, t) for t in EVENT_MODELS)]
    if registry.identity is not None:
        tables.append(registry.identity)
    return sum(frame.height for frame in tables)
