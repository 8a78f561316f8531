"""What every registry form shares.

- The browser enforces the same ranges as the server: min/max come from the model field's
  validators, step from its decimal places, max=today from `not_in_future`; the model's
  `full_clean` (run by the form and again by the service) stays the authority.
- Dates use the native date picker (ISO values).
- An edit form carries the record's `version` in a hidden field (optimistic concurrency).
- Forms never save: views hand `model_data()` / `changed_model_data()` to a service.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from registry.models.patients import not_in_future

# Field-name endings and the unit shown after the input.
UNITS: tuple[tuple[str, str], ...] = (
    ("_cm", "cm"),
    ("_kg", "kg"),
    ("_mm", "mm"),
    ("_ml", "ml"),
    ("_min", "min"),
    ("_hours", "h"),
    ("_days", "days"),
    ("_degrees", "°"),
    ("_percent", "%"),
)


def unit_for(name: str) -> str:
    for ending, unit in UNITS:
        if name.endswith(ending):
            return unit
    return ""


def _number(value: Any) -> str:
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def browser_constraints(field: forms.Field, model_field: models.Field | None) -> None:
    """Copy the model's range validators onto the widget as HTML attributes."""
    attrs = field.widget.attrs
    if model_field is not None:
        for validator in model_field.validators:
            if isinstance(validator, MinValueValidator):
                current = attrs.get("min")
                limit = validator.limit_value
                if current is None or Decimal(str(limit)) > Decimal(str(current)):
                    attrs["min"] = _number(limit)
            elif isinstance(validator, MaxValueValidator):
                attrs["max"] = _number(validator.limit_value)
    if isinstance(field, forms.DecimalField):
        attrs["inputmode"] = "decimal"
    elif isinstance(field, forms.IntegerField) and not isinstance(field.widget, forms.HiddenInput):
        attrs["inputmode"] = "numeric"


def registry_formfield(model_field: models.Field, **kwargs: Any) -> forms.Field | None:
    """ModelForm `formfield_callback`: native date inputs and browser-side ranges."""
    if isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    field = model_field.formfield(**kwargs)
    if field is not None:
        browser_constraints(field, model_field)
    return field


def copy_formfield(model: type[models.Model], name: str, **kwargs: Any) -> forms.Field:
    """A form-only field that measures the same thing as a model field (same range, label)."""
    field = registry_formfield(model._meta.get_field(name), **kwargs)
    if field is None:
        raise ValueError(f"{model.__name__}.{name} has no form field")
    return field


class RegistryModelForm(forms.ModelForm):
    """Base of every clinical form; an edit form (bound to a saved record) gets `version`."""

    # Fields not to hand to the service (form-only helpers).
    extra_fields: tuple[str, ...] = ()

    class Meta:
        formfield_callback = registry_formfield

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        today = timezone.localdate().isoformat()
        for name, field in self.fields.items():
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if not_in_future in model_field.validators:
                field.widget.attrs["max"] = today
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.empty_label = "Choose…" if field.required else "—"
                continue
            choices = getattr(field, "choices", None)
            if choices and not isinstance(field.widget, forms.RadioSelect):
                choices = list(choices)
                if choices and choices[0][0] == "" and choices[0][1] == "---------":
                    field.choices = [("", "Choose…" if field.required else "—"), *choices[1:]]
        if self.instance.pk:
            self.fields["version"] = forms.IntegerField(
                widget=forms.HiddenInput, initial=self.instance.version, min_value=1
            )
        # Set when a conflicting save was rebased: field name -> what the other person saved.
        self.notes: dict[str, str] = {}

    def _model_field_names(self) -> list[str]:
        return [
            name
            for name in self.fields
            if name != "version" and name not in self.extra_fields and self._is_model_field(name)
        ]

    def _is_model_field(self, name: str) -> bool:
        try:
            self._meta.model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        return True

    def model_data(self) -> dict[str, Any]:
        """Cleaned values of the model's fields, for a create service."""
        return {name: self.cleaned_data[name] for name in self._model_field_names()}

    def changed_model_data(self) -> dict[str, Any]:
        """Only what the user changed against the record as it is now, for an edit."""
        fields = set(self._model_field_names())
        return {name: self.cleaned_data[name] for name in self.changed_data if name in fields}

    @property
    def expected_version(self) -> int:
        return self.cleaned_data["version"]
