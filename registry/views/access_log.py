"""The access log for administrators: read, filter, export as CSV; lift sign-in lockouts.

Nobody edits the log (there is no form for it and the model refuses); who reads which part of
it is registry.permissions.can_view_access_log / access_log_site_ids.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from registry import permissions
from registry.audit import record_access
from registry.forms.access_log import AccessLogFilterForm, UnlockForm
from registry.models import AccessAction, SiteMembership
from registry.selectors.access_log import access_events_visible_to, filter_access_events
from registry.views._paging import CappedPaginator

PER_PAGE = 100
CSV_COLUMNS = [
    "at", "action", "username", "user_id", "ip_address", "method", "path", "status",
    "object_type", "object_id", "site_id", "detail",
]  # fmt: skip


def _require_reader(request: HttpRequest) -> None:
    if not permissions.can_view_access_log(request.user):
        raise PermissionDenied("The access log is for site administrators.")


def _filtered(request: HttpRequest):
    form = AccessLogFilterForm(request.GET or None)
    events = access_events_visible_to(user=request.user)
    if form.is_bound and form.is_valid():
        events = filter_access_events(events, **form.cleaned_data)
    elif form.is_bound:
        events = events.none()
    return form, events


@login_required
@require_GET
def access_log_view(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    form, events = _filtered(request)
    paginator = CappedPaginator(events, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "registry/access_log.html",
        {
            "form": form,
            "page": page,
            "events": page.object_list,
            "lockouts": _lockouts(request),
            "retention_days": settings.ACCESS_LOG_RETENTION_DAYS,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.at.isoformat(), event.action, event.username, event.user_id or "",
                event.ip_address or "", event.method, event.path, event.status or "",
                event.object_type, event.object_id, event.site_id or "", event.detail or "",
            ]
        )  # fmt: skip


@login_required
@require_GET
def access_log_csv_view(request: HttpRequest) -> StreamingHttpResponse:
    _require_reader(request)
    form, events = _filtered(request)
    record_access(
        request_or_user=request,
        action=AccessAction.EXPORT,
        obj="access-log",
        object_type="registry.accessevent",
        format="csv",
        filters={k: str(v) for k, v in (form.cleaned_data if form.is_bound else {}).items() if v},
    )
    response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.csv"'
    return response


def _lockouts(request: HttpRequest) -> list[dict]:
    """Current lockouts the reader may lift: accounts (and, for superusers, addresses) whose
    failures within the cool-off period reach the limit. Axes keeps one attempt row per
    (account, address), so the failures are summed per account and per address."""
    since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    limit = settings.AXES_FAILURE_LIMIT
    accounts = recent.exclude(username=None)
    if not request.user.is_superuser:
        site_ids = permissions.access_log_site_ids(request.user) or []
        members = SiteMembership.objects.filter(site_id__in=site_ids).values("user__username")
        accounts = accounts.filter(username__in=members)
    found = [
        {"ip_address": "", **row}
        for row in accounts.values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=limit)
        .order_by("-last")[:50]
    ]
    if request.user.is_superuser:
        found += [
            {"username": "", **row}
            for row in recent.exclude(ip_address=None)
            .values("ip_address")
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")[:50]
        ]
    return found


@login_required
@require_POST
def unlock_view(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    form = UnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("__all__", ["Nothing to unlock."])))
        return redirect("access_log")
    username, address = form.cleaned_data["username"], form.cleaned_data["ip_address"]
    target = get_user_model().objects.filter(username=username).first() if username else None
    if (address and not request.user.is_superuser) or (
        username and not permissions.can_unlock_user(request.user, target)
    ):
        raise PermissionDenied("You can lift lockouts of your sites' members only.")
    removed = axes_reset(username=username or None, ip=address or None)
    record_access(
        request_or_user=request,
        action=AccessAction.UNLOCKED,
        obj=username or address,
        object_type="auth.user" if username else "address",
        attempts_removed=removed,
    )
    messages.success(request, f"Lockout lifted for {username or address}.")
    return redirect("access_log")
