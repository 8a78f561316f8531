"""What every record serializer shares: version/timestamps read-only, no serializer-level
uniqueness checks (the services validate), related ids limited to what the user may see,
and the identifying fields withheld from de-identified tokens."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from rest_framework import serializers

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

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and is_deidentified(request):
            for name in WITHHELD_FROM_DEIDENTIFIED & data.keys():
                del data[name]
        return data
