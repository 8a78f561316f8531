"""Reads behind the data-quality page and API: only stored results, only visible sites.

The sites a user sees come from the registry's one rule (`sites_visible_to`, the sites of
`patients_visible_to`); a site's current state is the SiteResult of its latest done run,
and its findings are that run's findings for that site.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from outcomes.quality.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingStatus,
    QualityRun,
    SiteResult,
)
from outcomes.quality.rules import RULES_BY_CODE
from registry.models import Site
from registry.selectors import sites_visible_to


@dataclass(frozen=True)
class Filters:
    site: Site | None = None
    rule: str = ""
    severity: str = ""
    # the work list shows what still needs doing: open, and "will be corrected"
    statuses: tuple[str, ...] = (FindingStatus.OPEN.value, FindingStatus.WILL_CORRECT.value)
    category: str = ""


@dataclass
class Overview:
    sites: list[Site]
    results: dict[int, SiteResult]
    active_runs: list[QualityRun]
    counts: list[dict] = field(default_factory=list)


def visible_sites(*, user: AbstractBaseUser, site: Site | None = None) -> list[Site]:
    sites = list(sites_visible_to(user=user).order_by("code"))
    if site is not None:
        return [s for s in sites if s.pk == site.pk]
    return sites


def current_results(site_ids: list[int]) -> dict[int, SiteResult]:
    """The latest done run's result of each site (one query, the (site, -run) index)."""
    latest = (
        SiteResult.objects.filter(site_id=OuterRef("site_id")).order_by("-run_id").values("pk")[:1]
    )
    rows = (
        SiteResult.objects.filter(site_id__in=site_ids, pk=Subquery(latest))
        .select_related("run")
        .defer("run__error")
    )
    return {row.site_id: row for row in rows}


def _current_q(results: dict[int, SiteResult]) -> Q:
    by_run: dict[int, list[int]] = {}
    for site_id, result in results.items():
        by_run.setdefault(result.run_id, []).append(site_id)
    condition = Q(pk__in=[])
    for run_id, site_ids in by_run.items():
        condition |= Q(run_id=run_id, site_id__in=site_ids)
    return condition


def current_findings(results: dict[int, SiteResult], filters: Filters) -> QuerySet[Finding]:
    rows = Finding.objects.filter(_current_q(results))
    if filters.site is not None:
        rows = rows.filter(site_id=filters.site.pk)
    if filters.rule:
        rows = rows.filter(rule=filters.rule)
    if filters.category:
        codes = [code for code, rule in RULES_BY_CODE.items() if rule.category == filters.category]
        rows = rows.filter(rule__in=codes)
    if filters.severity:
        rows = rows.filter(severity=filters.severity)
    if filters.statuses:
        rows = rows.filter(status__in=filters.statuses)
    return rows


def ranked(rows: QuerySet[Finding]) -> QuerySet[Finding]:
    """High severity first, then by site, rule and patient (the work list's order, which
    the list index follows)."""
    return rows.order_by("severity_rank", "site_id", "rule", "patient_id", "id")


def finding_counts(results: dict[int, SiteResult]) -> list[dict]:
    """Findings per site, rule and status, as stored with each site's result."""
    return [
        {"site_id": site_id, "rule": rule, "status": status, "n": n}
        for site_id, result in sorted(results.items())
        for rule, per_status in sorted(result.counts.items())
        for status, n in sorted(per_status.items())
    ]


def count_findings(*, run_id: int, site_id: int, rule: str) -> dict[str, int]:
    """{status: n} of one rule at one site in one run (after a review changed statuses)."""
    rows = (
        Finding.objects.filter(run_id=run_id, site_id=site_id, rule=rule)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}


def active_runs(site_ids: list[int]) -> list[QualityRun]:
    runs = QualityRun.objects.filter(status__in=ACTIVE_STATUSES).order_by("created_at")
    wanted = set(site_ids)
    return [run for run in runs if wanted & set(run.scope_sites)]


def overview(*, user: AbstractBaseUser, site: Site | None = None) -> Overview:
    sites = visible_sites(user=user, site=site)
    ids = [s.pk for s in sites]
    results = current_results(ids)
    return Overview(sites, results, active_runs(ids), finding_counts(results))


def finding_visible(*, user: AbstractBaseUser, pk: int) -> Finding | None:
    """A current finding of a site the user sees, or None."""
    sites = visible_sites(user=user)
    results = current_results([s.pk for s in sites])
    return (
        Finding.objects.filter(_current_q(results), pk=pk).select_related("site", "patient").first()
    )
