"""Who may see which cohort and which run: decided here, used by every view.

The registry's rule (`registry.selectors.patients_visible_to`) is site-based: a user sees
the patients of the sites they belong to. A run therefore reads the patients of a *scope*,
the sites of the patients its requester may see, and a user may open a run only when the
run's scope lies within their own. A coordinator's report over sites A and B is not shown
to the surgeon of site A, who gets the same cohort computed over site A alone: nobody sees
an aggregate that includes patients they may not see.

Cohort definitions hold no patient data; a user sees their own cohorts and those of
colleagues who share a site with them, and every run of such a cohort stays scoped as
above.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from outcomes.models import Cohort, StatisticsRun
from registry.models import Patient, Site, SiteMembership
from registry.selectors import patients_visible_to, sites_visible_to


@dataclass(frozen=True)
class Scope:
    """The sites whose active patients a run reads, sorted (canonical)."""

    site_ids: tuple[int, ...]

    @classmethod
    def of(cls, site_ids: Iterable[int]) -> Scope:
        return cls(tuple(sorted({int(pk) for pk in site_ids})))

    @property
    def key(self) -> str:
        return ",".join(str(pk) for pk in self.site_ids) or "-"

    def covers(self, site_ids: Iterable[int]) -> bool:
        return set(site_ids) <= set(self.site_ids)


def scope_for(*, user: AbstractBaseUser) -> Scope:
    """The sites of the patients `user` may see, through the registry's one rule.

    Asked per site (does it have a visible patient?) rather than as DISTINCT over every
    visible patient, so that the cost follows the number of sites, not of patients: the
    API answers a stored aggregate in the same time at 1,000 and at 100,000 patients."""
    visible = patients_visible_to(user=user).filter(site_id=OuterRef("pk"))
    sites = Site.objects.filter(Exists(visible)).values_list("pk", flat=True)
    return Scope.of(sites)


def patients_in_scope(scope: Scope) -> QuerySet[Patient]:
    """Active (not withdrawn) patients of the scope: the only patients statistics read."""
    return Patient.objects.active().filter(site_id__in=scope.site_ids)


def cohorts_visible_to(*, user: AbstractBaseUser) -> QuerySet[Cohort]:
    if not user.is_authenticated or not user.is_active:
        return Cohort.objects.none()
    if user.is_superuser:
        return Cohort.objects.all()
    colleague_ids = SiteMembership.objects.filter(site__in=sites_visible_to(user=user)).values(
        "user_id"
    )
    return Cohort.objects.filter(Q(owner=user) | Q(owner_id__in=colleague_ids))


def cohort_visible_to(*, user: AbstractBaseUser, cohort: Cohort) -> bool:
    return cohorts_visible_to(user=user).filter(pk=cohort.pk).exists()


def cohort_editable_by(*, user: AbstractBaseUser, cohort: Cohort) -> bool:
    return user.is_authenticated and (cohort.owner_id == user.pk or user.is_superuser)


def run_visible_to(*, user: AbstractBaseUser, run: StatisticsRun) -> bool:
    if not cohort_visible_to(user=user, cohort=run.cohort):
        return False
    return scope_for(user=user).covers(run.scope_sites)


def runs_visible_to(
    *, user: AbstractBaseUser, cohort: Cohort, limit: int = 50
) -> list[StatisticsRun]:
    """The latest runs of a cohort whose scope the user covers (scope checked in Python:
    the scope is a short list of site ids and the page shows a few dozen runs)."""
    scope = scope_for(user=user)
    recent = cohort.runs.select_related("requested_by").defer("result")[: limit * 4]
    return [run for run in recent if scope.covers(run.scope_sites)][:limit]
