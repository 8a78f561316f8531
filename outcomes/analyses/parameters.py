"""Parameters of an analysis: declared once, validated, canonicalised and hashed.

The canonical form (defaults filled in, lists sorted in their declared order) is what a
run stores and what result reuse compares, so {"outcomes": ["vas", "odi"]} and
{"outcomes": ["odi", "vas"]} are the same request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone


@dataclass(frozen=True)
class Choice:
    label: str
    choices: tuple[str, ...]
    default: str
    names: Mapping[str, str] | None = None  # how a form shows each choice

    def clean(self, value: Any) -> str:
        if value in (None, ""):
            return self.default
        if value not in self.choices:
            raise ValueError(f"choose one of {', '.join(self.choices)}")
        return str(value)


@dataclass(frozen=True)
class MultiChoice:
    """Absent (None) means the default; an empty list means none, if `minimum` allows."""

    label: str
    choices: tuple[str, ...]
    default: tuple[str, ...]
    minimum: int = 1
    names: Mapping[str, str] | None = None

    def clean(self, value: Any) -> list[str]:
        if value is None or value == "":
            return list(self.default)
        if isinstance(value, str):
            value = [value]
        unknown = sorted(set(value) - set(self.choices))
        if unknown:
            raise ValueError(
                f"unknown: {', '.join(unknown)}; choose from {', '.join(self.choices)}"
            )
        chosen = [choice for choice in self.choices if choice in set(value)]
        if len(chosen) < self.minimum:
            raise ValueError(f"choose at least {self.minimum}")
        return chosen


@dataclass(frozen=True)
class Integer:
    label: str
    default: int
    minimum: int
    maximum: int

    def clean(self, value: Any) -> int:
        if value in (None, ""):
            return self.default
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("give a whole number")
        number = int(value)
        if not self.minimum <= number <= self.maximum:
            raise ValueError(f"give a number from {self.minimum} to {self.maximum}")
        return number


@dataclass(frozen=True)
class Date:
    """An ISO date; absent means today (in the registry's time zone), fixed at request time
    and stored with the run, so the run's result says which day it describes."""

    label: str

    @property
    def default(self) -> str:
        return timezone.localdate().isoformat()

    def clean(self, value: Any) -> str:
        if value in (None, ""):
            return self.default
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("give a date as YYYY-MM-DD") from None


Parameter = Choice | MultiChoice | Integer | Date


def normalise(spec: Mapping[str, Parameter], raw: Mapping[str, Any] | None) -> dict[str, Any]:
    raw = dict(raw or {})
    errors = {}
    unknown = sorted(set(raw) - set(spec))
    if unknown:
        errors["parameters"] = f"Unknown parameter(s): {', '.join(unknown)}."
    cleaned = {}
    for name, parameter in spec.items():
        try:
            cleaned[name] = parameter.clean(raw.get(name))
        except (TypeError, ValueError) as error:
            errors[name] = f"{parameter.label}: {error}."
    if errors:
        raise ValidationError(errors)
    return cleaned


def parameters_hash(parameters: Mapping[str, Any]) -> str:
    canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
