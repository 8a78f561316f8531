"""What SPSS and Stata files share: each variable's labels, value labels and missing reasons,
and a batch's columns as numbers (codes numbered, dates as days) or as UTF-8 bytes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcomes.dictionary import Kind, Variable
from outcomes.dictionary.missing import _REASON_OF_STATUS, MISSING_REASONS

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
RECORDED = _REASON_OF_STATUS["in_window"]  # a recorded visit without the value: not recorded


def variable_label(v: Variable) -> str:
    return f"{v.label} ({v.unit})" if v.unit else v.label


def status_column(v: Variable, names: set[str]) -> str | None:
    """The follow-up status column that says why `v` is empty, for the per-visit values of
    the wide and long tables (numbers, codes and dates; text has no missing codes)."""
    if not v.per_visit or v.kind is Kind.TEXT:
        return None
    name = f"status_{v.timepoint}" if v.timepoint else "window_status"
    return name if name in names else None


@dataclass(frozen=True)
class Spec:
    """One variable as both formats hold it: where its missing reason comes from, and for
    text its width in bytes (the widest value of the table, at least 1)."""

    v: Variable
    status: str | None = None
    width: int = 0

    @property
    def text(self) -> bool:
        return self.v.kind is Kind.TEXT

    def codes(self) -> list[tuple[int, str]]:
        """The value labels of a code or boolean, in the dictionary's order."""
        if self.v.kind not in (Kind.CODE, Kind.BOOLEAN):
            return []
        numbers = self.v.numeric_codes
        return [(numbers[code], label) for code, label in self.v.codes]


def specs(variables: tuple[Variable, ...], widths: dict[str, int]) -> list[Spec]:
    names = {v.name for v in variables}
    return [Spec(v, status_column(v, names), max(widths.get(v.name) or 0, 1)) for v in variables]


# ------------------------------------------------------------------ one batch


def numbers(v: Variable, column: pa.Array) -> np.ndarray:
    """A numeric column as float64, NaN where empty: codes numbered 1..k (an unknown code is
    empty), booleans 1/0, dates as days since 1970-01-01."""
    if v.kind is Kind.CODE:
        codes = pa.array([code for code, _ in v.codes], type=pa.string())
        column = pc.add(pc.index_in(column, value_set=codes), 1)
    elif v.kind is Kind.DATE:
        column = column.cast(pa.int32())
    return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def reasons(status: pa.Array) -> np.ndarray:
    """Per row, the index in MISSING_REASONS of the reason an empty visit value has."""
    keys = list(_REASON_OF_STATUS)
    index = pc.index_in(status, value_set=pa.array([str(k) for k in keys]))
    mapped = np.array([_REASON_OF_STATUS[k] for k in keys], dtype=np.int8)
    found = index.to_numpy(zero_copy_only=False)
    # A row with no status (an unscheduled visit in long) is a recorded visit.
    known = ~np.isnan(found)
    out = np.full(len(found), RECORDED, dtype=np.int8)
    out[known] = mapped[found[known].astype(np.int64)]
    return out


REASON_COUNT = len(MISSING_REASONS)


def place_text(
    rows: np.ndarray, column: pa.Array, start: int, width: int, segment: int = 0
) -> None:
    """Copy each row's UTF-8 bytes into `rows` (one row of the file per line, uint8) at
    byte `start`, with no Python object per value. `segment`: SPSS's very long strings put
    255 bytes into each 256-byte segment (0: one run of bytes)."""
    column = pc.fill_null(column.cast(pa.string()), "")
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    if n == 0:
        return
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[
        column.offset : column.offset + n + 1
    ]
    data = column.buffers()[2]
    lengths = np.diff(offsets)
    if lengths.max(initial=0) > width:
        raise RuntimeError("a text is wider than its column: the table changed while exported")
    total = int(offsets[-1] - offsets[0])
    if total == 0:
        return
    values = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
    within = np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1] - offsets[0], lengths)
    if segment:
        within = within // (segment - 1) * segment + within % (segment - 1)
    line = np.repeat(np.arange(n, dtype=np.int64), lengths)
    rows.reshape(-1)[line * rows.shape[1] + start + within] = values
