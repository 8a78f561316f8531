"""Every clinical write goes through these functions (keyword-only, atomic, validated,
attributed in history)."""

from registry.services.base import ConflictError
from registry.services.edits import clinical_update
from registry.services.patients import patient_create, patient_update, patient_withdraw
from registry.services.procedures import adverse_event_record, fracture_create, procedure_record
from registry.services.visits import radiograph_record, visit_record

__all__ = [
    "ConflictError",
    "adverse_event_record",
    "clinical_update",
    "fracture_create",
    "patient_create",
    "patient_update",
    "patient_withdraw",
    "procedure_record",
    "radiograph_record",
    "visit_record",
]
