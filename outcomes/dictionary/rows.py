"""The dictionary as flat rows: one per table and variable, for the page and the CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from outcomes.dictionary.missing import MISSING_REASONS
from outcomes.dictionary.tables import all_tables
from outcomes.dictionary.variables import Kind, Level, Variable
from registry.models import Technique

HEADER = (
    "table",
    "variable",
    "label",
    "type",
    "unit",
    "precision",
    "codes",
    "spss_stata_codes",
    "derivation",
    "source",
    "levels",
)


def technique_codes() -> tuple[tuple[str, str], ...]:
    """The technique reference table (an administrator may add to it), in display order."""
    return tuple(Technique.objects.order_by("display_order", "code").values_list("code", "name"))


def resolve_codes(variable: Variable, techniques: tuple[tuple[str, str], ...]) -> Variable:
    if variable.codes_from == "technique":
        return variable.with_codes(techniques)
    return variable


def dictionary_rows(level: Level | None = None) -> list[dict[str, str]]:
    """Every variable of every table (of one level, when given), codes resolved."""
    techniques = technique_codes()
    rows = []
    for table_name, variables in all_tables().items():
        for variable in variables:
            if level is not None and level not in variable.levels:
                continue
            rows.append(_row(table_name, resolve_codes(variable, techniques)))
    return rows


def _row(table_name: str, v: Variable) -> dict[str, str]:
    numbers = v.numeric_codes if v.kind in (Kind.CODE, Kind.BOOLEAN) else {}
    return {
        "table": table_name,
        "variable": v.name,
        "label": v.label,
        "type": str(v.kind),
        "unit": v.unit,
        "precision": "" if v.precision is None else str(v.precision),
        "codes": "; ".join(f"{code}={label}" for code, label in v.codes),
        "spss_stata_codes": "; ".join(
            [
                *(f"{numbers[code]}={label}" for code, label in v.codes),
                *(
                    f"{r.spss} or .{r.stata}={r.label}"
                    for r in MISSING_REASONS
                    if v.per_visit and v.kind is not Kind.TEXT
                ),
            ]
        ),
        "derivation": v.derivation,
        "source": f"{v.model}.{v.field}" if v.field else "",
        "levels": ", ".join(sorted(str(level) for level in v.levels)),
    }


def dictionary_csv_lines(level: Level | None = None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    for row in dictionary_rows(level):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
