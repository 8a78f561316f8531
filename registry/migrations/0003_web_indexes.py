"""Indexes for the browser pages on a large registry (issue 3).

In the models' Meta (portable):
- FollowUpVisit: Index(fields=["visit_date"], name="visit_date_idx"): the worklist's
  recently recorded out-of-window visits, newest first.
- Patient: Index(fields=["site", "id"], condition=Q(withdrawn_at__isnull=True),
  name="patient_site_active_idx"): a site's active patients in id order (incomplete cases,
  merge anti-join with procedures).

PostgreSQL only (expression indexes with an operator class SQLite does not have, so they are
not in the models' state): UPPER() of the registry ID, the hospital record number and the two
names, the latter with text_pattern_ops so that the patient search's case-insensitive
"starts with" (UPPER(col) LIKE 'SMI%') uses them under any collation.
"""

from django.db import migrations, models
from django.db.models import Q

SEARCH_INDEXES = (
    ("patient_upper_registry_id_idx", "UPPER(registry_id)"),
    ("patient_upper_hrn_idx", "UPPER(hospital_record_number)"),
    ("patient_upper_family_idx", "UPPER(family_name) text_pattern_ops"),
    ("patient_upper_given_idx", "UPPER(given_name) text_pattern_ops"),
)


def add_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in SEARCH_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON registry_patient ({expression})"
        )


def remove_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_techniques")]

    operations = [
        migrations.AddIndex(
            model_name="followupvisit",
            index=models.Index(fields=["visit_date"], name="visit_date_idx"),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["site", "id"],
                condition=Q(withdrawn_at__isnull=True),
                name="patient_site_active_idx",
            ),
        ),
        migrations.RunPython(add_search_indexes, remove_search_indexes),
    ]
