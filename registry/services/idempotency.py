"""Run a create once per idempotency key (a form's token, an API `Idempotency-Key` header)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from registry.models import IdempotencyKey

M = TypeVar("M", bound=models.Model)
MAX_KEY_LENGTH = 128
KEEP_FOR = timedelta(days=2)


class KeyReusedError(ValidationError):
    """The key was used before for a different action: a client bug, never a silent replay."""


def _replay(user: AbstractBaseUser, key: str, action: str) -> models.Model | None:
    done = IdempotencyKey.objects.filter(user=user, key=key).select_related("content_type").first()
    if done is None:
        return None
    if done.action != action:
        raise KeyReusedError(
            f"This idempotency key was already used for {done.action}, not {action}.",
            code="idempotency_key_reused",
        )
    return done.content_type.get_object_for_this_type(pk=done.object_id)


def replayed(*, user: AbstractBaseUser, key: str | None, action: str) -> models.Model | None:
    """The record a key already created for this action, if any (a page checks this before
    deciding that, say, nothing is left to treat)."""
    return _replay(user, key, action) if key else None


def run_once(
    *, user: AbstractBaseUser, key: str | None, action: str, create: Callable[[], M]
) -> tuple[M, bool]:
    """Return (record, created). Without a key, just create. With one, the first call creates
    and records the key in the same transaction; a repeat (even a concurrent one: the unique
    (user, key) index makes it wait for the first and then fail) returns the first record."""
    if not key:
        return create(), True
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            {"idempotency_key": f"An idempotency key has at most {MAX_KEY_LENGTH} characters."}
        )
    first = _replay(user, key, action)
    if first is not None:
        return first, False
    try:
        with transaction.atomic():
            record = create()
            IdempotencyKey.objects.create(
                user=user,
                key=key,
                action=action,
                content_type=ContentType.objects.get_for_model(record),
                object_id=str(record.pk),
            )
    except (IntegrityError, ValidationError):
        # Either a concurrent twin committed our key first (replay it: its create held a lock
        # or a unique index entry ours waited on, so ours then found the record it made and
        # raised a DuplicateError, or our key insert hit the unique index), or the create
        # itself failed (no key row then: the caller gets the error).
        first = _replay(user, key, action)
        if first is None:
            raise
        return first, False
    return record, True


def record_once(
    *, user: AbstractBaseUser, key: str | None, action: str, create: Callable[[], M]
) -> M:
    """`run_once` for services: the record, with `record.replayed` True when the key had
    been used (the API answers 200 with the first record instead of 201)."""
    record, created = run_once(user=user, key=key, action=action, create=create)
    record.replayed = not created
    return record


def forget_old_keys(*, now=None) -> int:
    """Purge keys past the replay horizon (a beat task calls this)."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
