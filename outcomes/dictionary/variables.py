"""What one exported variable is, and how it is read off a model field.

A `Variable` is generated, never typed twice: its label, unit, allowed codes and precision
come from the model field (verbose name, choices, decimal places) as `registry.dictionary`
reads it; a derived value names the function in `registry.derived` that defines it.
Exports, the dictionary page and CSV, and the statistics' labels read these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from registry import dictionary as registry_dictionary


class Level(StrEnum):
    """De-identification level of an export (DOMAIN.md "De-identification")."""

    DEIDENTIFIED = "deidentified"  # days relative to the index procedure, its year kept
    SHIFTED = "shifted"  # + calendar dates shifted per patient by 0-364 days
    IDENTIFIED = "identified"  # + identifiers and true dates (site administrators only)


ALL_LEVELS = frozenset(Level)
DATED_LEVELS = frozenset({Level.SHIFTED, Level.IDENTIFIED})
IDENTIFIED_ONLY = frozenset({Level.IDENTIFIED})


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    CODE = "code"  # text codes with labels; numbered 1..k in SPSS / Stata
    BOOLEAN = "boolean"  # 1 = yes, 0 = no
    DATE = "date"


BOOLEAN_CODES = registry_dictionary.BOOLEAN_CODES


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: Kind
    model: str = ""  # registry model the value is read from ("" for computed-only values)
    field: str = ""  # its field, or "" when computed
    timepoint: str = ""  # wide layout: the visit timepoint this column holds
    unit: str = ""
    precision: int | None = None
    codes: tuple[tuple[str, str], ...] = ()
    derivation: str = ""
    compute: str = ""  # key of the SQL expression of a computed value (outcomes.exports.sql)
    levels: frozenset[Level] = ALL_LEVELS
    codes_from: str = ""  # codes read from a reference table at export time ("technique")
    per_visit: bool = False  # a follow-up visit's value: empty for a reason (its status)

    @property
    def numeric_codes(self) -> dict[str, int]:
        """The code -> number map SPSS and Stata value labels use (1..k in choice order;
        booleans keep 1/0)."""
        if self.kind is Kind.BOOLEAN:
            return {"1": 1, "0": 0}
        return {code: number for number, (code, _) in enumerate(self.codes, start=1)}

    def with_codes(self, codes: tuple[tuple[str, str], ...]) -> Variable:
        return replace(self, codes=codes)


# The model-derived part is read on the registry side (the API docs read it too).
split_unit = registry_dictionary.split_unit
model_field = registry_dictionary.model_field
derivation_of = registry_dictionary.derivation_of


def from_field(
    model: str,
    name: str,
    *,
    as_name: str | None = None,
    timepoint: str = "",
    label_suffix: str = "",
    levels: frozenset[Level] = ALL_LEVELS,
) -> Variable:
    """The variable of a model field: label and unit from its verbose name, codes from its
    choices, precision from its decimal places."""
    doc = registry_dictionary.field_doc(model, name)
    if doc.free_text:
        raise ValueError(f"{model}.{name} is free text: it is never exported")
    return Variable(
        name=as_name or name,
        label=doc.label + label_suffix,
        kind=Kind(doc.kind),
        model=model,
        field=name,
        timepoint=timepoint,
        unit=doc.unit,
        precision=doc.precision,
        codes=doc.codes,
        levels=levels,
    )
