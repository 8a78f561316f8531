"""Every clinical write goes through these functions (keyword-only, atomic, validated,
attributed in history). One service per user action; the pages and the REST API call the
same ones. Errors: see `registry.services.errors` (ValidationError 400, PartError 400 with the
part, DuplicateError / AlreadyWithdrawnError / ConflictError 409, PermissionDenied 403).
Create services take `idempotency_key` (a form's token, the API's `Idempotency-Key`): a
repeat returns the first record with `record.replayed = True`."""

from registry.services.edits import clinical_update
from registry.services.errors import (
    AlreadyWithdrawnError,
    ConflictError,
    DuplicateError,
    PartError,
)
from registry.services.patients import patient_create, patient_update, patient_withdraw
from registry.services.procedures import (
    adverse_event_record,
    fracture_create,
    fractures_record,
    procedure_record,
    procedure_update,
)
from registry.services.visits import radiograph_record, visit_record, visit_update

__all__ = [
    "AlreadyWithdrawnError",
    "ConflictError",
    "DuplicateError",
    "PartError",
    "adverse_event_record",
    "clinical_update",
    "fracture_create",
    "fractures_record",
    "patient_create",
    "patient_update",
    "patient_withdraw",
    "procedure_record",
    "procedure_update",
    "radiograph_record",
    "visit_record",
    "visit_update",
]
