"""The record viewset every clinical record endpoint is made of.

Reads: the rows of patients the user may see (`patients_visible_to`), an ETag per record
and 304 on If-None-Match. Creates: the record's create service, under the request's
Idempotency-Key. Updates: `clinical_update` with the version from If-Match. Errors are
mapped once, in registry/api/errors.py. No delete: clinical records are never removed here.
"""

from __future__ import annotations

from collections.abc import Callable
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
from registry.services import clinical_update


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
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = self.update_data(instance, dict(serializer.validated_data))
        self.save_update(instance, version, data)
        record = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(record).data, headers={"ETag": etag_of(record)})

    def save_update(self, instance: models.Model, version: int, data: dict[str, Any]) -> None:
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
