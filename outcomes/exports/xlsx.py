"""XLSX of a table: the worksheet XML written by pyarrow.compute, one Arrow batch at a time.

Why not openpyxl's write-only workbook (the writer until issue 11): it makes a Python object
and an lxml element per cell, about 7 µs each, so the wide table at 100,000 patients (150k
rows x 89 columns) took 150 s. Here each column of a batch becomes its cells' XML in one
vectorised step (numbers cast to text, text XML-escaped), the cells of a row are joined
element-wise, and the batch's rows leave as one buffer into the worksheet's zip entry: no
Python object per value, a slice of a batch in memory. A second thread deflates the XML
while the next slice is made (zlib and pyarrow.compute release the GIL); the package stores
the finished .xlsx as it is (a zip already). The file says what openpyxl's said:
- one sheet per `max_rows` rows (`<table>`, `<table>_2`, ...), each with the header row;
- numbers as numbers (the shortest text that reads back as the same double, so a decimal
  keeps its recorded digits), booleans as the numbers 1 and 0;
- dates as Excel serial numbers with a `yyyy-mm-dd` format (openpyxl's serial, its
  1900-leap-year adjustment included);
- text as inline strings, XML-escaped. Two things are better than openpyxl: a text that
  starts with "=" stays text (openpyxl wrote it as a formula: formula injection), and a
  control character XML 1.0 cannot hold becomes U+FFFD instead of failing the export
  (openpyxl raised IllegalCharacterError);
- a NULL is a cell that is not written.
Cells carry their reference (`r="B2"`), as openpyxl's do: ECMA-376 makes it optional and
Excel and LibreOffice do without it, but some readers (EPPlus, ClosedXML) need it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr
from zipfile import ZIP_DEFLATED, ZipFile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.utils import get_column_letter

from outcomes.dictionary import Kind, Variable
from outcomes.exports import batches
from outcomes.exports.sql import Query

EXCEL_MAX_ROWS = 1_048_576  # per sheet, the header row included
COMPRESS_LEVEL = 1  # the XML is repetitive: level 1 is several times faster, a little larger
EXCEL_EPOCH = 25_569  # 1970-01-01 as an Excel serial (1900 date system)
DATE_STYLE = 1  # cellXfs index of the yyyy-mm-dd format in STYLES
SLICE_ROWS = 1000  # rows made into XML at a time: a wide slice is about 4 MB of XML

# XML 1.0 allows tab, newline and carriage return, and no other C0 control character.
_ILLEGAL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_NEEDS_ESCAPE = r"[&<>\r\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"

Progress = Callable[[int], None]
Cells = Callable[[pa.Array, pa.Array], pa.Array]  # (column, row numbers) -> cell XML or null

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLES = (
    f'{_DECLARATION}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def write_xlsx(query: Query, path: Path, progress: Progress, max_rows: int = EXCEL_MAX_ROWS) -> int:
    """The table's batches into sheets of at most `max_rows` rows, the header included.
    The XML is made here and deflated on the workbook's thread: at most `_PENDING` slices
    wait in between."""
    letters = [get_column_letter(i) for i in range(1, len(query.variables) + 1)]
    cells = [_cells(v, letter) for v, letter in zip(query.variables, letters, strict=True)]
    header = "".join(
        f'<c r="{letter}1" t="inlineStr"><is><t>{escape(v.name)}</t></is></c>'
        for v, letter in zip(query.variables, letters, strict=True)
    )
    count, on_sheet = 0, max_rows
    with _Workbook(path, query.table, header) as book:
        for batch in batches.record_batches(query):
            start = 0
            while start < batch.num_rows:
                if on_sheet >= max_rows:
                    book.submit(book.next_sheet)
                    on_sheet = 1
                take = min(batch.num_rows - start, max_rows - on_sheet, SLICE_ROWS)
                piece = batch.slice(start, take)
                book.submit(book.write, _rows(piece, cells, first=on_sheet + 1))
                on_sheet += piece.num_rows
                start += piece.num_rows
            count += batch.num_rows
            progress(count)
        if not book.sheets:
            book.submit(book.next_sheet)
    return count


_PENDING = 2


class _Workbook:
    """The .xlsx zip: sheets opened in turn, the fixed parts written at the end. Its
    `submit`ted calls run in order on one worker thread; an error there is raised here."""

    def __init__(self, path: Path, table: str, header: str):
        self.zip = ZipFile(path, "w", compression=ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        self.table, self.header = table, header
        self.sheets: list[str] = []
        self.sheet = None
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx")
        self.pending: deque[Future] = deque()

    def submit(self, call: Callable, *args) -> None:
        self.pending.append(self.worker.submit(call, *args))
        while len(self.pending) > _PENDING or (self.pending and self.pending[0].done()):
            self.pending.popleft().result()

    def next_sheet(self) -> None:
        self._end_sheet()
        self.sheets.append(
            self.table if not self.sheets else f"{self.table}_{len(self.sheets) + 1}"
        )
        self.sheet = self.zip.open(
            f"xl/worksheets/sheet{len(self.sheets)}.xml", "w", force_zip64=True
        )
        self.sheet.write(
            f'{_DECLARATION}<worksheet xmlns="{_MAIN}"><sheetData>'
            f'<row r="1">{self.header}</row>'.encode()
        )

    def write(self, rows: memoryview) -> None:
        self.sheet.write(rows)

    def _end_sheet(self) -> None:
        if self.sheet is not None:
            self.sheet.write(b"</sheetData></worksheet>")
            self.sheet.close()
            self.sheet = None

    def __enter__(self) -> _Workbook:
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        try:
            while self.pending:  # every call, in order; the first error is raised
                self.pending.popleft().result()
            if error_type is None:
                self._end_sheet()
                _write_parts(self.zip, self.sheets)
        finally:
            for future in self.pending:
                future.cancel()
            self.worker.shutdown(wait=True)
            if self.sheet is not None:
                self.sheet.close()
            self.zip.close()


def _rows(batch: pa.RecordBatch, cells: list[Cells], first: int) -> memoryview:
    """The batch's rows as one UTF-8 buffer of `<row>` elements, numbered from `first`."""
    numbers = pc.cast(pa.array(np.arange(first, first + batch.num_rows)), pa.string())
    row_cells = [make(column, numbers) for make, column in zip(cells, batch.columns, strict=True)]
    rows = pc.binary_join_element_wise(
        '<row r="', numbers, '">', *row_cells, "</row>", "", null_handling="skip"
    )
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    start, end = offsets[rows.offset], offsets[rows.offset + len(rows)]
    return memoryview(rows.buffers()[2])[start:end]


