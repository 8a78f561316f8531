"""Settings are read from the environment; production is hardened and refuses to start bare."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from registry.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "PRODUCTION", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestEnvReaders:
    def test_booleans(self, monkeypatch):
        monkeypatch.setenv("FLAG", "yes")
        assert env_bool("FLAG") is True
        monkeypatch.setenv("FLAG", "0")
        assert env_bool("FLAG", True) is False
        monkeypatch.setenv("FLAG", "maybe")
        with pytest.raises(ImproperlyConfigured, match="FLAG must be a boolean"):
            env_bool("FLAG")

    def test_integers_name_the_variable_when_malformed(self, monkeypatch):
        monkeypatch.setenv("N", "thirty")
        with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
            env_int("N", 1)
        monkeypatch.setenv("N", "0")
        with pytest.raises(ImproperlyConfigured, match="at least 1"):
            env_int("N", 5, minimum=1)
        monkeypatch.delenv("N")
        assert env_int("N", 5) == 5

    def test_lists(self, monkeypatch):
        monkeypatch.setenv("HOSTS", " a.org, b.org ,,")
        assert env_list("HOSTS") == ["a.org", "b.org"]


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = run_manage("check", PRODUCTION="1", ALLOWED_HOSTS="registry.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_mode_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", PRODUCTION="1", SECRET_KEY=secrets.token_urlsafe(60))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="registry.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_embedded_default_is_sqlite_and_eager_celery():
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "registry.settings"},
    )
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_database_url_and_broker_select_postgresql_and_real_workers():
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "d=s.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d['CONN_HEALTH_CHECKS'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "registry.settings",
            "DATABASE_URL": "postgres://u@db.example:5432/reg",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "reg", "True", "False"]


def test_the_healthz_endpoint_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
