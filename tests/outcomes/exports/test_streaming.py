"""Memory does not grow with the cohort: the writers hold one chunk at a time (CSV, XLSX,
Parquet), and on PostgreSQL the CSV leaves by COPY, identical to the cursor path."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.db import connection

from outcomes.dictionary import table
from outcomes.exports import batches, package, writers
from outcomes.exports.sql import Query

WIDE = table("wide")[:12]  # enough kinds of column; tracemalloc makes every cell slow
CHUNK = 100


def _rows(n: int):
    row = tuple(
        {"text": "P0123456789ABCDEF", "code": "in_window", "integer": 3, "boolean": 1}.get(
            v.kind, 12.5 if v.kind == "decimal" else None
        )
        for v in WIDE
    )
    for _ in range(n // CHUNK):
        yield [row] * CHUNK


def _peak(write, chunks: int, monkeypatch, tmp_path: Path) -> int:
    monkeypatch.setattr(batches, "fetch_chunks", lambda query: _rows(chunks * CHUNK))
    monkeypatch.setattr(batches, "copy_available", lambda: False)
    query = Query("wide", WIDE, "", [])
    tracemalloc.start()
    write(query, tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _csv(query, tmp_path):
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as archive, archive.open("wide.csv", "w") as out:
        writers._cursor_csv(query, out, lambda n: None)


def _parquet(query, tmp_path):
    writers.write_parquet(query, tmp_path / "x.parquet", lambda n: None)


def _xlsx(query, tmp_path):
    writers.write_xlsx(query, tmp_path / "x.xlsx", lambda n: None)


@pytest.mark.parametrize("write", [_csv, _parquet, _xlsx])
def test_peak_memory_does_not_grow_with_the_rows(write, monkeypatch, tmp_path):
    small = _peak(write, 3, monkeypatch, tmp_path)
    large = _peak(write, 24, monkeypatch, tmp_path)
    # Eight times the rows, the same peak (a writer that kept the rows, like the SPSS one
    # must, grows by a third here).
    assert large < small * 1.15 + 50_000


@pytest.mark.django_db
def test_copy_and_cursor_paths_write_the_same_csv(coordinator, cohort_cases, export):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    made = export(coordinator)
    from outcomes.exports.models import ExportSubject
    from outcomes.exports.subjects import subjects_create
    from outcomes.selectors import Scope
    from outcomes.selectors import cohort_cases as cases_of

    cases = cases_of(filters=made.filters, rules=made.rules, scope=Scope.of(made.scope_sites))
    subjects_create(export=made, cases=cases.order_by().values_list("pk", "patient_id"))
    for name in ("wide", "long", "adverse_events"):
        query = package.table_query(made, name)
        copied, cursor = io.BytesIO(), io.BytesIO()
        writers._copy_csv(query, copied)
        writers._cursor_csv(query, cursor, lambda n: None)
        assert copied.getvalue() == cursor.getvalue(), name
    ExportSubject.objects.filter(export=made).delete()


def test_xlsx_goes_on_to_another_sheet_at_the_row_limit(monkeypatch, tmp_path):
    """Excel holds 1,048,576 rows per sheet (header included): a longer table continues on
    `wide_2`, ... each with its header, and no row is lost."""
    from openpyxl import load_workbook

    monkeypatch.setattr(batches, "fetch_chunks", lambda query: _rows(3 * CHUNK))
    monkeypatch.setattr(batches, "copy_available", lambda: False)
    path = tmp_path / "x.xlsx"
    assert (
        writers.write_xlsx(Query("wide", WIDE, "", []), path, lambda n: None, max_rows=121) == 300
    )
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["wide", "wide_2", "wide_3"]
    rows = [list(sheet.iter_rows(values_only=True)) for sheet in book]
    assert [len(r) for r in rows] == [121, 121, 61]
    assert all(r[0] == tuple(v.name for v in WIDE) for r in rows)
    assert writers.EXCEL_MAX_ROWS == 1_048_576


def test_parquet_writes_a_row_group_per_chunk(monkeypatch, tmp_path):
    import pyarrow.parquet as pq

    monkeypatch.setattr(batches, "fetch_chunks", lambda query: _rows(250 * CHUNK))
    monkeypatch.setattr(batches, "copy_available", lambda: False)
    path = tmp_path / "x.parquet"
    writers.write_parquet(Query("wide", WIDE, "", []), path, lambda n: None)
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_rows == 25_000 and metadata.num_row_groups == 3
