"""Who may see and edit what, decided in one place for every view.

A patient outside the user's sites does not exist for them (404). Reading is open to every
member of the site; editing needs a surgeon or site administrator there (403 otherwise), and
a withdrawn patient's record is read-only.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from registry.models import Patient, Role, Site, SiteMembership
from registry.selectors import patients_visible_to, sites_visible_to

READ_ONLY = (
    "You can read this site's records but not edit them: clinical forms are for the site's "
    "surgeons and site administrators."
)
WITHDRAWN = "This patient withdrew consent: the record and its history are kept read-only."


def visible_patient(request: HttpRequest, registry_id: str) -> Patient:
    return get_object_or_404(
        patients_visible_to(user=request.user).select_related("site"), registry_id=registry_id
    )


def roles(request: HttpRequest) -> dict[int, str]:
    """site id -> the user's role there, once per request."""
    cached = getattr(request, "_registry_roles", None)
    if cached is None:
        user = request.user
        if user.is_superuser:
            cached = dict.fromkeys(
                sites_visible_to(user=user).values_list("pk", flat=True), Role.SITE_ADMIN
            )
        else:
            cached = dict(SiteMembership.objects.filter(user=user).values_list("site_id", "role"))
        request._registry_roles = cached
    return cached


def may_edit(request: HttpRequest, patient: Patient) -> bool:
    return (
        roles(request).get(patient.site_id) in {Role.SURGEON, Role.SITE_ADMIN}
        and not patient.is_withdrawn
    )


def may_withdraw(request: HttpRequest, patient: Patient) -> bool:
    return roles(request).get(patient.site_id) == Role.SITE_ADMIN and not patient.is_withdrawn


def require_edit(request: HttpRequest, patient: Patient) -> None:
    if roles(request).get(patient.site_id) not in {Role.SURGEON, Role.SITE_ADMIN}:
        raise PermissionDenied(READ_ONLY)
    if patient.is_withdrawn:
        raise PermissionDenied(WITHDRAWN)


def editable_patient(request: HttpRequest, registry_id: str) -> Patient:
    patient = visible_patient(request, registry_id)
    require_edit(request, patient)
    return patient


def editable_sites(request: HttpRequest) -> QuerySet[Site]:
    site_ids = [
        site_id
        for site_id, role in roles(request).items()
        if role in {Role.SURGEON, Role.SITE_ADMIN}
    ]
    return Site.objects.filter(pk__in=site_ids).order_by("code")


def can_enter_cases(request: HttpRequest) -> bool:
    return any(role in {Role.SURGEON, Role.SITE_ADMIN} for role in roles(request).values())
