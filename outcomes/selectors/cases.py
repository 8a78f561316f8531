"""The cases of a cohort: one index procedure per eligible patient, as a queryset.

A patient enters a cohort with their first procedure (the index procedure: earliest date,
then lowest id); filters and inclusion rules are evaluated on it, and every analysis
follows that procedure's treated levels and visits. Later procedures (a new fracture
treated a year on) are not a second case. Everything here is one SQL statement built
with Exists subqueries, so it can be used as a subquery by the frames and the fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear
from django.db.models.lookups import Exact, LessThan

from outcomes import cohorts
from outcomes.selectors.access import Scope
from registry.models import (
    Aetiology,
    FollowUpVisit,
    Fracture,
    Procedure,
    RadiographicMeasurement,
    TimepointChoice,
    TreatedLevel,
)


def age_at_procedure(date: str = "date", birth: str = "patient__date_of_birth"):
    """Whole years at the procedure date as a SQL expression (portable: no AGE())."""
    month, birth_month = ExtractMonth(date), ExtractMonth(birth)
    before_birthday = LessThan(month, birth_month) | (
        Exact(month, birth_month) & LessThan(ExtractDay(date), ExtractDay(birth))
    )
    return (
        ExtractYear(date)
        - ExtractYear(birth)
        - Case(When(before_birthday, then=Value(1)), default=Value(0))
    )


def index_procedures() -> QuerySet[Procedure]:
    earlier = Procedure.objects.filter(patient_id=OuterRef("patient_id")).filter(
        Q(date__lt=OuterRef("date")) | Q(date=OuterRef("date"), pk__lt=OuterRef("pk"))
    )
    return Procedure.objects.exclude(Exists(earlier))


def cohort_cases(
    *,
    filters: Mapping[str, Any],
    rules: Mapping[str, bool],
    scope: Scope,
    withdrawn: bool = False,
) -> QuerySet[Procedure]:
    """Index procedures of the active patients of `scope` who meet the definition
    (`withdrawn=True`: those of the patients who withdrew, to count them, never analyse)."""
    f = cohorts.normalise_filters(filters)
    cases = index_procedures().filter(
        patient__site_id__in=scope.site_ids, patient__withdrawn_at__isnull=not withdrawn
    )
    if f["techniques"]:
        cases = cases.filter(technique__code__in=f["techniques"])
    if f["sites"]:
        cases = cases.filter(patient__site__code__in=f["sites"])
    if f["date_from"]:
        cases = cases.filter(date__gte=f["date_from"])
    if f["date_to"]:
        cases = cases.filter(date__lte=f["date_to"])
    if f["sexes"]:
        cases = cases.filter(patient__sex__in=f["sexes"])
    minimum_age = f["age_min"]
    if rules.get("rule_min_age"):
        minimum_age = max(minimum_age or 0, cohorts.MIN_AGE)
    if minimum_age is not None or f["age_max"] is not None:
        cases = cases.alias(age=age_at_procedure())
        if minimum_age is not None:
            cases = cases.filter(age__gte=minimum_age)
        if f["age_max"] is not None:
            cases = cases.filter(age__lte=f["age_max"])
    levels = TreatedLevel.objects.filter(procedure_id=OuterRef("pk"))
    if f["genant_grades"]:
        cases = cases.exclude(Exists(levels.exclude(fracture__genant_grade__in=f["genant_grades"])))
    if f["region"]:
        region_levels = cohorts.REGIONS[f["region"]]
        cases = cases.exclude(Exists(levels.exclude(fracture__level__in=region_levels)))
    if f["levels"]:
        cases = cases.alias(n_levels=Subquery(treated_level_count()))
        cases = (
            cases.filter(n_levels=1) if f["levels"] == "single" else cases.filter(n_levels__gt=1)
        )
    if rules.get("rule_baseline_vas"):
        baseline_vas = FollowUpVisit.objects.filter(
            procedure_id=OuterRef("pk"),
            timepoint=TimepointChoice.BASELINE,
            vas__gte=cohorts.MIN_BASELINE_VAS,
        )
        cases = cases.filter(Exists(baseline_vas))
    if rules.get("rule_collapse"):
        collapsed = RadiographicMeasurement.objects.filter(
            visit__procedure_id=OuterRef("pk"),
            visit__timepoint=TimepointChoice.BASELINE,
            rfvh_percent__lte=100 - cohorts.MIN_COLLAPSE_PERCENT,
        )
        cases = cases.filter(Exists(collapsed))
    if rules.get("rule_exclude_pathological"):
        pathological = Fracture.objects.filter(patient_id=OuterRef("patient_id")).exclude(
            aetiology=Aetiology.OSTEOPOROTIC
        )
        cases = cases.exclude(Exists(pathological))
    return cases


def treated_level_count() -> QuerySet[TreatedLevel]:
    """Number of vertebrae treated in the outer procedure, as a scalar subquery."""
    return (
        TreatedLevel.objects.filter(procedure_id=OuterRef("pk"))
        .order_by()
        .values("procedure_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
