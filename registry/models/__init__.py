from registry.models.api_tokens import ApiToken, TokenScope
from registry.models.audit import AccessAction, AccessEvent, AccessLogIsAppendOnly
from registry.models.choices import *  # noqa: F403 - the choices are part of the model API
from registry.models.fractures import Fracture
from registry.models.idempotency import IdempotencyKey
from registry.models.patients import Patient, new_registry_id
from registry.models.procedures import AdverseEvent, Procedure, TreatedLevel
from registry.models.sites import Site, SiteMembership, Technique
from registry.models.visits import ODI_FIELDS, FollowUpVisit, RadiographicMeasurement

__all__ = [
    "ODI_FIELDS",
    "AccessAction",
    "AccessEvent",
    "AccessLogIsAppendOnly",
    "AdverseEvent",
    "ApiToken",
    "FollowUpVisit",
    "Fracture",
    "IdempotencyKey",
    "Patient",
    "Procedure",
    "RadiographicMeasurement",
    "Site",
    "SiteMembership",
    "Technique",
    "TokenScope",
    "TreatedLevel",
    "new_registry_id",
]
