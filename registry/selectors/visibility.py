"""Reads that decide which rows exist for a user. Every view, API and export goes through
these; who may *do* what with them is `registry.permissions`."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from registry.models import Patient, Site, SiteMembership


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
