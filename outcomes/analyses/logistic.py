"""Multivariable logistic regression of a binary outcome on chosen patient predictors."""

from __future__ import annotations

from typing import Any

import pandas as pd

from outcomes.analyses.base import Progress
from outcomes.selectors import CohortData
from outcomes.statistics import logistic_regression

OUTCOME_LABELS = {
    "leakage": "Cement leakage at any treated level",
    "vas_1y_le_3": "VAS 3 or less at 1 year",
}
PREDICTOR_LABELS = {
    "age": "Age (years)",
    "sex": "Sex",
    "bmi": "BMI",
    "bmd_t_score": "Lowest BMD T-score",
    "technique": "Technique",
    "n_levels": "Number of treated levels",
    "genant_grade": "Genant grade (highest treated)",
    "baseline_vas": "Baseline VAS",
    "cement_volume_ml": "Cement volume (ml)",
    "region": "Treated region",
}


def outcome_column(data: CohortData, outcome: str) -> pd.Series:
    """The binary outcome per case, aligned on `data.cases` (NA where unknown)."""
    cases = data.cases
    if outcome == "leakage":
        return cases["leaked"]
    vas = data.visit_pivot["vas_1y"].reindex(cases["unit_id"]).to_numpy()
    return pd.Series(vas <= 3, index=cases.index, dtype="boolean").where(~pd.isna(vas))


def logistic(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    outcome, predictors = parameters["outcome"], parameters["predictors"]
    frame = data.cases[predictors].copy()
    frame[outcome] = outcome_column(data, outcome)
    result = logistic_regression(frame, outcome=outcome, predictors=predictors)
    progress(1.0)
    return {
        "outcome_label": OUTCOME_LABELS[outcome],
        "predictor_labels": {p: PREDICTOR_LABELS[p] for p in predictors},
        **result.to_dict(),
    }
