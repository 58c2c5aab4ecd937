"""Import and export: exact round trips, idempotent re-imports, all or nothing, identity kept
apart, one audit entry per import."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from itb.cli import main
from itb.registry_io import RegistryInvalid
from itb.registry_io.records import SPECS
from itb.web.registry.models import (
    Assessment,
    Complication,
    Implantation,
    ImportRecord,
    Patient,
    PatientIdentity,
    Refill,
    Site,
)
from itb.web.registry.services.exporting import export_registry
from itb.web.registry.services.importing import import_registry
from tests.conftest import write_registry
from tests.web.conftest import (
    REFERENCE_COHORT,
    World,
    personal_code,
    registry_files,
    write_identity,
)

pytestmark = pytest.mark.django_db

MODELS = (Site, Patient, PatientIdentity, Implantation, Complication, Assessment, Refill)


def snapshot() -> dict[str, Any]:
    """Every stored row with every field (keys, versions, times), and the audit trail."""
    state: dict[str, Any] = {model.__name__: list(model.objects.order_by("pk").values())
                             for model in MODELS}
    state["audit"] = LogEntry.objects.count()
    state["imports"] = ImportRecord.objects.count()
    return state


def round_trip(source: Path, out: Path, **export: Any) -> dict[str, bytes]:
    import_registry(source)
    export_registry(out, None, **export)
    return registry_files(out)


def test_reference_cohort_round_trip_is_byte_identical(tmp_path: Path) -> None:
    exported = round_trip(REFERENCE_COHORT, tmp_path / "out")
    assert exported == registry_files(REFERENCE_COHORT)
    assert Patient.objects.count() == 43


def test_synthetic_registry_round_trip_is_byte_identical(synthetic_registry: Path,
                                                         tmp_path: Path) -> None:
    exported = round_trip(synthetic_registry, tmp_path / "out")
    assert exported == registry_files(synthetic_registry)
    assert Patient.objects.count() == 300


def test_reimport_changes_nothing(synthetic_registry: Path) -> None:
    first = import_registry(synthetic_registry)
    assert first.changed and first.counts["patients"]["created"] == 300
    before = snapshot()
    again = import_registry(synthetic_registry)
    assert not again.changed and again.record is None
    assert again.counts["patients"] == {"created": 0, "updated": 0, "unchanged": 300}
    assert snapshot() == before


def test_one_audit_entry_per_import_naming_who(world: World) -> None:
    coordinator = world.users["coordinator"]
    entries = LogEntry.objects.count()
    result = import_registry(REFERENCE_COHORT, coordinator)
    assert LogEntry.objects.count() == entries + 1
    entry = LogEntry.objects.latest("pk")
    assert entry.content_type.model == "importrecord" and entry.actor == coordinator
    record = result.record
    assert record is not None and record.user == coordinator
    assert record.summary["patients"]["created"] == 43
    assert record.summary["refills"] == {"created": 690, "deleted": 0}
    assert len(record.patient_ids) == 43 and record.cutoff.isoformat() == "2024-07-31"
    assert record.dataset_toml == (REFERENCE_COHORT / "dataset.toml").read_text("utf-8")


def test_only_coordinators_import(world: World) -> None:
    for role in ("clinician_a", "researcher", "administrator"):
        with pytest.raises(PermissionDenied):
            import_registry(REFERENCE_COHORT, world.users[role])
    assert not Patient.objects.filter(patient_id__startswith="ITB").exists()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_changed_patients_replaced_others_untouched(reference_copy: Path,
                                                    tmp_path: Path) -> None:
    import_registry(reference_copy)
    before = snapshot()
    refill_pks = dict(Refill.objects.values_list("pk", "patient__patient_id"))
    _edit(reference_copy / "refills.csv", "ITB001,2013-04-11,18,2000,135",
          "ITB001,2013-04-11,18.25,2000,135")
    _edit(reference_copy / "complications.csv",
          "ITB010,2019-02-26,catheter_break,catheter fracture; catheter revised\n", "")
    _edit(reference_copy / "patients.csv", "ITB003,TLH,F,2008-04-21,other,brain developmental",
          "ITB003,TLH,F,2008-04-21,other,Brain developmental")

    result = import_registry(reference_copy)
    assert result.patient_ids == ["ITB001", "ITB003", "ITB010"]
    assert result.counts["patients"] == {"created": 0, "updated": 1, "unchanged": 42}
    # ITB010 had two complications: both go, the one left in the file comes back.
    assert result.counts["complications"] == {"created": 1, "deleted": 2}
    itb001 = sum(1 for owner in refill_pks.values() if owner == "ITB001")
    assert result.counts["refills"] == {"created": itb001, "deleted": itb001}
    # The other patients' rows keep their keys; the changed patient's version moves on.
    after_pks = dict(Refill.objects.values_list("pk", "patient__patient_id"))
    assert {pk for pk, owner in refill_pks.items() if owner != "ITB001"} <= set(after_pks)
    versions = {row["patient_id"]: row["version"] for row in Patient.objects.values()}
    assert versions["ITB003"] == 2 and versions["ITB004"] == 1
    assert snapshot()["Assessment"] == before["Assessment"]
    # And the database now holds exactly the edited files.
    export_registry(tmp_path / "out", None)
    assert registry_files(tmp_path / "out") == registry_files(reference_copy)


def test_patients_not_in_the_files_are_left_alone(reference_copy: Path,
                                                  make_registry: Any) -> None:
    import_registry(reference_copy)
    before = Patient.objects.count()
    small = make_registry()  # three other patients, P01–P03, at sites TLN and TRT
    import_registry(small)
    assert Patient.objects.count() == before + 3
    assert Patient.objects.filter(patient_id__startswith="ITB").count() == 43
    assert Site.objects.count() == 6


def test_bad_directory_writes_nothing_exit_2(make_registry: Any, database_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import_registry(REFERENCE_COHORT)
    before = snapshot()
    bad = make_registry(refills="patient_id,refill_date,volume_ml,concentration_mcg_ml,"
                                "daily_dose_mcg\nP01,2015-10-20,20,500,150\n"
                                "P01,2025-10-20,20,500,150\n")
    status = main(["import", str(bad), "--data-dir", str(database_dir), "--lang", "en"])
    assert status == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "refills.csv:3: refill_date: the date 2025-10-20 is after the data cut-off 2024-07-31",
        "1 problem(s); nothing was written."]
    assert snapshot() == before


def test_cli_import_and_export(database_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(REFERENCE_COHORT), "--data-dir", str(database_dir)]) == 0
    out = capsys.readouterr()
    # Without a terminal: no progress bar, one summary line.
    assert out.err == ""
    assert out.out.count("\n") == 1
    assert "43 patients added, 0 changed, 0 unchanged; 942 rows written" in out.out
    assert main(["import", str(REFERENCE_COHORT), "--data-dir", str(database_dir)]) == 0
    assert "nothing changed (43 patients)" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "out"), "--data-dir", str(database_dir)]) == 0
    out = capsys.readouterr()
    assert out.err == "" and out.out.count("\n") == 1 and "690 refills.csv" in out.out
    assert registry_files(tmp_path / "out") == registry_files(REFERENCE_COHORT)


# --- identity -----------------------------------------------------------------------------------

def test_identity_imported_and_exported_only_when_asked(reference_copy: Path,
                                                        tmp_path: Path) -> None:
    identities = write_identity(reference_copy)
    result = import_registry(reference_copy)
    assert result.counts["identity"] == {"created": 43, "updated": 0, "deleted": 0}
    stored = PatientIdentity.objects.get(patient__patient_id="ITB002")
    assert (stored.personal_code, stored.first_name, stored.last_name) == identities["ITB002"]

    export_registry(tmp_path / "plain", None)
    assert "identity.csv" not in registry_files(tmp_path / "plain")
    everything = b"".join(registry_files(tmp_path / "plain").values()).decode("utf-8")
    for code, first, last in identities.values():
        assert code not in everything and first not in everything and last not in everything

    export_registry(tmp_path / "full", None, with_identity=True)
    assert registry_files(tmp_path / "full") == registry_files(reference_copy)


def test_identity_file_is_authoritative_for_its_patients(reference_copy: Path) -> None:
    write_identity(reference_copy)
    import_registry(reference_copy)
    before = snapshot()["PatientIdentity"]
    write_identity(reference_copy, every=2)  # every other patient's identity left out
    result = import_registry(reference_copy)
    assert result.counts["identity"] == {"created": 0, "updated": 0, "deleted": 21}
    assert PatientIdentity.objects.count() == 22
    kept = {row["id"] for row in before} & set(PatientIdentity.objects.values_list("pk",
                                                                                      flat=True))
    assert len(kept) == 22  # the identities kept are the same rows
    (reference_copy / "identity.csv").unlink()
    assert not import_registry(reference_copy).changed  # no file: identities left alone
    assert PatientIdentity.objects.count() == 22


def test_identity_change_updates_in_place(reference_copy: Path) -> None:
    identities = write_identity(reference_copy)
    import_registry(reference_copy)
    pk = PatientIdentity.objects.get(patient__patient_id="ITB005").pk
    code, first, _last = identities["ITB005"]
    _edit(reference_copy / "identity.csv", f"ITB005,{code},{first},", f"ITB005,{code},Kadri,")
    result = import_registry(reference_copy)
    assert result.counts["identity"] == {"created": 0, "updated": 1, "deleted": 0}
    assert result.patient_ids == ["ITB005"]
    stored = PatientIdentity.objects.get(pk=pk)
    assert stored.first_name == "Kadri" and stored.version == 2


def test_invalid_identity_exit_2_without_the_code(reference_copy: Path, database_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    identities = write_identity(reference_copy)
    code = identities["ITB001"][0]
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    _edit(reference_copy / "identity.csv", f"ITB001,{code},", f"ITB001,{wrong},")
    status = main(["import", str(reference_copy), "--data-dir", str(database_dir),
                   "--lang", "en"])
    assert status == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        "identity.csv:2: personal_code: the check digit (the last digit) of the personal code "
        "does not match; is a digit wrong?")
    assert wrong not in err and code not in err
    assert not Patient.objects.exists()


def test_code_of_a_patient_outside_the_files_is_refused(world: World, reference_copy: Path,
                                                        database_dir: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """The test world's P-A1 holds the code the file gives ITB001 (M, born 2001-11-24): one
    person under two registry ids."""
    taken = personal_code("M", date(2001, 11, 24))
    PatientIdentity.objects.filter(patient=world.patient_a).update(personal_code=taken)
    (reference_copy / "identity.csv").write_text(
        f"patient_id,personal_code,first_name,last_name\nITB001,{taken},,\n", encoding="utf-8")
    before = snapshot()
    with pytest.raises(RegistryInvalid) as raised:
        import_registry(reference_copy)
    assert [p.render("en") for p in raised.value.problems] == [
        "identity.csv:2: personal_code: the same personal code is already in the registry "
        "for patient_id P-A1"]
    assert snapshot() == before
    assert main(["import", str(reference_copy), "--data-dir", str(database_dir)]) == 2
    assert taken not in capsys.readouterr().err


def test_export_scope_and_permissions(world: World, tmp_path: Path) -> None:
    import_registry(REFERENCE_COHORT)
    clinician = world.users["clinician_a"]  # site TLN of the test world only
    with pytest.raises(PermissionDenied):
        export_registry(tmp_path / "c", clinician)
    researcher = world.users["researcher"]
    counts = export_registry(tmp_path / "r", researcher)
    assert counts["patients.csv"] == 45
    with pytest.raises(PermissionDenied):
        export_registry(tmp_path / "ri", researcher, with_identity=True)
    counts = export_registry(tmp_path / "k", world.users["coordinator"], with_identity=True)
    assert counts["identity.csv"] == 1
    assert not (tmp_path / "ri").exists()


def test_export_of_edited_data_moves_the_cutoff(tmp_path: Path) -> None:
    """Data entered after the imported cut-off: the export says a cut-off that covers it."""
    import_registry(REFERENCE_COHORT)
    refill = Refill.objects.filter(patient__patient_id="ITB002").order_by("pk").last()
    assert refill is not None
    refill.refill_date = refill.refill_date.replace(year=2024, month=12, day=1)
    refill.save()
    export_registry(tmp_path / "out", None)
    text = (tmp_path / "out" / "dataset.toml").read_text(encoding="utf-8")
    assert text.startswith('title = "ITB reference cohort (synthetic, Estonia 2012-2024)"\n')
    assert "cutoff = 2024-07-31" not in text
    assert main(["validate", str(tmp_path / "out")]) == 0


def test_import_without_sites_file_creates_sites(tmp_path: Path) -> None:
    directory = write_registry(tmp_path / "nosites", sites=None)
    import_registry(directory)
    assert dict(Site.objects.values_list("code", "name")) == {"TLN": "TLN", "TRT": "TRT"}
    export_registry(tmp_path / "out", None)
    assert (tmp_path / "out" / "sites.csv").read_text("utf-8") == "code,name\nTLN,TLN\nTRT,TRT\n"
    # Renamed by a later sites.csv; never removed.
    (directory / "sites.csv").write_text("code,name\nTLN,Tallinn\nTRT,Tartu\n", encoding="utf-8")
    assert import_registry(directory).counts["sites"] == {"created": 0, "updated": 2,
                                                          "unchanged": 0}


def test_an_import_that_changes_something_refreshes_the_planner_statistics(
        synthetic_registry: Path) -> None:
    """After a bulk import PostgreSQL's planner must know the tables' sizes (it planned the
    patient list on an empty-table guess without them). SQLite is left without statistics:
    with them it sorted every patient for each page of the list."""
    from django.db import connection

    def refills_known() -> bool:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # ANALYZE counts this transaction's rows; nothing else can see them yet.
                cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'registry_refill'")
                return bool(cursor.fetchone()[0] == Refill.objects.count() > 0)
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            return cursor.fetchone() is not None

    assert not refills_known()
    assert import_registry(synthetic_registry).changed
    assert refills_known() == (connection.vendor == "postgresql")


# --- the bulk path writes what the ORM writes ---------------------------------------------------

def _raw_row(model: type[Any], pk: int) -> dict[str, Any]:
    """A stored row as the database driver gives it (no Django converters), without its key
    and times: on SQLite this tells a REAL from an INTEGER from a TEXT."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        names = [column[0] for column in cursor.description]
        values = cursor.fetchone()
    if connection.vendor == "sqlite":  # the storage class, which a comparison hides
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(f'typeof({n})' for n in names)} "
                           f"FROM {table} WHERE id = %s", [pk])
            values = tuple(zip(values, cursor.fetchone(), strict=True))
    return {name: value for name, value in zip(names, values, strict=True)
            if name not in ("id", "created_at", "updated_at")}


