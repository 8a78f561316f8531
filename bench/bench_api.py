"""The REST API's speed: stored aggregates against a bare view, cohort-size independence,
and a records page of 100 at 100,000 patients.

1. An aggregate GET served from a stored result (`/api/v1/aggregates/outcomes/?metric=vas`
   over every patient), p95 with 16 concurrent clients on loopback against gunicorn, against
   a bare Django view returning the same stored JSON (bench/api_urls.py): at most 2x.
2. The same GET on a cohort of about 1,000 patients (a procedure date range): p95 within
   20 % of the whole cohort's (the cost does not follow the cohort's size).
3. `/api/v1/patients/?page_size=100` and `/api/v1/visits/?page_size=100`, in-process: the
   same number of queries on the first and a deep page, median server time under 100 ms.

Runs with `python -m bench bench_api` (DATABASE_URL / BENCH_DATABASE_URL: PostgreSQL, seeded
to BENCH_PATIENTS by bench_pages' preparation). BENCH_API_REQUESTS (per client, default 40).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
P95_RATIO_TARGET = 2.0
SIZE_TOLERANCE = 0.20
PAGE_TARGET_MS = 100.0
SMALL_COHORT = 1000
ROUNDS = 8  # interleaved rounds of the three GETs (see main)
PAGE_TIMINGS = 15


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


# --- preparing: token, cohorts, stored runs ---------------------------------------------------


def prepare() -> dict:
    """A coordinator's token (every site), and the stored trajectories of two ad-hoc
    cohorts, computed here as a worker would: all patients, and about 1,000."""
    from django.contrib.auth import get_user_model

    from outcomes.api.queries import cohort_for_query
    from outcomes.services import run_execute, run_request
    from registry.models import Procedure
    from registry.services.api_tokens import api_token_create

    coordinator = get_user_model().objects.get(username="coordinator")
    _, key = api_token_create(user=coordinator, name="bench_api")
    dates = Procedure.objects.order_by("date").values_list("date", flat=True)
    small_to = dates[SMALL_COHORT * 13 // 10]  # about 1,000 left after the inclusion rules
    filters = {"whole": {}, "small": {"procedure_to": small_to}}
    runs = {}
    for name, query in filters.items():
        cohort = cohort_for_query(user=coordinator, query=query)
        run = run_request(user=coordinator, cohort=cohort, analysis="trajectories").run
        if run.status != "done":
            started = time.perf_counter()
            run_execute(run_id=run.pk)
            print(f"Computed the {name} cohort's run in {time.perf_counter() - started:.1f} s.")
        run.refresh_from_db()
        runs[name] = run
        print(f"{name} cohort: {run.result['cohort']['n_patients']} patients (run {run.pk})")
    queries = {
        "whole": {"metric": "vas"},
        "small": {"metric": "vas", "procedure_to": small_to.isoformat()},
    }
    return {"key": key, "queries": queries, "runs": runs}


# --- the load ---------------------------------------------------------------------------------


def start_gunicorn(url: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "API_THROTTLE_RATE": "100000000/1m",  # the bench measures speed, not the budget
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "registry.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "4",
        "--threads",
        "4",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(100):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def load(base: str, path: str, params: dict | None, headers: dict, requests: int) -> list[float]:
    """CLIENTS threads, each with its own keep-alive connection, `requests` GETs each."""
    import httpx

    times: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            http.get(path, params=params).raise_for_status()  # warm the connection
            start.wait()
            mine = []
            for _ in range(requests):
                began = time.perf_counter()
                response = http.get(path, params=params)
                mine.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
            with lock:
                times.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(times) != CLIENTS * requests:
        raise RuntimeError(f"{path}: {len(times)} of {CLIENTS * requests} requests answered")
    return times


# --- records pages, in-process ----------------------------------------------------------------


def _counting(seen: list):
    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def records_pages(key: str) -> list[tuple[str, float, int, int]]:
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    rows = []
    for path in ("/api/v1/patients/?page_size=100", "/api/v1/visits/?page_size=100"):
        first = client.get(path)
        deep = first
        for _ in range(20):  # twenty pages in: the cursor, not an OFFSET
            deep = client.get(deep.json()["next"])
        first_queries, deep_queries = [], []
        with connection.execute_wrapper(_counting(first_queries)):
            client.get(path)
        with connection.execute_wrapper(_counting(deep_queries)):
            client.get(deep.json()["next"])
        times = []
        for _ in range(PAGE_TIMINGS):
            began = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200 or len(response.json()["results"]) != 100:
                raise RuntimeError(f"{path}: {response.status_code}")
        rows.append((path, statistics.median(times), len(first_queries), len(deep_queries)))
    return rows


def main() -> int:
    from bench.bench_pages import DEFAULT_URL, ensure_cohort

    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    ensure_cohort(url, _env_int("BENCH_PATIENTS", 100_000))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["DEBUG"] = "0"
    os.environ["API_THROTTLE_RATE"] = "100000000/1m"
    django.setup()
    import logging

    from django.conf import settings

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

    settings.ALLOWED_HOSTS = ["*"]
    prepared = prepare()
    requests = _env_int("BENCH_API_REQUESTS", 40)
    headers = {"Authorization": f"Token {prepared['key']}"}
    load_before = os.getloadavg()
    server, base = start_gunicorn(url)
    scenarios = {
        "bare": (f"/bench/bare/{prepared['runs']['whole'].pk}/", None, {}),
        "whole": ("/api/v1/aggregates/outcomes/", prepared["queries"]["whole"], headers),
        "small": ("/api/v1/aggregates/outcomes/", prepared["queries"]["small"], headers),
    }
    times: dict[str, list[float]] = {name: [] for name in scenarios}
    try:
        # Interleaved rounds: a load that changes while the bench runs (a shared machine)
        # weighs on the three alike instead of on whichever happened to run then.
        for _ in range(ROUNDS):
            for name, (path, params, with_headers) in scenarios.items():
                times[name] += load(base, path, params, with_headers, max(1, requests // ROUNDS))
    finally:
        server.terminate()
        server.wait(timeout=30)
    bare, whole, small = times["bare"], times["whole"], times["small"]
    p95 = {"bare": _p95(bare), "whole": _p95(whole), "small": _p95(small)}
    versus_bare = p95["whole"] / p95["bare"]
    versus_small = p95["whole"] / p95["small"]
    print(
        f"\n{CLIENTS} clients x {len(bare) // CLIENTS} GETs each in {ROUNDS} interleaved rounds, "
        "gunicorn 4 workers x 4 threads, loopback"
    )
    print(
        "load average (1, 5, 15 min) before the load: "
        + ", ".join(f"{v:.2f}" for v in load_before)
        + " (the machine's other work weighs on every figure)"
    )
    print(f"{'GET':<58} {'p50 ms':>8} {'p95 ms':>8}")
    for label, times in (
        ("bare view, stored JSON (whole cohort)", bare),
        ("API aggregate, whole cohort", whole),
        ("API aggregate, ~1,000-patient cohort", small),
    ):
        print(f"{label:<58} {statistics.median(times):8.1f} {_p95(times):8.1f}")
    ok_bare = versus_bare <= P95_RATIO_TARGET
    ok_size = abs(versus_small - 1) <= SIZE_TOLERANCE
    print(
        f"ratio p95 API / bare view: {versus_bare:.2f} (target <= {P95_RATIO_TARGET}) "
        f"{'PASS' if ok_bare else 'FAIL'}"
    )
    print(
        f"ratio p95 whole / ~1,000-patient cohort: {versus_small:.2f} "
        f"(target within {SIZE_TOLERANCE:.0%} of 1) {'PASS' if ok_size else 'FAIL'}"
    )
    ok_pages = True
    print(f"\n{'records page of 100':<44} {'median ms':>10} {'queries first/deep':>20}")
    for path, median, first, deep in records_pages(prepared["key"]):
        passed = median <= PAGE_TARGET_MS and first == deep
        ok_pages &= passed
        print(f"{path:<44} {median:10.1f} {first:>10}/{deep:<9} {'PASS' if passed else 'FAIL'}")
    print("load average after: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    return 0 if ok_bare and ok_size and ok_pages else 1


if __name__ == "__main__":
    sys.exit(main())
