"""Multivariable logistic regression (statsmodels Logit): odds ratio, 95 % CI, p per term.

The house rule is to refuse rather than print a misleading model: fewer than 10 events per
predictor (counting the rarer of events and non-events, and every dummy column as a
predictor), or a fit that separates perfectly or quasi-perfectly. Seed 000 prints a logistic
model on 95 patients with ORs that sit nowhere near the middle of their CIs; a registry
that refuses such fits protects its users from publishing the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# The two modules needed, not `statsmodels.api` (which imports all of statsmodels: about a
# second and 40 MB more in every process that loads the outcomes app).
from statsmodels.discrete.discrete_model import Logit
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning
from statsmodels.tools.tools import add_constant

from ._results import LOGIT, ResultMixin, clean_float, join_notes

MIN_EVENTS_PER_PREDICTOR = 10
# |coefficient x SD of the predictor| above this is an OR > e^10 (~22,000) per SD: no
# clinical predictor does that; a fit drifting towards infinity (separation) does.
MAX_STANDARDISED_COEF = 10.0


class RegressionRefused(Exception):
    """Raised by ``LogisticResult.raise_if_refused`` for callers that prefer exceptions."""

    def __init__(self, result: LogisticResult) -> None:
        super().__init__(f"{result.refusal}: {result.reason}")
        self.result = result


@dataclass
class OddsRatio(ResultMixin):
    term: str
    coefficient: float | None
    std_error: float | None
    odds_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p: float | None


@dataclass
class LogisticResult(ResultMixin):
    """``status`` is "ok" or "refused"; when refused, ``refusal`` is a stable code
    (too_few_events_per_predictor, separation, not_converged, singular_design,
    outcome_not_binary, no_variation) and ``reason`` a sentence for the user."""

    outcome: str
    predictors: list[str]
    n: int
    n_missing: int
    status: str = "ok"
    refusal: str | None = None
    reason: str | None = None
    test: str = LOGIT
    events: int = 0
    non_events: int = 0
    n_parameters: int = 0
    events_per_parameter: float | None = None
    min_events_per_predictor: int = MIN_EVENTS_PER_PREDICTOR
    terms: list[OddsRatio] = field(default_factory=list)
    intercept: float | None = None
    converged: bool | None = None
    log_likelihood: float | None = None
    pseudo_r2: float | None = None
    confidence: float = 0.95
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def refuse(self, code: str, reason: str) -> LogisticResult:
        self.status, self.refusal, self.reason = "refused", code, reason
        self.terms, self.intercept = [], None
        return self

    def raise_if_refused(self) -> LogisticResult:
        if not self.ok:
            raise RegressionRefused(self)
        return self

    def term(self, name: str) -> OddsRatio:
        for item in self.terms:
            if item.term == name:
                return item
        raise KeyError(name)


def design_matrix(frame: pd.DataFrame, predictors: Sequence[str]) -> pd.DataFrame:
    """Numeric predictors as they are; text/categorical ones as 0/1 dummies (first level
    is the reference), so each dummy counts as a predictor for events-per-predictor."""
    data = frame[list(predictors)].copy()
    for column in data.columns:
        if isinstance(data[column].dtype, pd.CategoricalDtype):  # no all-zero dummy columns
            data[column] = data[column].cat.remove_unused_categories()
    categorical = [
        c
        for c in predictors
        if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])
    ]
    return pd.get_dummies(data, columns=categorical, drop_first=True, dtype=float).astype(float)


def logistic_regression(
    frame: pd.DataFrame,
    *,
    outcome: str,
    predictors: Sequence[str],
    min_events_per_predictor: int = MIN_EVENTS_PER_PREDICTOR,
    confidence: float = 0.95,
) -> LogisticResult:
    """Fit ``outcome ~ predictors`` on complete cases, or explain why not."""
    data = frame[[outcome, *predictors]]
    complete = data.dropna()
    result = LogisticResult(
        outcome=outcome,
        predictors=list(predictors),
        n=len(complete),
        n_missing=len(data) - len(complete),
        confidence=confidence,
        min_events_per_predictor=min_events_per_predictor,
    )
    y = _binary_outcome(complete[outcome])
    if y is None:
        return result.refuse("outcome_not_binary", f"{outcome} must be boolean or 0/1")
    X = design_matrix(complete, predictors)
    result.events, result.non_events = int(y.sum()), int(len(y) - y.sum())
    result.n_parameters = X.shape[1]
    limiting = min(result.events, result.non_events)
    if limiting == 0 or X.shape[1] == 0:
        return result.refuse("no_variation", "the outcome does not vary or there is no predictor")
    result.events_per_parameter = limiting / X.shape[1]
    if result.events_per_parameter < min_events_per_predictor:
        return result.refuse(
            "too_few_events_per_predictor",
            f"{limiting} {'events' if limiting == result.events else 'non-events'} for "
            f"{X.shape[1]} predictor(s): {result.events_per_parameter:.1f} per predictor, "
            f"fewer than {min_events_per_predictor}",
        )
    problem = _univariate_problem(X, y)
    if problem:
        return result.refuse(*problem)
    return _fit(result, X, y)


def _binary_outcome(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(values):
        return values.astype(int)
    if not pd.api.types.is_numeric_dtype(values) or not values.isin([0, 1]).all():
        return None
    return values.astype(int)


def _univariate_problem(X: pd.DataFrame, y: pd.Series) -> tuple[str, str] | None:
    """Constant columns make the design singular; a column whose values do not overlap
    between events and non-events separates the outcome (complete or quasi-complete)."""
    for column in X.columns:
        x = X[column]
        if x.nunique() < 2:
            return "singular_design", f"{column} is constant in the complete cases"
        events, others = x[y == 1], x[y == 0]
        if events.min() >= others.max() or others.min() >= events.max():
            return "separation", f"{column} separates the outcome (no overlap between groups)"
    return None


def _fit(result: LogisticResult, X: pd.DataFrame, y: pd.Series) -> LogisticResult:
    exog = add_constant(X, has_constant="add")
    if np.linalg.matrix_rank(exog.to_numpy()) < exog.shape[1]:
        return result.refuse("singular_design", "collinear predictors (design not of full rank)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitted = Logit(y, exog).fit(disp=0, maxiter=100)
        except PerfectSeparationError as error:
            return result.refuse("separation", f"perfect separation: {error}")
        except np.linalg.LinAlgError as error:
            return result.refuse("singular_design", f"collinear predictors: {error}")
    categories = {w.category for w in caught}
    if PerfectSeparationWarning in categories:
        return result.refuse("separation", "statsmodels detected perfect separation")
    result.converged = bool(fitted.mle_retvals.get("converged", False))
    standardised = (fitted.params.drop("const") * X.std(ddof=1)).abs()
    exploding = not np.isfinite(fitted.bse).all() or (standardised > MAX_STANDARDISED_COEF).any()
    if (exploding or not result.converged) and _fits_some_perfectly(fitted):
        worst = standardised.idxmax()
        return result.refuse(
            "separation",
            f"the predictors jointly separate the outcome (largest effect: {worst}); "
            "coefficients drift towards infinity",
        )
    if not result.converged:
        return result.refuse("not_converged", "the fit did not converge")
    if exploding:
        return result.refuse("separation", "implausibly large coefficients: separation suspected")
    result.note = join_notes(*sorted({str(w.message).split("\n")[0] for w in caught}))
    _store_terms(result, fitted)
    return result


def _fits_some_perfectly(fitted: Any) -> bool:
    """Fitted probabilities of exactly 0 or 1 (to 1e-6) are the signature of separation."""
    with np.errstate(over="ignore"):  # exp() of a diverging linear predictor overflows
        probabilities = np.asarray(fitted.predict())
    return bool(((probabilities < 1e-6) | (probabilities > 1 - 1e-6)).any())


def _store_terms(result: LogisticResult, fitted: Any) -> None:
    """Odds ratios and CIs are exp() of statsmodels' Wald estimates and intervals."""
    ci = fitted.conf_int(alpha=1 - result.confidence)
    for term in fitted.params.index.drop("const"):
        result.terms.append(
            OddsRatio(
                term=str(term),
                coefficient=clean_float(fitted.params[term]),
                std_error=clean_float(fitted.bse[term]),
                odds_ratio=clean_float(np.exp(fitted.params[term])),
                ci_low=clean_float(np.exp(ci.loc[term, 0])),
                ci_high=clean_float(np.exp(ci.loc[term, 1])),
                z=clean_float(fitted.tvalues[term]),
                p=clean_float(fitted.pvalues[term]),
            )
        )
    result.intercept = clean_float(fitted.params["const"])
    result.log_likelihood = clean_float(fitted.llf)
    result.pseudo_r2 = clean_float(fitted.prsquared)
