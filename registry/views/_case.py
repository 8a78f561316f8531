"""The case-entry steps (patient, fractures, procedure, baseline visit) and where one stands."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.urls import reverse

from registry.models import FollowUpVisit, Fracture, Patient, Procedure, TimepointChoice
from registry.selectors.progress import BASELINE, FRACTURES, PROCEDURE, next_step

STEPS = (
    ("patient", "Patient"),
    ("fractures", "Fractures"),
    ("procedure", "Procedure"),
    ("baseline", "Baseline visit"),
)


@dataclass
class Step:
    key: str
    number: int
    label: str
    done: bool
    url: str | None
    current: bool = False


def case_steps(patient: Patient, current: str) -> list[Step]:
    """The stepper: one query to know which steps are done and where each one links."""
    no_baseline = Procedure.objects.filter(patient=OuterRef("pk")).exclude(
        Exists(
            FollowUpVisit.objects.filter(
                procedure=OuterRef("pk"), timepoint=TimepointChoice.BASELINE
            )
        )
    )
    state = (
        Patient.objects.filter(pk=patient.pk)
        .annotate(
            has_fracture=Exists(Fracture.objects.filter(patient=OuterRef("pk"))),
            has_procedure=Exists(Procedure.objects.filter(patient=OuterRef("pk"))),
            missing_baseline=Exists(no_baseline),
        )
        .values("has_fracture", "has_procedure", "missing_baseline")
        .get()
    )
    rid = patient.registry_id
    first_without_baseline = None
    if state["missing_baseline"]:
        first_without_baseline = (
            Procedure.objects.filter(patient=patient)
            .exclude(visits__timepoint=TimepointChoice.BASELINE)
            .order_by("date", "pk")
            .values_list("pk", flat=True)
            .first()
        )
    baseline_url = None
    if first_without_baseline:
        baseline_url = (
            reverse("visit_create", args=[rid, first_without_baseline]) + "?timepoint=baseline"
        )
    step = next_step(
        has_fracture=state["has_fracture"],
        has_procedure=state["has_procedure"],
        missing_baseline=state["missing_baseline"],
    )
    order = ["patient", FRACTURES, PROCEDURE, BASELINE]
    reached = order.index(step) if step else len(order)
    done = {key: number < reached for number, key in enumerate(order)}
    urls = {
        "patient": reverse("patient_edit", args=[rid]),
        "fractures": reverse("fractures_create", args=[rid]),
        "procedure": reverse("procedure_create", args=[rid]) if state["has_fracture"] else None,
        "baseline": baseline_url,
    }
    return [
        Step(key, number, label, done[key], urls[key], key == current)
        for number, (key, label) in enumerate(STEPS, start=1)
    ]


def next_step_url(patient: Patient, status_step: str | None, procedure_id: int | None) -> str:
    """Where to resume an incomplete case (the worklist and the list link here)."""
    rid = patient.registry_id
    if status_step == FRACTURES:
        return reverse("fractures_create", args=[rid])
    if status_step == PROCEDURE:
        return reverse("procedure_create", args=[rid])
    if status_step == BASELINE and procedure_id:
        return reverse("visit_create", args=[rid, procedure_id]) + "?timepoint=baseline"
    return reverse("patient_detail", args=[rid])
