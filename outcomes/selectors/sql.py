"""Querysets to pandas frames, fast on PostgreSQL and identical on every backend.

On PostgreSQL a frame is read with one binary `COPY` row holding each column whole:
no Python object (and no client round of work) per row or value, which is what makes
reading a 100,000-patient cohort cheap. Elsewhere (SQLite in development and tests) the queryset's
rows are read normally. Both paths coerce to the same dtypes, and a test on PostgreSQL
checks they give equal frames.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Expression, F, Q, QuerySet

from outcomes.routers import read_alias

# Column kinds: "id" (int64, never null), "int" / "float" (float64, NaN = missing: the
# statistics treat counts such as ASA class as numbers), "category" (pandas categorical,
# empty text = missing: grouping and comparing codes is many times faster than strings),
# "bool" (nullable boolean).
Schema = Mapping[str, str]


def read_frame(queryset: QuerySet, schema: Schema) -> pd.DataFrame:
    rows = queryset.values_list(*schema)
    if connections[rows.db].vendor == "postgresql":
        frame = _copy_frame(rows, schema)
    else:
        frame = pd.DataFrame.from_records(list(rows), columns=list(schema))
    return coerce(frame, schema)


def _copy_frame(rows: QuerySet, schema: Schema, *, separated: bool = True) -> pd.DataFrame:
    """The rows as one value per column: `COPY (SELECT count(*), <aggregate of c0>, ...
    FROM (<the queryset's SQL>)) TO STDOUT (FORMAT binary)`. PostgreSQL sends one row
    instead of a message per row (the client's per-message cost was most of the reading
    time). The aggregates keep the rows' order (each over the ordered subquery).

    Each column travels in the cheapest form for both ends (`_wire`, by its type, read
    from the statement's description first): integers and doubles as the concatenation of
    their big-endian binary values (`string_agg(int8send(c), '')`), which numpy views in
    place, a nullable number as a double with NULL as NaN (what the frame holds);
    decimals as their comma-separated text (a numeric's binary form is not fixed-width,
    and casting it to a double costs the database more than Arrow's CSV reader costs
    here), NULL as the text NULL; categories as their text joined by the unit separator
    (NULL as empty text, which is missing too; split by Arrow), booleans as the text of
    their array.
    `string_agg` costs the database about half of `array_agg` and its array output per
    value. `count(*)` checks every column's length; a category holding the separator
    itself is read again as the text of its array (`separated=False`), whose quoting
    keeps any character."""
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. `site__in=[]` (a user whose sites have no patients): no SQL
        return _empty(schema)
    names = [f"c{i}" for i in range(len(schema))]
    # The queryset's own SQL, its parameters passed separately; the rest is fixed text.
    columns = ", ".join(names)
    with connections[rows.db].cursor() as cursor:
        types = _column_types(cursor.cursor, sql, params)
        wires = [
            _wire(kind, oid, separated) for kind, oid in zip(schema.values(), types, strict=True)
        ]
        aggregates = ", ".join(
            _WIRE_SQL[wire].format(name) for name, wire in zip(names, wires, strict=True)
        )
        statement = (
            f"COPY (SELECT count(*), {aggregates} FROM ({sql}) AS rows({columns}))"  # noqa: S608
            " TO STDOUT (FORMAT binary)"
        )
        with cursor.cursor.copy(statement, params) as copy:
            data = b"".join(copy)
    count, *fields = _binary_row(data, len(schema) + 1)
    size = int.from_bytes(count, "big")
    if not size:  # no rows: every aggregate is NULL
        return _empty(schema)
    parsed = zip(schema.items(), wires, fields, strict=True)
    try:
        columns_read = {
            column: _parse_wire(field, wire, kind, size) for (column, kind), wire, field in parsed
        }
    except _SeparatorInText:
        return _copy_frame(rows, schema, separated=False)
    return pd.DataFrame(columns_read, copy=False)  # see `coerce`


# PostgreSQL type oids of the columns sent as binary values: integers (int2, int4, int8)
# and double precision. float4 is not among them: its text is the shortest that reads
# back as the float4, which parses to another double than the float4's own value.
_INTEGERS = frozenset((20, 21, 23))
_DOUBLE = 701
_NUMERIC = 1700
_WIRE_SQL = {
    "int": "string_agg(int8send({0}::int8), '')",
    "double": "string_agg(float8send(coalesce({0}::float8, 'NaN'::float8)), '')",
    "number": "string_agg(coalesce({0}::text, 'NULL'), ',')",
    "separated": "string_agg(coalesce({0}::text, ''), chr(31))",
    "text": "array_agg({0})::text",
}
_SEPARATOR = "\x1f"  # chr(31), the unit separator


class _SeparatorInText(ValueError):
    """A separated column's text holds the separator: it cannot be split."""


def _column_types(cursor: Any, sql: str, params: Sequence[Any]) -> list[int]:
    """The type oid of each column of the statement (planned, not run: `LIMIT 0`)."""
    cursor.execute(f"SELECT * FROM ({sql}) AS rows LIMIT 0", params)  # noqa: S608
    return [column.type_code for column in cursor.description]


def _wire(kind: str, oid: int, separated: bool = True) -> str:
    """How a column travels (see `_copy_frame`): "int" (int64 values: an id, never NULL),
    "double" (float64 values, NULL as NaN), "number" (decimal text), "separated"
    (category text) or "text" (an array)."""
    if kind == "id" and oid in _INTEGERS:
        return "int"
    if kind in ("int", "float") and (oid in _INTEGERS or oid == _DOUBLE):
        return "double"
    if kind in ("id", "int", "float") and oid == _NUMERIC:
        return "number"
    if kind == "category" and separated:
        return "separated"
    return "text"


def _binary_row(data: bytes, width: int) -> list[memoryview | None]:
    """The fields of the one row of a binary COPY (signature, flags, header extension,
    then per field its length, -1 for NULL, and its bytes)."""
    if data[:11] != b"PGCOPY\n\xff\r\n\x00":
        raise ValueError("not a binary COPY from the database")
    view = memoryview(data)
    at = 19 + int.from_bytes(data[15:19], "big")
    if int.from_bytes(data[at : at + 2], "big", signed=True) != width:
        raise ValueError(f"expected one row of {width} fields from the database")
    at += 2
    fields: list[memoryview | None] = []
    for _ in range(width):
        size = int.from_bytes(data[at : at + 4], "big", signed=True)
        at += 4
        fields.append(None if size < 0 else view[at : at + size])
        at += max(size, 0)
    return fields


def _parse_wire(
    field: memoryview | None, wire: str, kind: str, size: int
) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """One column of `size` rows as `_wire` sent it."""
    if wire in ("int", "double"):
        # A NULL id is skipped by string_agg: the length tells (the text path raised too).
        if field is None or len(field) != 8 * size:
            raise ValueError(f"NULL or missing values in an {kind} column from the database")
        values = np.frombuffer(field, dtype=">i8" if wire == "int" else ">f8")
        return values.astype(np.int64 if kind == "id" else np.float64)
    if wire == "number":
        values = _parse_numbers(bytes(field), kind)
        if values.size != size:
            raise ValueError(f"unparsable {kind} column from the database")
        return values
    if wire == "separated":
        return _separated_categorical(field, kind, size)
    return _parse_array(bytes(field), kind)


def _separated_categorical(field: memoryview, kind: str, size: int) -> pd.Categorical:
    """Text joined by the separator as a categorical (`_categorical_of`'s categories and
    codes): split and encoded by Arrow, in C++ and without the GIL, not as one Python
    string per row (five times the time, and the statistics wait for the GIL)."""
    text = pa.array([field.tobytes()], type=pa.large_binary()).cast(pa.large_string())
    items = pc.split_pattern(text, _SEPARATOR).flatten()
    if len(items) != size:
        raise _SeparatorInText(kind)
    encoded = pc.dictionary_encode(items)
    return _sorted_categorical(encoded.indices.to_numpy(), encoded.dictionary.to_pylist())


def _parse_numbers(body: bytes, kind: str) -> np.ndarray:
    """Comma-separated numbers (NULL: missing), parsed by Arrow's CSV reader as one number
    per line: each to the nearest float, as Python's float() of the text (a bad item
    raises); about twice pandas' C reader's speed, and outside the GIL."""
    if not body:
        return np.empty(0)
    table = pa_csv.read_csv(
        pa.BufferReader(body.replace(b",", b"\n")),
        read_options=pa_csv.ReadOptions(column_names=["value"], use_threads=False),
        parse_options=pa_csv.ParseOptions(quote_char=False, double_quote=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={"value": pa.int64() if kind == "id" else pa.float64()},
            null_values=["NULL"],
            strings_can_be_null=False,
        ),
    )
    column = table.column(0)
    if column.length() != body.count(b",") + 1 or (kind == "id" and column.null_count):
        raise ValueError(f"unparsable {kind} array from the database: {body[:80]!r}")
    return column.to_numpy()


def _parse_array(field: bytes, kind: str) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """One array in PostgreSQL's text form (`{1,NULL,3}`, a text field of a binary COPY:
    only the array's own quoting and escapes)."""
    body = field[1:-1]
    if kind in ("id", "int", "float"):
        return _parse_numbers(body, kind)
    text = body.decode()
    if not text:
        items = np.empty(0, dtype=object)
    elif '"NULL"' in text:  # the text NULL, not a null: only the slow parser tells them apart
        items = np.array(_parse_quoted("{" + text + "}"), dtype=object)
    else:
        # Elements are quoted (with backslash escapes) when they hold a comma, a quote, a
        # space or nothing; a bare NULL is a null.
        items = pd.read_csv(
            io.StringIO(text),
            header=None,
            names=["value"],
            lineterminator=",",
            dtype=object,
            na_values=["NULL"],
            keep_default_na=False,
            quotechar='"',
            escapechar="\\",
            doublequote=False,
            skip_blank_lines=False,
        )["value"].to_numpy(dtype=object, copy=True)
    missing = pd.isna(items)
    if kind == "bool":
        return pd.array(np.where(missing, None, items == "t"), dtype="boolean")
    items[missing] = None
    return _categorical_of(items) if kind == "category" else items


def _parse_quoted(text: str) -> list:
    """The general text-array syntax: elements quoted with backslash escapes, NULL bare."""
    items, i, body = [], 0, text[1:-1]
    while i < len(body):
        if body[i] == '"':
            i += 1
            chars = []
            while body[i] != '"':
                if body[i] == "\\":
                    i += 1
                chars.append(body[i])
                i += 1
            items.append("".join(chars))
            i += 2  # the closing quote and the comma
        else:
            end = body.find(",", i)
            end = len(body) if end < 0 else end
            item = body[i:end]
            items.append(None if item == "NULL" else item)
            i = end + 1
    return items


def _empty(schema: Schema) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in schema})