def test_imported_rows_are_stored_as_the_orm_stores_them(reference_copy: Path) -> None:
    """The import writes its own SQL (COPY, executemany); each kind of row must be stored
    exactly as Model.save() stores the same values: numbers, dates, empty text, nulls."""
    write_identity(reference_copy)
    import_registry(reference_copy)
    from itb.web.registry.models import EVENT_MODELS

    for model in (Patient, PatientIdentity, *EVENT_MODELS.values()):
        for imported in model.objects.order_by("pk")[:25]:
            copy = model.objects.get(pk=imported.pk)
            copy.pk = None
            if model is Patient:
                copy.patient_id = f"X{imported.pk}"
            if model is PatientIdentity:
                copy.patient = Patient.objects.create(
                    patient_id=f"Y{imported.pk}", site=imported.patient.site, sex="F",
                    birth_date=date(2010, 1, 1), diagnosis="other",
                    syndrome="generalised_dystonia", functional_level="low")
            copy.save()
            expected = _raw_row(model, copy.pk)
            got = _raw_row(model, imported.pk)
            if model is Patient:
                expected.pop("patient_id"), got.pop("patient_id")
            if model is PatientIdentity:
                expected.pop("patient_id"), got.pop("patient_id")
            assert got == expected, (model.__name__, imported.pk)


