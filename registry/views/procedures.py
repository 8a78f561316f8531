from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from registry import permissions, vertebrae
from registry.forms import AdverseEventForm, ProcedureForm, TreatedLevelForm
from registry.models import AdverseEvent, Procedure, TreatedLevel
from registry.services import adverse_event_record, procedure_record, procedure_update
from registry.views import _heights
from registry.views._access import editable_patient
from registry.views._case import case_steps
from registry.views._edit import edit_record
from registry.views._saving import all_or_nothing, rebase_conflicts
from registry.views._tokens import earlier_submit, form_token, note_replay, posted_token


@login_required
@require_http_methods(["GET", "POST"])
def procedure_create_view(request: HttpRequest, registry_id: str) -> HttpResponse:
    """Case entry, step 3 of 4: the procedure and, per treated vertebra, cement, leakage and
    devices; recorded in one go by `procedure_record`."""
    patient = editable_patient(request, registry_id)
    if earlier_submit(request, "procedure_record") is not None:  # a double click
        return redirect("patient_detail", registry_id=registry_id)
    fractures = sorted(
        patient.fractures.filter(treatments__isnull=True),
        key=lambda f: vertebrae.level_index(f.level),
    )
    if not fractures:
        messages.info(
            request,
            "Every recorded fracture is already treated. Record the fractured vertebrae first.",
        )
        return redirect("fractures_create", registry_id=registry_id)
    posting = request.method == "POST"
    initial = {"date": timezone.localdate()}
    if permissions.can_edit_site(request.user, patient.site_id):
        initial["surgeon"] = request.user.pk
    source = request.POST if posting else request.GET
    heights = _heights.encode(_heights.decode(source.get(_heights.PARAM)))
    form = ProcedureForm(
        request.POST if posting else None,
        instance=Procedure(patient=patient),
        site=patient.site,
        initial=initial,
    )
    level_forms = [
        TreatedLevelForm(
            request.POST if posting else None,
            prefix=f"level-{fracture.pk}",
            instance=TreatedLevel(fracture=fracture),
            choosable=True,
            initial={"treated": True},
        )
        for fracture in fractures
    ]
    if posting:
        treated = [lf for lf in level_forms if lf.is_treated]
        valid = form.is_valid() & all([lf.is_valid() for lf in treated])
        if not treated:
            form.add_error(None, "Tick at least one treated vertebra.")
            valid = False
        if valid:
            data = form.model_data()
            with all_or_nothing() as save:
                procedure = save(
                    form,
                    procedure_record,
                    parts={"levels": treated},
                    user=request.user,
                    patient=patient,
                    levels=[
                        {"fracture": lf.instance.fracture, **lf.model_data()} for lf in treated
                    ],
                    idempotency_key=posted_token(request),
                    **data,
                )
            if not save.failed:
                if note_replay(request, procedure):
                    return redirect("patient_detail", registry_id=registry_id)
                messages.success(
                    request,
                    f"{procedure.technique.code} of {procedure.date:%d %b %Y} recorded. "
                    "Now the baseline (pre-operative) visit.",
                )
                url = reverse("visit_create", args=[registry_id, procedure.pk])
                query = {"timepoint": "baseline"}
                if heights:
                    query[_heights.PARAM] = heights
                return redirect(f"{url}?{urlencode(query)}")
    return render(
        request,
        "registry/procedure_form.html",
        {
            "patient": patient,
            "form": form,
            "level_forms": level_forms,
            "creating": True,
            "steps": case_steps(patient, "procedure"),
            "idempotency_key": form_token(request),
            "heights": heights,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def procedure_edit_view(request: HttpRequest, registry_id: str, pk: int) -> HttpResponse:
    patient = editable_patient(request, registry_id)
    procedure = get_object_or_404(
        Procedure.objects.select_related("technique", "patient__site"), pk=pk, patient=patient
    )
    levels = sorted(
        procedure.treated_levels.select_related("fracture", "procedure__patient__site"),
        key=lambda tl: vertebrae.level_index(tl.fracture.level),
    )
    posting = request.method == "POST"
    data = request.POST if posting else None
    form = ProcedureForm(data, instance=procedure, site=patient.site)
    level_forms = [
        TreatedLevelForm(data, prefix=f"tl-{level.pk}", instance=level) for level in levels
    ]
    conflicts = []
    if posting and form.is_valid() & all([lf.is_valid() for lf in level_forms]):
        changes = form.changed_model_data()
        edited = [lf for lf in level_forms if lf.changed_model_data()]
        if not changes and not edited:
            messages.info(request, "Nothing changed.")
            return redirect("patient_detail", registry_id=registry_id)
        with all_or_nothing() as save:
            save(
                form,
                procedure_update,
                parts={"levels": edited},
                user=request.user,
                procedure=procedure,
                expected_version=form.expected_version,
                data=changes,
                levels=[
                    {
                        "instance": lf.instance,
                        "expected_version": lf.expected_version,
                        "data": lf.changed_model_data(),
                    }
                    for lf in edited
                ],
            )
        if not save.failed:
            messages.success(request, "Procedure saved.")
            return redirect("patient_detail", registry_id=registry_id)
        form, level_forms, conflicts = rebase_conflicts(
            save.conflicts, form, ProcedureForm, level_forms, TreatedLevelForm, site=patient.site
        )
    return render(
        request,
        "registry/procedure_form.html",
        {
            "patient": patient,
            "procedure": procedure,
            "form": form,
            "level_forms": level_forms,
            "conflicts": conflicts,
            "creating": False,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_create_view(request: HttpRequest, registry_id: str, pk: int) -> HttpResponse:
    patient = editable_patient(request, registry_id)
    procedure = get_object_or_404(
        Procedure.objects.select_related("technique"), pk=pk, patient=patient
    )
    form = AdverseEventForm(
        request.POST or None,
        instance=AdverseEvent(procedure=procedure),
        initial={"onset_date": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        with all_or_nothing() as save:
            event = save(
                form,
                adverse_event_record,
                user=request.user,
                procedure=procedure,
                idempotency_key=posted_token(request),
                **form.model_data(),
            )
        if not save.failed:
            if not note_replay(request, event):
                messages.success(request, "Adverse event recorded.")
            return redirect("patient_detail", registry_id=registry_id)
    return render(
        request,
        "registry/record_form.html",
        {
            "patient": patient,
            "form": form,
            "title": f"New adverse event after {procedure}",
            "idempotency_key": form_token(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_edit_view(request: HttpRequest, registry_id: str, pk: int) -> HttpResponse:
    patient = editable_patient(request, registry_id)
    event = get_object_or_404(
        AdverseEvent.objects.select_related("procedure__patient__site", "procedure__technique"),
        pk=pk,
        procedure__patient=patient,
    )
    return edit_record(
        request,
        patient=patient,
        instance=event,
        form_class=AdverseEventForm,
        template="registry/record_form.html",
        success_message="Adverse event saved.",
        context={"title": f"Edit adverse event after {event.procedure}"},
    )
