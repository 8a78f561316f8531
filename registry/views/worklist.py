from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from registry import permissions
from registry.forms.patients import PER_PAGE_CHOICES
from registry.selectors import sites_visible_to
from registry.selectors.followups import (
    DUE,
    DUE_SOON_DAYS,
    OUT_OF_WINDOW_LOOKBACK_DAYS,
    OVERDUE,
    OVERDUE_GRACE_DAYS,
    follow_up_items,
    follow_up_rows,
    out_of_window_visits,
)
from registry.selectors.progress import (
    INCOMPLETE_LOOKBACK_DAYS,
    STILL_MISSING,
    incomplete_cases,
    next_step,
)
from registry.views._case import next_step_url
from registry.views._paging import CappedPaginator

TABS = (
    (DUE, "Due soon"),
    (OVERDUE, "Overdue"),
    ("out_of_window", "Out of window"),
    ("incomplete", "Incomplete cases"),
)


def _per_page(request: HttpRequest) -> int:
    try:
        value = int(request.GET.get("per_page", PER_PAGE_CHOICES[0]))
    except ValueError:
        return PER_PAGE_CHOICES[0]
    return value if value in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("tab", DUE)
    return tab if tab in dict(TABS) else DUE


def _list(request: HttpRequest, tab: str, site, today):
    user = request.user
    if tab in (DUE, OVERDUE):
        return follow_up_rows(user=user, site=site, status=tab, today=today)
    if tab == "out_of_window":
        return out_of_window_visits(user=user, site=site, today=today)
    return incomplete_cases(user=user, site=site, today=today)


@login_required
@require_GET
def worklist_view(request: HttpRequest) -> HttpResponse:
    """A site's follow-up worklist: visits due in the next 14 days, overdue ones, visits
    recorded out of their window, and case entries to resume.

    Only the open tab's list is read here (a count up to 1000, one page, one query for the
    page's procedures); the other tabs' counts are fetched by the page from `worklist_count`,
    so the list answers in one round of cheap queries whatever the site's size.
    """
    sites = list(sites_visible_to(user=request.user).order_by("code"))
    site = _chosen_site(request, sites)
    today = timezone.localdate()
    tab = _tab(request)
    page = None
    rows: list = []
    if sites:
        paginator = CappedPaginator(_list(request, tab, site, today), _per_page(request))
        page = paginator.get_page(request.GET.get("page"))
        objects = page.object_list if paginator.count else []
        if tab in (DUE, OVERDUE):
            rows = follow_up_items(objects, tab)
        elif tab == "incomplete":
            rows = [
                {
                    "patient": patient,
                    "missing": STILL_MISSING[_next_step(patient)],
                    "resume": next_step_url(
                        patient, _next_step(patient), patient.procedure_without_baseline
                    ),
                }
                for patient in objects
            ]
        else:
            rows = list(objects)
    editable_site_ids = set(permissions.editable_site_ids(request.user))
    return render(
        request,
        "registry/worklist.html",
        {
            "sites": sites,
            "site": site,
            "site_param": site.code if site else "all",
            "tab": tab,
            "tabs": TABS,
            "page": page,
            "rows": rows,
            "today": today,
            "editable_site_ids": editable_site_ids,
            "due_days": DUE_SOON_DAYS,
            "grace_days": OVERDUE_GRACE_DAYS,
            "lookback_days": OUT_OF_WINDOW_LOOKBACK_DAYS,
            "incomplete_days": INCOMPLETE_LOOKBACK_DAYS,
        },
    )


@login_required
@require_GET
def worklist_count_view(request: HttpRequest) -> JsonResponse:
    """How many rows a worklist tab holds (up to 1000), for the badges of the other tabs."""
    sites = list(sites_visible_to(user=request.user).order_by("code"))
    site = _chosen_site(request, sites)
    tab = _tab(request)
    paginator = CappedPaginator(_list(request, tab, site, timezone.localdate()), 1)
    count = paginator.count if sites else 0
    return JsonResponse({"tab": tab, "count": count, "capped": paginator.capped})


def _chosen_site(request: HttpRequest, sites: list):
    """?site=<code>, `all` for every site of the user; by default the first site where the
    user edits (a surgeon's own site), else the first site they see."""
    wanted = request.GET.get("site")
    if wanted == "all" or not sites:
        return None
    for site in sites:
        if site.code == wanted:
            return site
    for site in sites:
        if permissions.can_edit_site(request.user, site):
            return site
    return sites[0] if len(sites) == 1 else None


def _next_step(patient) -> str:
    """An incomplete case's annotations through the one rule (every row here misses one)."""
    return next_step(
        has_fracture=patient.has_fracture,
        has_procedure=patient.has_procedure,
        missing_baseline=True,
    )