def coerce(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The schema's dtypes, whichever path read the frame (cheap when already right)."""
    out = {}
    for column, kind in schema.items():
        values = frame[column]
        if kind == "id":
            out[column] = values.astype("int64")
        elif kind in ("int", "float"):
            out[column] = pd.to_numeric(values, errors="raise").astype("float64")
        elif kind == "bool" and values.dtype == "boolean":
            out[column] = values  # already made by `_parse_array` (the COPY path)
        elif kind == "bool":
            out[column] = values.astype(object).map(_as_bool, na_action="ignore").astype("boolean")
        elif kind == "category":
            out[column] = _categorical(values)
        else:
            raise ValueError(f"unknown column kind {kind!r} for {column}")
    # copy=False: the columns stay separate arrays. Consolidating them into one block per
    # dtype copied every column of every frame read (its time was most of the parsing's).
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)), copy=False)


def _categorical(values: pd.Series) -> pd.Categorical:
    """Text as a categorical, empty text as missing, categories sorted (same on every path)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.array  # already made by `_categorical_of` (the COPY path)
    return _categorical_of(values.to_numpy(dtype=object))


def _categorical_of(text: np.ndarray) -> pd.Categorical:
    """`_categorical` on an object array: codes by hashing (no string dtype conversions)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    return _sorted_categorical(codes, list(uniques))


