"""Reads for the outcomes app: who sees what, the cases of a cohort, and its frames."""

from outcomes.selectors.access import (
    Scope,
    cohort_editable_by,
    cohort_visible_to,
    cohorts_visible_to,
    patients_in_scope,
    run_visible_to,
    runs_visible_to,
    scope_for,
)
from outcomes.selectors.cases import cohort_cases
from outcomes.selectors.cohort_data import CohortData
from outcomes.selectors.frames import OUTCOMES, PERIOPERATIVE, TIMEPOINTS

__all__ = [
    "OUTCOMES",
    "PERIOPERATIVE",
    "TIMEPOINTS",
    "CohortData",
    "Scope",
    "cohort_cases",
    "cohort_editable_by",
    "cohort_visible_to",
    "cohorts_visible_to",
    "patients_in_scope",
    "run_visible_to",
    "runs_visible_to",
    "scope_for",
]
