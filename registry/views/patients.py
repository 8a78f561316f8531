from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from registry import permissions, vertebrae
from registry.forms import PatientFilterForm, PatientForm, WithdrawForm
from registry.selectors import sites_visible_to
from registry.selectors.patients import patient_list
from registry.selectors.progress import case_status
from registry.services import AlreadyWithdrawnError, patient_create, patient_withdraw
from registry.views._access import editable_patient, editable_sites, visible_patient
from registry.views._case import case_steps, next_step_url
from registry.views._edit import edit_record
from registry.views._paging import CappedPaginator
from registry.views._saving import all_or_nothing, attach_errors
from registry.views._tokens import form_token, note_replay, posted_token


@login_required
@require_GET
def patient_list_view(request: HttpRequest) -> HttpResponse:
    """Visible patients with search and filters; a fixed number of queries per page."""
    sites = sites_visible_to(user=request.user).order_by("code")
    form = PatientFilterForm(request.GET, sites=sites)
    filters = form.filters()
    per_page = filters.pop("per_page")
    today = timezone.localdate()
    patients = patient_list(user=request.user, today=today, **filters)
    paginator = CappedPaginator(patients, per_page, exact=not any(filters.values()))
    page = paginator.get_page(request.GET.get("page"))
    rows = []
    for patient in page.object_list:
        status = case_status(patient, today)
        resume = (
            next_step_url(patient, status.next_step, status.procedure and status.procedure.pk)
            if status.next_step
            else None
        )
        levels = sorted((f.level for f in patient.fractures.all()), key=vertebrae.level_index)
        rows.append({"patient": patient, "status": status, "resume": resume, "levels": levels})
    return render(
        request,
        "registry/patient_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filtered": any(filters.values()),
            "today": today,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_create_view(request: HttpRequest) -> HttpResponse:
    """Case entry, step 1 of 4."""
    sites = editable_sites(request)
    if not permissions.can_enter_cases(request.user):
        raise PermissionDenied("Only surgeons and site administrators enter new patients.")
    form = PatientForm(request.POST or None, sites=sites, initial={"site": sites.first()})
    if request.method == "POST" and form.is_valid():
        data = form.model_data()
        with all_or_nothing() as save:
            patient = save(
                form,
                patient_create,
                user=request.user,
                idempotency_key=posted_token(request),
                **data,
            )
        if not save.failed:
            if note_replay(request, patient):
                return redirect("patient_detail", registry_id=patient.registry_id)
            messages.success(
                request, f"Patient {patient.registry_id} registered. Now the fractured vertebrae."
            )
            return redirect("fractures_create", registry_id=patient.registry_id)
    return render(
        request,
        "registry/patient_form.html",
        {
            "form": form,
            "steps": None,
            "creating": True,
            "idempotency_key": form_token(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit_view(request: HttpRequest, registry_id: str) -> HttpResponse:
    patient = editable_patient(request, registry_id)
    return edit_record(
        request,
        patient=patient,
        instance=patient,
        form_class=PatientForm,
        template="registry/patient_form.html",
        success_message="Patient details saved.",
        context={"steps": case_steps(patient, "patient")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_withdraw_view(request: HttpRequest, registry_id: str) -> HttpResponse:
    """Consent withdrawn: only a site administrator; the record and its history stay."""
    patient = visible_patient(request, registry_id)
    if patient.is_withdrawn:
        messages.info(request, "This patient is already withdrawn.")
        return redirect("patient_detail", registry_id=registry_id)
    if not permissions.can_withdraw(request.user, patient):
        raise PermissionDenied("Only a site administrator of this site can withdraw a patient.")
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient_withdraw(user=request.user, patient=patient, reason=form.cleaned_data["reason"])
        except AlreadyWithdrawnError:
            # A concurrent request (another tab, a double click) withdrew the patient first.
            messages.info(request, "This patient is already withdrawn.")
            return redirect("patient_detail", registry_id=registry_id)
        except ValidationError as error:
            attach_errors(form, _renamed(error))
        else:
            messages.success(
                request,
                f"{patient.registry_id} is withdrawn: kept with its history, left out of "
                "statistics and exports.",
            )
            return redirect("patient_detail", registry_id=registry_id)
    return render(request, "registry/patient_withdraw.html", {"form": form, "patient": patient})


def _renamed(error: ValidationError) -> ValidationError:
    """The service names the model field; the form calls it `reason`."""
    if hasattr(error, "error_dict") and "withdrawal_reason" in error.error_dict:
        return ValidationError({"reason": error.error_dict["withdrawal_reason"]})
    return error
