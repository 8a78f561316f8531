"""Security middleware: headers on every response, the second factor, the access log.

Each works on every URL, present and future, so a new page or API endpoint is covered without
doing anything: it gets `Cache-Control: no-store`, the Permissions-Policy, the second-factor
gate, and its denials, token use and patient pages in the access log.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_otp import user_has_device

from registry import two_factor
from registry.audit import already_recorded, record_access, request_context
from registry.models import AccessAction, Patient

GetResponse = Callable[[HttpRequest], HttpResponse]


class SecurityHeadersMiddleware:
    """`Cache-Control: no-store` on every response Django renders: pages and API answers may
    carry health data, and a shared browser or proxy must keep none of it. Static files are
    served by whitenoise before this runs and stay cacheable. Also the Permissions-Policy."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class SecondFactorMiddleware:
    """A signed-in user who must pass a second factor (registry.two_factor) and has not yet
    passed it this session reaches only the enrolment/verification pages and sign-out."""

    EXEMPT_NAMES = frozenset(
        {"two_factor_setup", "two_factor_verify", "logout", "session_keepalive", "healthz"}
    )

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and two_factor.is_required(request)
            and not user.is_verified()
            and not self._exempt(request)
        ):
            enrolled = user_has_device(user, confirmed=True)
            name = "two_factor_verify" if enrolled else "two_factor_setup"
            return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    def _exempt(self, request: HttpRequest) -> bool:
        if request.path.startswith(settings.STATIC_URL):
            return True
        match = getattr(request, "resolver_match", None)
        if match is None:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return False
        return match.url_name in self.EXEMPT_NAMES


class AccessAuditMiddleware:
    """After the view (and outside its transaction, so a rolled-back request still leaves its
    trace): every 403 is a denial; a patient URL that answers 404 to a signed-in user is a
    denial too (another site's patient does not exist for them); a 2xx on a patient URL is
    "this user opened this patient's record"; a request authenticated by an API token is a
    token use."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(request):  # token receivers log this request's user and address
            response = self.get_response(request)
        status = response.status_code
        match = getattr(request, "resolver_match", None)
        registry_id = match.kwargs.get("registry_id") if match is not None else None
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        token = getattr(request, "auth", None)
        if isinstance(token, Model):
            record_access(
                request_or_user=request, action=AccessAction.TOKEN_USED, obj=token, status=status
            )
        if status == 403 or (status == 404 and registry_id and signed_in):
            record_access(
                request_or_user=request,
                action=AccessAction.DENIED,
                obj=str(registry_id) if registry_id else None,
                status=status,
                view=match.view_name if match is not None else "",
            )
        elif (
            registry_id
            and signed_in
            and request.method in ("GET", "HEAD")
            and 200 <= status < 300
            and not already_recorded(request, AccessAction.PATIENT_VIEWED, str(registry_id))
        ):
            site_id = (
                Patient.objects.filter(registry_id=registry_id)
                .values_list("site_id", flat=True)
                .first()
            )
            record_access(
                request_or_user=request,
                action=AccessAction.PATIENT_VIEWED,
                obj=str(registry_id),
                object_type="registry.patient",
                site=site_id,
                status=status,
                view=match.view_name,
            )
        return response
