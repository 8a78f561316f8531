"""A real Celery worker on Redis runs a statistics job end to end against PostgreSQL.

The worker is `celery -A registry worker`, started as a subprocess on the pytest-django
test database, so the data it must see are committed (`committed_db`). Not PostgreSQL:
skipped. PostgreSQL but no Redis: skipped on a laptop, failed in CI (CI=true). The broker is
CELERY_TEST_BROKER_URL, else CELERY_BROKER_URL, else redis://127.0.0.1:6379/15.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from scipy import stats

from outcomes.models import RunStatus, StatisticsRun
from outcomes.services import cohort_create, run_request
from outcomes.tasks import run_statistics
from registry.celery import app as celery_app
from registry.models import Role
from tests.factories import MembershipFactory, SiteFactory, member
from tests.outcomes.conftest import make_case

pytestmark = pytest.mark.worker

BROKER_URL = (
    os.environ.get("CELERY_TEST_BROKER_URL")
    or os.environ.get("CELERY_BROKER_URL")
    or "redis://127.0.0.1:6379/15"
)
TIMEOUT = 90


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the worker test must run)")
    pytest.skip(reason)


@pytest.fixture
def broker(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if vendor != "postgresql":
        pytest.skip("the worker test needs PostgreSQL: set DATABASE_URL=postgres://...")
    import redis

    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        unavailable(f"Redis is not reachable at {BROKER_URL}: {error}")
    client.delete("celery")  # messages left by an earlier run name rows that no longer exist
    previous = (
        celery_app.conf.broker_url,
        celery_app.conf.task_always_eager,
        celery_app.conf.task_eager_propagates,
    )
    drop_connection_pools()
    celery_app.conf.broker_url = BROKER_URL
    celery_app.conf.task_always_eager = False
    yield BROKER_URL
    drop_connection_pools()
    (
        celery_app.conf.broker_url,
        celery_app.conf.task_always_eager,
        celery_app.conf.task_eager_propagates,
    ) = previous


def drop_connection_pools() -> None:
    """Forget the app's connection and producer pools, as Celery does after a fork: eager
    tests earlier in the session opened them on the default broker, and a changed
    broker_url is only read when a pool is made. (Celery has no public call for this;
    `app.close()` would also deregister the app.)"""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def worker_database_url() -> str:
    db = connection.settings_dict  # inside the test, NAME is the test database's
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


@pytest.fixture
def worker(broker, committed_db, tmp_path):
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DB_CONN_MAX_AGE": "0",  # let the test database be flushed and dropped afterwards
        "PYTHONUNBUFFERED": "1",  # its log is read while it runs
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "registry",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"outcomes-test-{uuid.uuid4().hex[:8]}@%h",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
        )
    try:
        wait_for(lambda: "ready." in log.read_text(), "the worker to start", log)
        yield log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, what: str, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")


@pytest.mark.django_db
def test_the_worker_is_given_the_test_database():
    if connection.vendor != "postgresql":
        pytest.skip("the worker test needs PostgreSQL")
    name = connection.settings_dict["NAME"]
    assert name.startswith("test_")
    assert worker_database_url().endswith(f"/{name}")


def test_a_worker_runs_a_statistics_job_end_to_end(worker):
    site_a, site_b = SiteFactory(code="site-a"), SiteFactory(code="site-b")
    coordinator = member(site_a, Role.COORDINATOR, username="coordinator")
    MembershipFactory(user=coordinator, site=site_b, role=Role.COORDINATOR)
    vas = {
        "PKP": [("8.0", "2.0"), ("9.0", "3.5"), ("7.5", "1.0"), ("8.5", "2.5")],
        "PVP": [("9.0", "4.0"), ("8.0", "3.0"), ("9.5", "2.0")],
    }
    for technique, pairs in vas.items():
        for index, (before, after) in enumerate(pairs):
            make_case(
                site=(site_a, site_b)[index % 2],
                technique=technique,
                vas={"baseline": before, "12w": after},
            )
    cohort = cohort_create(owner=coordinator, name="Worker test", rules={"rule_collapse": False})

    asked = run_request(
        user=coordinator, cohort=cohort, analysis="trajectories", parameters={"outcomes": ["vas"]}
    )
    assert not asked.reused
    run_id = asked.run.pk

    def finished() -> bool:
        return not StatisticsRun.objects.get(pk=run_id).is_active

    wait_for(finished, f"statistics run {run_id}", worker)
    run = StatisticsRun.objects.get(pk=run_id)
    assert run.status == RunStatus.DONE, run.error
    assert run.task_id and run.attempts == 1 and run.progress == 100
    assert run.started_at <= run.finished_at

    assert run.result["cohort"]["n_patients"] == 7
    outcome = run.result["body"]["outcomes"][0]
    change = next(
        c["change"] for c in outcome["changes"] if c["group"] == "PKP" and c["timepoint"] == "12w"
    )
    before, after = zip(*((float(b), float(a)) for b, a in vas["PKP"]), strict=True)
    assert change["n_paired"] == 4
    assert change["p"] == pytest.approx(stats.ttest_rel(after, before).pvalue)

    # The same message delivered again (as after a lost acknowledgement) does nothing.
    duplicate = run_statistics.apply_async(args=[run_id], task_id=run.task_id)
    wait_for(
        lambda: (
            f"[{duplicate.id}] succeeded" in worker.read_text()
            and "'skipped'" in worker.read_text()
        ),
        "the duplicate message",
        worker,
    )
    again = StatisticsRun.objects.get(pk=run_id)
    assert (again.attempts, again.finished_at) == (1, run.finished_at)