AWKWARD = ['say "no", twice', "two\nlines", "\\.", "\\N", " padded ", "NULL", "tab\there",
           "ümlaut õ", ",", '"']


def test_awkward_text_survives_the_bulk_path(make_registry: Any, tmp_path: Path) -> None:
    """Quotes, separators, line breaks and the COPY markers ``\\.`` and ``\\N`` are text."""
    rows = "".join(f'P01,2016-07-{day:02d},other,"{text.replace(chr(34), chr(34) * 2)}"\n'
                   for day, text in enumerate(AWKWARD, start=1))
    directory = make_registry(complications="patient_id,complication_date,type,detail\n"
                                            + rows)
    import_registry(directory)
    assert list(Complication.objects.order_by("complication_date")
                .values_list("detail", flat=True)) == AWKWARD
    assert not import_registry(directory).changed
    export_registry(tmp_path / "out", None)  # written by the registry writer, read back
    assert not import_registry(tmp_path / "out").changed


def test_reimport_of_more_keys_than_a_statement_may_bind(tmp_path: Path) -> None:
    """The stored rows are read by one parameter however many patients (SQLite binds at most
    32 766 parameters): 33 000 patients re-imported change nothing."""
    ids = [f"Q{n:05d}" for n in range(33_000)]
    header = ",".join(SPECS["patients"].column_names)
    patients = "".join(f"{pid},TLN,F,2010-01-01,other,,generalised_dystonia,low"
                       f"{',' * (header.count(',') - 7)}\n" for pid in ids)
    implantations = "".join(f"{pid},2015-04-20,TLN,initial,synchromed_ii,20,ascenda,T10\n"
                            for pid in ids)
    empty = {name: ",".join(SPECS[name].column_names) + "\n"
             for name in ("complications", "assessments", "refills")}
    directory = write_registry(
        tmp_path / "many", patients=f"{header}\n{patients}",
        implantations=",".join(SPECS["implantations"].column_names) + "\n" + implantations,
        **empty)
    assert import_registry(directory).counts["patients"]["created"] == 33_000
    again = import_registry(directory)
    assert not again.changed
    assert again.counts["patients"] == {"created": 0, "updated": 0, "unchanged": 33_000}


@pytest.mark.parametrize("source", ["reference", "synthetic"])
def test_the_registry_read_from_the_database_is_the_files(
        source: str, synthetic_registry: Path, world: World) -> None:
    """What the web's report and exports analyse (selectors.registry_for) is what
    ``load_registry`` reads from the imported files: every table, value and type."""
    from itb.registry_io import load_registry
    from itb.web.registry.selectors import registry_for

    directory = REFERENCE_COHORT if source == "reference" else synthetic_registry
    files = load_registry(directory)
    import_registry(directory)
    ids = files.patients.get_column("patient_id")
    read = registry_for(world.users["coordinator"], files.cutoff, patient_ids=ids.to_list())
    for table in ("patients", "implantations", "complications", "assessments", "refills",
                  "screening_trials"):
        expected, actual = getattr(files, table), getattr(read, table)
        assert actual.schema == expected.schema, table
        order = [name for name in expected.columns if expected.schema[name] != pl.Null]
        assert actual.sort(order, maintain_order=True).equals(
            expected.sort(order, maintain_order=True)), table
