"""The model-derived part of the data dictionary: what a field of a registry model is called,
its unit, kind, codes and precision, read once from its verbose name, choices and decimal
places; and how a derived value is computed (the function in `registry.derived`).

The exports' dictionary (`outcomes.dictionary`), the statistics' labels (`outcomes.variables`)
and the REST API's field descriptions (`registry.api`) all read these, so a label renamed on
the model is renamed everywhere. It lives in `registry` because the API's serializers need it
and registry never imports outcomes.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models

_UNIT = re.compile(r"\s*\(([^)]*)\)\s*$")
BOOLEAN_CODES = (("1", "Yes"), ("0", "No"))


@dataclass(frozen=True)
class FieldDoc:
    model: str
    field: str
    label: str  # capitalised, without the unit
    unit: str
    kind: str  # text, integer, decimal, code, boolean, date (outcomes.dictionary.Kind)
    codes: tuple[tuple[str, str], ...] = ()  # (code, label) as exported
    choices: dict[Any, str] = field(default_factory=dict)  # the model's own keys
    precision: int | None = None
    free_text: bool = False

    def description(self) -> str:
        """One line for API docs: 'VAS back pain (0-10), 1 decimal.'"""
        text = f"{self.label} ({self.unit})" if self.unit else self.label
        if self.precision:
            text += f", {self.precision} decimal{'s' if self.precision > 1 else ''}"
        if self.kind == "code" and self.codes:
            text += ": " + ", ".join(f"{code} = {label}" for code, label in self.codes)
        return text + "."


def split_unit(verbose_name: str) -> tuple[str, str]:
    """'height (cm)' -> ('Height', 'cm'); a label without a trailing bracket has no unit."""
    match = _UNIT.search(verbose_name)
    label = verbose_name[: match.start()] if match else verbose_name
    unit = match.group(1) if match else ""
    return label[:1].upper() + label[1:], unit


def model_field(model: str | type[models.Model], name: str) -> models.Field:
    model_class = apps.get_model("registry", model) if isinstance(model, str) else model
    return model_class._meta.get_field(name)


@cache  # models do not change in a running process; API serializers ask on every request
def field_doc(model: str | type[models.Model], name: str) -> FieldDoc:
    f = model_field(model, name)
    label, unit = split_unit(str(f.verbose_name))
    codes: tuple[tuple[str, str], ...] = ()
    precision = None
    if isinstance(f, models.BooleanField):
        kind, codes = "boolean", BOOLEAN_CODES
    elif f.choices:
        kind = "code"
        codes = tuple((str(code), str(text)) for code, text in f.flatchoices)
    elif isinstance(f, models.DecimalField):
        kind, precision = "decimal", f.decimal_places
    elif isinstance(f, (models.IntegerField, models.SmallIntegerField)):
        kind, precision = "integer", 0
    elif isinstance(f, models.DateField):
        kind = "date"
    else:
        kind = "text"
    return FieldDoc(
        model=f.model.__name__,
        field=name,
        label=label,
        unit=unit,
        kind=kind,
        codes=codes,
        choices={code: str(text) for code, text in f.flatchoices} if f.choices else {},
        precision=precision,
        free_text=isinstance(f, models.TextField),
    )


def derivation_of(function: Callable, formula: str = "") -> str:
    """How a derived value is computed: the first line of its function's docstring (the
    function in registry.derived is the definition), plus the formula when the docstring
    does not state it."""
    doc = (inspect.getdoc(function) or "").splitlines()
    first = doc[0] if doc else function.__name__
    reference = f"registry.derived.{function.__name__}"
    return " ".join(part for part in (first, formula, f"({reference})") if part)


@dataclass(frozen=True)
class DerivedDoc:
    """A value the server derives (never typed): its label, unit, precision and definition."""

    label: str
    unit: str
    precision: int
    derivation: str

    def description(self) -> str:
        return f"{self.label} ({self.unit}), derived: {self.derivation}."


def derived_docs() -> dict[str, DerivedDoc]:
    from registry import derived

    return {
        "bmi": DerivedDoc(
            "Body-mass index",
            "kg/m²",
            1,
            derivation_of(derived.bmi, "weight (kg) / height (m)², one decimal"),
        ),
    }
