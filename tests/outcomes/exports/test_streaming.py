"""Memory does not grow with the cohort: the writers hold one chunk at a time (CSV, XLSX,
Parquet, SPSS, Stata), and on PostgreSQL the CSV leaves by COPY, identical to the cursor
path."""

from __future__ import annotations

import io
import itertools
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.db import connection

from outcomes.dictionary import table
from outcomes.exports import batches, package, statistical, writers
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
    # Eight times the rows, the same peak (a writer that kept the rows, as the SPSS and
    # Stata ones once did for pyreadstat, grows by a third here).
    assert large < small * 1.15 + 50_000


def _statistical(fmt: str, monkeypatch, chunks: int):
    """SPSS or Stata, with the row count and text widths a database would give."""
    monkeypatch.setattr(statistical, "count_rows", lambda query: chunks * CHUNK)
    widths = {v.name: 17 for v in WIDE if v.kind == "text"}
    monkeypatch.setattr(statistical, "text_widths", lambda query: widths)
    write = statistical.write_sav if fmt == "sav" else statistical.write_dta

    def run(query, tmp_path):
        write(query, tmp_path / f"x.{fmt}", lambda n: None, "test")

    return run


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_peaks_do_not_grow_with_the_rows(fmt, monkeypatch, tmp_path):
    small = _peak(_statistical(fmt, monkeypatch, 3), 3, monkeypatch, tmp_path)
    large = _peak(_statistical(fmt, monkeypatch, 48), 48, monkeypatch, tmp_path)
    assert large < small * 1.15 + 50_000  # sixteen times the rows


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_write_each_batch_before_taking_the_next(fmt, monkeypatch, tmp_path):
    """The rows of a batch are in the file before the next batch is asked for, and the
    batches given before are let go: Arrow holds about one batch at any time."""
    import pyarrow as pa

    rows, count = 5_000, 6
    schema = batches.arrow_schema(WIDE)
    values = next(_rows(CHUNK))[0]

    def batch() -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays(
            [
                pa.array([value] * rows, type=f.type)
                for value, f in zip(values, schema, strict=True)
            ],
            schema=schema,
        )

    size = batch().nbytes
    path = tmp_path / f"x.{fmt}"
    before = pa.total_allocated_bytes()
    sizes, held = [], []

    def given():
        for i in range(count):
            if i:
                sizes.append(path.stat().st_size)
                held.append(pa.total_allocated_bytes() - before)
            yield batch()

    monkeypatch.setattr(statistical, "count_rows", lambda query: rows * count)
    monkeypatch.setattr(statistical, "text_widths", lambda query: {"pseudonym": 17, "site": 17})
    write = statistical.write_sav if fmt == "sav" else statistical.write_dta
    assert (
        write(Query("wide", WIDE, "", []), path, lambda n: None, "x", batches=given()) == 6 * rows
    )
    assert all(later > earlier for earlier, later in itertools.pairwise(sizes))
    assert max(held) < 2 * size, (held, size)


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
