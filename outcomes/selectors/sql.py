"""Querysets to pandas frames, fast on PostgreSQL and identical on every backend.

On PostgreSQL a frame is streamed with `COPY (<the queryset's SQL>) TO STDOUT` as CSV and
parsed by pandas' C reader: no Python object per value, which is what makes reading a
100,000-patient cohort cheap. Elsewhere (SQLite in development and tests) the queryset's
rows are read normally. Both paths coerce to the same dtypes, and a test on PostgreSQL
checks they give equal frames.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

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


# How pandas' CSV reader parses each kind: straight into numbers, no string per value.
_CSV_DTYPES = {
    "id": "int64",
    "int": "float64",
    "float": "float64",
    "category": "category",
    "bool": "category",
}


def read_frame(queryset: QuerySet, schema: Schema) -> pd.DataFrame:
    rows = queryset.values_list(*schema)
    if connections[rows.db].vendor == "postgresql":
        frame = _copy_frame(rows, schema)
    else:
        frame = pd.DataFrame.from_records(list(rows), columns=list(schema))
    return coerce(frame, schema)


def _copy_frame(rows: QuerySet, schema: Schema) -> pd.DataFrame:
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. `site__in=[]` (a user whose sites have no patients): no SQL
        return _empty(schema)
    buffer = io.BytesIO()
    with connections[rows.db].cursor() as cursor:
        statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        with cursor.cursor.copy(statement, params) as copy:
            for block in copy:
                buffer.write(block)
    if not buffer.getbuffer().nbytes:
        return _empty(schema)
    buffer.seek(0)
    return pd.read_csv(
        buffer,
        header=None,
        names=list(schema),
        dtype={column: _CSV_DTYPES[kind] for column, kind in schema.items()},
        keep_default_na=False,
        na_values=[""],
    )


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
        elif kind == "bool":
            out[column] = values.astype(object).map(_as_bool, na_action="ignore").astype("boolean")
        elif kind == "category":
            out[column] = _categorical(values)
        else:
            raise ValueError(f"unknown column kind {kind!r} for {column}")
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _categorical(values: pd.Series) -> pd.Categorical:
    """Text as a categorical, empty text as missing, categories sorted (same on every path)."""
    text = values.astype(object)
    text = text.where(text.notna() & (text != ""), None)
    kept = sorted(set(text.dropna()))
    return pd.Categorical(text, categories=pd.Index(kept, dtype="str"))


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
