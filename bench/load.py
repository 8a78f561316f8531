"""`make load`: a bounded locust run on loopback against gunicorn, PostgreSQL and a real
Celery worker, then the checks: zero failed requests and zero lost writes.

LOAD_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ovcf_load, created and seeded
with LOAD_PATIENTS demo patients if empty), LOAD_BROKER_URL (default redis://127.0.0.1:6379/14),
LOAD_USERS (50), LOAD_SPAWN_RATE (10 per second), LOAD_DURATION (2m), LOAD_WEB_WORKERS (4).
Prints p50 / p95 per request type and exits non-zero on any failure or lost write.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
CLINICAL_TABLES = [
    "registry_patient",
    "registry_historicalpatient",
    "registry_fracture",
    "registry_procedure",
    "registry_followupvisit",
]
# Per demo surgeon: a cohort to run statistics on; and for the API feeds, real read-only
# de-identified tokens (one per feed user, so each has its own throttle budget), made afresh
# each run (the previous run's are revoked).
SETUP_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from outcomes.models import Cohort
from outcomes.services import cohort_create
from registry.models import ApiToken
from registry.services.api_tokens import api_token_create, api_token_revoke
cohorts = {}
surgeons = list(get_user_model().objects.filter(username__startswith="surgeon-").order_by("pk"))
for user in surgeons:
    cohort = Cohort.objects.filter(owner=user, name="load").first() or cohort_create(
        owner=user, name="load")
    cohorts[user.username] = cohort.pk
for token in ApiToken.objects.filter(name="load feed"):
    api_token_revoke(user=token.user, token=token)
tokens = [
    api_token_create(user=surgeons[i % len(surgeons)], name="load feed", scope="read",
                     deidentified=True)[1]
    for i in range(FEEDS)
]
print(json.dumps({"cohorts": cohorts, "tokens": tokens}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in CLINICAL_TABLES}  # noqa: S608


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    url = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ovcf_load")
    broker = os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/14")
    users = os.environ.get("LOAD_USERS", "50")
    duration = os.environ.get("LOAD_DURATION", "2m")
    ensure_database(url)
    env = {
        **{
            k: v for k, v in os.environ.items() if k not in {"PRODUCTION", "DJANGO_SETTINGS_MODULE"}
        },
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    manage(env, "migrate", "--noinput")
    patients = os.environ.get("LOAD_PATIENTS", "2000")
    manage(env, "seed_demo", "--if-empty", "--patients", patients, "--seed", "1")
    made = manage(env, "shell", "-c", SETUP_SCRIPT.replace("FEEDS", str(int(users))))
    setup = json.loads(made.strip().splitlines()[-1])
    cohorts = setup["cohorts"]
    port = free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "registry", "worker", "--concurrency", "1",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "registry.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", os.environ.get("LOAD_WEB_WORKERS", "4"), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        host = f"http://127.0.0.1:{port}"
        wait_for(f"{host}/healthz", web)
        before = counts(url)
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "saved.json"
            prefix = Path(folder) / "stats"
            locust_env = {
                **env,
                "LOAD_REPORT": str(report),
                "LOAD_SURGEONS": json.dumps(sorted(cohorts)),
                "LOAD_COHORTS": json.dumps(cohorts),
                "LOAD_TOKENS": json.dumps(setup["tokens"]),
            }
            subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
                 "--headless", "--users", users, "--spawn-rate",
                 os.environ.get("LOAD_SPAWN_RATE", "10"), "--run-time", duration,
                 "--host", host, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
                 "--stop-timeout", "90"],
                cwd=ROOT, env=locust_env, check=False,
            )  # fmt: skip
            saved = json.loads(report.read_text())
            rows = list(csv.DictReader((prefix.with_name("stats_stats.csv")).open()))
        after = counts(url)
    finally:
        stop(web)
        stop(worker)
    return verdict(rows, saved, before, after)


def verdict(rows, saved, before, after) -> int:
    print(f"\n{'request':34} {'count':>7} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7}")
    failures = 0
    for row in rows:
        failures += int(row["Failure Count"]) if row["Name"] != "Aggregated" else 0
        print(
            f"{row['Name'][:34]:34} {row['Request Count']:>7} {row['Failure Count']:>5} "
            f"{row['50%']:>7} {row['95%']:>7}"
        )
    gained = after["registry_patient"] - before["registry_patient"]
    history = after["registry_historicalpatient"] - before["registry_historicalpatient"]
    # Users finish the request in flight before stopping (--stop-timeout), so every save the
    # database holds was confirmed to a user and every confirmed save is in the database.
    lost = max(0, saved["patients"] - gained)
    unconfirmed = max(0, gained - saved["patients"])
    statuses = ", ".join(f"{n} x {code}" for code, n in sorted(saved.get("aggregates", {}).items()))
    print(f"\nAPI aggregate reads by token: {statuses or 'none'} (202: queued for the worker)")
    print(f"patients saved as reported by the users: {saved['patients']}")
    print(f"patients the database gained: {gained} (history rows +{history})")
    ok = failures == 0 and lost == 0 and unconfirmed == 0 and history == gained
    print(
        f"failed requests: {failures}; lost writes: {lost}; saves never confirmed: {unconfirmed};"
        f" {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
