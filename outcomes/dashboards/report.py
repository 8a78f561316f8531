"""Table 1 and Table 2 laid out as a manuscript prints them (seed 002's Tables I and II),
as HTML, DOCX (python-docx), XLSX (openpyxl) and CSV: the same cells in every format.

The layout: a numbered title above; columns Variable, [Stratification,] Category, the
groups (mean ± SD / n (%)), the P-value (and SMD when the result has it); a variable
printed once per block; the test of each row named in a footnote by a letter after its
P-value, and "*" marking p <= 0.05 as the seed does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from outcomes.dashboards.results import test_label

SIGNIFICANT = 0.05
MARKS = "abcdefghijklmnopqrstuvwxyz"
_DROPPED = {"Test"}  # the test moves from a column to a footnote


@dataclass
class PublicationTable:
    number: str  # "I", "II", ...
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)

    @property
    def caption(self) -> str:
        return f"Table {self.number}. {self.title}"


def _roman(number: int) -> str:
    numerals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, letter in numerals:
        while number >= value:
            out += letter
            number -= value
    return out


def suppression_note(suppression: Mapping[str, Any]) -> str:
    k = int(suppression["k"])
    return (
        f"Small cells suppressed (the registry's rule for publication tables): counts of 1 "
        f"to {k - 1} are shown as {suppression.get('text') or f'<{k}'}, and so is a second "
        "cell of the same row or column where a total would give one back; their "
        "percentages, summaries and tests are withheld too."
    )


def publication_table(
    table: Mapping[str, Any], number: int, suppression: Mapping[str, Any] | None = None
) -> PublicationTable:
    """From a stored `outcomes.statistics.Table` dict; `suppression` is the stamp of the
    suppressed result it comes from (`outcomes.suppression.suppress`), said in a footnote."""
    rows = table["rows"]
    strata = any(row.get("stratum") is not None for row in rows)
    columns = [c for c in table["columns"] if c not in _DROPPED]
    p_column = next((c for c in columns if c.lower().startswith("p")), None)
    lead = ["Variable", *(["Stratification"] if strata else []), "Category"]
    title = (
        table["title"].split(". ", 1)[-1] if table["title"].startswith("Table") else table["title"]
    )
    out = PublicationTable(_roman(number), title, [*lead, *(table["headers"][c] for c in columns)])
    marks: dict[str, str] = {}
    previous: tuple[Any, Any] = (None, None)
    significant = False
    for row in rows:
        cells = [row["variable"] if row["variable"] != previous[0] else ""]
        if strata:
            same = (row["variable"], row.get("stratum")) == previous
            cells.append("" if same else (row.get("stratum") or ""))
        cells.append(row["category"])
        for column in columns:
            text = str(row["cells"].get(column, ""))
            if column == p_column and text:
                if row.get("test"):
                    name = test_label(row["test"])
                    marks.setdefault(name, MARKS[len(marks) % len(MARKS)])
                    text += marks[name]
                if row.get("p") is not None and row["p"] <= SIGNIFICANT:
                    text += "*"
                    significant = True
            cells.append(text)
        out.rows.append(cells)
        previous = (row["variable"], row.get("stratum"))
    out.footnotes = [f"{mark} {name}." for name, mark in marks.items()]
    if significant:
        out.footnotes.append(f"* Statistically significant (p ≤ {SIGNIFICANT}).")
    out.footnotes += [note for note in table.get("footnotes", []) if note]
    out.footnotes += [f"{row['variable']}: {row['note']}" for row in rows if row.get("note")]
    if suppression is not None:
        out.footnotes.append(suppression_note(suppression))
    return out


# ---------------------------------------------------------------- file formats


def to_docx(tables: list[PublicationTable], *, heading: str) -> bytes:
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.add_heading(heading, level=1)
    for table in tables:
        caption = document.add_paragraph()
        caption.add_run(table.caption).bold = True
        grid = document.add_table(rows=1 + len(table.rows), cols=len(table.headers))
        grid.style = "Table Grid"
        for index, header in enumerate(table.headers):
            cell = grid.rows[0].cells[index]
            cell.text = ""
            cell.paragraphs[0].add_run(header).bold = True
        for r, row in enumerate(table.rows, start=1):
            for c, text in enumerate(row):
                grid.rows[r].cells[c].text = text
        for note in table.footnotes:
            paragraph = document.add_paragraph()
            run = paragraph.add_run(note)
            run.font.size = Pt(8)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def to_xlsx(tables: list[PublicationTable], *, heading: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(f"Table {table.number}"[:31])
        sheet.append([table.caption])
        sheet["A1"].font = Font(bold=True)
        sheet.append(table.headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
        for note in table.footnotes:
            sheet.append([note])
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column[1:]) if len(column) > 1 else 10
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 40)
    workbook.properties.title = heading
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(tables: list[PublicationTable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for table in tables:
        writer.writerow([table.caption])
        writer.writerow(table.headers)
        writer.writerows(table.rows)
        for note in table.footnotes:
            writer.writerow([note])
        writer.writerow([])
    return buffer.getvalue()


def chart_csv(headers: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue()
