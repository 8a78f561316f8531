"""From aggregate query parameters to the cohort they describe.

`cohort=<id>` names a saved cohort the caller may see. Otherwise the filters make an
ad-hoc definition; its cohort row (owned by the caller, never auto-refreshed) is found by
definition hash or created once through the cohort service, so that its runs are stored
and reused like any other.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from outcomes import cohorts
from outcomes.models import Cohort
from outcomes.selectors import cohorts_visible_to
from outcomes.services import cohort_create
from registry.models import Site, Technique

# cohort filter key -> the query parameter that sets it (for error messages)
PARAMETER_OF = {
    "techniques": "techniques",
    "sites": "site",
    "date_from": "procedure_from",
    "date_to": "procedure_to",
    "genant_grades": "genant_grade",
    "region": "region",
    "sexes": "sex",
    "age_min": "age_min",
    "age_max": "age_max",
}


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def filters_from_query(query: dict[str, Any]) -> dict[str, Any]:
    raw = {
        "techniques": _split(query.get("techniques")),
        "sites": _split(query.get("site")),
        "date_from": query.get("procedure_from"),
        "date_to": query.get("procedure_to"),
        "genant_grades": _split(query.get("genant_grade")),
        "region": query.get("region"),
        "sexes": [query["sex"]] if query.get("sex") else [],
        "age_min": query.get("age_min"),
        "age_max": query.get("age_max"),
    }
    for key in ("date_from", "date_to"):
        if raw[key] is not None:
            raw[key] = raw[key].isoformat()
    try:
        # The codes that exist are read only when the query names some (two queries fewer
        # on every aggregate GET without them).
        return cohorts.normalise_filters(
            raw,
            technique_codes=Technique.objects.values_list("code", flat=True)
            if raw["techniques"]
            else None,
            site_codes=Site.objects.values_list("code", flat=True) if raw["sites"] else None,
        )
    except ValidationError as error:
        raise ValidationError(
            {PARAMETER_OF.get(key, key): messages for key, messages in error.message_dict.items()}
        ) from None


def cohort_for_query(*, user, query: dict[str, Any]) -> Cohort:
    if query.get("cohort"):
        cohort = cohorts_visible_to(user=user).filter(pk=query["cohort"]).first()
        if cohort is None:
            raise Http404("No such cohort.")
        return cohort
    filters = filters_from_query(query)
    on = bool(query.get("inclusion_rules", True))
    rules = dict.fromkeys(cohorts.RULE_FIELDS, on)
    digest = cohorts.definition_hash(filters, rules)
    existing = Cohort.objects.filter(owner=user, definition_hash=digest).first()
    if existing is not None:
        return existing
    name = "API: " + "; ".join(cohorts.describe(filters, rules))
    try:
        with transaction.atomic():
            return cohort_create(
                owner=user, name=name[:200], filters=filters, rules=rules, auto_refresh=False
            )
    except (IntegrityError, ValidationError):
        # The same ad-hoc definition created a moment ago by a concurrent request.
        existing = Cohort.objects.filter(owner=user, definition_hash=digest).first()
        if existing is None:
            raise
        return existing
