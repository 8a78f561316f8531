"""DRF permission classes. Each asks `registry.permissions` (the one permission module);
none holds a rule of its own beyond what a token's scope narrows."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from registry import permissions
from registry.models import ApiToken
from registry.services.edits import patient_of


def token_of(request) -> ApiToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None


def is_deidentified(request) -> bool:
    """A de-identified token: responses never carry an identifying field."""
    token = token_of(request)
    return bool(token and token.deidentified)


class TokenScope(BasePermission):
    """Signed in, and a read-only token only reads (a browser session has its user's rights)."""

    message = "This token is read-only: create a read-write token to change records."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        token = token_of(request)
        return request.method in SAFE_METHODS or token is None or token.can_write

    def has_object_permission(self, request, view, obj) -> bool:
        return self.has_permission(request, view)


class ClinicalRecordPermission(BasePermission):
    """Creating needs an editor role somewhere (the service checks the record's own site);
    changing a record needs `can_edit` on its patient."""

    message = "You may not change clinical records of this site."

    def has_permission(self, request, view) -> bool:
        if request.method == "POST" and getattr(view, "action", None) == "create":
            return permissions.can_enter_cases(request.user)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return permissions.can_read(request.user, patient_of(obj).site_id)
        if getattr(view, "action", None) == "withdraw":
            return True  # WithdrawPermission decides
        return permissions.can_edit(request.user, patient_of(obj))


class WithdrawPermission(BasePermission):
    message = "Only a site administrator of this patient's site can withdraw a patient."

    def has_object_permission(self, request, view, obj) -> bool:
        # Withdrawn already: the service answers (409); otherwise the role at its site.
        return permissions.can_withdraw_at_site(request.user, obj.site_id)


class CanRunStatistics(BasePermission):
    message = "Your role does not run statistics."

    def has_permission(self, request, view) -> bool:
        return permissions.can_run_statistics(request.user)
