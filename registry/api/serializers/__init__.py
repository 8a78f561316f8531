"""Serializers of the clinical records: shapes and types only. Every write goes through
the services (registry/services) from the views; nothing here saves."""

from registry.api.serializers.patients import PatientSerializer, WithdrawSerializer
from registry.api.serializers.procedures import (
    AdverseEventSerializer,
    FractureSerializer,
    ProcedureSerializer,
    ProcedureUpdateSerializer,
    TreatedLevelSerializer,
)
from registry.api.serializers.visits import (
    RadiographSerializer,
    VisitSerializer,
    VisitUpdateSerializer,
)

__all__ = [
    "AdverseEventSerializer",
    "FractureSerializer",
    "PatientSerializer",
    "ProcedureSerializer",
    "ProcedureUpdateSerializer",
    "RadiographSerializer",
    "TreatedLevelSerializer",
    "VisitSerializer",
    "VisitUpdateSerializer",
    "WithdrawSerializer",
]
