"""SPSS .sav and Stata .dta: variable labels, value labels, and missing values that say why.

pyreadstat (ReadStat) writes a file from one whole frame, so the table is held once, but
compactly: the rows are counted first, then each column is a preallocated numpy array filled
batch by batch (decimals float64, exact; codes and integers small nullable integers; dates
date32), and pyreadstat walks the frame a row at a time. No Python object per value, except
Stata's tagged-missing columns, whose cells point at shared (interned) values.

Missing for a reason (registry.followup, the one follow-up status definition): a visit value
of the wide table that is empty because its timepoint is not yet due, was missed (window
closed) or came after a withdrawal, or, when the visit was recorded, because that value was
not, carries the reason as a user-missing value with its label: SPSS codes -9991..-9994
declared as a missing range, Stata's .a-.d. A value recorded out of its window is kept as
recorded (DOMAIN: kept and flagged, never moved); its `status_<timepoint>` column flags it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyreadstat
from django.db import connection

from outcomes.dictionary import Kind, Variable
from outcomes.dictionary.missing import (  # noqa: F401 - the writers' names for them
    _REASON_OF_STATUS,
    MISSING_REASONS,
    NOT_RECORDED,
    MissingReason,
)
from outcomes.exports.batches import record_batches
from outcomes.exports.sql import Query

STATA_LABEL_CHARS = 80
Progress = Callable[[int], None]


SPSS_MISSING_RANGE = {"lo": -9999.0, "hi": -9991.0}


def variable_label(v: Variable) -> str:
    return f"{v.label} ({v.unit})" if v.unit else v.label


def status_column(v: Variable, names: set[str]) -> str | None:
    """The follow-up status column that says why `v` is empty, for the per-visit values of
    the wide and long tables (dates excluded: SPSS and Stata dates have no missing codes)."""
    if not v.per_visit or v.kind in (Kind.DATE, Kind.TEXT):
        return None
    name = f"status_{v.timepoint}" if v.timepoint else "window_status"
    return name if name in names else None


# ------------------------------------------------------------------ columns


class _Column:
    """One variable's preallocated values (numbers as SPSS/Stata store them)."""

    def __init__(self, v: Variable, rows: int, stata: bool, reasons: bool):
        self.v = v
        self.stata_tags = stata and reasons
        self.numbers = v.numeric_codes if v.kind is Kind.CODE else {}
        if v.kind is Kind.CODE:
            self.codes = pa.array([code for code, _ in v.codes], type=pa.string())
        # Python values, each distinct one shared by its cells: Stata's tagged-missing
        # columns, and dates (pyreadstat writes date objects as dates).
        self.objects = self.stata_tags or v.kind is Kind.DATE
        if self.objects:
            self.values = np.full(rows, None, dtype=object)
            self._interned: dict = {}
        elif v.kind is Kind.DECIMAL:
            self.values = np.full(rows, np.nan)
        elif v.kind in (Kind.CODE, Kind.BOOLEAN, Kind.INTEGER):
            self.values = np.zeros(rows, dtype=_int_type(v, reasons))
            self.mask = np.ones(rows, dtype=bool)
        else:  # text: arrow arrays, joined at the end
            self.chunks: list[pa.Array] = []

    def fill(self, start: int, column: pa.Array, reason: np.ndarray | None) -> None:
        """Rows start.. of this column; `reason`: per row, the index of its missing reason
        (-1 for none)."""
        v, stop = self.v, start + len(column)
        if v.kind is Kind.TEXT:
            self.chunks.append(column)
            return
        if v.kind is Kind.CODE:
            column = pc.add(pc.index_in(column, value_set=self.codes), 1)
        null = column.is_null().to_numpy(zero_copy_only=False)
        numbers = column.to_numpy(zero_copy_only=False)
        if self.objects:
            self._fill_objects(start, stop, numbers, null, reason)
            return
        if reason is not None:
            coded = null & (reason >= 0)
            codes = np.array([r.spss for r in MISSING_REASONS])
            numbers = np.where(coded, codes[np.maximum(reason, 0)], numbers)
            null = null & ~coded
        if v.kind is Kind.DECIMAL:
            self.values[start:stop] = np.where(null, np.nan, numbers)
        else:
            self.values[start:stop] = np.where(null, 0, np.nan_to_num(numbers)).astype(
                self.values.dtype
            )
            self.mask[start:stop] = null

    def _fill_objects(self, start, stop, numbers, null, reason) -> None:
        """Cells point at one shared Python value per distinct value (a number, a date), or
        at the Stata tag letter of their missing reason, or at None."""
        out = self.values[start:stop]
        present = ~null
        if present.any():
            found = numbers[present]
            if self.v.kind in (Kind.CODE, Kind.BOOLEAN, Kind.INTEGER):
                found = found.astype(np.int64)
            unique, inverse = np.unique(found, return_inverse=True)
            shared = np.empty(len(unique), dtype=object)
            for i, value in enumerate(unique.tolist()):
                shared[i] = self._interned.setdefault(value, value)
            out[present] = shared[inverse]
        if reason is not None:
            tags = np.array([r.stata for r in MISSING_REASONS], dtype=object)
            coded = null & (reason >= 0)
            out[coded] = tags[reason[coded]]

    def series(self) -> pd.Series | pd.api.extensions.ExtensionArray | np.ndarray:
        v = self.v
        if v.kind is Kind.TEXT:
            chunked = pa.chunked_array(self.chunks, type=pa.string())
            return pd.arrays.ArrowExtensionArray(chunked)
        if self.objects or v.kind is Kind.DECIMAL:
            return self.values
        return pd.arrays.IntegerArray(self.values, self.mask)


