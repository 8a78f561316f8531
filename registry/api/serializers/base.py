"""What every record serializer shares: version/timestamps read-only, no serializer-level
uniqueness checks (the services validate), related ids limited to what the user may see,
and the identifying fields withheld from de-identified tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from registry.api.permissions import is_deidentified
from registry.api.schema import WITHHELD_FROM_DEIDENTIFIED
from registry.dictionary import field_doc
from registry.models import FollowUpVisit, Fracture, Patient, Procedure, TreatedLevel
from registry.selectors import patients_visible_to

RECORD_FIELDS = ("id", "version", "created_at", "updated_at")


def visible_patients(user) -> QuerySet[Patient]:
    return patients_visible_to(user=user)


def _under_visible(model, path: str) -> Callable:
    def queryset(user) -> QuerySet:
        return model.objects.filter(**{f"{path}__in": patients_visible_to(user=user).values("pk")})

    return queryset


# Related records a client may name in a write: only those of patients it may see, so an
# id of another site's record is "does not exist", exactly as if it did not.
SCOPED_RELATIONS: dict[str, Callable] = {
    "patient": visible_patients,
    "procedure": _under_visible(Procedure, "patient_id"),
    "fracture": _under_visible(Fracture, "patient_id"),
    "treated_level": _under_visible(TreatedLevel, "procedure__patient_id"),
    "visit": _under_visible(FollowUpVisit, "procedure__patient_id"),
}


# Fields whose value is one attribute of the row: read directly (see `_plan`).
_PLAIN_FIELDS = (
    serializers.BooleanField,
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.DecimalField,
    serializers.FloatField,
    serializers.IntegerField,
    serializers.ReadOnlyField,
)


def describe_from_dictionary(model, fields: dict) -> None:
    """A model-backed field without a help text of its own is documented (OpenAPI) by the
    data dictionary: its label, unit, precision and codes (`registry.dictionary`)."""
    for name, field in fields.items():
        source = field.source or name  # (a field's source is set when it is bound)
        if field.help_text or source == "*" or "." in source:
            continue
        try:
            field.help_text = field_doc(model, source).description()
        except FieldDoesNotExist:
            continue


class RecordSerializer(serializers.ModelSerializer):
    """A record's shape. Rows are represented by a plan made once per serializer (a list
    page's child serializes 100 rows): plain attributes and primary keys of relations are
    read directly, every other field the DRF way; each value goes through its field's
    `to_representation`, so the output is DRF's, for less Python per row (issue 9 Speed)."""

    def get_fields(self):
        fields = super().get_fields()
        describe_from_dictionary(self.Meta.model, fields)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        for name, field in fields.items():
            scoped = name in SCOPED_RELATIONS and not field.read_only
            if scoped and isinstance(field, serializers.PrimaryKeyRelatedField):
                field.queryset = (
                    SCOPED_RELATIONS[name](user) if user is not None else field.queryset.none()
                )
        return fields

    def get_validators(self):
        return []  # uniqueness and cross-field rules: the services' full_clean decides

    def _plan(self) -> list[tuple[str, str, Any, Any]]:
        plan = []
        request = self.context.get("request")
        withheld = (
            WITHHELD_FROM_DEIDENTIFIED
            if request is not None and is_deidentified(request)
            else frozenset()
        )
        for field in self._readable_fields:
            if field.field_name in withheld:
                continue
            single = len(field.source_attrs) == 1
            if (
                single
                and type(field) is serializers.DecimalField
                and not getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
                and not field.normalize_output
                and field.decimal_places is not None
                and self._stored_decimal_places().get(field.source, 99) <= field.decimal_places
            ):
                # A stored decimal has no more places than its field: quantizing it changes
                # nothing, and the JSON encoder writes a Decimal as float(value).
                plan.append(("float", field.field_name, field.source_attrs[0], field))
            elif single and type(field) in _PLAIN_FIELDS and field.source != "*":
                plan.append(("attr", field.field_name, field.source_attrs[0], field))
            elif (
                single
                and isinstance(field, serializers.PrimaryKeyRelatedField)
                and field.use_pk_only_optimization()
                and field.pk_field is None
            ):
                try:
                    attname = self.Meta.model._meta.get_field(field.source_attrs[0]).attname
                except FieldDoesNotExist:
                    plan.append(("drf", field.field_name, None, field))
                else:
                    plan.append(("pk", field.field_name, attname, field))
            else:
                plan.append(("drf", field.field_name, None, field))
        return plan

    def _stored_decimal_places(self) -> dict[str, int]:
        return {
            f.name: f.decimal_places
            for f in self.Meta.model._meta.concrete_fields
            if isinstance(f, models.DecimalField)
        }

    def to_representation(self, instance):
        plan = self.__dict__.get("_representation_plan")
        if plan is None:
            plan = self.__dict__["_representation_plan"] = self._plan()
        data: dict[str, Any] = {}
        for kind, name, attribute, field in plan:
            if kind == "attr":
                value = getattr(instance, attribute)
                if callable(value):
                    value = value()
                data[name] = None if value is None else field.to_representation(value)
            elif kind == "float":
                value = getattr(instance, attribute)
                data[name] = None if value is None else float(value)
            elif kind == "pk":
                data[name] = getattr(instance, attribute)
            else:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                empty = value.pk if isinstance(value, PKOnlyObject) else value
                data[name] = None if empty is None else field.to_representation(value)
        return data
