"""The coordinator's data-quality pages: overview, findings work list, review, CSV.

Who sees what is decided by `_sites` at the top (the registry's visibility rule through
`outcomes.quality.selectors`): another site's code or finding is a 404. Pages read stored
results only; "Check now" queues a run (the Celery job) and the page shows it running.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outcomes.quality import charts, presenters, selectors, services
from outcomes.quality.forms import FindingFilterForm, ReviewForm
from outcomes.quality.links import record_links
from outcomes.quality.models import Review
from outcomes.quality.rules import RULES_BY_CODE
from registry.models import Site
from registry.views._paging import CappedPaginator

PER_PAGE = 50


def _site(request: HttpRequest, code: str | None) -> Site | None:
    """The site asked for, if the user sees it; None for all their sites."""
    if not code:
        return None
    for site in selectors.visible_sites(user=request.user):
        if site.code == code:
            return site
    raise Http404("No such site.")


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    site = _site(request, request.GET.get("site"))
    data = selectors.overview(user=request.user, site=site)
    completeness = presenters.completeness_rows(data.sites, data.results)
    prom = presenters.prom_rows(data.sites, data.results)
    shown = [s for s in data.sites if s.pk in data.results]
    rules = presenters.rule_rows(shown, data.counts)
    target = presenters.prom_target()
    figures = {
        "quality-completion": charts.completion_figure(completeness),
        "quality-prom": charts.prom_figure(prom, target),
        "quality-missing": charts.missing_items_figure(rules, [s.name for s in shown]),
    }
    context = {
        "site": site,
        "sites": data.sites,
        "all_sites": selectors.visible_sites(user=request.user),
        "shown": shown,
        "results": data.results,
        "latest": max((r.run for r in data.results.values()), key=lambda r: r.pk, default=None),
        "active_runs": data.active_runs,
        "completeness": completeness,
        "prom": prom,
        "prom_target": target,
        "rules": rules,
        "severity_totals": presenters.severity_totals(data.counts),
        "figures": figures,
    }
    return render(request, "quality/overview.html", context)


@login_required
@require_POST
def run_create(request: HttpRequest) -> HttpResponse:
    site = _site(request, request.POST.get("site"))
    try:
        asked = services.run_request(user=request.user, site=site)
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        if asked.created:
            messages.success(request, "Data checks queued: the results replace these shortly.")
        else:
            messages.info(request, "A check of these sites is already running.")
    url = reverse("quality:overview")
    return redirect(f"{url}?site={site.code}" if site else url)


def _findings_page(request: HttpRequest):
    sites = selectors.visible_sites(user=request.user)
    form = FindingFilterForm(request.GET or None, sites=sites)
    filters = form.filters()
    results = selectors.current_results([s.pk for s in sites])
    rows = (
        selectors.current_findings(results, filters)
        .select_related("site", "patient")
        .only(*_LIST_FIELDS)
    )
    return form, rows


_LIST_FIELDS = (
    "site__code",
    "site__name",
    "patient__registry_id",
    "rule",
    "severity",
    "record_type",
    "record_id",
    "item",
    "edit_pk",
    "value",
    "detail",
    "status",
)


@login_required
@require_GET
def finding_list(request: HttpRequest) -> HttpResponse:
    form, rows = _findings_page(request)
    paginator = CappedPaginator(selectors.ranked(rows), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    items = [(finding, record_links(finding)) for finding in page.object_list]
    return render(
        request,
        "quality/finding_list.html",
        {"form": form, "page": page, "items": items, "rules": RULES_BY_CODE},
    )


@login_required
@require_http_methods(["GET", "POST"])
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = selectors.finding_visible(user=request.user, pk=pk)
    if finding is None:
        raise Http404("No such finding.")
    review = Review.objects.filter(
        rule=finding.rule,
        record_type=finding.record_type,
        record_id=finding.record_id,
        item=finding.item,
    ).first()
    may_review = services.can_review(request.user, finding)
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        if not may_review:
            raise PermissionDenied("You may not review this site's findings.")
        if form.is_valid():
            try:
                services.finding_review(user=request.user, finding=finding, **form.cleaned_data)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, "Review saved.")
                return redirect("quality:finding_detail", pk=finding.pk)
    history = (
        review.history.select_related("history_user").order_by("-history_date") if review else []
    )
    return render(
        request,
        "quality/finding_detail.html",
        {
            "finding": finding,
            "rule": RULES_BY_CODE.get(finding.rule),
            "links": record_links(finding),
            "review": review,
            "review_is_stale": review is not None and review.value != finding.value,
            "history": history,
            "form": form,
            "may_review": may_review,
        },
    )


@login_required
@require_GET
def completeness_csv(request: HttpRequest) -> HttpResponse:
    site = _site(request, request.GET.get("site"))
    data = selectors.overview(user=request.user, site=site)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="completeness.csv"'
    writer = csv.writer(response)
    writer.writerow(presenters.CSV_COLUMNS)
    for row in presenters.completeness_rows(data.sites, data.results):
        values = row.as_dict()
        writer.writerow(["" if values[c] is None else values[c] for c in presenters.CSV_COLUMNS])
    return response


FINDING_CSV_COLUMNS = [
    "site",
    "registry_id",
    "rule",
    "severity",
    "record_type",
    "record_id",
    "item",
    "value",
    "detail",
    "status",
]


@login_required
@require_GET
def findings_csv(request: HttpRequest) -> HttpResponse:
    _, rows = _findings_page(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="findings.csv"'
    writer = csv.writer(response)
    writer.writerow(FINDING_CSV_COLUMNS)
    for f in selectors.ranked(rows).iterator(chunk_size=2000):
        writer.writerow(
            [
                f.site.code,
                f.patient.registry_id,
                f.rule,
                f.severity,
                f.record_type,
                f.record_id,
                f.item,
                f.value,
                f.detail,
                f.status,
            ]
        )
    return response
