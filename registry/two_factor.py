"""Who must pass a second factor (TOTP, django-otp) before using the registry.

Required for superusers and site administrators when SECOND_FACTOR_REQUIRED_FOR_ADMINS is on
(the default in production), and for anyone who enrolled a device: enrolling is optional for
the others, and once done it is used. Decided at sign-in and kept in the session, so a page
costs no query for it; a role granted during a session applies from the next sign-in.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django_otp import user_has_device

from registry import permissions

SESSION_KEY = "registry_second_factor_required"


def must_enrol(user: AbstractBaseUser) -> bool:
    """The role alone demands a second factor (whether or not a device exists yet)."""
    return settings.SECOND_FACTOR_REQUIRED_FOR_ADMINS and (
        user.is_superuser or permissions.is_site_admin_somewhere(user)
    )


def second_factor_required(user: AbstractBaseUser) -> bool:
    return must_enrol(user) or user_has_device(user, confirmed=True)


def remember_requirement(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """user_logged_in receiver: decide once per sign-in."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = second_factor_required(user)


def is_required(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_KEY, False))


def mark_required(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = True
