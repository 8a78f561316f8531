"""Who may see and edit what, for every view: `registry.permissions` decides, this module turns
its answers into 404 / 403.

A patient outside the user's sites does not exist for them (404). Reading is open to every
member of the site; editing needs a surgeon or site administrator there (403 otherwise), and
a withdrawn patient's record is read-only.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from registry import permissions
from registry.models import Patient, Site
from registry.selectors import patients_visible_to

READ_ONLY = (
    "You can read this site's records but not edit them: clinical forms are for the site's "
    "surgeons and site administrators."
)
WITHDRAWN = "This patient withdrew consent: the record and its history are kept read-only."


def visible_patient(request: HttpRequest, registry_id: str) -> Patient:
    return get_object_or_404(
        patients_visible_to(user=request.user).select_related("site"), registry_id=registry_id
    )


def require_edit(request: HttpRequest, patient: Patient) -> None:
    if not permissions.can_edit_site(request.user, patient.site_id):
        raise PermissionDenied(READ_ONLY)
    if patient.is_withdrawn:
        raise PermissionDenied(WITHDRAWN)


def editable_patient(request: HttpRequest, registry_id: str) -> Patient:
    patient = visible_patient(request, registry_id)
    require_edit(request, patient)
    return patient


def editable_sites(request: HttpRequest) -> QuerySet[Site]:
    return Site.objects.filter(pk__in=permissions.editable_site_ids(request.user)).order_by("code")