def _cells(v: Variable, letter: str) -> Cells:
    """How one column's values become cells (a NULL stays null: no cell is written)."""
    if v.kind in (Kind.TEXT, Kind.CODE):  # an inline string is text, never a formula
        to_text, middle = _xml_text, '" t="inlineStr"><is><t xml:space="preserve">'
        closing = "</t></is></c>"
    elif v.kind is Kind.DATE:
        to_text, middle, closing = _excel_serial, f'" s="{DATE_STYLE}"><v>', "</v></c>"
    else:  # integers, booleans (1 / 0) and decimals
        to_text, middle, closing = _number, '"><v>', "</v></c>"
    opening = f'<c r="{letter}'

    def make(column: pa.Array, numbers: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(
            opening, numbers, middle, to_text(column), closing, "", null_handling="emit_null"
        )

    return make


def _number(column: pa.Array) -> pa.Array:
    if pa.types.is_floating(column.type):  # NaN and infinities have no cell value in XLSX
        column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
    return pc.cast(column, pa.string())


def _excel_serial(column: pa.Array) -> pa.Array:
    """Days since 1899-12-30; Excel's day 60 is 29 Feb 1900, a day that never was, so the
    first two months of 1900 are one less (openpyxl's `to_excel`)."""
    days = pc.add(pc.cast(column, pa.int32()), EXCEL_EPOCH)
    early = pc.and_(pc.greater(days, 0), pc.less_equal(days, 60))
    return pc.cast(pc.if_else(early, pc.subtract(days, 1), days), pa.string())


def _xml_text(column: pa.Array) -> pa.Array:
    """XML-escaped text; a character XML 1.0 forbids becomes U+FFFD. Most columns (codes,
    pseudonyms) need nothing: one scan finds out."""
    if not pc.any(pc.match_substring_regex(column, _NEEDS_ESCAPE)).as_py():
        return column
    for plain, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        column = pc.replace_substring(column, plain, escaped)
    return pc.replace_substring_regex(column, _ILLEGAL, "\ufffd")


# ------------------------------------------------------------------ the fixed parts


def _write_parts(book: ZipFile, sheets: list[str]) -> None:
    numbered = list(enumerate(sheets, start=1))
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    office = "application/vnd.openxmlformats-officedocument"
    book.writestr(
        "[Content_Types].xml",
        f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" '
        f'ContentType="{office}.spreadsheetml.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{office}.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" '
        f'ContentType="{office}.extended-properties+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{sheet_type}"/>'
            for n, _ in numbered
        )
        + "</Types>",
    )
    book.writestr(
        "_rels/.rels",
        f'{_DECLARATION}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" '
        'Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>",
    )
    book.writestr(
        "xl/workbook.xml",
        f'{_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        + "".join(
            f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>' for n, name in numbered
        )
        + "</sheets></workbook>",
    )
    book.writestr(
        "xl/_rels/workbook.xml.rels",
        f'{_DECLARATION}<Relationships xmlns="{_PKG_REL}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n, _ in numbered
        )
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>",
    )
    book.writestr("xl/styles.xml", STYLES)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    book.writestr(
        "docProps/core.xml",
        f"{_DECLARATION}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>OVCF registry</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "</cp:coreProperties>",
    )
    book.writestr(
        "docProps/app.xml",
        f"{_DECLARATION}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>OVCF registry</Application></Properties>",
    )
