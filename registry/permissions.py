"""Who may do what: the one module that views, templates, selectors, forms, services and the
REST API ask.

A user's role at each site is read once and cached on the user object (a request's user lives
for one request, so the cache does too). Superusers act as site administrators everywhere.
Visibility of patients (which rows exist for a user at all) is `registry.selectors.visibility`;
this module answers "may this user do X with this site/patient".
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser

from registry.models import Patient, Role, Site, SiteMembership

# Roles that write clinical forms. Coordinators read, run statistics and export.
EDITOR_ROLES = frozenset({Role.SURGEON, Role.SITE_ADMIN})
STATISTICS_ROLES = frozenset({Role.SURGEON, Role.COORDINATOR, Role.SITE_ADMIN})
EXPORT_ROLES = frozenset({Role.COORDINATOR, Role.SITE_ADMIN})
_CACHE = "_registry_roles"

SiteRef = Site | int


def _site_id(site: SiteRef) -> int:
    return site if isinstance(site, int) else site.pk


def roles_of(user: AbstractBaseUser) -> dict[int, str]:
    """site id -> the user's role there; computed once per user object (once per request)."""
    cached = getattr(user, _CACHE, None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        cached = {}
    elif user.is_superuser:
        cached = dict.fromkeys(Site.objects.values_list("pk", flat=True), Role.SITE_ADMIN)
    else:
        cached = dict(SiteMembership.objects.filter(user=user).values_list("site_id", "role"))
    setattr(user, _CACHE, cached)
    return cached


def forget_roles(user: AbstractBaseUser) -> None:
    """Drop the cached roles (after a membership changes within the same user object)."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def role_at(user: AbstractBaseUser, site: SiteRef) -> str | None:
    return roles_of(user).get(_site_id(site))


def site_ids_with(user: AbstractBaseUser, allowed: Iterable[str]) -> list[int]:
    allowed = frozenset(allowed)
    return sorted(site_id for site_id, role in roles_of(user).items() if role in allowed)


def readable_site_ids(user: AbstractBaseUser) -> list[int]:
    return sorted(roles_of(user))


def editable_site_ids(user: AbstractBaseUser) -> list[int]:
    return site_ids_with(user, EDITOR_ROLES)


def can_read(user: AbstractBaseUser, site: SiteRef) -> bool:
    return _site_id(site) in roles_of(user)


def can_edit_site(user: AbstractBaseUser, site: SiteRef) -> bool:
    """May write clinical records at this site (surgeons and site administrators)."""
    return role_at(user, site) in EDITOR_ROLES


def can_edit(user: AbstractBaseUser, patient: Patient) -> bool:
    """May change this patient's clinical records: an editor at its site, not withdrawn."""
    return can_edit_site(user, patient.site_id) and not patient.is_withdrawn


def can_enter_cases(user: AbstractBaseUser) -> bool:
    return bool(editable_site_ids(user))


WITHDRAW_ROLES = frozenset({Role.SITE_ADMIN})


def can_withdraw_at_site(user: AbstractBaseUser, site: SiteRef) -> bool:
    """May withdraw this site's patients (whatever their state): site administrators."""
    return role_at(user, site) in WITHDRAW_ROLES


def can_withdraw(user: AbstractBaseUser, patient: Patient) -> bool:
    return can_withdraw_at_site(user, patient.site_id) and not patient.is_withdrawn


def can_run_statistics(user: AbstractBaseUser) -> bool:
    return bool(site_ids_with(user, STATISTICS_ROLES))


def can_export(user: AbstractBaseUser, site: SiteRef | None = None) -> bool:
    """De-identified exports: coordinators and site administrators (of `site`, when given)."""
    if site is None:
        return bool(site_ids_with(user, EXPORT_ROLES))
    return role_at(user, site) in EXPORT_ROLES


def can_export_identified(user: AbstractBaseUser, site: SiteRef) -> bool:
    """Identified exports: only a site administrator of that site (DOMAIN.md)."""
    return role_at(user, site) == Role.SITE_ADMIN


def is_site_admin_somewhere(user: AbstractBaseUser) -> bool:
    return bool(site_ids_with(user, {Role.SITE_ADMIN}))


def can_view_access_log(user: AbstractBaseUser) -> bool:
    """The access log: superusers (all of it) and site administrators (their sites' part)."""
    return bool(user.is_authenticated and user.is_active) and (
        user.is_superuser or is_site_admin_somewhere(user)
    )


def access_log_site_ids(user: AbstractBaseUser) -> list[int] | None:
    """The sites whose access events the user may read; None means every event."""
    if user.is_superuser:
        return None
    return site_ids_with(user, {Role.SITE_ADMIN})


def can_unlock_user(user: AbstractBaseUser, target: AbstractBaseUser | None) -> bool:
    """Lift a sign-in lockout: a superuser for anyone (or an address), a site administrator
    for a member of one of their sites."""
    if user.is_superuser:
        return True
    if target is None:
        return False
    admin_sites = set(site_ids_with(user, {Role.SITE_ADMIN}))
    return bool(
        admin_sites
        & set(SiteMembership.objects.filter(user=target).values_list("site_id", flat=True))
    )
