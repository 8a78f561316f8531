"""Where a finding's record is: the patient's timeline and the record's edit page."""

from __future__ import annotations

from django.urls import reverse

from outcomes.quality.models import Finding

# record type -> the registry's edit page (its pk is the finding's edit_pk)
_EDIT_PAGES = {
    "fracture": "fracture_edit",
    "procedure": "procedure_edit",
    "treated_level": "procedure_edit",  # levels are edited with their procedure
    "visit": "visit_edit",
    "radiograph": "visit_edit",  # radiographs are edited with their visit
}


def record_links(finding: Finding) -> dict[str, str]:
    registry_id = finding.patient.registry_id
    timeline = reverse("patient_detail", args=[registry_id])
    if finding.record_type == "patient":
        edit = reverse("patient_edit", args=[registry_id])
    else:
        edit = reverse(_EDIT_PAGES[finding.record_type], args=[registry_id, finding.edit_pk])
    return {"timeline": timeline, "edit": edit}
