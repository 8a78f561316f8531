"""PostgreSQL refuses TRUNCATE of the access log too (0006's row trigger never sees one).

A statement-level BEFORE TRUNCATE trigger. The application never truncates: the retention
purge deletes rows (registry.audit.purge_access_log, let through by 0006's trigger). The one
exception is a transaction that set `registry.audit_truncate` (registry.audit.TRUNCATE_SETTING):
the test suite's flush between transactional tests, which empties every table.
"""

from django.db import migrations

REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION registry_accessevent_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('registry.audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'registry_accessevent is append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_accessevent_refuse_truncate
    BEFORE TRUNCATE ON registry_accessevent
    FOR EACH STATEMENT EXECUTE FUNCTION registry_accessevent_refuse_truncate();
"""
DROP_REFUSE_TRUNCATE = """
DROP TRIGGER IF EXISTS registry_accessevent_refuse_truncate ON registry_accessevent;
DROP FUNCTION IF EXISTS registry_accessevent_refuse_truncate();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_api_updated_since_indexes")]

    operations = [
        migrations.RunPython(_on_postgresql(REFUSE_TRUNCATE), _on_postgresql(DROP_REFUSE_TRUNCATE))
    ]
