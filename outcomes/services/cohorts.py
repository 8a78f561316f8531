"""Writes of cohort definitions: create (once per idempotency key, once per definition and
owner) and update; both kept in history like clinical records.

Errors: ValidationError (field-level, e.g. a bad filter), DuplicateError (the owner has a
cohort with this definition already: `existing` is it; the API answers 409), PermissionDenied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from outcomes import cohorts
from outcomes.cohorts import RULE_FIELDS
from outcomes.models import Cohort
from outcomes.selectors import cohort_editable_by
from registry.models import Site, Technique
from registry.services.errors import DuplicateError
from registry.services.idempotency import record_once


def _normalised(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Canonical filters (ISO dates, sorted codes) before the JSON field sees them: a date
    from a form is not JSON, and a raw "Value must be valid JSON" helps nobody."""
    return cohorts.normalise_filters(
        filters,
        technique_codes=Technique.objects.values_list("code", flat=True),
        site_codes=Site.objects.values_list("code", flat=True),
    )


def _same_definition(cohort: Cohort) -> DuplicateError | None:
    definition = cohorts.definition_hash(cohort.filters, cohort.rules)
    existing = (
        Cohort.objects.filter(owner_id=cohort.owner_id, definition_hash=definition)
        .exclude(pk=cohort.pk)
        .first()
    )
    if existing is None:
        return None
    return DuplicateError(
        f"You already have a cohort with this definition: “{existing.name}”.", existing=existing
    )


def _save(cohort: Cohort, *, user: AbstractBaseUser) -> Cohort:
    """Validate and save; a duplicate definition (also one a concurrent request saved a
    moment ago) is a DuplicateError naming the existing cohort."""
    clash = _same_definition(cohort)
    if clash is not None:
        raise clash
    cohort._history_user = user
    try:
        cohort.full_clean()
        with transaction.atomic():
            cohort.save()
    except (ValidationError, IntegrityError):
        # A concurrent request saved the same definition after the check above: full_clean's
        # constraint check (Django's generic message) or the unique index caught it.
        clash = _same_definition(cohort)
        if clash is None:
            raise
        raise clash from None
    return cohort


def cohort_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    filters: Mapping[str, Any] | None = None,
    rules: Mapping[str, bool] | None = None,
    description: str = "",
    auto_refresh: bool = True,
    idempotency_key: str | None = None,
) -> Cohort:
    """`rules` toggles the seed studies' inclusion rules; a rule not given is on."""
    unknown = set(rules or {}) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({"rules": f"Unknown rule(s): {', '.join(sorted(unknown))}."})

    def create() -> Cohort:
        cohort = Cohort(
            owner=owner,
            name=name,
            description=description,
            filters=_normalised(filters),
            auto_refresh=auto_refresh,
            **dict(rules or {}),
        )
        return _save(cohort, user=owner)

    with transaction.atomic():
        return record_once(user=owner, key=idempotency_key, action="cohort_create", create=create)


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
            setattr(locked, field, _normalised(value) if field == "filters" else value)
        _save(locked, user=user)
    return locked


def cohort_delete(*, user: AbstractBaseUser, cohort: Cohort) -> None:
    """Remove a cohort definition and its runs (aggregates, not clinical data): owner only."""
    if not cohort_editable_by(user=user, cohort=cohort):
        raise PermissionDenied("Only the owner may delete this cohort.")
    cohort.delete()
