"""`make backup` then `make restore` into an empty database gives back every clinical and
history row: same counts and the same checksum per table. PostgreSQL only (pg_dump)."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the backup test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture
def server_url(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("backups are pg_dump/pg_restore: set DATABASE_URL=postgres://...")
        params = connection.get_connection_params()
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        _unavailable("pg_dump/pg_restore are not installed")
    user = params.get("user") or "postgres"
    password = f":{params['password']}" if params.get("password") else ""
    host, port = params.get("host") or "127.0.0.1", params.get("port") or 5432
    return f"postgres://{user}{password}@{host}:{port}"


@pytest.fixture
def two_databases(server_url):
    names = [f"ovcf_backup_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("src", "dst")]
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    yield [f"{server_url}/{name}" for name in names]
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(*args: str, url: str, **extra) -> None:
    env = {**os.environ, "DATABASE_URL": url, **extra}
    env.pop("PRODUCTION", None)
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def clinical_and_history_tables() -> list[str]:
    tables = []
    for model in apps.get_app_config("registry").get_models():
        tables.append(model._meta.db_table)
    for model in apps.get_models():
        if model._meta.db_table.startswith("registry_historical"):
            tables.append(model._meta.db_table)
    return sorted(set(tables))


def fingerprint(url: str, tables: list[str]) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        result = {}
        for table in tables:
            count, digest = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: E501, S608
            ).fetchone()
            result[table] = (count, digest)
        return result


def test_backup_and_restore_round_trip_every_clinical_and_history_table(two_databases, tmp_path):
    source, target = two_databases
    python = sys.executable
    _run(python, "manage.py", "migrate", "--noinput", url=source)
    _run(python, "manage.py", "seed_demo", "--patients", "40", "--seed", "3", url=source)
    dump = tmp_path / "registry.dump"
    _run("make", "--no-print-directory", "backup", f"BACKUP={dump}", url=source)
    assert dump.stat().st_size > 0
    _run("make", "--no-print-directory", "restore", f"BACKUP={dump}", url=target)

    tables = clinical_and_history_tables()
    assert "registry_patient" in tables and "registry_historicalpatient" in tables
    before, after = fingerprint(source, tables), fingerprint(target, tables)
    assert before["registry_patient"][0] == 40
    assert before["registry_historicalfollowupvisit"][0] > 0
    assert after == before
    # The restored access log is still append-only (the trigger came back with it).
    with psycopg.connect(target) as conn:
        conn.execute(
            "INSERT INTO registry_accessevent (at, action, username, method, path, object_type,"
            " object_id, detail) VALUES (now(), 'sign_in', 'x', '', '', '', '', '{}')"
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM registry_accessevent")
