"""Endpoints of the clinical records: patients, fractures, procedures (with treated levels),
visits (with radiographs and ODI answers), adverse events."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from registry import services
from registry.api import filters, serializers
from registry.api.conditional import etag_of
from registry.api.permissions import TokenScope, WithdrawPermission
from registry.api.views.base import RecordViewSet, nested_edits
from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    TreatedLevel,
)


class PatientViewSet(RecordViewSet):
    """Patients of the sites you belong to. Identifying fields are withheld from
    de-identified tokens. Withdrawal (site administrators) replaces deletion."""

    queryset = Patient.objects.select_related("site")
    serializer_class = serializers.PatientSerializer
    filterset_class = filters.PatientFilter
    patient_path = "pk"
    create_service = staticmethod(services.patient_create)

    def update_data(self, instance, validated):
        if validated.get("site") == instance.site:
            validated.pop("site")  # unchanged; a move is refused by the service
        return super().update_data(instance, validated)

    @extend_schema(request=serializers.WithdrawSerializer, responses=serializers.PatientSerializer)
    @action(detail=True, methods=["post"], permission_classes=[TokenScope, WithdrawPermission])
    def withdraw(self, request, pk=None):
        """Record a withdrawal of consent (site administrators of the patient's site)."""
        patient = self.get_object()
        body = serializers.WithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # A second (or concurrent) withdrawal: AlreadyWithdrawnError, answered 409.
        services.patient_withdraw(user=request.user, patient=patient, reason=body.data["reason"])
        patient = self.get_queryset().get(pk=patient.pk)
        return Response(self.get_serializer(patient).data, headers={"ETag": etag_of(patient)})


class FractureViewSet(RecordViewSet):
    queryset = Fracture.objects.all()
    serializer_class = serializers.FractureSerializer
    filterset_class = filters.FractureFilter
    create_service = staticmethod(services.fracture_create)
    create_only = ("patient",)


@extend_schema_view(
    update=extend_schema(request=serializers.ProcedureUpdateSerializer),
    partial_update=extend_schema(request=serializers.ProcedureUpdateSerializer),
)
class ProcedureViewSet(RecordViewSet):
    """Procedures with their treated vertebrae (`levels`: given on create; on an update,
    the levels to edit by `id` with the `version` you read)."""

    queryset = Procedure.objects.select_related("technique").prefetch_related(
        Prefetch("treated_levels", TreatedLevel.objects.select_related("fracture").order_by("id"))
    )
    serializer_class = serializers.ProcedureSerializer
    filterset_class = filters.ProcedureFilter
    create_service = staticmethod(services.procedure_record)
    nested = {"treated_levels": "levels"}
    create_only = ("patient",)
    update_serializer_class = serializers.ProcedureUpdateSerializer

    def nested_updates(self, instance, validated):
        if "treated_levels" not in validated:
            return {}
        levels = validated.pop("treated_levels")
        return {
            "levels": nested_edits("levels", levels, instance.treated_levels.all(), may_add=False)
        }

    def save_update(self, instance, version, data, levels=()):
        services.procedure_update(
            user=self.request.user,
            procedure=instance,
            expected_version=version,
            data=data,
            levels=levels,
        )


class TreatedLevelViewSet(RecordViewSet):
    """A vertebra treated in a procedure: cement, leakage, devices. Created with its
    procedure; edited here."""

    http_method_names = ["get", "put", "patch", "head", "options"]
    queryset = TreatedLevel.objects.select_related("fracture")
    serializer_class = serializers.TreatedLevelSerializer
    filterset_class = filters.TreatedLevelFilter
    patient_path = "procedure__patient_id"
    create_only = ("procedure", "fracture")


@extend_schema_view(
    update=extend_schema(request=serializers.VisitUpdateSerializer),
    partial_update=extend_schema(request=serializers.VisitUpdateSerializer),
)
class VisitViewSet(RecordViewSet):
    """Follow-up visits with the ODI answers and radiographs per treated vertebra (on an
    update: films to edit by `id` with the `version` you read, or new ones)."""

    queryset = FollowUpVisit.objects.select_related("procedure").prefetch_related(
        Prefetch("radiographs", RadiographicMeasurement.objects.order_by("id"))
    )
    serializer_class = serializers.VisitSerializer
    filterset_class = filters.VisitFilter
    patient_path = "procedure__patient_id"
    create_service = staticmethod(services.visit_record)
    nested = {"radiographs": "radiographs"}
    create_only = ("procedure",)
    update_serializer_class = serializers.VisitUpdateSerializer

    def nested_updates(self, instance, validated):
        if "radiographs" not in validated:
            return {}
        films = validated.pop("radiographs")
        rows = instance.radiographs.all()
        edits = nested_edits(
            "radiographs", films, rows, may_add=True, create_only=("treated_level",)
        )
        return {"radiographs": edits}

    def save_update(self, instance, version, data, radiographs=()):
        services.visit_update(
            user=self.request.user,
            visit=instance,
            expected_version=version,
            data=data,
            radiographs=radiographs,
        )


class RadiographViewSet(RecordViewSet):
    """Lateral-film measurements of one treated vertebra at one visit."""

    queryset = RadiographicMeasurement.objects.all()
    serializer_class = serializers.RadiographSerializer
    filterset_class = filters.RadiographFilter
    patient_path = "visit__procedure__patient_id"
    create_service = staticmethod(services.radiograph_record)
    create_only = ("visit", "treated_level")


class AdverseEventViewSet(RecordViewSet):
    queryset = AdverseEvent.objects.all()
    serializer_class = serializers.AdverseEventSerializer
    filterset_class = filters.AdverseEventFilter
    patient_path = "procedure__patient_id"
    create_service = staticmethod(services.adverse_event_record)
    create_only = ("procedure",)
