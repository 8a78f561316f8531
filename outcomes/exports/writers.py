"""Writers: one table's rows into one file of the package, in chunks.

- CSV on PostgreSQL: `COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)`, blocks written
  straight into the zip entry (no Python object per value); elsewhere a cursor in chunks.
- XLSX: `xlsx` (the worksheet XML made by pyarrow.compute per Arrow batch, streamed into
  the zip); a table longer than Excel's 1,048,576 rows per sheet goes on to further sheets.
- Parquet: pyarrow's ParquetWriter, one row group per batch (`batches`), labels and units
  in the field metadata: one batch in memory at a time.
- SPSS .sav and Stata .dta: `statistical` (our writers of the two formats, batch by batch,
  with variable labels, value labels and missing values that carry their reason).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from zipfile import ZipFile

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import connection

from outcomes.dictionary import Kind, Variable
from outcomes.exports import batches
from outcomes.exports.sql import Query
from outcomes.exports.statistical import (  # noqa: F401 - the writers' one entry point
    STATA_LABEL_CHARS,
    variable_label,
    write_dta,
    write_sav,
)
from outcomes.exports.xlsx import EXCEL_MAX_ROWS, write_xlsx  # noqa: F401 - as above

Progress = Callable[[int], None]  # rows written so far in this table


# ------------------------------------------------------------------ CSV


def write_csv(query: Query, archive: ZipFile, name: str, progress: Progress) -> int:
    with archive.open(name, "w", force_zip64=True) as out:
        if connection.vendor == "postgresql":
            return _copy_csv(query, out)
        return _cursor_csv(query, out, progress)


def _copy_csv(query: Query, out) -> int:
    statement = f"COPY ({query.sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(statement, query.params) as copy:
            for block in copy:
                out.write(block)
        return raw.rowcount  # psycopg reads it from the COPY's command tag


def _cursor_csv(query: Query, out, progress: Progress) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([v.name for v in query.variables])
    formats = [_csv_format(v) for v in query.variables]
    count = 0
    for rows in batches.fetch_chunks(query):
        writer.writerows(
            [fmt(value) for fmt, value in zip(formats, row, strict=True)] for row in rows
        )
        count += len(rows)
        progress(count)
    text.flush()
    text.detach()
    return count


def _csv_format(v: Variable) -> Callable[[object], str]:
    """Values as PostgreSQL's COPY prints them, so both paths give the same file."""
    if v.kind is Kind.DECIMAL and v.precision is not None:
        places = v.precision
        return lambda value: "" if value is None else f"{float(value):.{places}f}"
    return lambda value: "" if value is None else str(value)


# ------------------------------------------------------------------ Parquet


arrow_schema = batches.arrow_schema


ROW_GROUP_ROWS = 10_000


def write_parquet(query: Query, path: Path, progress: Progress) -> int:
    """One row group per chunk of about ROW_GROUP_ROWS rows (a few batches, a few MB)."""
    schema = batches.arrow_schema(query.variables)
    count = 0
    chunk: list = []
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches.record_batches(query):
            chunk.append(batch)
            count += batch.num_rows
            if sum(b.num_rows for b in chunk) >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(chunk, schema=schema))
                chunk = []
            progress(count)
        if chunk or count == 0:
            writer.write_table(pa.Table.from_batches(chunk, schema=schema))
    return count
