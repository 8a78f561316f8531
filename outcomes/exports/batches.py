"""A table's rows as Arrow record batches, a few thousand rows at a time.

On PostgreSQL the rows leave the database as `COPY (query) TO STDOUT WITH CSV` and pyarrow's
streaming CSV reader turns each block into typed columns: no Python object per value, and
one block in memory at a time. Elsewhere (SQLite) a cursor's chunks become the same batches.
Parquet writes each batch as a row group; SPSS and Stata fill their columns from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date

import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import connection

from outcomes.dictionary import Kind, Variable
from outcomes.exports.sql import Query

CHUNK_ROWS = 5000
BLOCK_BYTES = 1 << 20  # about 2,500 wide rows per batch: parsing holds a few times this
ARROW_TYPES = {
    Kind.TEXT: pa.string(),
    Kind.CODE: pa.string(),
    Kind.INTEGER: pa.int64(),
    Kind.BOOLEAN: pa.int64(),
    Kind.DECIMAL: pa.float64(),
    Kind.DATE: pa.date32(),
}


def arrow_schema(variables: tuple[Variable, ...]) -> pa.Schema:
    """Types per dictionary kind; labels, units and codes in each field's metadata."""
    fields = []
    for v in variables:
        metadata = {"label": v.label, "unit": v.unit, "codes": json.dumps(dict(v.codes))}
        fields.append(pa.field(v.name, ARROW_TYPES[v.kind], nullable=True, metadata=metadata))
    return pa.schema(fields)


def fetch_chunks(query: Query, size: int = CHUNK_ROWS) -> Iterator[list[tuple]]:
    """The query's rows in chunks (a server-side cursor on PostgreSQL)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(query.sql, query.params)
        while rows := cursor.fetchmany(size):
            yield rows


def copy_available() -> bool:
    return connection.vendor == "postgresql"


def record_batches(query: Query) -> Iterator[pa.RecordBatch]:
    schema = arrow_schema(query.variables)
    if copy_available():
        yield from _copied_batches(query, schema)
    else:
        for rows in fetch_chunks(query):
            yield rows_to_batch(rows, query.variables, schema)


def rows_to_batch(
    rows: list[tuple], variables: tuple[Variable, ...], schema: pa.Schema
) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(variables)
    arrays = [
        pa.array(_python_values(values, v), type=schema.field(i).type)
        for i, (v, values) in enumerate(zip(variables, columns, strict=True))
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _python_values(values: Iterable, v: Variable) -> list:
    if v.kind is Kind.DECIMAL:
        return [None if x is None else float(x) for x in values]
    if v.kind is Kind.DATE:
        return [x if x is None or isinstance(x, date) else date.fromisoformat(x) for x in values]
    if v.kind in (Kind.INTEGER, Kind.BOOLEAN):
        return [None if x is None else int(x) for x in values]
    return [None if x is None else str(x) for x in values]


def _pieces(blocks: Iterable, size: int = BLOCK_BYTES) -> Iterator[bytes]:
    """COPY's blocks joined into pieces of about `size` bytes that end at a row's end (a
    newline outside quotes: CSV doubles a quote inside a value, so the count is even)."""
    pending = bytearray()
    for block in blocks:
        pending += block
        if len(pending) < size:
            continue
        cut = pending.rfind(b"\n")
        while cut >= 0 and pending.count(b'"', 0, cut) % 2:
            cut = pending.rfind(b"\n", 0, cut)
        if cut >= 0:
            yield bytes(pending[: cut + 1])
            del pending[: cut + 1]
    if pending:
        yield bytes(pending)


def _copied_batches(query: Query, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Read on this thread (the connection is not shared with pyarrow's threads)."""
    statement = f"COPY ({query.sql}) TO STDOUT WITH (FORMAT csv)"
    read = pacsv.ReadOptions(
        column_names=schema.names, use_threads=False, block_size=2 * BLOCK_BYTES
    )
    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        column_types={f.name: f.type for f in schema},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement, query.params) as copy:
        for piece in _pieces(copy):
            table = pacsv.read_csv(
                pa.BufferReader(piece),
                read_options=read,
                parse_options=parse,
                convert_options=convert,
            )
            for batch in table.to_batches():
                # The reader's schema has no metadata: each batch gets the dictionary's.
                yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
