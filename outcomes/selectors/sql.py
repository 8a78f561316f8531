"""Querysets to pandas frames, fast on PostgreSQL and identical on every backend.

On PostgreSQL a frame is read with `COPY` as one array per column, parsed in C:
no Python object (and no client round of work) per row or value, which is what makes
reading a 100,000-patient cohort cheap. Elsewhere (SQLite in development and tests) the queryset's
rows are read normally. Both paths coerce to the same dtypes, and a test on PostgreSQL
checks they give equal frames.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
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


def _copy_frame(rows: QuerySet, schema: Schema) -> pd.DataFrame:
    """The rows as one array per column: `COPY (SELECT array_agg(c0), array_agg(c1), ...
    FROM (<the queryset's SQL>)) TO STDOUT`. PostgreSQL sends one row of arrays instead of
    a message per row (the client's per-message cost was most of the reading time), and
    pandas' C reader parses each array's text. The arrays keep the rows' order (one aggregate
    over the ordered subquery)."""
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. `site__in=[]` (a user whose sites have no patients): no SQL
        return _empty(schema)
    names = [f"c{i}" for i in range(len(schema))]
    arrays = ", ".join(f"array_agg({name})" for name in names)
    # The queryset's own SQL, its parameters passed separately; the rest is fixed text.
    columns = ", ".join(names)
    statement = f"COPY (SELECT {arrays} FROM ({sql}) AS rows({columns})) TO STDOUT"  # noqa: S608
    buffer = io.BytesIO()
    with connections[rows.db].cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for block in copy:
            buffer.write(block)
    fields = buffer.getvalue().rstrip(b"\n").split(b"\t")
    if fields[0] == b"\\N":  # no rows: every aggregate is NULL
        return _empty(schema)
    parsed = zip(schema.items(), fields, strict=True)
    return pd.DataFrame({column: _parse_array(field, kind) for (column, kind), field in parsed})


def _parse_array(field: bytes, kind: str) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """One array in PostgreSQL's text form (`{1,NULL,3}`, inside COPY's text format)."""
    body = field[1:-1]
    if kind in ("id", "int", "float"):
        if not body:
            return np.empty(0)
        # pandas' C reader with the comma as its line end: one number per "line", parsed
        # to the nearest float (a bad item raises); several times numpy.fromstring's speed.
        values = pd.read_csv(
            io.BytesIO(body),
            header=None,
            names=["value"],
            lineterminator=",",
            dtype=np.int64 if kind == "id" else np.float64,
            na_values=["NULL"],
            keep_default_na=False,
        )["value"].to_numpy()
        if values.size != body.count(b",") + 1:
            raise ValueError(f"unparsable {kind} array from the database: {body[:80]!r}")
        return values
    text = body.decode()
    if "\\" in text:
        text = _unescape_copy(text)
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


_COPY_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}


def _unescape_copy(text: str) -> str:
    """Undo COPY's text-format escapes (a backslash before a character, or a named one)."""
    return re.sub(r"\\(.)", lambda match: _COPY_ESCAPES.get(match[1], match[1]), text)


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
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _categorical(values: pd.Series) -> pd.Categorical:
    """Text as a categorical, empty text as missing, categories sorted (same on every path)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.array  # already made by `_categorical_of` (the COPY path)
    return _categorical_of(values.to_numpy(dtype=object))


def _categorical_of(text: np.ndarray) -> pd.Categorical:
    """`_categorical` on an object array: codes by hashing (no string dtype conversions)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
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