def _int_type(v: Variable, reasons: bool) -> type:
    if v.kind is Kind.INTEGER:
        return np.int32
    return np.int16 if reasons else np.int8


# ------------------------------------------------------------------ the frame


def count_rows(query: Query) -> int:
    with connection.cursor() as cursor:
        cursor.execute(query.count_sql, query.count_params)
        return cursor.fetchone()[0]


def statistical_frame(
    query: Query, progress: Progress, *, stata: bool, batches: Iterator[pa.RecordBatch] | None
) -> pd.DataFrame:
    """The table as SPSS/Stata numbers: codes numbered (value labels), missing reasons."""
    variables = query.variables
    names = {v.name for v in variables}
    rows = count_rows(query)
    status_of = {v.name: status_column(v, names) for v in variables}
    columns = [_Column(v, rows, stata, status_of[v.name] is not None) for v in variables]
    position = {v.name: i for i, v in enumerate(variables)}
    start = 0
    for batch in batches if batches is not None else record_batches(query):
        if start + batch.num_rows > rows:
            raise RuntimeError("the table changed while it was exported")
        reasons = {
            name: _reasons(batch.column(position[name])) for name in set(status_of.values()) if name
        }
        for i, column in enumerate(columns):
            status = status_of[column.v.name]
            column.fill(start, batch.column(i), reasons[status] if status else None)
        start += batch.num_rows
        progress(start)
    if start != rows:
        raise RuntimeError("the table changed while it was exported")
    with warnings.catch_warnings():  # one block per column, on purpose: no consolidation copy
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        frame = pd.DataFrame(index=pd.RangeIndex(rows))
        for column in columns:
            frame[column.v.name] = column.series()
            column.values = column.chunks = None
    return frame


def _reasons(status: pa.Array) -> np.ndarray:
    keys = list(_REASON_OF_STATUS)
    index = pc.index_in(status, value_set=pa.array([str(k) for k in keys]))
    mapped = np.array([_REASON_OF_STATUS[k] for k in keys], dtype=np.int8)
    found = index.to_numpy(zero_copy_only=False)
    # A row with no status (an unscheduled visit in long) is a recorded visit.
    return np.where(np.isnan(found), 3, mapped[np.nan_to_num(found).astype(np.int64)]).astype(
        np.int8
    )


def value_labels(query: Query, *, stata: bool) -> dict[str, dict]:
    names = {v.name for v in query.variables}
    labels: dict[str, dict] = {}
    for v in query.variables:
        entries: dict = {}
        if v.kind in (Kind.CODE, Kind.BOOLEAN) and v.codes:
            numbers = v.numeric_codes
            entries = {numbers[code]: label for code, label in v.codes}
        if status_column(v, names):
            for reason in MISSING_REASONS:
                entries[reason.stata if stata else _spss_key(v, reason)] = reason.label
        if entries:
            labels[v.name] = entries
    return labels


def _spss_key(v: Variable, reason: MissingReason) -> int | float:
    return float(reason.spss) if v.kind is Kind.DECIMAL else reason.spss


def write_sav(query: Query, path: Path, progress: Progress, file_label: str, batches=None) -> int:
    frame = statistical_frame(query, progress, stata=False, batches=batches)
    names = {v.name for v in query.variables}
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=file_label,
        column_labels=[variable_label(v) for v in query.variables],
        variable_value_labels=value_labels(query, stata=False),
        missing_ranges={
            v.name: [SPSS_MISSING_RANGE] for v in query.variables if status_column(v, names)
        },
        variable_measure=_measures(query.variables),
    )
    return len(frame)


def _measures(variables: tuple[Variable, ...]) -> dict[str, str]:
    kinds = {Kind.CODE: "nominal", Kind.BOOLEAN: "nominal", Kind.TEXT: "nominal"}
    return {v.name: kinds.get(v.kind, "scale") for v in variables}


def write_dta(query: Query, path: Path, progress: Progress, file_label: str, batches=None) -> int:
    frame = statistical_frame(query, progress, stata=True, batches=batches)
    names = {v.name for v in query.variables}
    tags = [reason.stata for reason in MISSING_REASONS]
    pyreadstat.write_dta(
        frame,
        str(path),
        file_label=file_label[:STATA_LABEL_CHARS],
        column_labels=[variable_label(v)[:STATA_LABEL_CHARS] for v in query.variables],
        variable_value_labels=value_labels(query, stata=True),
        missing_user_values={v.name: tags for v in query.variables if status_column(v, names)},
        version=15,
    )
    return len(frame)
