"""Who may export what, and who may download an export: decided here, through
`registry.permissions` (can_export, can_export_identified) and the registry's visibility rule.

- De-identified exports: coordinators and site administrators; the scope is the sites where
  they may export (a coordinator only their sites). A surgeon may not export.
- Identified exports: only a site administrator, and only of sites they administer: a
  cohort naming another site is refused.
- Download: only the person who made the export, while they may still export, before it
  expires.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from outcomes.dictionary import Level
from outcomes.exports.models import Export, ExportStatus
from outcomes.selectors.access import Scope
from registry.models import Site
from registry.permissions import can_export, can_export_identified
from registry.selectors import sites_visible_to


def may_export(user: AbstractBaseUser) -> bool:
    return can_export(user)


def export_scope(*, user: AbstractBaseUser, level: str) -> Scope:
    """The sites whose patients `user` may export at `level`."""
    sites = sites_visible_to(user=user).values_list("pk", flat=True)
    if level == Level.IDENTIFIED:
        return Scope.of(pk for pk in sites if can_export_identified(user, pk))
    return Scope.of(pk for pk in sites if can_export(user, pk))


def site_codes(scope: Scope) -> list[str]:
    return list(Site.objects.filter(pk__in=scope.site_ids).values_list("code", flat=True))


def exports_of(*, user: AbstractBaseUser) -> QuerySet[Export]:
    """A user's own exports: nobody lists or opens another person's export."""
    if not user.is_authenticated:
        return Export.objects.none()
    return Export.objects.filter(owner=user).select_related("cohort")


@dataclass(frozen=True)
class Refusal:
    status: int  # the HTTP status that says it: 403 forbidden, 410 expired, 409 not ready
    reason: str


def download_refusal(*, user: AbstractBaseUser, export: Export) -> Refusal | None:
    """Why `user` may not download `export` now, or None when they may."""
    if export.owner_id != user.pk:
        return Refusal(403, "Only the person who made an export may download it.")
    if not can_export(user):
        return Refusal(403, "You may no longer export data.")
    if export.level == Level.IDENTIFIED and not all(
        can_export_identified(user, site) for site in export.scope_sites
    ):
        return Refusal(403, "You no longer administer every site in this export.")
    if export.is_expired():
        return Refusal(410, "This export has expired and its file was deleted.")
    if export.status != ExportStatus.DONE:
        return Refusal(409, "This export is not ready.")
    return None
