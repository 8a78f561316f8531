"""/api/v1/exports/: create (202 + Location), poll, download. DRF views with the project's
default authentication and permission classes; the same services and access rules as the
pages. A client sees only its own exports."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from outcomes.dictionary import TABLES
from outcomes.exports import access, services
from outcomes.exports.models import Export, ExportFormat, ExportLevel
from outcomes.selectors import cohorts_visible_to
from registry.services.idempotency import run_once


class ExportCreateSerializer(serializers.Serializer):
    cohort = serializers.IntegerField(required=False, allow_null=True)
    filters = serializers.DictField(required=False, default=dict)
    rules = serializers.DictField(child=serializers.BooleanField(), required=False, default=dict)
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    level = serializers.ChoiceField(choices=ExportLevel.choices, default=ExportLevel.DEIDENTIFIED)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ExportSerializer(serializers.ModelSerializer):
    row_counts = serializers.JSONField(
        read_only=True,
        help_text="Rows written per table ("
        + ", ".join(TABLES)
        + "); each table's variables, labels, units and codes are in the package's "
        "dictionary.csv and at /outcomes/dictionary/.",
    )
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "url",
            "status",
            "progress",
            "error",
            "format",
            "level",
            "cohort",
            "cohort_name",
            "cohort_hash",
            "filters",
            "rules",
            "row_counts",
            "data_version",
            "software_version",
            "created_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_url(self, export: Export) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("exports-api-detail", args=[export.pk])
        )

    def get_download_url(self, export: Export) -> str | None:
        request = self.context["request"]
        if access.download_refusal(user=request.user, export=export) is not None:
            return None
        return request.build_absolute_uri(reverse("exports-api-download", args=[export.pk]))


class ExportList(GenericAPIView):
    serializer_class = ExportSerializer

    def get_queryset(self):
        return access.exports_of(user=self.request.user)

    @extend_schema(operation_id="exports_list", responses=ExportSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request):
        body = ExportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        cohort_id = data.pop("cohort", None)
        if cohort_id is not None:
            data["cohort"] = get_object_or_404(cohorts_visible_to(user=request.user), pk=cohort_id)
        try:
            export, _ = run_once(
                user=request.user,
                key=request.headers.get("Idempotency-Key"),
                action="export_request",
                create=lambda: services.export_request(user=request.user, request=request, **data),
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except DjangoValidationError as error:
            raise ValidationError(
                error.message_dict
                if hasattr(error, "error_dict")
                else {"non_field_errors": error.messages}
            ) from None
        document = ExportSerializer(export, context={"request": request}).data
        return Response(
            document, status=status.HTTP_202_ACCEPTED, headers={"Location": document["url"]}
        )


class ExportDetail(GenericAPIView):
    serializer_class = ExportSerializer

    def get_queryset(self):
        return access.exports_of(user=self.request.user)

    def get(self, request, pk: int):
        return Response(self.get_serializer(self.get_object()).data)


class ExportDownload(GenericAPIView):
    serializer_class = ExportSerializer

    def get_queryset(self):
        return access.exports_of(user=self.request.user)

    def get(self, request, pk: int):
        export = self.get_object()
        refusal = access.download_refusal(user=request.user, export=export)
        if refusal:
            return Response({"detail": refusal.reason}, status=refusal.status)
        response = services.export_download(export=export, request=request)
        if response is None:
            return Response({"detail": "The export file is gone."}, status=status.HTTP_410_GONE)
        return response
