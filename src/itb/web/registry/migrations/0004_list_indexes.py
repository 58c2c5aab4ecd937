"""The patient list's indexes: each filter with the list's order, and on PostgreSQL the
id-prefix search's."""

from typing import Any

from django.db import migrations, models

# The list's id search is `istartswith`, on PostgreSQL `UPPER(patient_id::text) LIKE 'P%'`:
# a pattern-ops index of that expression turns it into an index range (a scan of every
# patient took 37 ms for each search's count alone at 10⁵ patients). SQLite cannot use an
# index for its case-insensitive LIKE, hence PostgreSQL only.
PREFIX_INDEX = "registry_patient_id_prefix_idx"


def create_prefix_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX {PREFIX_INDEX} ON registry_patient "
                              "(UPPER(patient_id::text) text_pattern_ops)")


def drop_prefix_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PREFIX_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0003_followup"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="patient",
            name="registry_pa_functio_d4e848_idx",
        ),
        migrations.RemoveIndex(
            model_name="patient",
            name="registry_pa_therapy_5d9989_idx",
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["functional_level", "patient_id"],
                               name="registry_pa_functio_3d9745_idx"),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["therapy_end_date", "patient_id"],
                               name="registry_pa_therapy_946c95_idx"),
        ),
        migrations.RunPython(create_prefix_index, drop_prefix_index, elidable=False),
    ]
