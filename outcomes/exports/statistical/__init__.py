"""SPSS .sav and Stata .dta: variable labels, value labels, and missing values that say why,
written batch by batch: memory does not grow with the cohort.

Why our own writers. pyreadstat (ReadStat) writes a file only from one whole DataFrame, so
the table had to be held (about 545 bytes per wide row: 400 MB at 100,000 patients).
Stitching files that pyreadstat wrote per chunk is not sound: each chunk picks its own
string widths, and the headers, the case count, Stata's section offsets and the value-label
tables would all have to be rewritten. Both formats, as we write them, are simple instead:
a dictionary of fixed size, then fixed-width records (uncompressed SPSS cases; Stata's
118 observations), then, for Stata, the value labels. Knowing two things first makes the
file a forward stream: the number of rows (`count_rows`, as before) and the widest value of
each text column in UTF-8 bytes (`text_widths`: one `MAX(octet_length(...))` query; the
same widths pyreadstat chose). Each Arrow batch (`batches.record_batches`) is turned into
one numpy buffer of whole records (numbers placed by column, text bytes scattered into
their fixed-width fields) and written: no Python object per value, one batch in memory.
`sav` and `dta` hold each format's layout; `columns` what the two share. pyreadstat and
pandas read the files back in the tests (every value, label and missing reason).

Missing for a reason (registry.followup, the one follow-up status definition): a visit value
of the wide and long tables that is empty because its timepoint is not yet due, was missed
(window closed) or came after a withdrawal, or, when the visit was recorded, because that
value was not, carries the reason as a user-missing value with its label: SPSS codes
-9991..-9994 declared as a missing range, Stata's .a-.d. Visit dates (shifted and identified
exports) carry them too: an SPSS date is a number, a Stata date a long. A value recorded
out of its window is kept as recorded (DOMAIN: kept and flagged, never moved); its
`status_<timepoint>` column flags it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
from django.db import connection

from outcomes.dictionary import Kind
from outcomes.dictionary.missing import (  # noqa: F401 - the writers' names for them
    MISSING_REASONS,
    NOT_RECORDED,
    MissingReason,
)
from outcomes.exports.batches import record_batches
from outcomes.exports.sql import Query
from outcomes.exports.statistical.columns import specs, status_column, variable_label
from outcomes.exports.statistical.dta import STATA_LABEL_CHARS, DtaWriter
from outcomes.exports.statistical.sav import SPSS_MISSING_RANGE, SavWriter

Progress = Callable[[int], None]

__all__ = [
    "MISSING_REASONS",
    "NOT_RECORDED",
    "SPSS_MISSING_RANGE",
    "STATA_LABEL_CHARS",
    "count_rows",
    "status_column",
    "text_widths",
    "variable_label",
    "write_dta",
    "write_sav",
]


def count_rows(query: Query) -> int:
    with connection.cursor() as cursor:
        cursor.execute(query.count_sql, query.count_params)
        return cursor.fetchone()[0]


def text_widths(query: Query) -> dict[str, int]:
    """The widest value of each text column, in UTF-8 bytes (None for an empty table)."""
    texts = [v.name for v in query.variables if v.kind is Kind.TEXT]
    if not texts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(query.widths_sql, query.widths_params)
        return dict(zip(texts, cursor.fetchone(), strict=True))


def _write(
    writer_class,
    query: Query,
    path: Path,
    progress: Progress,
    file_label: str,
    batches: Iterable[pa.RecordBatch] | None,
) -> int:
    rows = count_rows(query)
    columns = specs(query.variables, text_widths(query))
    with open(path, "wb") as out:
        writer = writer_class(out, columns, rows, file_label)
        for batch in batches if batches is not None else record_batches(query):
            if writer.written + batch.num_rows > rows:
                raise RuntimeError("the table changed while it was exported")
            writer.write_batch(batch)
            progress(writer.written)
        writer.close()
    return rows


def write_sav(query: Query, path: Path, progress: Progress, file_label: str, batches=None) -> int:
    return _write(SavWriter, query, path, progress, file_label, batches)


def write_dta(query: Query, path: Path, progress: Progress, file_label: str, batches=None) -> int:
    return _write(DtaWriter, query, path, progress, file_label, batches)
