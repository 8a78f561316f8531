from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from registry import derived, vertebrae
from registry.forms import AdverseEventForm, RadiographForm, VisitForm
from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Procedure,
    RadiographicMeasurement,
    TimepointChoice,
)
from registry.selectors.followups import FOLLOW_UP_TIMEPOINTS, TIMEPOINT_LABELS
from registry.services import visit_record, visit_update
from registry.views import _heights
from registry.views._access import editable_patient
from registry.views._case import case_steps
from registry.views._saving import all_or_nothing, rebase_conflicts
from registry.views._tokens import form_token, note_replay, posted_token


def _treated_levels(procedure: Procedure) -> list:
    return sorted(
        procedure.treated_levels.select_related("fracture"),
        key=lambda tl: vertebrae.level_index(tl.fracture.level),
    )


def _windows(procedure: Procedure) -> list[dict]:
    """Every scheduled timepoint's window for this procedure, shown beside the date field."""
    rows = []
    for tp in derived.SCHEDULED_TIMEPOINTS:
        window = derived.visit_window(tp, procedure.date, None)
        rows.append(
            {
                "timepoint": tp,
                "label": TIMEPOINT_LABELS[tp],
                "start": window.start_date,
                "target": window.target_date,
                "end": window.end_date,
            }
        )
    return rows


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _default_timepoint(procedure: Procedure, wanted: str | None) -> str:
    if wanted in TIMEPOINT_LABELS:
        return wanted
    recorded = set(procedure.visits.values_list("timepoint", flat=True))
    if TimepointChoice.BASELINE not in recorded:
        return TimepointChoice.BASELINE
    for tp in FOLLOW_UP_TIMEPOINTS:
        if tp not in recorded:
            return tp
    return TimepointChoice.UNSCHEDULED


@login_required
@require_http_methods(["GET", "POST"])
def visit_create_view(request: HttpRequest, registry_id: str, pk: int) -> HttpResponse:
    """A visit with its radiographs per treated vertebra (and, after the operation, an adverse
    event if there was one): case entry step 4 for the baseline, or a follow-up from the
    worklist. All saved together or nothing."""
    patient = editable_patient(request, registry_id)
    procedure = get_object_or_404(
        Procedure.objects.select_related("technique", "patient__site"), pk=pk, patient=patient
    )
    posting = request.method == "POST"
    data = request.POST if posting else None
    timepoint = _default_timepoint(procedure, request.GET.get("timepoint"))
    baseline = (request.POST.get("timepoint") if posting else timepoint) == "baseline"
    visit_date = procedure.date if timepoint == TimepointChoice.BASELINE else timezone.localdate()
    form = VisitForm(
        data,
        instance=FollowUpVisit(procedure=procedure),
        initial={"timepoint": timepoint, "visit_date": visit_date},
    )
    levels = _treated_levels(procedure)
    # Heights typed on the fractures page prefill the baseline films (passed in the URL).
    heights = _heights.decode(request.GET.get(_heights.PARAM)) if not posting else {}
    radiograph_forms = [
        RadiographForm(
            data,
            prefix=f"rad-{level.pk}",
            instance=RadiographicMeasurement(treated_level=level),
            initial=heights.get(level.fracture.level, {})
            if timepoint == TimepointChoice.BASELINE
            else {},
        )
        for level in levels
    ]
    event_form = AdverseEventForm(
        data if not baseline else None,
        prefix="ae",
        instance=AdverseEvent(procedure=procedure),
        optional=True,
    )
    if posting:
        forms_ = [form, *radiograph_forms] + ([] if baseline else [event_form])
        if all([f.is_valid() for f in forms_]):
            answers = form.model_data()
            measured = [rf for rf in radiograph_forms if not rf.is_blank()]
            with_event = not baseline and not event_form.is_blank()
            with all_or_nothing() as save:
                visit = save(
                    form,
                    visit_record,
                    parts={"radiographs": measured, "adverse_event": event_form},
                    user=request.user,
                    procedure=procedure,
                    timepoint=answers.pop("timepoint"),
                    visit_date=answers.pop("visit_date"),
                    radiographs=[
                        {"treated_level": rf.treated_level, **rf.model_data()} for rf in measured
                    ],
                    adverse_event=event_form.model_data() if with_event else None,
                    idempotency_key=posted_token(request),
                    **answers,
                )
            if not save.failed:
                return _saved(request, patient, visit)
    return render(
        request,
        "registry/visit_form.html",
        {
            "patient": patient,
            "procedure": procedure,
            "form": form,
            "radiograph_forms": radiograph_forms,
            "event_form": None if baseline else event_form,
            "windows": _windows(procedure),
            "creating": True,
            "next": _safe_next(request),
            "steps": case_steps(patient, "baseline") if baseline else None,
            "idempotency_key": form_token(request),
        },
    )


