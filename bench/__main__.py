"""`make bench`: run every bench/bench_*.py in its own process and print its figures.

Benchmarks run against PostgreSQL (the targets are stated for it). BENCH_DATABASE_URL, else
DATABASE_URL, else postgres://postgres@127.0.0.1:5432/ovcf_bench; the database is created if
missing. BENCH_PATIENTS sets the cohort size (default 100000). A bench module exposes
`main() -> int` and prints lines; its own process keeps peak-memory figures honest.
"""

import os
import subprocess
import sys
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ovcf_bench"


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    ensure_database(url)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "registry.settings"}
    wanted = sys.argv[1:]
    modules = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    failures = 0
    for module in modules:
        if wanted and module not in wanted:
            continue
        print(f"\n=== {module} ===", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{module}"], env=env, check=False)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
