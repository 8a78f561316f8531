"""The XLSX writer (outcomes.exports.xlsx): every kind of value reads back equal in openpyxl
and pandas, text is never a formula, the XML is well-formed whatever the text holds, an empty
table is its header, and sheets split at `max_rows`; an export's XLSX equals its CSV."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from xml.etree import ElementTree

import pandas as pd
import pytest
from openpyxl import load_workbook

from outcomes.dictionary import Kind, Variable, table
from outcomes.dictionary.rows import resolve_codes, technique_codes
from outcomes.exports import batches, xlsx
from outcomes.exports.sql import Query
from tests.outcomes.exports.conftest import package, read_table

VARIABLES = (
    Variable("n", "Count", Kind.INTEGER),
    Variable("yes", "A boolean", Kind.BOOLEAN),
    Variable("x", "A decimal", Kind.DECIMAL, precision=2),
    Variable("on", "A date", Kind.DATE),
    Variable("code", "A code", Kind.CODE),
    Variable("note", "A text", Kind.TEXT),
)
TRICKY = [
    "a <b> & \"c\" 'd'",
    "Zoë, Łódź, 東京, ☃",
    '=HYPERLINK("http://x")',
    "=1+1",
    "  padded  ",
    "tab\tnew\nline",
    "_x0041_ stays",
    "]]> too",
]
ROWS = [
    (3, 1, 12.35, date(2023, 6, 1), "in_window", TRICKY[0]),
    (-7, 0, 0.1, date(1900, 1, 15), "missing", TRICKY[1]),
    (0, None, 1234567.89, date(1900, 3, 1), None, TRICKY[2]),
    (None, 1, -0.05, date(1999, 12, 31), "x&y", TRICKY[3]),
    (None, None, None, None, None, None),  # a row of NULLs (pandas drops one at the end)
    (2**40, 0, None, None, "not_due", TRICKY[4]),
    (1, 1, 100.0, date(2024, 2, 29), "<code>", TRICKY[5]),
    (2, 0, 9.2, date(2000, 1, 1), "a", TRICKY[6]),
    (None, None, None, None, None, TRICKY[7]),
]


def _write(monkeypatch, tmp_path, rows, variables=VARIABLES, chunk=4, **kwargs):
    chunks = [rows[i : i + chunk] for i in range(0, len(rows), chunk)]
    monkeypatch.setattr(batches, "fetch_chunks", lambda query: iter(chunks))
    monkeypatch.setattr(batches, "copy_available", lambda: False)
    path = tmp_path / "t.xlsx"
    count = xlsx.write_xlsx(Query("t", variables, "", []), path, lambda n: None, **kwargs)
    assert count == len(rows)
    return path


def _parse(xml: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(xml)  # noqa: S314 - the file this test just wrote


def _padded(rows) -> list[tuple]:
    """openpyxl's read-only rows end at their last cell (a NULL is no cell, as before)."""
    return [row + (None,) * (len(VARIABLES) - len(row)) for row in rows]


def _expected(value):
    return datetime.combine(value, datetime.min.time()) if isinstance(value, date) else value


def test_every_value_reads_back_equal_in_openpyxl(monkeypatch, tmp_path):
    path = _write(monkeypatch, tmp_path, ROWS)
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["t"]
    header, *rows = list(book["t"].iter_rows(values_only=True))
    assert header == tuple(v.name for v in VARIABLES)
    assert _padded(rows) == [tuple(_expected(value) for value in row) for row in ROWS]
    # Numbers are numbers (exactly the recorded decimals), booleans 1 / 0, dates real dates.
    assert type(rows[0][0]) is int and type(rows[0][2]) is float and rows[0][2] == 12.35
    assert rows[5][0] == 2**40


def test_pandas_reads_the_same_values(monkeypatch, tmp_path):
    frame = pd.read_excel(_write(monkeypatch, tmp_path, ROWS), engine="openpyxl")
    assert list(frame.columns) == [v.name for v in VARIABLES]
    assert frame["x"].tolist()[:3] == [12.35, 0.1, 1234567.89]
    assert frame["on"].iloc[0] == pd.Timestamp("2023-06-01")
    assert frame["on"].iloc[1] == pd.Timestamp("1900-01-15")  # before Excel's 29 Feb 1900
    assert frame["note"].dropna().tolist() == TRICKY
    assert len(frame) == len(ROWS) and frame.iloc[4].isna().all()


def test_dates_carry_a_date_format(monkeypatch, tmp_path):
    book = load_workbook(_write(monkeypatch, tmp_path, ROWS))  # the full reader: styles
    cell = book["t"]["D2"]
    assert cell.is_date and cell.number_format == "yyyy-mm-dd"
    assert book["t"]["C2"].number_format == "General"


def test_text_is_never_a_formula(monkeypatch, tmp_path):
    path = _write(monkeypatch, tmp_path, ROWS)
    sheet = load_workbook(path)["t"]
    texts = [sheet.cell(n, 6) for n, row in enumerate(ROWS, start=2) if row[5] is not None]
    assert [cell.value for cell in texts] == TRICKY
    assert {cell.data_type for cell in texts} == {"s"}
    assert sheet["F5"].value == "=1+1"
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml
    assert b'<c r="F5" t="inlineStr"><is><t xml:space="preserve">=1+1</t></is></c>' in xml