def _saved(request: HttpRequest, patient, visit: FollowUpVisit) -> HttpResponse:
    anchor = reverse("patient_detail", args=[patient.registry_id]) + f"#visit-{visit.pk}"
    if note_replay(request, visit):
        return redirect(anchor)
    window = visit.window
    label = visit.get_timepoint_display()
    text = f"{label} visit saved"
    if visit.odi_percent is not None:
        text += f": ODI {visit.odi_percent} %"
    messages.success(request, text + ".")
    if window.status in (derived.WindowStatus.EARLY, derived.WindowStatus.LATE):
        messages.warning(
            request,
            f"This visit is {window.status.value.replace('_', ' ')}: its window runs "
            f"{window.start_date:%d %b %Y} to {window.end_date:%d %b %Y}. It is kept and flagged.",
        )
    return redirect(_safe_next(request) or anchor)


@login_required
@require_http_methods(["GET", "POST"])
def visit_edit_view(request: HttpRequest, registry_id: str, pk: int) -> HttpResponse:
    patient = editable_patient(request, registry_id)
    visit = get_object_or_404(
        FollowUpVisit.objects.select_related("procedure__patient__site", "procedure__technique"),
        pk=pk,
        procedure__patient=patient,
    )
    procedure = visit.procedure
    posting = request.method == "POST"
    data = request.POST if posting else None
    form = VisitForm(data, instance=visit)
    films = {
        film.treated_level_id: film
        for film in visit.radiographs.select_related("visit__procedure__patient__site")
    }
    radiograph_forms = [
        RadiographForm(
            data,
            prefix=f"rad-{level.pk}",
            instance=films.get(level.pk)
            or RadiographicMeasurement(visit=visit, treated_level=level),
        )
        for level in _treated_levels(procedure)
    ]
    conflicts = []
    if posting and all([f.is_valid() for f in [form, *radiograph_forms]]):
        films = []  # the radiograph forms with something to write, in the service's order
        items = []
        for rf in radiograph_forms:
            if rf.instance.pk:
                changes = rf.changed_model_data()
                if changes:
                    films.append(rf)
                    items.append(
                        {
                            "instance": rf.instance,
                            "expected_version": rf.expected_version,
                            "data": changes,
                        }
                    )
            elif not rf.is_blank():
                films.append(rf)
                items.append({"data": {"treated_level": rf.treated_level, **rf.model_data()}})
        changes = form.changed_model_data()
        with all_or_nothing() as save:
            if changes or items:
                save(
                    form,
                    visit_update,
                    parts={"radiographs": films},
                    user=request.user,
                    visit=visit,
                    expected_version=form.expected_version,
                    data=changes,
                    radiographs=items,
                )
        if not save.failed:
            messages.success(request, "Visit saved." if changes or items else "Nothing changed.")
            target = _safe_next(request)
            url = reverse("patient_detail", args=[registry_id]) + f"#visit-{visit.pk}"
            return redirect(target or url)
        form, radiograph_forms, conflicts = rebase_conflicts(
            save.conflicts, form, VisitForm, radiograph_forms, RadiographForm
        )
    return render(
        request,
        "registry/visit_form.html",
        {
            "patient": patient,
            "procedure": procedure,
            "visit": visit,
            "form": form,
            "radiograph_forms": radiograph_forms,
            "event_form": None,
            "windows": _windows(procedure),
            "conflicts": conflicts,
            "creating": False,
            "next": _safe_next(request),
            "steps": None,
        },
    )
