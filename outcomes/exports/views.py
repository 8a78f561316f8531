"""Export pages and the data dictionary. Who may export is decided in `access`; a user sees
and downloads only their own exports (another person's answers 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from outcomes.dictionary import TABLES, dictionary_csv_lines, dictionary_rows
from outcomes.exports import access, services
from outcomes.exports.forms import ExportForm
from outcomes.exports.models import Export

PAGE_SIZE = 50


def _own_export(request: HttpRequest, pk: int) -> Export:
    return get_object_or_404(access.exports_of(user=request.user), pk=pk)


def _require_exporter(request: HttpRequest) -> None:
    if not access.may_export(request.user):
        raise PermissionDenied("Only research coordinators and site administrators export.")


@login_required
@require_http_methods(["GET", "POST"])
def export_list(request: HttpRequest) -> HttpResponse:
    """The user's exports (newest first) and the form to ask for one."""
    _require_exporter(request)
    initial = {"cohort": request.GET.get("cohort")} if request.GET.get("cohort") else None
    form = ExportForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            export = services.export_request(
                user=request.user,
                cohort=data["cohort"],
                format=data["format"],
                level=data["level"],
                reason=data.get("reason", ""),
                request=request,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, "Export requested: it is being prepared.")
            return redirect("outcomes:export_detail", pk=export.pk)
    exports = access.exports_of(user=request.user)[:PAGE_SIZE]
    return render(request, "outcomes/export_list.html", {"form": form, "exports": exports})


@login_required
@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = _own_export(request, pk)
    context = {
        "export": export,
        "status": export_status_document(export, request.user),
        "tables": TABLES,
    }
    return render(request, "outcomes/export_detail.html", context)


@login_required
@require_GET
def export_status(request: HttpRequest, pk: int) -> JsonResponse:
    export = _own_export(request, pk)
    return JsonResponse(export_status_document(export, request.user))


def export_status_document(export: Export, user) -> dict:
    ready = access.download_refusal(user=user, export=export) is None
    return {
        "id": export.pk,
        "status": export.status,
        "status_label": export.get_status_display(),
        "progress": export.progress,
        "error": export.error,
        "finished": not export.is_active,
        "row_counts": export.row_counts,
        "expires_at": export.expires_at.isoformat() if export.expires_at else None,
        "download_url": reverse("outcomes:export_download", args=[export.pk]) if ready else None,
    }


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = _own_export(request, pk)  # anyone else's export: 404
    refusal = access.download_refusal(user=request.user, export=export)
    if refusal:
        status = 410 if export.is_expired() else 403
        return render(
            request,
            "outcomes/export_refused.html",
            {"export": export, "reason": refusal},
            status=status,
        )
    response = services.export_download(export=export, request=request)
    if response is None:
        raise Http404("The export file is gone.")
    return response


# ---------------------------------------------------------------- dictionary


@login_required
@require_GET
def dictionary(request: HttpRequest) -> HttpResponse:
    rows = dictionary_rows()
    by_table = {name: [row for row in rows if row["table"] == name] for name in TABLES}
    return render(request, "outcomes/dictionary.html", {"tables": by_table})


@login_required
@require_GET
def dictionary_csv(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(dictionary_csv_lines(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="ovcf-data-dictionary.csv"'
    return response
