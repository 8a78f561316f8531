"""The export package: a zip with each table in the chosen format, the dictionary (CSV) and a
README describing the cohort (definition and hash), the data version, the software version,
the time, the de-identification level and the row counts."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile

from django.db import connection, transaction
from django.utils import timezone

from outcomes import cohorts
from outcomes.dictionary import TABLES, Level, dictionary_csv_lines, table
from outcomes.dictionary.rows import resolve_codes, technique_codes
from outcomes.exports import writers
from outcomes.exports.models import Export, ExportFormat
from outcomes.exports.sql import SESSION_SETTINGS, Query, build_query
from outcomes.exports.statistical import MISSING_REASONS
from outcomes.version import software_version

EXPORT_FORMAT_VERSION = "1"
EXTENSIONS = {
    ExportFormat.CSV: "csv",
    ExportFormat.CSV_LABELLED: "csv",
    ExportFormat.XLSX: "xlsx",
    ExportFormat.SAV: "sav",
    ExportFormat.DTA: "dta",
    ExportFormat.PARQUET: "parquet",
}
_WRITER_PACKAGES = ("pyarrow", "numpy")  # what our XLSX, SPSS, Stata and Parquet writers run on
Step = Callable[[str, int], None]  # (table, rows written so far)


def export_software_version() -> str:
    parts = [f"ovcf-registry export {EXPORT_FORMAT_VERSION}", software_version()]
    for package in _WRITER_PACKAGES:
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} ?")
    return "; ".join(parts)


def table_query(export: Export, name: str) -> Query:
    level = Level(export.level)
    techniques = technique_codes()
    variables = tuple(resolve_codes(v, techniques) for v in table(name, level))
    return build_query(
        name,
        variables,
        export_id=export.pk,
        vendor=connection.vendor,
        level=level,
        as_of=export.as_of,
        labelled=export.format == ExportFormat.CSV_LABELLED,
    )


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Every table of an export read from one snapshot of the registry: on PostgreSQL one
    REPEATABLE READ, READ ONLY transaction, so a visit saved while the export runs is in
    all of its tables or in none. (Inside a transaction already begun, a test's, that one
    is used as it is.) Nothing may write on this connection inside: progress is written on
    another one (services). SQLite's one transaction is serializable already."""
    postgres = connection.vendor == "postgresql"
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if postgres:
            with connection.cursor() as cursor:
                if outermost:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                for statement in SESSION_SETTINGS:
                    cursor.execute(statement)
        yield


def write_table(export: Export, name: str, archive: ZipFile, step: Step) -> int:
    """One table into the archive, in a snapshot of its own (the benchmark's entry)."""
    with one_snapshot():
        return _write_table(export, name, archive, step)


def _write_table(export: Export, name: str, archive: ZipFile, step: Step) -> int:
    query = table_query(export, name)
    file_name = f"{name}.{EXTENSIONS[export.format]}"

    def progress(rows: int) -> None:
        step(name, rows)

    if export.format in (ExportFormat.CSV, ExportFormat.CSV_LABELLED):
        return writers.write_csv(query, archive, file_name, progress)
    label = f"OVCF registry export {export.pk}: {name}"
    with tempfile.TemporaryDirectory(prefix="ovcf-export-") as scratch:
        path = Path(scratch) / file_name
        if export.format == ExportFormat.XLSX:
            count = writers.write_xlsx(query, path, progress)
        elif export.format == ExportFormat.PARQUET:
            count = writers.write_parquet(query, path, progress)
        elif export.format == ExportFormat.SAV:
            count = writers.write_sav(query, path, progress, label)
        else:
            count = writers.write_dta(query, path, progress, label)
        # An .xlsx is a zip already: deflating it again costs seconds and saves nothing.
        stored = ZIP_STORED if export.format == ExportFormat.XLSX else None
        archive.write(path, file_name, compress_type=stored)
    return count


