"""A printed table: rows of text cells plus the numbers behind them.

Cells are final text ("9.2 ± 0.7", "55 (73.3%)") so every renderer (HTML, CSV, Word export)
prints the same thing; ``p``, ``test`` and the counts stay numeric beside them for the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._results import ResultMixin


@dataclass
class TableRow(ResultMixin):
    """``variable``/``category`` are printed labels; ``variable_code``/``level`` the machine
    keys (a code of `outcomes.variables`, a category value); ``values`` the numbers behind
    each text cell (n, %, mean, SD, ...), keyed like ``cells``."""

    variable: str
    category: str
    cells: dict[str, str]
    variable_code: str | None = None
    level: Any = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    smd: float | None = None
    test_label: str | None = None
    normality: str | None = None
    stratum: str | None = None
    p: float | None = None
    test: str | None = None
    twin_p: float | None = None
    twin_test: str | None = None
    n: int | None = None
    n_missing: int | None = None
    note: str | None = None


@dataclass
class Table(ResultMixin):
    """``columns`` are the cell keys in display order; ``headers`` their printed titles."""

    title: str
    columns: list[str]
    headers: dict[str, str]
    rows: list[TableRow] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)

    def row(self, variable: str, category: str, *, stratum: str | None = None) -> TableRow:
        for item in self.rows:
            if (
                item.variable == variable
                and item.category == category
                and (stratum is None or item.stratum == stratum)
            ):
                return item
        raise KeyError((variable, stratum, category))

    def cell(self, variable: str, category: str, column: str, *, stratum: str | None = None) -> str:
        return self.row(variable, category, stratum=stratum).cells.get(column, "")

    def as_records(self) -> list[dict[str, Any]]:
        """One flat dict per row in display order (handy for CSV and templates)."""
        lead = ["Variable", *(["Stratification"] if self._has_strata() else []), "Category"]
        records = []
        previous: tuple[str | None, str | None] = (None, None)
        for item in self.rows:
            record = {"Variable": item.variable if item.variable != previous[0] else ""}
            if self._has_strata():
                same = (item.variable, item.stratum) == previous
                record["Stratification"] = "" if same else (item.stratum or "")
            record["Category"] = item.category
            record.update({self.headers[c]: item.cells.get(c, "") for c in self.columns})
            records.append({key: record[key] for key in [*lead, *self._titles()]})
            previous = (item.variable, item.stratum)
        return records

    def to_text(self) -> str:
        """Tab-separated, the layout of the seed's tables (variable printed once per block)."""
        lead = ["Variable", *(["Stratification"] if self._has_strata() else []), "Category"]
        lines = [self.title, "\t".join([*lead, *self._titles()])]
        lines += ["\t".join(record.values()) for record in self.as_records()]
        return "\n".join([*lines, *self.footnotes])

    def _titles(self) -> list[str]:
        return [self.headers[c] for c in self.columns]

    def _has_strata(self) -> bool:
        return any(item.stratum is not None for item in self.rows)
