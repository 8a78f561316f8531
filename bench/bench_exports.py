"""Cohort exports at 100,000 patients on PostgreSQL: ours vs PostgreSQL's own COPY.

- `copy`: `COPY (the wide table's query) TO STDOUT WITH CSV`, the same statement the export
  runs (de-identified: pseudonyms, relative days, derived values, follow-up status per
  timepoint), read to the end and thrown away. Its subjects (pseudonyms) are written first
  and not timed: this is the floor of what the database itself costs.
- `csv`: the de-identified wide CSV export as the Celery job makes it: the cohort selection
  (every active patient, every site), the per-export pseudonyms and offsets written, and the
  wide table written into the zip, timed end to end.
- `xlsx`, `sav`, `dta`, `parquet`: the same wide table in each of the other formats.

- `baseline`: a process that only starts Django and imports the export code: the floor of
  every peak above (the project's apps import pandas, scipy and statsmodels at start).

Each runs in its own process (peak RSS is its own); copy and csv alternate BENCH_REPEAT
times (default 3) and the best of each is compared. PASS: csv at most 1.5 x copy, and the
csv export's peak memory under 300 MB. The other formats' times and peaks are printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET = 1.5
MEMORY_TARGET_MB = 300
FORMATS = tuple(os.environ.get("BENCH_FORMATS", "xlsx,sav,dta,parquet").split(","))


def _setup():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    django.setup()


def _new_export(fmt: str):
    from django.contrib.auth import get_user_model

    from outcomes import cohorts
    from outcomes.exports.models import Export
    from registry.models import Site

    owner, _ = get_user_model().objects.get_or_create(
        username="bench-exports", defaults={"is_active": False}
    )
    filters = cohorts.normalise_filters({})
    rules = cohorts.normalise_rules({})
    return Export.objects.create(
        owner=owner,
        filters=filters,
        rules=rules,
        cohort_hash=cohorts.definition_hash(filters, rules),
        scope_sites=sorted(Site.objects.values_list("pk", flat=True)),
        format=fmt,
        level="deidentified",
    )


def _subjects(export) -> int:
    from django.db import transaction

    from outcomes.exports.subjects import subjects_create
    from outcomes.selectors import Scope, cohort_cases

    cases = cohort_cases(
        filters=export.filters, rules=export.rules, scope=Scope.of(export.scope_sites)
    )
    with transaction.atomic():
        cases = cases.order_by().values_list("pk", "patient_id")
        return subjects_create(export=export, cases=cases)


def _cleanup(export) -> None:
    from outcomes.exports.subjects import subjects_delete

    subjects_delete(export=export)
    export.delete()


def run_copy() -> dict:
    _setup()
    from django.db import connection, transaction

    from outcomes.exports.package import table_query
    from outcomes.exports.sql import SESSION_SETTINGS

    export = _new_export("csv")
    try:
        _subjects(export)
        query = table_query(export, "wide")
        started = time.perf_counter()
        size = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for setting in SESSION_SETTINGS:  # the export's own settings: same plan
                cursor.execute(setting)
            statement = f"COPY ({query.sql}) TO STDOUT WITH CSV"
            with cursor.cursor.copy(statement, query.params) as copy:
                for block in copy:
                    size += len(block)
            rows = cursor.cursor.rowcount
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "rows": rows, "bytes": size}
    finally:
        _cleanup(export)


def run_baseline() -> dict:
    _setup()
    import outcomes.exports.package  # noqa: F401 - what every export process imports

    return {"seconds": 0.0}


def run_format(fmt: str) -> dict:
    _setup()
    from outcomes.exports.package import write_table

    export = _new_export("csv" if fmt == "csv" else fmt)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            patients = _subjects(export)
            path = Path(scratch) / "export.zip"
            with ZipFile(path, "w", compression=ZIP_DEFLATED, compresslevel=1) as archive:
                rows = write_table(export, "wide", archive, lambda table, rows: None)
            seconds = time.perf_counter() - started
            return {
                "seconds": seconds,
                "rows": rows,
                "patients": patients,
                "bytes": path.stat().st_size,
            }
    finally:
        _cleanup(export)


def child(what: str) -> tuple[dict, float]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_exports", what],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "registry.settings"},
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the {what} run failed")
    return json.loads(output.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> int:
    from bench.bench_report import prepare

    patients = int(os.environ.get("BENCH_PATIENTS", "100000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    have = prepare(patients)
    _, baseline = child("baseline")
    best: dict[str, tuple[dict, float]] = {}
    for _ in range(repeat):
        for what in ("copy", "csv"):
            figures, peak = child(what)
            print(f"  {what:<8} {figures['seconds']:7.2f} s   peak {peak:6.0f} MB", flush=True)
            if what not in best or figures["seconds"] < best[what][0]["seconds"]:
                best[what] = (figures, max(peak, best.get(what, ({}, 0))[1]))
    for fmt in FORMATS:
        figures, peak = child(fmt)
        best[fmt] = (figures, peak)
    copy, csv = best["copy"][0], best["csv"][0]
    ratio = csv["seconds"] / copy["seconds"]
    print(
        f"\nwide table, {csv['patients']} patients ({have} in the database), "
        f"{csv['rows']} rows (one per treated vertebra)"
    )
    print(
        f"  COPY (wide query) TO STDOUT WITH CSV   {copy['seconds']:7.2f} s   "
        f"peak {best['copy'][1]:6.0f} MB"
    )
    for what in ("csv", *FORMATS):
        figures, peak = best[what]
        print(
            f"  export wide {what:<8} (zip)           {figures['seconds']:7.2f} s   "
            f"peak {peak:6.0f} MB   {figures['bytes'] / 1e6:7.1f} MB file"
        )
    print(f"  a process that only imports (the floor of each peak)  peak {baseline:6.0f} MB")
    print(f"  ratio csv / COPY                        {ratio:7.2f} x   (best of {repeat})")
    ok = ratio <= RATIO_TARGET and best["csv"][1] < MEMORY_TARGET_MB and csv["rows"] == copy["rows"]
    print(
        f"  {'PASS' if ok else 'FAIL'} (csv <= {RATIO_TARGET} x COPY, under "
        f"{MEMORY_TARGET_MB} MB, same rows)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        what = sys.argv[1]
        runs = {"copy": run_copy, "baseline": run_baseline}
        print(json.dumps(runs[what]() if what in runs else run_format(what)))
        sys.exit(0)
    sys.exit(main())
