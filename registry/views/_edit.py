"""The edit page of one clinical record: the same flow for every record type.

A GET shows the form; a POST with no change says so; a valid change goes through
`clinical_update` (permission, version check, history); a stale version re-renders the form
rebased on the other person's values with what they changed.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from registry.models import Patient
from registry.services.edits import clinical_update
from registry.views._saving import all_or_nothing, rebase_conflicts


def edit_record(
    request: HttpRequest,
    *,
    patient: Patient,
    instance: models.Model,
    form_class: type[forms.ModelForm],
    template: str,
    success_message: str,
    context: dict[str, Any],
) -> HttpResponse:
    form = form_class(request.POST or None, instance=instance)
    conflicts = []
    if request.method == "POST" and form.is_valid():
        data = form.changed_model_data()
        if not data:
            messages.info(request, "Nothing changed.")
            return redirect("patient_detail", registry_id=patient.registry_id)
        with all_or_nothing() as save:
            save(
                form,
                clinical_update,
                user=request.user,
                instance=instance,
                expected_version=form.expected_version,
                data=data,
            )
        if not save.failed:
            messages.success(request, success_message)
            return redirect("patient_detail", registry_id=patient.registry_id)
        form, _, conflicts = rebase_conflicts(save.conflicts, form, form_class)
    return render(
        request, template, {"patient": patient, "form": form, "conflicts": conflicts, **context}
    )
