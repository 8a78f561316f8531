"""Shared plumbing for write services: permission, validation, history, conflicts."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from registry.models import Site
from registry.selectors import can_edit_clinical
from registry.signals import clinical_data_changed


class ConflictError(Exception):
    """Someone else saved the record after this edit began; nothing was written.

    `changes` lists (field, value when the edit began, value now) so the user sees what
    the other person changed.
    """

    def __init__(self, instance: models.Model, changes: list[tuple[str, Any, Any]]):
        self.instance = instance
        self.changes = changes
        names = ", ".join(field for field, _, _ in changes) or "the record"
        super().__init__(
            f"This {instance._meta.verbose_name} was changed by someone else while you were "
            f"editing it ({names}). Nothing was saved: review their change and edit again."
        )


def require_clinical_edit(*, user: AbstractBaseUser, site: Site) -> None:
    if not can_edit_clinical(user=user, site=site):
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


def announce_change(*, site_id: int, user: AbstractBaseUser) -> None:
    transaction.on_commit(
        lambda: clinical_data_changed.send(sender=Site, site_id=site_id, user=user)
    )


def _changes_since(instance: models.Model, expected_version: int) -> list[tuple[str, Any, Any]]:
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
) -> models.Model:
    """Apply `data` to a clinical record if nobody saved it since `expected_version`."""
    model = type(instance)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=instance.pk)
        if locked.version != expected_version:
            raise ConflictError(locked, _changes_since(locked, expected_version))
        for field, value in data.items():
            setattr(locked, field, value)
        locked.version += 1
        save_validated(locked, user=user)
    return locked
