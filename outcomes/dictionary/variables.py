"""What one exported variable is, and how it is read off a model field.

A `Variable` is generated, never typed twice: its label, unit, allowed codes and precision
come from the model field (verbose name, choices, decimal places); a derived value names the
function in `registry.derived` that defines it. Exports, the dictionary page and CSV, and the
API docs all read these objects.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from django.apps import apps
from django.db import models


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


BOOLEAN_CODES = (("1", "Yes"), ("0", "No"))
_UNIT = re.compile(r"\s*\(([^)]*)\)\s*$")


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


def split_unit(verbose_name: str) -> tuple[str, str]:
    """'height (cm)' -> ('Height', 'cm'); a label without a trailing bracket has no unit."""
    match = _UNIT.search(verbose_name)
    label = verbose_name[: match.start()] if match else verbose_name
    unit = match.group(1) if match else ""
    return label[:1].upper() + label[1:], unit


def model_field(model: str, name: str) -> models.Field:
    return apps.get_model("registry", model)._meta.get_field(name)


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
    f = model_field(model, name)
    if isinstance(f, models.TextField):
        raise ValueError(f"{model}.{name} is free text: it is never exported")
    label, unit = split_unit(str(f.verbose_name))
    codes: tuple[tuple[str, str], ...] = ()
    precision = None
    if isinstance(f, models.BooleanField):
        kind, codes = Kind.BOOLEAN, BOOLEAN_CODES
    elif f.choices:
        kind = Kind.CODE
        codes = tuple((str(code), str(text)) for code, text in f.flatchoices)
    elif isinstance(f, models.DecimalField):
        kind, precision = Kind.DECIMAL, f.decimal_places
    elif isinstance(f, (models.IntegerField, models.SmallIntegerField)):
        kind, precision = Kind.INTEGER, 0
    elif isinstance(f, models.DateField):
        kind = Kind.DATE
    else:
        kind = Kind.TEXT
    return Variable(
        name=as_name or name,
        label=label + label_suffix,
        kind=kind,
        model=model,
        field=name,
        timepoint=timepoint,
        unit=unit,
        precision=precision,
        codes=codes,
        levels=levels,
    )


def derivation_of(function: Callable, formula: str = "") -> str:
    """How a derived value is computed: the first line of its function's docstring (the
    function in registry.derived is the definition), plus the formula when the docstring
    does not state it."""
    doc = (inspect.getdoc(function) or "").splitlines()
    first = doc[0] if doc else function.__name__
    reference = f"registry.derived.{function.__name__}"
    return " ".join(part for part in (first, formula, f"({reference})") if part)
