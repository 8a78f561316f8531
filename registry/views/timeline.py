from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from registry.selectors.history import patient_history
from registry.selectors.timeline import patient_timeline
from registry.views._access import visible_patient

HISTORY_SHOWN = 30


@login_required
@require_GET
def patient_detail_view(request: HttpRequest, registry_id: str) -> HttpResponse:
    """The patient's timeline: fractures, procedures, visits with computed values and window
    flags, adverse events, expected visits, and who changed what, when."""
    patient = visible_patient(request, registry_id)
    today = timezone.localdate()
    timeline = patient_timeline(patient, today=today)
    show_all = request.GET.get("history") == "all"
    history, history_total = patient_history(
        patient, timeline, limit=None if show_all else HISTORY_SHOWN
    )
    return render(
        request,
        "registry/patient_detail.html",
        {
            "patient": patient,
            "timeline": timeline,
            "history": history,
            "history_total": history_total,
            "history_all": show_all,
            "today": today,
        },
    )
