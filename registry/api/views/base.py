"""The record viewset every clinical record endpoint is made of.

Reads: the rows of patients the user may see (`patients_visible_to`), an ETag per record
and 304 on If-None-Match. Creates: the record's create service, under the request's
Idempotency-Key. Updates: `clinical_update` with the version from If-Match (or the
record's composite edit service, with its nested rows: `nested_edits`). Errors are mapped
once, in registry/api/errors.py. No delete: clinical records are never removed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.db import models
from django.db.models import QuerySet
from django.urls import reverse
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from registry.api.conditional import create_once, etag_of, expected_version, not_modified
from registry.api.permissions import ClinicalRecordPermission, TokenScope
from registry.selectors import patients_visible_to
from registry.services import ConflictError, clinical_update
from registry.services.base import changes_since


def nested_edits(
    field: str,
    items: list[dict[str, Any]],
    rows: Iterable[models.Model],
    *,
    may_add: bool,
    create_only: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Validated nested items of an update -> the edit items of a composite edit service:
    {"instance", "expected_version", "data": changed fields} for a row of the record (by
    `id`, with the `version` the client read), {"data": fields} for a new one (`may_add`).
    Field-level errors keyed by the item's index, as DRF gives a nested list's: {field:
    {index: {name: [messages]}}}."""
    existing = {row.pk: row for row in rows}
    edits, errors, seen = [], {}, set()
    for index, item in enumerate(items):
        item = dict(item)
        pk, version = item.pop("id", None), item.pop("version", None)
        row = existing.get(pk)
        problem: dict[str, list[str]] = {}
        if pk is not None and row is None:
            problem["id"] = [f"Not one of this record's {field}."]
        elif pk in seen:
            problem["id"] = ["Each one may be edited once per request."]
        elif pk is None and not may_add:
            problem["id"] = ["Give the id of the one to edit (they are added on create)."]
        elif row is not None and version is None:
            problem["version"] = ["Send the version you read, to edit this one."]
        for name in create_only:
            if row is not None and name in item and item[name] != getattr(row, name):
                problem[name] = ["This cannot be changed after it is recorded."]
            elif row is None and pk is None and may_add and name not in item:
                problem[name] = ["This field is required for a new one."]
            if row is not None:
                item.pop(name, None)
        seen.add(pk)
        if problem:
            errors[index] = problem
        if row is None:
            edits.append({"data": item})
        else:
            changed = {k: v for k, v in item.items() if getattr(row, k) != v}
            edits.append({"instance": row, "expected_version": version, "data": changed})
    if errors:
        raise ValidationError({field: errors})
    return edits


class RecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [TokenScope, ClinicalRecordPermission]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    # How a row reaches its patient, for the visibility filter.
    patient_path: ClassVar[str] = "patient_id"
    # The create service, called with user= and the validated data (renamed by `nested`).
    create_service: ClassVar[Callable[..., models.Model] | None] = None
    nested: ClassVar[dict[str, str]] = {}
    # Fields set at creation that an update may not change (the record's parent).
    create_only: ClassVar[tuple[str, ...]] = ()
    # An update's serializer when it carries nested rows (their id and version).
    update_serializer_class: ClassVar[type | None] = None

    def get_queryset(self) -> QuerySet:
        visible = patients_visible_to(user=self.request.user).values("pk")
        return self.queryset.filter(**{f"{self.patient_path}__in": visible}).order_by("id")

    # ------------------------------------------------------------------ reads

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        etag = etag_of(instance)
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(self.get_serializer(instance).data, headers={"ETag": etag})

    # ------------------------------------------------------------------ writes

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        arguments = self.service_arguments(dict(serializer.validated_data))
        service = type(self).create_service
        record, created = create_once(
            request, create=lambda **key: service(user=request.user, **arguments, **key)
        )
        record = self.get_queryset().get(pk=record.pk)  # with its nested rows, as listed
        headers = {"ETag": etag_of(record), "Location": self._location(record)}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(record).data, status=code, headers=headers)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        version = expected_version(request, instance)
        serializer_class = self.update_serializer_class or self.get_serializer_class()
        serializer = serializer_class(
            instance, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        validated = dict(serializer.validated_data)
        parts = self.nested_updates(instance, validated)
        data = self.update_data(instance, validated)
        if parts and not data and version != instance.version:
            # Only nested rows change (each guarded by its own version); the record's
            # If-Match is honoured all the same.
            raise ConflictError(instance, changes_since(instance, version))
        self.save_update(instance, version, data, **parts)
        record = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(record).data, headers={"ETag": etag_of(record)})

    def nested_updates(self, instance: models.Model, validated: dict[str, Any]) -> dict:
        """The nested rows an update edits, as keyword arguments of `save_update`."""
        return {}

    def save_update(
        self, instance: models.Model, version: int, data: dict[str, Any], **parts: Any
    ) -> None:
        """The edit service the record's page calls (clinical_update unless overridden)."""
        clinical_update(
            user=self.request.user, instance=instance, expected_version=version, data=data
        )

    def service_arguments(self, validated: dict[str, Any]) -> dict[str, Any]:
        for source, argument in self.nested.items():
            if source in validated:
                validated[argument] = [dict(item) for item in validated.pop(source)]
        return validated

    def update_data(self, instance: models.Model, validated: dict[str, Any]) -> dict[str, Any]:
        errors = {}
        for source in self.nested:
            if validated.pop(source, None):
                errors[source] = ["Edit these through their own endpoint, not in an update."]
        for name in self.create_only:
            if name in validated and validated[name] != getattr(instance, name):
                errors[name] = ["This cannot be changed after the record is created."]
            validated.pop(name, None)
        if errors:
            raise ValidationError(errors)
        return validated

    def _location(self, record: models.Model) -> str:
        return reverse(f"{self.basename}-detail", args=[record.pk])
