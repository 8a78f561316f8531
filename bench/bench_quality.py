"""The data-quality job on the whole cohort under 60 s, its pages under 200 ms.

Runs as `python -m bench.bench_quality` (or through `make bench`) with DATABASE_URL pointing
at PostgreSQL; the cohort is prepared as for bench_pages (migrate, `seed_demo --seed 1` up to
BENCH_PATIENTS patients, default 100,000, VACUUM ANALYZE).

1. The rules job: one run over every site (what the nightly beat task queues), executed
   in-process as the Celery task would (`run_execute`), timed end to end: every rule, the
   reviews, completeness, the data versions and storing the findings. Target 60 s.
2. The pages from the stored results, signed in as the research coordinator (every site)
   and as a surgeon of the busiest site: median of BENCH_REPEAT requests after a warm-up
   (django.test.Client in-process, DEBUG off). Target 200 ms.
Exit code 1 if a target is missed.
"""

from __future__ import annotations

import os
import sys
import time

from bench.bench_pages import DEFAULT_URL, _env_int, _pick_actors, ensure_cohort, time_page

JOB_TARGET_S = 60.0
PAGE_TARGET_MS = 200.0


def time_job() -> tuple[float, int, int]:
    from django.utils import timezone

    from outcomes.quality.models import QualityRun, RunStatus
    from outcomes.quality.services.runs import run_execute
    from outcomes.selectors import Scope
    from registry.models import Patient

    QualityRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).delete()
    scope = Scope.of(Patient.objects.order_by().values_list("site_id", flat=True).distinct())
    run = QualityRun.objects.create(
        scope_sites=list(scope.site_ids), scope_key=scope.key, as_of=timezone.localdate()
    )
    started = time.perf_counter()
    outcome = run_execute(run_id=run.pk, task_id="bench")
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    if outcome != "done" or run.status != RunStatus.DONE:
        raise SystemExit(f"the run did not finish: {outcome} {run.status} {run.error}")
    return elapsed, run.n_findings, len(scope.site_ids)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["DEBUG"] = "0"
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    os.environ["DATABASE_URL"] = url
    if not url.startswith("postgres"):
        print("bench_quality measures PostgreSQL: set DATABASE_URL to a postgres:// URL.")
        return 1
    wanted = _env_int("BENCH_PATIENTS", 100_000)
    repeat = _env_int("BENCH_REPEAT", 7)
    ensure_cohort(url, wanted)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from registry.models import Patient

    patients = Patient.objects.count()
    seconds, findings, sites = time_job()
    job_ok = seconds < JOB_TARGET_S
    print(
        f"Rules job: {patients} patients, {sites} sites, {findings} findings stored in "
        f"{seconds:.1f} s (target {JOB_TARGET_S:.0f} s): {'PASS' if job_ok else 'FAIL'}"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE quality_finding")

    site_id, surgeon, coordinator = _pick_actors()
    actors = {"surgeon": surgeon, "coordinator": coordinator}
    pages = [
        ("Data quality overview", "/quality/"),
        ("Findings work list", "/quality/findings/"),
        ("Findings: high severity, page 5", "/quality/findings/?severity=high&page=5"),
        ("Findings: one rule", "/quality/findings/?rule=MIS-HEIGHT"),
        ("Finding detail", None),
        ("Completeness CSV", "/quality/completeness.csv"),
        ("API: /api/v1/quality/", "/api/v1/quality/"),
        ("API: findings", "/api/v1/quality/findings/"),
    ]
    from outcomes.quality.models import Finding

    first = Finding.objects.filter(site_id=site_id).order_by("pk").first()
    results = []
    for actor, user in actors.items():
        if user is None:
            continue
        client = Client()
        client.force_login(user)
        for name, page_url in pages:
            page_url = page_url or f"/quality/findings/{first.pk}/"
            results.append(time_page(client, actor, name, page_url, repeat))
    width = max(len(r.page) for r in results)
    print(f"\n{'actor':<12} {'page':<{width}} {'median':>8} {'worst':>8} {'queries':>7}  result")
    failed = 0
    for r in results:
        ok = r.status == 200 and r.median_ms < PAGE_TARGET_MS
        failed += not ok
        verdict = "PASS" if ok else f"FAIL{'' if r.status == 200 else f' ({r.status})'}"
        print(
            f"{r.actor:<12} {r.page:<{width}} {r.median_ms:>6.1f}ms {r.worst_ms:>6.1f}ms "
            f"{r.queries:>7}  {verdict}"
        )
    print(f"\n{len(results) - failed}/{len(results)} pages under {PAGE_TARGET_MS:.0f} ms.")
    return 0 if job_ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