def _sorted_categorical(codes: np.ndarray, uniques: list) -> pd.Categorical:
    """Codes into `uniques` (-1: missing) as a categorical whose categories are the values
    sorted, empty text missing too: the same whoever found the uniques (pandas, Arrow)."""
    kept = sorted(value for value in uniques if value != "")
    position = {value: i for i, value in enumerate(kept)}
    remap = np.array([position.get(value, -1) for value in uniques] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(remap[codes], categories=pd.Index(kept, dtype="str"))


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value in ("t", "true", "True", "1")
    return bool(value)


class InIds(Expression):
    """`column = ANY(%s)` with the ids as one array parameter (PostgreSQL).

    A materialised cohort (tens of thousands of ids) then costs one hashed array lookup per
    row, instead of re-running the cohort's subqueries inside every query that reads it.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, path: str, ids: Sequence[int]):
        super().__init__()
        self.column = F(path)
        self.ids = [int(pk) for pk in ids]

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(%s::bigint[])", [*params, self.ids]


def in_ids(path: str, ids: Sequence[int], fallback: QuerySet) -> Q | InIds:
    """Rows whose `path` is one of `ids`: an array parameter on PostgreSQL, else the
    `fallback` subquery (SQLite caps the number of parameters; its cohorts are small)."""
    if connections[read_alias()].vendor == "postgresql":
        return InIds(path, ids)
    return Q(**{f"{path}__in": fallback})
