"""Dashboards on the 100,000-patient cohort from stored results: server time per page under
200 ms, page weight without plotly.js under 300 KB.

Runs as `python -m bench.bench_dashboards` (or through `make bench`) against PostgreSQL
(DATABASE_URL), on the cohort bench_pages prepares (`seed_demo --seed 1`, vacuum-analysed).
First every page is requested once with tasks running eagerly, so that the runs it asks for
are computed and stored (minutes on 100,000 patients; reused on the next bench while the
data are unchanged). Then each page is timed in-process with django.test.Client, signed in
as the surgeon of the busiest site (who gets the registry-wide reference too) and as the
research coordinator: the median of BENCH_REPEAT requests after a warm-up, DEBUG off, every
page checked to draw from a stored result (no "Recomputing"). Page weight: the HTML (with
its figure JSON, as Django sends it: uncompressed) plus every same-origin CSS/JS file it loads
except plotly.min.js, as whitenoise sends them (gzip); the all-uncompressed total is printed
beside it (Bootstrap alone is about 310 KB uncompressed, 60 KB gzipped).
"""

from __future__ import annotations

import gzip
import os
import re
import statistics
import time
from dataclasses import dataclass

from bench.bench_pages import DEFAULT_URL, _env_int, _pick_actors, ensure_cohort

TARGET_MS = 200.0
TARGET_KB = 300.0
PAGES = [
    ("Outcomes by technique", "outcomes:dashboard", "outcomes"),
    ("Complications", "outcomes:dashboard", "complications"),
    ("Trends over time", "outcomes:dashboard", "trends"),
    ("Benchmarking", "outcomes:dashboard", "benchmarking"),
    ("Cohort report", "outcomes:dashboard_report", None),
]
ASSET = re.compile(r'(?:src|href)="(/(?:static|outcomes)/[^"]+\.(?:js|css))"')


@dataclass
class Row:
    actor: str
    page: str
    median_ms: float
    worst_ms: float
    queries: int
    html_kb: float
    weight_kb: float  # HTML as sent + assets as whitenoise sends them (gzip)
    raw_kb: float  # everything uncompressed
    stored: bool

    @property
    def passed(self) -> bool:
        return self.stored and self.median_ms < TARGET_MS and self.weight_kb < TARGET_KB


def _asset_bytes(client, html: str) -> tuple[int, int]:
    """Uncompressed and gzip sizes of the page's same-origin CSS/JS, plotly.js excepted."""
    raw = packed = 0
    for path in sorted(set(ASSET.findall(html))):
        if path.endswith("plotly.min.js"):
            continue
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        raw += len(body)
        packed += len(gzip.compress(body))
    return raw, packed


def prepare(clients: dict, urls: list[tuple[str, str]]) -> float:
    """Request every page once: the runs they ask for are computed (eagerly) and stored."""
    from django.core.cache import cache

    started = time.perf_counter()
    for client in clients.values():
        for _page, url in urls:
            cache.clear()
            client.get(url)
    cache.clear()
    return time.perf_counter() - started


def measure(client, actor: str, page: str, url: str, repeat: int) -> Row:
    from django.db import connection

    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    html = response.content.decode()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    assets, assets_gzip = _asset_bytes(client, html)
    return Row(
        actor,
        page,
        statistics.median(timings),
        max(timings),
        len(queries),
        len(response.content) / 1024,
        (len(response.content) + assets_gzip) / 1024,
        (len(response.content) + assets) / 1024,
        response.status_code == 200 and "Recomputing" not in html,
    )


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["DEBUG"] = "0"
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    os.environ["DATABASE_URL"] = url
    os.environ.pop("CELERY_BROKER_URL", None)  # the preparation computes in-process
    if not url.startswith("postgres"):
        print("bench_dashboards measures PostgreSQL: set DATABASE_URL to a postgres:// URL.")
        return 1
    wanted = _env_int("BENCH_PATIENTS", 100_000)
    repeat = _env_int("BENCH_REPEAT", 7)
    ensure_cohort(url, wanted)

    import django

    django.setup()
    from django.test import Client
    from django.urls import reverse

    from registry.models import Patient

    _site, surgeon, coordinator = _pick_actors()
    clients = {"surgeon": Client(), "coordinator": Client()}
    clients["surgeon"].force_login(surgeon)
    clients["coordinator"].force_login(coordinator)
    urls = [(page, reverse(name, args=[slug] if slug else [])) for page, name, slug in PAGES]
    print(
        f"Cohort: {Patient.objects.count()} patients; surgeon {surgeon}, coordinator {coordinator}."
    )
    print(f"Stored results ready in {prepare(clients, urls):.0f} s (computed where missing).")
    rows = [
        measure(client, actor, page, path, repeat)
        for actor, client in clients.items()
        for page, path in urls
    ]
    print(
        f"\n{'actor':<12}{'page':<24}{'median ms':>10}{'worst ms':>10}{'queries':>9}"
        f"{'HTML KB':>9}{'weight KB':>11}{'raw KB':>9}  result"
    )
    for row in rows:
        verdict = "PASS" if row.passed else ("FAIL (not stored)" if not row.stored else "FAIL")
        print(
            f"{row.actor:<12}{row.page:<24}{row.median_ms:>10.1f}{row.worst_ms:>10.1f}"
            f"{row.queries:>9}{row.html_kb:>9.1f}{row.weight_kb:>11.1f}{row.raw_kb:>9.1f}"
            f"  {verdict}"
        )
    print(
        f"\nTargets: server time < {TARGET_MS:.0f} ms from stored results; page weight "
        f"(HTML as sent + CSS/JS as served, plotly.min.js excepted) < {TARGET_KB:.0f} KB."
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs.")
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
