"""Sign-in pages beyond Django's own: the TOTP second factor and the password reset.

Enrolment shows a QR code (the otpauth:// URL as an SVG image, no script) and the key for
typing in; it is confirmed by the first code the app shows. Verification takes a code from
any confirmed device. Both are throttled by django-otp (growing delays after failures).
"""

from __future__ import annotations

import base64
from io import BytesIO
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry import two_factor
from registry.audit import record_access
from registry.models import AccessAction


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(
            {"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _qr_data_uri(url: str) -> str:
    buffer = BytesIO()
    qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
def two_factor_setup_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        messages.info(request, "Your account already has a second factor, verified this session.")
        return redirect(_next_url(request))
    if any(devices_for_user(user, confirmed=True)):
        return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': _next_url(request)})}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            two_factor.mark_required(request)
            record_access(
                request_or_user=request, action=AccessAction.SECOND_FACTOR_ENROLLED, obj=device
            )
            messages.success(request, "Second factor set up: sign-ins now ask for a code.")
            return redirect(_next_url(request))
        record_access(request_or_user=request, action=AccessAction.SECOND_FACTOR_FAILED)
        form.add_error("token", "That code is not the one the app shows now. Try the next one.")
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
            "required": two_factor.must_enrol(user),
            "next": _next_url(request),
        },
    )


@login_required
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    devices = list(devices_for_user(user, confirmed=True))
    if not devices:
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': _next_url(request)})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip()
        for device in devices:
            allowed, _ = device.verify_is_allowed()
            if allowed and device.verify_token(token):
                otp_login(request, device)
                record_access(
                    request_or_user=request, action=AccessAction.SECOND_FACTOR, obj=device
                )
                return redirect(_next_url(request))
        record_access(request_or_user=request, action=AccessAction.SECOND_FACTOR_FAILED)
        form.add_error(
            "token", "That code was not accepted. Wait for the next one (failures slow this down)."
        )
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Mails a reset link when EMAIL_URL is configured. Without a mail server it says so and
    points to an administrator, rather than claiming a mail was sent."""

    template_name = "registration/password_reset_form.html"

    def dispatch(self, request, *args, **kwargs):
        if not settings.EMAIL_CONFIGURED:
            return render(request, "registration/password_reset_by_admin.html")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        record_access(request_or_user=self.request, action=AccessAction.PASSWORD_RESET)
        return super().form_valid(form)
