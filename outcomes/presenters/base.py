"""What a presenter returns: sections of text tables, printed by one template.

Numbers are formatted by `outcomes.statistics` (mean ± SD, p-values) as in the exports;
tests, timepoints, units and categories are printed in words (`outcomes.variables`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from outcomes.statistics import format_number
from outcomes.variables import UNIT_LABELS, test_label, timepoint_label

WITHHELD = "<5"  # replaced by the suppression's own text when a result says so


@dataclass
class DisplayTable:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    tables: list[DisplayTable] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def ci_text(low: Any, high: Any, decimals: int) -> str:
    if low is None or high is None:
        return ""
    return f"{format_number(low, decimals)} to {format_number(high, decimals)}"


def test_name(result: Mapping[str, Any] | None) -> str:
    """The test in words, '' where none ran."""
    return test_label((result or {}).get("test"))


test_name.__test__ = False  # not a pytest test


def count(value: Any, withheld: bool = False) -> str:
    """A count as printed: '<5' when suppression withheld it."""
    if withheld or value is None:
        return WITHHELD if withheld else ""
    return str(value)


def notes(items: Iterable[tuple[str, str | None]]) -> list[str]:
    return [f"{where}: {note}" for where, note in items if note]


__all__ = [
    "UNIT_LABELS",
    "WITHHELD",
    "DisplayTable",
    "Section",
    "ci_text",
    "count",
    "notes",
    "test_name",
    "timepoint_label",
]
