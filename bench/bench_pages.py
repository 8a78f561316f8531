"""Server time of the surgeon's pages on the demo cohort: each under 150 ms.

Runs as `python -m bench.bench_pages` (or through `make bench`) with DATABASE_URL pointing at a
PostgreSQL database. The database is migrated, topped up with `seed_demo --seed 1` to
BENCH_PATIENTS patients (default 100,000; about a minute from empty) and vacuum-analysed.

Each page is requested in-process with django.test.Client, signed in as a demo surgeon (the
site with the most patients) or as the research coordinator (every site). The time is the
median of BENCH_REPEAT requests (default 7) after one warm-up request: URL resolution,
middleware, the view, its queries and the template, no network. DEBUG is off, as in
production. Prints a table with the query count of each page and PASS/FAIL against 150 ms;
the exit code is 1 if any page fails.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ovcf_bench"
TARGET_MS = 150.0


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


# --- the cohort ------------------------------------------------------------------------------


def _patient_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM registry_patient").fetchone()[0]


def _manage(*args: str, url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "registry.settings"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def ensure_cohort(url: str, patients: int) -> None:
    """Migrate (the page indexes are in a migration), seed the missing patients, analyse.

    The same preparation as bench_report, so both benches share one database."""
    import psycopg

    _manage("migrate", "--noinput", "-v0", "--skip-checks", url=url)
    have = _patient_count(url)
    if have < patients:
        print(f"Cohort: {have} patients, {patients} wanted: seeding {patients - have}.")
        started = time.perf_counter()
        _manage("seed_demo", "--patients", str(patients - have), "--seed", "1", url=url)
        print(f"Seeded in {time.perf_counter() - started:.0f} s.")
    # Planner statistics and the visibility map, as autovacuum keeps them on a live database.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# --- timing ------------------------------------------------------------------------------------


@dataclass
class Result:
    actor: str
    page: str
    url: str
    median_ms: float
    worst_ms: float
    queries: int
    status: int

    @property
    def passed(self) -> bool:
        return self.status == 200 and self.median_ms < TARGET_MS


def time_page(client, actor: str, page: str, url: str, repeat: int, data=None) -> Result:
    from django.db import connection

    def request():
        return client.post(url, data) if data is not None else client.get(url)

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = request()  # warm-up, and the query count
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = request()
        timings.append((time.perf_counter() - started) * 1000)
    return Result(
        actor,
        page,
        url,
        statistics.median(timings),
        max(timings),
        len(queries),
        response.status_code,
    )


def _pick_actors():
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from registry.models import Patient, Role, SiteMembership

    users = get_user_model().objects
    busiest = (
        Patient.objects.values("site_id").annotate(n=Count("id")).order_by("-n").first()["site_id"]
    )
    surgeon = (
        users.filter(memberships__site_id=busiest, memberships__role=Role.SURGEON)
        .order_by("username")
        .first()
    )
    coordinator_row = (
        SiteMembership.objects.filter(role=Role.COORDINATOR)
        .values("user_id")
        .annotate(n=Count("site"))
        .order_by("-n")
        .first()
    )
    coordinator = users.get(pk=coordinator_row["user_id"]) if coordinator_row else None
    return busiest, surgeon, coordinator


def _pick_records(site_id: int):
    from registry.models import FollowUpVisit, Patient, TimepointChoice

    visit = (
        FollowUpVisit.objects.filter(
            procedure__patient__site_id=site_id,
            procedure__patient__withdrawn_at__isnull=True,
            timepoint=TimepointChoice.YEAR_1,
        )
        .select_related("procedure__patient")
        .order_by("-pk")
        .first()
    )
    patient = visit.procedure.patient
    no_fracture = (
        Patient.objects.filter(site_id=site_id, withdrawn_at__isnull=True, fractures__isnull=True)
        .order_by("-pk")
        .first()
    ) or patient
    return patient, visit.procedure, visit, no_fracture


def pages(site_id: int) -> list[tuple[str, str, str, dict | None]]:
    """(actor, page, url, POST data or None)."""
    from django.urls import reverse

    patient, procedure, visit, stopped = _pick_records(site_id)
    rid = patient.registry_id
    family = patient.family_name[:4]
    worklist = reverse("worklist")
    patients = reverse("patient_list")
    visit_new = reverse("visit_create", args=[rid, procedure.pk])
    bad_visit = {
        "timepoint": "unscheduled",
        "visit_date": (procedure.date + timedelta(days=500)).isoformat(),
        "vas": "11",
    }
    count = reverse("worklist_count")
    surgeon = [
        ("Worklist: due soon", worklist),
        ("Worklist: overdue", f"{worklist}?tab=overdue"),
        ("Worklist: out of window", f"{worklist}?tab=out_of_window"),
        ("Worklist: incomplete", f"{worklist}?tab=incomplete"),
        ("Worklist: overdue, 100 per page", f"{worklist}?tab=overdue&per_page=100"),
        ("Worklist: overdue, page 40", f"{worklist}?tab=overdue&page=40"),
        *(
            (f"Worklist tab count: {tab}", f"{count}?tab={tab}")
            for tab in ("due", "overdue", "out_of_window", "incomplete")
        ),
        ("Patients", patients),
        ("Patients: page 100", f"{patients}?page=100"),
        ("Patients: 100 per page", f"{patients}?per_page=100"),
        ("Patients: search name", f"{patients}?q={family}"),
        ("Patients: search registry ID", f"{patients}?q={rid}"),
        ("Patients: search record number", f"{patients}?q={patient.hospital_record_number}"),
        ("Patients: technique PKP", f"{patients}?technique=PKP"),
        ("Patients: follow-up due", f"{patients}?due=on"),
        ("Patient timeline", reverse("patient_detail", args=[rid])),
        ("Patient timeline: all history", reverse("patient_detail", args=[rid]) + "?history=all"),
        ("New patient (form)", reverse("patient_create")),
        ("Edit patient (form)", reverse("patient_edit", args=[rid])),
        ("Fractures (form)", reverse("fractures_create", args=[stopped.registry_id])),
        ("Edit procedure (form)", reverse("procedure_edit", args=[rid, procedure.pk])),
        ("New visit (form)", f"{visit_new}?timepoint=unscheduled"),
        ("Edit visit (form)", reverse("visit_edit", args=[rid, visit.pk])),
    ]
    coordinator = [
        ("Worklist: all sites", f"{worklist}?site=all"),
        ("Worklist: all sites, overdue", f"{worklist}?site=all&tab=overdue"),
        ("Worklist: all sites, incomplete", f"{worklist}?site=all&tab=incomplete"),
        ("Worklist tab count: all sites, incomplete", f"{count}?site=all&tab=incomplete"),
        ("Patients: all sites", patients),
        ("Patients: all sites, search name", f"{patients}?q={family}"),
        ("Patients: all sites, follow-up due", f"{patients}?due=on"),
        ("Patient timeline", reverse("patient_detail", args=[rid])),
    ]
    return [
        *(("surgeon", page, url, None) for page, url in surgeon),
        ("surgeon", "Visit with VAS 11 (POST, refused)", visit_new, bad_visit),
        *(("coordinator", page, url, None) for page, url in coordinator),
    ]


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["DEBUG"] = "0"
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    os.environ["DATABASE_URL"] = url
    if not url.startswith("postgres"):
        print("bench_pages measures PostgreSQL: set DATABASE_URL to a postgres:// URL.")
        return 1
    wanted = _env_int("BENCH_PATIENTS", 100_000)
    repeat = _env_int("BENCH_REPEAT", 7)
    ensure_cohort(url, wanted)

    import django

    django.setup()
    from django.test import Client

    from registry.models import Patient

    site_id, surgeon, coordinator = _pick_actors()
    clients = {"surgeon": Client(), "coordinator": Client()}
    clients["surgeon"].force_login(surgeon)
    if coordinator is not None:
        clients["coordinator"].force_login(coordinator)
    print(
        f"{Patient.objects.count()} patients; surgeon {surgeon.username} "
        f"(site {site_id}, {Patient.objects.filter(site_id=site_id).count()} patients); "
        f"coordinator {coordinator.username if coordinator else '-'}; "
        f"median of {repeat} requests after a warm-up; target {TARGET_MS:.0f} ms."
    )
    results = []
    for actor, page, page_url, data in pages(site_id):
        if actor == "coordinator" and coordinator is None:
            continue
        results.append(time_page(clients[actor], actor, page, page_url, repeat, data))

    width = max(len(r.page) for r in results)
    print(f"\n{'actor':<12} {'page':<{width}} {'median':>8} {'worst':>8} {'queries':>7}  result")
    for r in results:
        verdict = "PASS" if r.passed else f"FAIL{'' if r.status == 200 else f' ({r.status})'}"
        print(
            f"{r.actor:<12} {r.page:<{width}} {r.median_ms:>6.1f}ms {r.worst_ms:>6.1f}ms "
            f"{r.queries:>7}  {verdict}"
        )
    failed = [r for r in results if not r.passed]
    print(f"\n{len(results) - len(failed)}/{len(results)} pages under {TARGET_MS:.0f} ms.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
