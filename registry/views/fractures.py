from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from registry import vertebrae
from registry.forms import FractureForm, LevelPickerForm
from registry.models import Fracture
from registry.services import fractures_record
from registry.views import _heights
from registry.views._access import editable_patient
from registry.views._case import case_steps
from registry.views._edit import edit_record
from registry.views._saving import all_or_nothing
from registry.views._tokens import earlier_submit, form_token, note_replay, posted_token


@login_required
@require_http_methods(["GET", "POST"])
def fractures_create_view(request: HttpRequest, registry_id: str) -> HttpResponse:
    """Case entry, step 2 of 4: several fractured vertebrae on one page, all saved or none."""
    patient = editable_patient(request, registry_id)
    if earlier_submit(request, "fractures_record") is not None:  # a double click
        return redirect("patient_detail", registry_id=registry_id)
    recorded = list(patient.fractures.order_by("level"))
    recorded_levels = {f.level for f in recorded}
    posting = request.method == "POST"
    picker = LevelPickerForm(request.POST if posting else None, recorded=recorded_levels)
    chosen = set(request.POST.getlist("levels")) if posting else set()
    level_forms = {
        level: FractureForm(
            request.POST if posting and level in chosen else None,
            prefix=level,
            instance=Fracture(patient=patient, level=level),
            with_level=False,
        )
        for level in vertebrae.LEVELS
        if level not in recorded_levels
    }
    # Without JavaScript the picker submits to show the chosen levels' sections.
    if posting and "show_levels" not in request.POST and picker.is_valid():
        forms_chosen = [level_forms[level] for level in picker.cleaned_data["levels"]]
        if all([form.is_valid() for form in forms_chosen]):
            with all_or_nothing() as save:
                saved = save(
                    picker,
                    fractures_record,
                    parts={"fractures": forms_chosen},
                    user=request.user,
                    patient=patient,
                    fractures=[
                        {"level": form.instance.level, **form.model_data()} for form in forms_chosen
                    ],
                    idempotency_key=posted_token(request),
                )
            if not save.failed:
                return _saved(request, patient, forms_chosen, saved)
    sections = [
        {"level": level, "form": form, "chosen": level in chosen}
        for level, form in level_forms.items()
    ]
    return render(
        request,
        "registry/fractures_form.html",
        {
            "patient": patient,
            "picker": picker,
            "sections": sections,
            "recorded": recorded,
            "recorded_levels": recorded_levels,
            "chosen": chosen,
            "chosen_forms": [form for level, form in level_forms.items() if level in chosen],
            "levels": [
                (level, level in recorded_levels, level in chosen) for level in vertebrae.LEVELS
            ],
            "steps": case_steps(patient, "fractures"),
            "idempotency_key": form_token(request),
        },
    )


def _saved(request: HttpRequest, patient, forms_saved: list[FractureForm], saved) -> HttpResponse:
    rid = patient.registry_id
    if note_replay(request, saved[0] if saved else None):
        return redirect("patient_detail", registry_id=rid)
    heights = {}
    for form in forms_saved:
        level = form.instance.level
        if form.heights():
            heights[level] = form.heights()
        if form.grade_mismatch:
            messages.warning(
                request,
                f"{level}: the heights suggest Genant grade {form.suggested_grade} "
                f"({form.height_loss:.0f} % height loss); grade "
                f"{form.cleaned_data['genant_grade']} was recorded as you chose.",
            )
    levels = ", ".join(form.instance.level for form in forms_saved)
    messages.success(request, f"Fractures saved: {levels}.")
    if patient.procedures.exists():
        return redirect("patient_detail", registry_id=rid)
    url = reverse("procedure_create", args=[rid])
    if heights:
        url += "?" + urlencode({_heights.PARAM: _heights.encode(heights)})
    return redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def fracture_edit_view(request: HttpRequest, registry_id: str, pk: int) -> HttpResponse:
    patient = editable_patient(request, registry_id)
    fracture = get_object_or_404(
        Fracture.objects.select_related("patient__site"), pk=pk, patient=patient
    )
    return edit_record(
        request,
        patient=patient,
        instance=fracture,
        form_class=FractureForm,
        template="registry/record_form.html",
        success_message=f"Fracture {fracture.level} saved.",
        context={"title": f"Edit fracture {fracture.level}"},
    )
