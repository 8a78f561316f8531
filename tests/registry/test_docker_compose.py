"""No Docker engine runs here: check that docker-compose.yml describes a coherent production."""

import importlib
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_of(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else command


def test_it_has_the_production_services(compose):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(compose["services"])
    assert compose["services"]["postgres"]["image"].startswith("postgres:15")
    assert compose["services"]["redis"]["image"].startswith("redis:7")


def test_every_long_running_service_has_a_health_check_or_depends_on_healthy_ones(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_data_lives_in_volumes(compose):
    assert {"postgres-data", "redis-data"} <= set(compose["volumes"])


def test_web_points_at_the_wsgi_application(compose):
    command = command_of(compose["services"]["web"])
    assert command[0] == "gunicorn"
    module, attribute = command[1].split(":")
    assert hasattr(importlib.import_module(module), attribute)


@pytest.mark.parametrize("name,subcommand", [("worker", "worker"), ("beat", "beat")])
def test_celery_services_point_at_the_celery_app(compose, name, subcommand):
    command = command_of(compose["services"][name])
    assert command[:3] == ["celery", "-A", "registry"]
    assert command[3] == subcommand
    from celery import Celery

    assert isinstance(importlib.import_module("registry").celery_app, Celery)


def test_the_migrate_service_runs_an_existing_management_command(compose):
    command = command_of(compose["services"]["migrate"])
    assert command[:2] == ["python", "manage.py"]
    assert command[2] in get_commands()


def test_app_services_run_in_production_mode_with_the_real_backends(compose):
    for name in ("web", "worker", "beat"):
        env = compose["services"][name]["environment"]
        assert env["PRODUCTION"] == "1"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
        assert "SECRET_KEY" in env


def test_the_image_is_built_from_the_repository_dockerfile(compose):
    assert compose["services"]["web"]["build"] == "."
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile


def test_the_readme_documents_every_environment_variable_the_settings_read():
    import re

    settings_text = (ROOT / "registry" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list|required)\("([A-Z_]+)"', settings_text))
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in read if f"`{name}`" not in readme)
    assert not missing, f"README.md does not document {missing}"


def test_the_job_queue_survives_a_redis_restart(compose):
    redis = compose["services"]["redis"]
    command = command_of(redis)
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "redis-data:/data" in redis["volumes"]


def test_beat_runs_the_statistics_outbox(compose):
    from django.conf import settings

    assert "beat" in command_of(compose["services"]["beat"])
    schedule = settings.CELERY_BEAT_SCHEDULE["outcomes-dispatch-pending-runs"]
    assert schedule["task"] == "outcomes.dispatch_pending_runs" and schedule["schedule"] <= 30
