"""Jobs survive the broker and the worker: a Redis this test starts on its own free port,
a real Celery worker (subprocess) on the PostgreSQL test database.

- Redis stopped: requesting a run answers normally (no 500), the run is stored pending and
  the job page says statistics are delayed. Redis back and a worker started: it completes.
- A worker killed (SIGKILL) in the middle of a run: its message comes back (late ack), a new
  worker finishes the run, once.
Not PostgreSQL: skipped. No redis-server binary: skipped on a laptop, failed in CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from outcomes.models import RunStatus, StatisticsRun
from outcomes.services import cohort_create, run_request
from registry.celery import app as celery_app
from registry.models import Role
from tests.factories import SiteFactory, member
from tests.outcomes.conftest import committed_db, make_case  # noqa: F401 - the fixture
from tests.outcomes.test_worker import (
    drop_connection_pools,
    unavailable,
    wait_for,
    worker_database_url,
)

pytestmark = pytest.mark.worker


@pytest.mark.django_db
def test_the_fault_tests_run_on_the_test_database():
    """Also makes pytest-django create the test database for this module alone."""
    if connection.vendor == "postgresql":
        assert connection.settings_dict["NAME"].startswith("test_")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """redis-server on a port of its own, append-only file in a temporary directory."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


@pytest.fixture
def redis_server(tmp_path, committed_db):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("the fault tests need PostgreSQL: set DATABASE_URL=postgres://...")
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    previous = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    drop_connection_pools()
    celery_app.conf.broker_url = server.url
    celery_app.conf.task_always_eager = False
    try:
        yield server
    finally:
        drop_connection_pools()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
        server.stop()


class Worker:
    def __init__(self, broker_url: str, log: Path, **env: str):
        self.log = log
        environment = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "DJANGO_SETTINGS_MODULE": "registry.settings",
            "DB_CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        command = [
            str(Path(sys.executable).with_name("celery")),
            "-A", "registry", "worker",
            "--pool", "solo",
            "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"faults-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=settings.BASE_DIR,
            )
        wait_for(lambda: "ready." in log.read_text(), "the worker to start", log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def workers():
    started: list[Worker] = []

    def start(*args, **kwargs) -> Worker:
        worker = Worker(*args, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def a_cohort():
    site = SiteFactory(code="site-f")
    coordinator = member(site, Role.COORDINATOR, username="coordinator-f")
    for before, after in [("8.0", "2.0"), ("9.0", "3.0"), ("7.5", "1.5")]:
        make_case(site=site, technique="PKP", vas={"baseline": before, "12w": after})
    cohort = cohort_create(owner=coordinator, name="Faults", rules={"rule_collapse": False})
    return coordinator, cohort


def test_a_run_requested_while_redis_is_down_completes_when_it_is_back(
    redis_server, workers, tmp_path
):
    coordinator, cohort = a_cohort()
    redis_server.stop()

    browser = Client(raise_request_exception=False)
    browser.force_login(coordinator)
    url = reverse("outcomes:run_create", args=[cohort.pk, "table1"])
    started = time.monotonic()
    response = browser.post(url, {})
    assert response.status_code == 302, response.content[:500]
    assert time.monotonic() - started < 10  # no hanging on the dead broker
    run = StatisticsRun.objects.get()
    assert run.status == RunStatus.PENDING and run.dispatched_at is None and run.is_delayed
    page = browser.get(response["Location"]).content.decode()
    assert "Statistics are delayed: the job queue is unreachable" in page

    redis_server.start()
    log = tmp_path / "worker.log"
    workers(redis_server.url, log)  # dispatches what waited, on start

    def finished() -> bool:
        return not StatisticsRun.objects.get(pk=run.pk).is_active

    wait_for(finished, f"statistics run {run.pk}", log)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    assert (run.attempts, run.dispatch_error) == (1, "")
    assert run.result["cohort"]["n_patients"] == 3
    assert "Statistics are delayed" not in browser.get(response["Location"]).content.decode()


SLOW_COMPUTE = """
import time
from pathlib import Path

from celery.signals import task_prerun


def _slow_down(**kwargs):
    from outcomes.services import runs

    if getattr(runs, "_slowed", False):
        return
    original = runs.compute_run

    def slow(run, **options):
        Path({marker!r}).write_text("computing")
        time.sleep(120)
        return original(run, **options)

    runs.compute_run = slow
    runs._slowed = True


task_prerun.connect(_slow_down, weak=False)
"""


def test_a_worker_killed_mid_run_is_replaced_and_the_run_finishes_once(
    redis_server, workers, tmp_path
):
    coordinator, cohort = a_cohort()
    # The first worker computes slowly (a test-only sitecustomize), so it dies mid-run.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    marker = tmp_path / "computing"
    (hooks / "sitecustomize.py").write_text(SLOW_COMPUTE.format(marker=str(marker)))
    fast_redelivery = {"CELERY_VISIBILITY_TIMEOUT": "3"}
    first = workers(
        redis_server.url,
        tmp_path / "first.log",
        PYTHONPATH=os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]),
        **fast_redelivery,
    )
    run = run_request(user=coordinator, cohort=cohort, analysis="table1").run
    # run_request dispatches on commit; outside a test transaction that is now.
    wait_for(marker.exists, "the first worker to start computing", first.log)
    assert StatisticsRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    first.kill()

    second = workers(redis_server.url, tmp_path / "second.log", **fast_redelivery)

    def finished() -> bool:
        return StatisticsRun.objects.get(pk=run.pk).status == RunStatus.DONE

    wait_for(finished, f"statistics run {run.pk} on the second worker", second.log)
    run.refresh_from_db()
    assert run.attempts == 2  # claimed by the dead worker, taken back once by the new one
    assert run.result["cohort"]["n_patients"] == 3 and run.progress == 100
    assert StatisticsRun.objects.count() == 1
    time.sleep(2)  # nothing else arrives: the run is not computed again
    again = StatisticsRun.objects.get(pk=run.pk)
    assert (again.attempts, again.finished_at) == (2, run.finished_at)
