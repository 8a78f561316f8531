"""Writes of cohort definitions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from outcomes.cohorts import RULE_FIELDS
from outcomes.models import Cohort
from outcomes.selectors import cohort_editable_by


def cohort_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    filters: Mapping[str, Any] | None = None,
    rules: Mapping[str, bool] | None = None,
    description: str = "",
    auto_refresh: bool = True,
) -> Cohort:
    """`rules` toggles the seed studies' inclusion rules; a rule not given is on."""
    unknown = set(rules or {}) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({"rules": f"Unknown rule(s): {', '.join(sorted(unknown))}."})
    cohort = Cohort(
        owner=owner,
        name=name,
        description=description,
        filters=dict(filters or {}),
        auto_refresh=auto_refresh,
        **dict(rules or {}),
    )
    with transaction.atomic():
        cohort.full_clean()
        cohort.save()
    return cohort


def cohort_update(*, user: AbstractBaseUser, cohort: Cohort, data: Mapping[str, Any]) -> Cohort:
    """Change a cohort's name or definition. Results of the old definition stay attached
    but are never reused for the new one (the definition hash differs)."""
    if not cohort_editable_by(user=user, cohort=cohort):
        raise PermissionDenied("Only the owner may change this cohort.")
    editable = {"name", "description", "filters", "auto_refresh", *cohort.rules}
    unknown = set(data) - editable
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
        for field, value in data.items():
            setattr(locked, field, value)
        locked.full_clean()
        locked.save()
    return locked


def cohort_delete(*, user: AbstractBaseUser, cohort: Cohort) -> None:
    """Remove a cohort definition and its runs (aggregates, not clinical data): owner only."""
    if not cohort_editable_by(user=user, cohort=cohort):
        raise PermissionDenied("Only the owner may delete this cohort.")
    cohort.delete()
