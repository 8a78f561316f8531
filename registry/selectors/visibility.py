"""Reads that decide who sees what. Every view, API and export goes through these."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from registry.models import Patient, Role, Site, SiteMembership


def sites_visible_to(*, user: AbstractBaseUser) -> QuerySet[Site]:
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(memberships__user=user).distinct()


def patients_visible_to(*, user: AbstractBaseUser) -> QuerySet[Patient]:
    """The one rule: a user sees the patients of the sites they belong to; superusers all.

    Withdrawn patients stay visible here (their record and history remain); statistics and
    exports add `.active()`.
    """
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    if user.is_superuser:
        return Patient.objects.all()
    site_ids = SiteMembership.objects.filter(user=user).values("site_id")
    return Patient.objects.filter(site_id__in=site_ids)


def role_at(*, user: AbstractBaseUser, site: Site) -> str | None:
    """The user's role at a site, or None. Superusers act as site administrators."""
    if user.is_superuser:
        return Role.SITE_ADMIN
    membership = SiteMembership.objects.filter(user=user, site=site).only("role").first()
    return membership.role if membership else None


def can_edit_clinical(*, user: AbstractBaseUser, site: Site) -> bool:
    """Surgeons and site administrators write clinical forms; coordinators only read."""
    return role_at(user=user, site=site) in {Role.SURGEON, Role.SITE_ADMIN}


def can_withdraw(*, user: AbstractBaseUser, site: Site) -> bool:
    return role_at(user=user, site=site) == Role.SITE_ADMIN