def build_package(export: Export, path: Path, step: Step) -> dict[str, int]:
    """Write the zip at `path`; return the row count of each table. Call it inside
    `one_snapshot()`: every table is read from the same snapshot."""
    counts: dict[str, int] = {}
    with ZipFile(path, "w", compression=ZIP_DEFLATED, compresslevel=1) as archive:
        for name in TABLES:
            counts[name] = _write_table(export, name, archive, step)
            step(name, counts[name])
        archive.writestr("dictionary.csv", "".join(dictionary_csv_lines(Level(export.level))))
        archive.writestr("README.txt", readme(export, counts))
    return counts


def readme(export: Export, counts: dict[str, int], now: datetime | None = None) -> str:
    now = now or timezone.now()
    extension = EXTENSIONS[export.format]
    level = Level(export.level)
    definition = cohorts.canonical_json(
        cohorts.normalise_filters(export.filters), cohorts.normalise_rules(export.rules)
    )
    lines = [
        f"OVCF registry export {export.pk}",
        "",
        f"Cohort: {export.cohort_name or '(filters given with the request)'}",
        *(f"  - {line}" for line in cohorts.describe(export.filters, export.rules)),
        f"Cohort definition: {definition}",
        f"Cohort hash (sha256 of the definition): {export.cohort_hash}",
        f"Sites in scope (ids): {', '.join(str(s) for s in export.scope_sites) or 'none'}",
        f"Data version: {export.data_version}",
        f"Software version: {export.software_version}",
        f"Exported at: {now.isoformat(timespec='seconds')} by user id {export.owner_id}",
        f"Follow-up status as of: {export.as_of.isoformat()}",
        f"Format: {export.get_format_display()}",
        f"De-identification level: {level} ({export.get_level_display()})",
        *_level_notes(level),
        "",
        "Row counts:",
        *(f"  {name}.{extension}: {counts[name]}" for name in TABLES),
        "",
        "Files:",
        f"  patients.{extension}: one row per patient (index procedure's patient)",
        f"  procedures.{extension}: one row per index procedure",
        f"  wide.{extension}: one row per vertebra treated in the index procedure; "
        "visit values per timepoint as columns (vas_2w, rfvh_1y, status_12w, ...)",
        f"  long.{extension}: one row per visit per treated vertebra (column timepoint)",
        f"  adverse_events.{extension}: one row per adverse event of the index procedure",
        "  dictionary.csv: every variable: label, type, unit, precision, codes, derivation",
        "",
        "Join the tables on pseudonym (and vertebra between wide, long and adverse_events).",
        "Codes: CSV, XLSX and Parquet hold the codes of dictionary.csv (booleans 1 = yes,",
        "0 = no); SPSS and Stata files number codes as in its spss_stata_codes column and",
        "carry the value labels; an empty cell or system missing value is a missing value.",
        "In SPSS and Stata files an empty visit value says why it is empty (user-missing,",
        "labelled): "
        + "; ".join(f"{r.spss} / .{r.stata} = {r.label}" for r in MISSING_REASONS)
        + ". A value recorded out of its window is kept; status_<timepoint> flags it.",
        "",
        "Opening the files with every label (no syntax file needed):",
        "  SPSS / PSPP: File > Open (wide.sav); Stata: use wide.dta",
        "  R: haven::read_sav('wide.sav', user_na = TRUE) or haven::read_dta('wide.dta')",
        "  Python: pyreadstat.read_sav('wide.sav', user_missing=True) (or read_dta);",
        "    pandas.read_stata('wide.dta') reads labels, not the reasons",
        "  R and Python, CSV: read the codes and join dictionary.csv for their labels",
    ]
    return "\n".join(lines) + "\n"


def _level_notes(level: Level) -> list[str]:
    if level is Level.IDENTIFIED:
        return ["  Identified: names, record numbers, dates of birth and true dates included."]
    notes = [
        "  No identifying field (registry.identifiers) and no free-text field is included.",
        "  pseudonym: an HMAC with a secret made for this export only, then discarded.",
        "  Dates: days relative to the index procedure; the procedure year is kept.",
        "  Ages above 89 are shown as 90.",
    ]
    if level is Level.SHIFTED:
        notes.append(
            "  Calendar dates are shifted per patient by one random offset of 0-364 days "
            "(every interval is kept)."
        )
    return notes
