"""Writing generated frames: COPY on PostgreSQL, bulk_create elsewhere; history in SQL.

Primary keys are assigned by the generator from ranges reserved here (max(id) + 1 onwards,
with the tables locked on PostgreSQL), so children reference parents without a round trip;
the sequences are moved past the new rows at the end. Every seeded row gets its history row
("+", created) attributed to the system user, copied in the database by INSERT ... SELECT.
"""

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from django.core.management.color import no_style
from django.db import connection, models

from registry.demo.frames import Frame, rows

NULL = r"\N"
HISTORY_SQL = (
    "INSERT INTO {target} ({own}, history_date, history_change_reason, history_type, "
    "history_user_id) SELECT {own}, created_at, %s, '+', %s FROM {source} "
    "WHERE id BETWEEN %s AND %s"
)


def _is_history_field(field: models.Field) -> bool:
    return field.name.startswith("history_")


class Writer:
    def __init__(self, *, now: datetime, history_user_id: int, reason: str):
        self.now = now
        self.history_user_id = history_user_id
        self.reason = reason[:100]
        self.copy = connection.vendor == "postgresql"

    # -- ids ----------------------------------------------------------------------------
    def reserve_ids(self, model_list: list[type[models.Model]]) -> dict[type[models.Model], int]:
        if self.copy:
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in model_list)
            with connection.cursor() as cursor:
                # Nobody else inserts while the ranges are in use; readers are not blocked.
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                # Check foreign keys row by row as COPY goes, instead of queueing millions of
                # deferred checks until the commit (faster, and less server memory).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return {m: (m.objects.aggregate(top=models.Max("id"))["top"] or 0) + 1 for m in model_list}

    def finish(self, model_list: list[type[models.Model]]) -> None:
        """Move the id sequences past the new rows; foreign keys back to Django's default."""
        statements = connection.ops.sequence_reset_sql(no_style(), model_list)
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
            if self.copy:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    # -- rows ---------------------------------------------------------------------------
    def write(self, model: type[models.Model], frame: Frame) -> int:
        n = rows(frame)
        if n == 0:
            return 0
        fields = model._meta.concrete_fields
        if self.copy:
            self._copy(model, fields, frame, n)
        else:
            self._bulk_create(model, fields, frame, n)
        return n

    def _constant(self, field: models.Field):
        if field.name in ("created_at", "updated_at"):
            return self.now
        return field.get_default()

    def _copy(self, model, fields, frame: Frame, n: int) -> None:
        columns = []
        for field in fields:
            if field.attname in frame:
                columns.append(text_column(field, frame[field.attname]).tolist())
            else:
                columns.append([text_value(self._constant(field))] * n)
        data = "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"
        names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            copy.write(data)

    def _bulk_create(self, model, fields, frame: Frame, n: int) -> None:
        names, columns = [], []
        for field in fields:
            names.append(field.attname)
            if field.attname in frame:
                columns.append(python_column(field, frame[field.attname]))
            else:
                columns.append([self._constant(field)] * n)
        model.objects.bulk_create(
            model(**dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)
        )

    # -- history ------------------------------------------------------------------------
    def write_history(self, model: type[models.Model], first_id: int, last_id: int) -> None:
        if last_id < first_id:
            return
        history = model.history.model
        quote = connection.ops.quote_name
        columns = [
            quote(f.column) for f in history._meta.concrete_fields if not _is_history_field(f)
        ]
        own = ", ".join(columns)
        # Identifiers come from model metadata, quoted; values are parameters.
        target, source = quote(history._meta.db_table), quote(model._meta.db_table)
        sql = HISTORY_SQL.format(target=target, own=own, source=source)
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.reason, self.history_user_id, first_id, last_id])


def _nulls(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "M":
        return np.isnat(values)
    return np.zeros(len(values), dtype=bool)


def text_column(field: models.Field, values: np.ndarray) -> np.ndarray:
    """COPY text representation of one column (\\N for NULL)."""
    null = _nulls(values)
    if isinstance(field, models.BooleanField):
        text = np.where(np.asarray(values, dtype=float) > 0, "t", "f")
    elif isinstance(field, models.DecimalField):
        text = (np.round(values.astype(float), field.decimal_places) + 0.0).astype(str)
    elif isinstance(field, models.DateTimeField):
        text = np.char.add(np.datetime_as_string(values, unit="s"), "+00:00")
    elif isinstance(field, models.DateField):
        text = values.astype(str)
    elif values.dtype.kind in "fiub":
        text = np.where(null, 0, values).astype(np.int64).astype(str)
    else:
        text = values.astype(str)
        for special in ("\t", "\n", "\\"):
            if (np.char.find(text, special) >= 0).any():
                raise ValueError(f"{field.name}: {special!r} would need escaping in COPY text")
    return np.where(null, NULL, text) if null.any() else text


def python_column(field: models.Field, values: np.ndarray) -> list:
    """The same column as Python values for the ORM (None for NULL)."""
    null = _nulls(values).tolist()
    if isinstance(field, models.BooleanField):
        out = (np.asarray(values, dtype=float) > 0).tolist()
    elif isinstance(field, models.DecimalField):
        out = [None if s == NULL else Decimal(s) for s in text_column(field, values).tolist()]
    elif isinstance(field, models.DateTimeField):
        out = [
            None if v is None else v.replace(tzinfo=UTC)
            for v in values.astype("datetime64[us]").astype(object).tolist()
        ]
    elif isinstance(field, models.DateField):
        out = values.astype("datetime64[D]").astype(object).tolist()
    elif values.dtype.kind in "fiub":
        out = np.where(_nulls(values), 0, values).astype(np.int64).tolist()
    else:
        out = values.astype(str).tolist()
    return [None if is_null else value for value, is_null in zip(out, null, strict=True)]


def text_value(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
