"""Cohort and statistics-run pages. Who may see what is decided by the two helpers at the
top (through `outcomes.selectors`); a cohort or run the user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outcomes import presenters, services
from outcomes.analyses import ANALYSES, get_analysis
from outcomes.dashboards.links import dashboard_url
from outcomes.forms import CohortForm, parameters_form_class
from outcomes.models import Cohort, RunStatus, StatisticsRun
from outcomes.selectors import (
    cohort_editable_by,
    cohorts_visible_to,
    run_visible_to,
    runs_visible_to,
)
from registry.services import DuplicateError
from registry.views._saving import duplicate_message
from registry.views._tokens import form_token, note_replay, posted_token


def _visible_cohort(request: HttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohorts_visible_to(user=request.user).select_related("owner"), pk=pk)


def _visible_run(request: HttpRequest, pk: int, *, with_result: bool = False) -> StatisticsRun:
    runs = StatisticsRun.objects.select_related("cohort", "requested_by")
    run = get_object_or_404(runs if with_result else runs.defer("result"), pk=pk)
    if not run_visible_to(user=request.user, run=run):
        raise Http404("No such statistics run.")
    return run


# ---------------------------------------------------------------- cohorts


@login_required
@require_GET
def cohort_list(request: HttpRequest) -> HttpResponse:
    cohorts = (
        cohorts_visible_to(user=request.user)
        .filter(dashboard_view=False)  # made by dashboard filters, not saved by a person
        .select_related("owner")
    )
    return render(request, "outcomes/cohort_list.html", {"cohorts": cohorts})


@login_required
@require_http_methods(["GET", "POST"])
def cohort_create(request: HttpRequest) -> HttpResponse:
    form = CohortForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            cohort = services.cohort_create(
                owner=request.user, idempotency_key=posted_token(request), **form.definition()
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if not note_replay(request, cohort):
                messages.success(request, f"Cohort “{cohort.name}” saved.")
            return redirect("outcomes:cohort_detail", pk=cohort.pk)
    return render(
        request,
        "outcomes/cohort_form.html",
        {"form": form, "cohort": None, "idempotency_key": form_token(request)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def cohort_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = _visible_cohort(request, pk)
    if not cohort_editable_by(user=request.user, cohort=cohort):
        raise PermissionDenied("Only the owner may change this cohort.")
    form = CohortForm(
        request.POST or None, user=request.user, initial=CohortForm.initial_for(cohort)
    )
    if request.method == "POST" and form.is_valid():
        definition = form.definition()
        data = {
            **{k: definition[k] for k in ("name", "description", "auto_refresh", "filters")},
            **definition["rules"],
        }
        try:
            services.cohort_update(user=request.user, cohort=cohort, data=data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Cohort saved.")
            return redirect("outcomes:cohort_detail", pk=cohort.pk)
    return render(request, "outcomes/cohort_form.html", {"form": form, "cohort": cohort})


def _add_errors(form: CohortForm, error: ValidationError) -> None:
    if isinstance(error, DuplicateError):  # with a link to the cohort that exists
        form.add_error(None, [duplicate_message(error)])
        return
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


@login_required
@require_GET
def cohort_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = _visible_cohort(request, pk)
    analyses = [
        {"analysis": analysis, "form": parameters_form_class(analysis)(prefix=analysis.name)}
        for analysis in ANALYSES.values()
    ]
    context = {
        "cohort": cohort,
        "editable": cohort_editable_by(user=request.user, cohort=cohort),
        "analyses": analyses,
        "runs": runs_visible_to(user=request.user, cohort=cohort),
    }
    return render(request, "outcomes/cohort_detail.html", context)


# ---------------------------------------------------------------- runs


@login_required
@require_POST
def run_create(request: HttpRequest, pk: int, analysis: str) -> HttpResponse:
    cohort = _visible_cohort(request, pk)
    try:
        spec = get_analysis(analysis)
    except ValueError:
        raise Http404("No such analysis.") from None
    form = parameters_form_class(spec)(request.POST, prefix=spec.name)
    if not form.is_valid():
        messages.error(request, f"{spec.label}: check the parameters ({form.errors.as_text()}).")
        return redirect("outcomes:cohort_detail", pk=cohort.pk)
    asked = services.run_request(
        user=request.user, cohort=cohort, analysis=spec.name, parameters=form.cleaned_data
    )
    if asked.reused:
        messages.info(request, "The data have not changed since this result: it was reused.")
    return redirect("outcomes:run_detail", pk=asked.run.pk)


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page: status, a progress bar that polls `run_status`, then the result."""
    run = _visible_run(request, pk)
    return render(request, "outcomes/run_detail.html", {"run": run, "status": _status(run)})


@login_required
@require_GET
def run_status(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(_status(_visible_run(request, pk)))


def _status(run: StatisticsRun) -> dict:
    done = run.status == RunStatus.DONE
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "progress": run.progress,
        "error": run.error,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "finished": not run.is_active,
        "result_url": reverse("outcomes:run_result", args=[run.pk]) if done else None,
    }


@login_required
@require_GET
def run_result(request: HttpRequest, pk: int) -> HttpResponse:
    run = _visible_run(request, pk, with_result=True)
    if run.status != RunStatus.DONE:
        return redirect("outcomes:run_detail", pk=run.pk)
    context = {
        "run": run,
        "result": run.result,
        "sections": presenters.sections(run.result),
        "parameter_lines": presenters.parameter_lines(run.result),
        "dashboard_url": dashboard_url(run),
    }
    return render(request, "outcomes/run_result.html", context)
