"""seed_demo at scale: BENCH_PATIENTS (default 100,000) patients into a fresh PostgreSQL database.

Targets: under 180 s and under 1 GB peak RSS on a 2-core machine, history rows included.
The database is `<bench database>_seed_demo`, dropped and re-created and migrated first (the
migration is not timed), and dropped afterwards unless BENCH_KEEP_DB=1. The seed runs as its
own process so its wall time and peak RSS (ru_maxrss from wait4) are its own. For reference
it also times what `make run` does: 500 patients into a fresh SQLite file.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ovcf_bench"
TARGET_SECONDS = 180
TARGET_MB = 1024
MODELS = (
    "Patient",
    "Fracture",
    "Procedure",
    "TreatedLevel",
    "AdverseEvent",
    "FollowUpVisit",
    "RadiographicMeasurement",
)


def _split(url: str) -> tuple[str, str]:
    base, name = url.rsplit("/", 1)
    return base, name.split("?")[0]


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    base, name = _split(url)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(*args: str, database_url: str) -> tuple[float, float, int]:
    """Run manage.py in a child process: (wall seconds, peak RSS in MB, exit code)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
    }
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, child.returncode


def row_counts(url: str) -> dict[str, tuple[int, int]]:
    counts = {}
    with psycopg.connect(url) as conn:
        for model in MODELS:
            table = f"registry_{model.lower()}"
            rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            history = conn.execute(
                f"SELECT count(*) FROM registry_historical{model.lower()}"  # noqa: S608
            ).fetchone()[0]
            counts[model] = (rows, history)
    return counts


def bench_postgres(url: str, patients: int) -> bool:
    base, name = _split(url)
    seed_url = f"{base}/{name}_seed_demo"
    recreate_database(seed_url)
    try:
        _, _, code = manage("migrate", "--noinput", "-v0", "--skip-checks", database_url=seed_url)
        if code:
            print("FAIL: migrate failed")
            return False
        command = ("seed_demo", "--patients", str(patients), "--seed", "1", "--skip-checks")
        seconds, peak_mb, code = manage(*command, database_url=seed_url)
        counts = row_counts(seed_url) if code == 0 else {}
    finally:
        if os.environ.get("BENCH_KEEP_DB") != "1":
            recreate_database(seed_url, drop_only=True)

    print(f"\nseed_demo --patients {patients} on PostgreSQL ({name}_seed_demo)")
    print(f"  wall time  {seconds:8.1f} s   (target < {TARGET_SECONDS} s)")
    print(f"  peak RSS   {peak_mb:8.0f} MB  (target < {TARGET_MB} MB)")
    total = 0
    for model, (rows, history) in counts.items():
        total += rows + history
        print(f"  {model:<24} {rows:>9} rows  {history:>9} history rows")
    print(f"  {'all tables':<24} {total:>9} rows written ({total / seconds:,.0f} per second)")
    ok = code == 0 and seconds < TARGET_SECONDS and peak_mb < TARGET_MB
    ok = ok and all(rows == history > 0 for rows, history in counts.values())
    print(f"  {'PASS' if ok else 'FAIL'}")
    return ok


def bench_sqlite() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.sqlite3"
        manage("migrate", "--noinput", "-v0", "--skip-checks", database_url=url)
        command = ("seed_demo", "--if-empty", "--patients", "500", "--seed", "1", "--skip-checks")
        seconds, peak_mb, code = manage(*command, database_url=url)
    status = "ok" if code == 0 else f"exit code {code}"
    print(f"\nmake run's seed (500 patients, SQLite): {seconds:.1f} s, {peak_mb:.0f} MB ({status})")


def main() -> int:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    patients = int(os.environ.get("BENCH_PATIENTS", "100000"))
    ok = bench_postgres(url, patients)
    bench_sqlite()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
