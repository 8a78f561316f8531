"""Creating and revoking REST API tokens (the page, the admin and the management command
call these). The key is returned once and never stored: only its digest is (knox)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError

from registry import permissions
from registry.models import ApiToken, TokenScope

MAX_EXPIRY_DAYS = 3650


def deidentified_by_default(user: AbstractBaseUser) -> bool:
    """Coordinators (who read but do not enter cases) get de-identified tokens by default."""
    return not permissions.can_enter_cases(user)


def api_token_create(
    *,
    user: AbstractBaseUser,
    name: str,
    scope: str = TokenScope.READ,
    deidentified: bool | None = None,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Return the token row and its key (the only time the key exists in clear)."""
    errors = {}
    if not name.strip():
        errors["name"] = "Say what the token is for."
    if scope not in TokenScope.values:
        errors["scope"] = f"Choose {' or '.join(TokenScope.values)}."
    elif scope == TokenScope.WRITE and not permissions.can_enter_cases(user):
        errors["scope"] = "Your role only reads: a read-write token would not add anything."
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = f"Give 1 to {MAX_EXPIRY_DAYS} days, or no expiry."
    if errors:
        raise ValidationError(errors)
    if deidentified is None:
        deidentified = deidentified_by_default(user)
    expiry = timedelta(days=expires_in_days) if expires_in_days else None
    return ApiToken.objects.create(
        user, expiry=expiry, name=name.strip(), scope=scope, deidentified=deidentified
    )


def api_token_revoke(*, user: AbstractBaseUser, token: ApiToken) -> None:
    """A user revokes their own tokens; a superuser any."""
    if token.user_id != user.pk and not user.is_superuser:
        raise PermissionDenied("This is not your token.")
    token.delete()
