"""Writers: one table's rows into one file of the package, in chunks.

- CSV on PostgreSQL: `COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)`, blocks written
  straight into the zip entry (no Python object per value); elsewhere a cursor in chunks.
- XLSX: openpyxl's write-only workbook, a row at a time.
- Parquet: pyarrow, one row group per chunk, labels and units in the field metadata.
- SPSS .sav and Stata .dta: pyreadstat, with variable labels, value labels (codes numbered
  1..k in choice order, booleans 1/0) and missing values as system missing. pyreadstat
  writes a whole frame at once, so these two hold one table in memory (float64 and codes:
  about 1 kB per wide row).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from zipfile import ZipFile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
from django.db import connection
from openpyxl import Workbook

from outcomes.dictionary import Kind, Variable
from outcomes.exports.sql import Query

CHUNK_ROWS = 5000
STATA_LABEL_CHARS = 80
Progress = Callable[[int], None]  # rows written so far in this table


def fetch_chunks(query: Query, size: int = CHUNK_ROWS) -> Iterator[list[tuple]]:
    """The query's rows in chunks (a server-side cursor on PostgreSQL)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(query.sql, query.params)
        while rows := cursor.fetchmany(size):
            yield rows


def variable_label(v: Variable) -> str:
    return f"{v.label} ({v.unit})" if v.unit else v.label


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
    for rows in fetch_chunks(query):
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


# ------------------------------------------------------------------ frames


def to_frame(rows: list[tuple], variables: tuple[Variable, ...]) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(variables)
    return pd.DataFrame(
        {v.name: _series(values, v) for v, values in zip(variables, columns, strict=True)}
    )


def _series(values: tuple, v: Variable) -> pd.Series:
    if v.kind in (Kind.INTEGER, Kind.BOOLEAN):
        return pd.Series(pd.array(list(values), dtype="Int64"))
    if v.kind is Kind.DECIMAL:
        numbers = pd.Series([None if x is None else float(x) for x in values], dtype="float64")
        return numbers.round(v.precision) if v.precision is not None else numbers
    if v.kind is Kind.DATE:
        return pd.Series([_as_date(x) for x in values], dtype="object")
    return pd.Series(list(values), dtype="object")


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def frames(query: Query, progress: Progress) -> Iterator[pd.DataFrame]:
    count = 0
    for rows in fetch_chunks(query):
        count += len(rows)
        yield to_frame(rows, query.variables)
        progress(count)


# ------------------------------------------------------------------ XLSX


def write_xlsx(query: Query, path: Path, progress: Progress) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(query.table)
    sheet.append([v.name for v in query.variables])
    count = 0
    for rows in fetch_chunks(query):
        for row in rows:
            sheet.append([_cell(value, v) for value, v in zip(row, query.variables, strict=True)])
        count += len(rows)
        progress(count)
    workbook.save(path)
    return count


def _cell(value: object, v: Variable) -> object:
    if value is None:
        return None
    if v.kind is Kind.DECIMAL:
        return round(float(value), v.precision or 0)
    if v.kind is Kind.DATE:
        return _as_date(value)
    return value


# ------------------------------------------------------------------ Parquet


def arrow_schema(variables: tuple[Variable, ...]) -> pa.Schema:
    types = {
        Kind.TEXT: pa.string(),
        Kind.CODE: pa.string(),
        Kind.INTEGER: pa.int64(),
        Kind.BOOLEAN: pa.int64(),
        Kind.DECIMAL: pa.float64(),
        Kind.DATE: pa.date32(),
    }
    fields = []
    for v in variables:
        metadata = {"label": v.label, "unit": v.unit, "codes": json.dumps(dict(v.codes))}
        fields.append(pa.field(v.name, types[v.kind], nullable=True, metadata=metadata))
    return pa.schema(fields)


def write_parquet(query: Query, path: Path, progress: Progress) -> int:
    schema = arrow_schema(query.variables)
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for frame in frames(query, progress):
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            count += len(frame)
        if count == 0:
            writer.write_table(schema.empty_table())
    return count


# ------------------------------------------------------------------ SPSS / Stata


def statistical_frame(query: Query, progress: Progress) -> pd.DataFrame:
    """Codes as their numbers, integers as float64 (NaN = system missing), dates as dates."""
    parts = [_numbered(frame, query.variables) for frame in frames(query, progress)]
    if not parts:
        return _numbered(to_frame([], query.variables), query.variables)
    return pd.concat(parts, ignore_index=True)


def _numbered(frame: pd.DataFrame, variables: tuple[Variable, ...]) -> pd.DataFrame:
    for v in variables:
        if v.kind is Kind.CODE:
            frame[v.name] = frame[v.name].map(v.numeric_codes).astype("float64")
        elif v.kind in (Kind.INTEGER, Kind.BOOLEAN):
            frame[v.name] = frame[v.name].astype("float64")
    return frame


def value_labels(variables: tuple[Variable, ...]) -> dict[str, dict[int, str]]:
    labels = {}
    for v in variables:
        if v.kind in (Kind.CODE, Kind.BOOLEAN) and v.codes:
            numbers = v.numeric_codes
            labels[v.name] = {numbers[code]: label for code, label in v.codes}
    return labels


def write_sav(query: Query, path: Path, progress: Progress, file_label: str) -> int:
    frame = statistical_frame(query, progress)
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=file_label,
        column_labels=[variable_label(v) for v in query.variables],
        variable_value_labels=value_labels(query.variables),
        variable_measure=_measures(query.variables),
    )
    return len(frame)


def _measures(variables: tuple[Variable, ...]) -> dict[str, str]:
    kinds = {Kind.CODE: "nominal", Kind.BOOLEAN: "nominal", Kind.TEXT: "nominal"}
    return {v.name: kinds.get(v.kind, "scale") for v in variables}


def write_dta(query: Query, path: Path, progress: Progress, file_label: str) -> int:
    frame = statistical_frame(query, progress)
    pyreadstat.write_dta(
        frame,
        str(path),
        file_label=file_label[:STATA_LABEL_CHARS],
        column_labels=[variable_label(v)[:STATA_LABEL_CHARS] for v in query.variables],
        variable_value_labels=value_labels(query.variables),
        version=15,
    )
    return len(frame)