def test_characters_xml_cannot_hold_become_the_replacement_character(monkeypatch, tmp_path):
    """openpyxl refused the whole export (IllegalCharacterError); a carriage return is kept."""
    rows = [(1, 1, 1.0, None, "a\x01b", "bell\x07, vt\x0b, nul\x00, cr\r, \ufffe end")]
    path = _write(monkeypatch, tmp_path, rows)
    _parse(zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml"))  # well-formed
    row = list(load_workbook(path, read_only=True)["t"].iter_rows(values_only=True))[1]
    assert row[4:] == ("a\ufffdb", "bell\ufffd, vt\ufffd, nul\ufffd, cr\r, \ufffd end")


def test_every_part_is_well_formed_and_declared(monkeypatch, tmp_path):
    archive = zipfile.ZipFile(_write(monkeypatch, tmp_path, ROWS, max_rows=4))
    for name in archive.namelist():
        _parse(archive.read(name))
    types = archive.read("[Content_Types].xml").decode()
    sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert len(sheets) == 3
    assert all(f'PartName="/{name}"' in types for name in sheets)


def test_an_empty_table_is_its_header(monkeypatch, tmp_path):
    book = load_workbook(_write(monkeypatch, tmp_path, []), read_only=True)
    assert book.sheetnames == ["t"]
    assert list(book["t"].iter_rows(values_only=True)) == [tuple(v.name for v in VARIABLES)]
    frame = pd.read_excel(tmp_path / "t.xlsx", engine="openpyxl")
    assert list(frame.columns) == [v.name for v in VARIABLES] and frame.empty


@pytest.mark.parametrize(("max_rows", "sizes"), [(4, [4, 4, 4]), (5, [5, 5, 2]), (10, [10])])
def test_sheets_split_at_max_rows_across_batches(monkeypatch, tmp_path, max_rows, sizes):
    """9 rows in chunks of 4: sheets of max_rows rows, header included; a sheet that would
    hold only its header is never made."""
    book = load_workbook(_write(monkeypatch, tmp_path, ROWS, max_rows=max_rows), read_only=True)
    assert book.sheetnames == ["t", "t_2", "t_3"][: len(sizes)]
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in book]
    assert [len(rows) for rows in sheets] == sizes
    assert all(rows[0] == tuple(v.name for v in VARIABLES) for rows in sheets)
    assert _padded(row for rows in sheets for row in rows[1:]) == [
        tuple(_expected(value) for value in row) for row in ROWS
    ]


def test_rows_number_from_two_on_every_sheet(monkeypatch, tmp_path):
    archive = zipfile.ZipFile(_write(monkeypatch, tmp_path, ROWS, max_rows=5))
    second = _parse(archive.read("xl/worksheets/sheet2.xml"))
    rows = second.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}row")
    assert [row.get("r") for row in rows] == ["1", "2", "3", "4", "5"]


# ------------------------------------------------------------------ from the database


def test_a_dated_export_holds_the_csv_values_and_dates(coordinator, cohort_cases, export):
    """Shifted dates are real Excel dates; every other value equals the CSV export's."""
    reference = export(coordinator, format="csv", level="shifted")
    made = export(coordinator, format="xlsx", level="shifted")
    assert package(made).getinfo("wide.xlsx").compress_type == zipfile.ZIP_STORED
    techniques = technique_codes()
    for name in ("wide", "long", "patients", "procedures", "adverse_events"):
        variables = [resolve_codes(v, techniques) for v in table(name, made.level)]
        csv_frame, _ = read_table(reference, name)
        frame, _ = read_table(made, name)
        assert list(frame.columns) == [v.name for v in variables]
        assert len(frame) == len(csv_frame) > 0
        dates = [v.name for v in variables if v.kind is Kind.DATE]
        assert dates or name != "wide"
        for column in dates:
            assert pd.api.types.is_datetime64_any_dtype(frame[column]), (name, column)
        # Shifts and pseudonyms are drawn per export: the other values are the CSV's, and
        # each date lies as many days from the procedure as in the CSV.
        kept = [v.name for v in variables if v.kind is not Kind.DATE and v.name != "pseudonym"]
        left = csv_frame.sort_values(kept, ignore_index=True)
        right = frame.sort_values(kept, ignore_index=True)
        pd.testing.assert_frame_equal(left[kept], right[kept], check_dtype=False)
        if "procedure_date" in dates:
            for column in dates:
                days = pd.to_datetime(left[column]) - pd.to_datetime(left["procedure_date"])
                pd.testing.assert_series_equal(
                    days, right[column] - right["procedure_date"], check_names=False
                )


def test_an_error_while_reading_reaches_the_caller(monkeypatch, tmp_path):
    """The deflating thread stops with the export: the error is the reader's, not a hang."""

    def failing(query):
        yield ROWS[:4]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(batches, "fetch_chunks", failing)
    monkeypatch.setattr(batches, "copy_available", lambda: False)
    query = Query("t", VARIABLES, "", [])
    with pytest.raises(RuntimeError, match="went away"):
        xlsx.write_xlsx(query, tmp_path / "t.xlsx", lambda n: None)
