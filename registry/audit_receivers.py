"""Sign-in events and API tokens into the access log (connected in RegistryConfig.ready)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save

from registry.audit import current_request, record_access
from registry.models import AccessAction

# Token models of the installed API authentication packages, logged when made or revoked.
TOKEN_MODELS = [("registry", "ApiToken"), ("knox", "AuthToken")]


def _signed_in(sender, request, user, **kwargs) -> None:
    record_access(
        request_or_user=request if request is not None else user, action=AccessAction.SIGN_IN
    )


def _signed_out(sender, request, user, **kwargs) -> None:
    if user is None:  # signing out of an anonymous session: nothing to say
        return
    # Sent before logout() replaces request.user, so the request still names who left.
    record_access(
        request_or_user=request if request is not None else user, action=AccessAction.SIGN_OUT
    )


def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))
    record_access(
        request_or_user=request,
        action=AccessAction.SIGN_IN_FAILED,
        username=username,
        locked_out=bool(getattr(request, "axes_locked_out", False)),
    )


def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    record_access(
        request_or_user=request,
        action=AccessAction.LOCKED_OUT,
        username=str(username or ""),
        locked_address=ip_address,
    )


def _token_event(instance, action: str) -> None:
    """Who did it from where: the request being answered (the tokens page, the admin), else
    the token's owner (a management command); the owner is kept in the detail either way."""
    record_access(
        request_or_user=current_request() or instance.user,
        action=action,
        obj=instance,
        owner=instance.user.get_username(),
    )


def _token_saved(sender, instance, created, **kwargs) -> None:
    if created:
        _token_event(instance, AccessAction.TOKEN_CREATED)


def _token_deleted(sender, instance, **kwargs) -> None:
    _token_event(instance, AccessAction.TOKEN_REVOKED)


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="access-log-sign-in")
    user_logged_out.connect(_signed_out, dispatch_uid="access-log-sign-out")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="access-log-sign-in-failed")
    if apps.is_installed("axes"):
        from axes.signals import user_locked_out

        user_locked_out.connect(_locked_out, dispatch_uid="access-log-locked-out")
    for app_label, model_name in TOKEN_MODELS:
        if apps.is_installed(app_label):
            model = apps.get_model(app_label, model_name)
            post_save.connect(_token_saved, sender=model, dispatch_uid=f"access-log-{app_label}+")
            post_delete.connect(
                _token_deleted, sender=model, dispatch_uid=f"access-log-{app_label}-"
            )
