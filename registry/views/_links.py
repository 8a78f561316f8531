"""Where a page links to an existing record (a duplicate's message, a replayed submit)."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
)


def record_url(instance: models.Model) -> str | None:
    if isinstance(instance, Patient):
        return reverse("patient_detail", args=[instance.registry_id])
    if isinstance(instance, Fracture):
        return reverse("fracture_edit", args=[instance.patient.registry_id, instance.pk])
    if isinstance(instance, Procedure):
        return reverse("procedure_edit", args=[instance.patient.registry_id, instance.pk])
    if isinstance(instance, FollowUpVisit):
        return reverse("visit_edit", args=[instance.procedure.patient.registry_id, instance.pk])
    if isinstance(instance, RadiographicMeasurement):
        return record_url(instance.visit)
    if isinstance(instance, AdverseEvent):
        rid = instance.procedure.patient.registry_id
        return reverse("adverse_event_edit", args=[rid, instance.pk])
    url = getattr(instance, "get_absolute_url", None)
    return url() if callable(url) else None
