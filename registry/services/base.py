"""Shared plumbing for write services: permission, validation, history, conflicts,
duplicates."""

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction

from registry import permissions
from registry.models import Site
from registry.services.errors import ConflictError, DuplicateError
from registry.signals import clinical_data_changed

__all__ = [
    "ConflictError",
    "announce_change",
    "insert_unique",
    "require_clinical_edit",
    "save_validated",
    "update_record",
]


def require_clinical_edit(*, user: AbstractBaseUser, site: Site) -> None:
    if not permissions.can_edit_site(user, site):
        raise PermissionDenied("You may not edit clinical records of this site.")


def save_validated(instance: models.Model, *, user: AbstractBaseUser) -> models.Model:
    """full_clean then save, attributing the history row to `user`.

    ValidationError carries field-level messages; callers run inside transaction.atomic so
    a failure leaves nothing half-saved.
    """
    instance.refresh_derived()
    instance.full_clean()
    instance._history_user = user
    instance.save()
    return instance


def insert_unique(
    instance: models.Model,
    *,
    user: AbstractBaseUser,
    duplicate: Callable[[], DuplicateError | None],
) -> models.Model:
    """Save a new record that a unique constraint guards.

    `duplicate()` looks for the record that would clash and returns the error to raise (or
    None). It runs before the insert (the sequential case) and again when the insert loses a
    race (IntegrityError: a concurrent request committed the same record a moment ago), so
    both end with the same field-level message instead of a 500.
    """
    clash = duplicate()
    if clash is not None:
        raise clash
    try:
        with transaction.atomic():
            return save_validated(instance, user=user)
    except IntegrityError:
        clash = duplicate()
        if clash is None:
            raise
        raise clash from None


def announce_change(*, site_id: int, user: AbstractBaseUser) -> None:
    transaction.on_commit(
        lambda: clinical_data_changed.send(sender=Site, site_id=site_id, user=user)
    )


def changes_since(instance: models.Model, expected_version: int) -> list[tuple[str, Any, Any]]:
    seen = instance.history.filter(version=expected_version).order_by("-history_date").first()
    current = instance.history.order_by("-history_date").first()
    if seen is None or current is None:
        return []
    delta = current.diff_against(seen, excluded_fields=["updated_at", "version"])
    return [(c.field, c.old, c.new) for c in delta.changes]


def update_record(
    instance: models.Model,
    *,
    user: AbstractBaseUser,
    expected_version: int,
    data: Mapping[str, Any],
    part: str | None = None,
    index: int | None = None,
) -> models.Model:
    """Apply `data` to a clinical record if nobody saved it since `expected_version`."""
    model = type(instance)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=instance.pk)
        if locked.version != expected_version:
            raise ConflictError(
                locked, changes_since(locked, expected_version), part=part, index=index
            )
        for field, value in data.items():
            setattr(locked, field, value)
        locked.version += 1
        save_validated(locked, user=user)
    return locked
