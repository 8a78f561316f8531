"""The named analyses a run can ask for, and the standard report that bundles three."""

from __future__ import annotations

from typing import Any

from outcomes.analyses.base import Analysis, Progress, no_progress
from outcomes.analyses.benchmarking import benchmarking
from outcomes.analyses.logistic import OUTCOME_LABELS, PREDICTOR_LABELS, logistic
from outcomes.analyses.parameters import Choice, Date, Integer, MultiChoice, parameters_hash
from outcomes.analyses.rates import rates
from outcomes.analyses.tables import table1, table2
from outcomes.analyses.trajectories import trajectories
from outcomes.analyses.trends import trends
from outcomes.presenters import dashboards as dashboards_presenter
from outcomes.presenters import rates as rates_presenter
from outcomes.presenters import tables as tables_presenter
from outcomes.presenters import trajectories as trajectories_presenter
from outcomes.selectors import OUTCOMES, CohortData

_OUTCOME_KEYS = tuple(OUTCOMES)
_OUTCOME_NAMES = {key: spec.label for key, spec in OUTCOMES.items()}


def standard_report(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    """Every outcome's trajectory, the rates and Table 1: what the nightly job refreshes."""

    def part(start: float, end: float) -> Progress:
        return lambda fraction: progress(start + (end - start) * fraction)

    # Computed in the order the frames arrive (the visits first, then the cases' frame,
    # the radiographs last: `CohortData.BEHIND`), stored in the report's order.
    visit_keys = [key for key in _OUTCOME_KEYS if not OUTCOMES[key].radiographic]
    film_keys = [key for key in _OUTCOME_KEYS if OUTCOMES[key].radiographic]
    first = trajectories(data, {**parameters, "outcomes": visit_keys}, part(0.0, 0.3))
    rated = rates(data, {}, part(0.3, 0.45))
    table = table1(data, {}, part(0.45, 0.6))
    later = trajectories(data, {**parameters, "outcomes": film_keys}, part(0.6, 1.0))
    outcomes = sorted(
        [*first["outcomes"], *later["outcomes"]], key=lambda o: _OUTCOME_KEYS.index(o["key"])
    )
    return {
        "trajectories": {**first, "outcomes": outcomes},
        "rates": rated,
        "table1": table,
    }


def present_standard_report(body: dict) -> list:
    return [
        *trajectories_presenter.present(body["trajectories"]),
        *rates_presenter.present(body["rates"]),
        *tables_presenter.present_table1(body["table1"]),
    ]


# The follow-up parameters of every analysis that reads visits by timepoint.
FOLLOWUP_PARAMETERS = {
    "as_of": Date("Data as of (the day windows are judged on)"),
    "out_of_window": Choice(
        "Out-of-window visits",
        ("exclude", "include"),
        "exclude",
        names={"exclude": "Leave out (default)", "include": "Let in at their timepoint"},
    ),
    "unit": Choice(
        "Unit of the radiographic analyses",
        ("patient", "level"),
        "patient",
        names={"patient": "Patient (mean over vertebrae)", "level": "Treated vertebra"},
    ),
}


# VAS and ODI first (the first trajectories need nothing else), the rest read behind.
_ALL_FRAMES = ("visit_pivot", "withdrawn", "film_pivot", "cases", "adverse_events")

ANALYSES: dict[str, Analysis] = {
    analysis.name: analysis
    for analysis in (
        Analysis(
            name="standard_report",
            label="Standard report",
            description="Trajectories of every outcome, the rates, and Table 1.",
            compute=standard_report,
            reads=_ALL_FRAMES,
            parameters=FOLLOWUP_PARAMETERS,
            present=present_standard_report,
        ),
        Analysis(
            name="trajectories",
            label="Outcome trajectories",
            description=(
                "Per technique per timepoint: n, missing, mean, SD, median, quartiles, "
                "95 % CI; change from baseline (paired t, Wilcoxon); between techniques."
            ),
            compute=trajectories,
            present=trajectories_presenter.present,
            reads=("visit_pivot", "withdrawn", "film_pivot"),
            parameters={
                "outcomes": MultiChoice(
                    "Outcomes", _OUTCOME_KEYS, _OUTCOME_KEYS, names=_OUTCOME_NAMES
                ),
                **FOLLOWUP_PARAMETERS,
            },
        ),
        Analysis(
            name="rates",
            label="Rates and perioperative items",
            description=(
                "Leakage per patient, per level and by Yeom type, device rupture per device, "
                "adverse events by type and grade (Wilson CI, chi-square / Fisher); "
                "perioperative items between techniques."
            ),
            compute=rates,
            present=rates_presenter.present,
            reads=("visit_pivot", "cases", "adverse_events"),
        ),
        Analysis(
            name="table1",
            label="Table 1: baseline characteristics",
            description="Baseline characteristics by technique with the test per row.",
            compute=table1,
            present=tables_presenter.present_table1,
            reads=("visit_pivot", "cases"),
        ),
        Analysis(
            name="table2",
            label="Table 2: before vs follow-up by stratum",
            description="Paired pre/post per outcome, overall and by age, sex and region.",
            compute=table2,
            present=tables_presenter.present_table2,
            reads=("visit_pivot", "withdrawn", "film_pivot", "cases"),
            parameters={
                "outcomes": MultiChoice(
                    "Outcomes", _OUTCOME_KEYS, ("vas", "body_height"), names=_OUTCOME_NAMES
                ),
                "followup": Choice("Follow-up", ("2w", "12w", "1y"), "12w"),
                "age_cut": Integer("Age cut (years)", 65, 40, 100),
                "strata": MultiChoice(
                    "Strata",
                    ("age", "sex", "region"),
                    ("age", "sex", "region"),
                    minimum=0,
                    names={"age": "Age", "sex": "Sex", "region": "Region"},
                ),
                **FOLLOWUP_PARAMETERS,
            },
        ),
        Analysis(
            name="logistic",
            label="Logistic regression",
            description=(
                "Odds ratios with 95 % CI; refused below 10 events per predictor or on separation."
            ),
            compute=logistic,
            present=tables_presenter.present_logistic,
            reads=("visit_pivot", "cases"),
            parameters={
                "outcome": Choice(
                    "Outcome", tuple(OUTCOME_LABELS), "leakage", names=OUTCOME_LABELS
                ),
                "predictors": MultiChoice(
                    "Predictors",
                    tuple(PREDICTOR_LABELS),
                    ("age", "sex", "technique"),
                    names=PREDICTOR_LABELS,
                ),
            },
        ),
        Analysis(
            name="trends",
            label="Trends by quarter",
            description=(
                "Per quarter of the procedure date and technique: cement leakage per patient "
                "(Wilson CI) and the mean VAS improvement to 12 weeks (t CI)."
            ),
            compute=trends,
            reads=("visit_pivot", "cases", "case_facts"),
            present=dashboards_presenter.present_trends,
        ),
        Analysis(
            name="benchmarking",
            label="Benchmarking (funnel plots)",
            description=(
                "Per site and per surgeon: leakage, VAS 3 or less at 12 weeks and 1-year "
                "follow-up against the registry rate, with binomial 95 % and 99.8 % limits."
            ),
            compute=benchmarking,
            reads=("visit_pivot", "cases", "case_facts"),
            present=dashboards_presenter.present_benchmarking,
            parameters={"as_of": FOLLOWUP_PARAMETERS["as_of"]},
        ),
    )
}

STANDARD_REPORT = "standard_report"


def get_analysis(name: str) -> Analysis:
    try:
        return ANALYSES[name]
    except KeyError:
        raise ValueError(f"unknown analysis {name!r}") from None


__all__ = [
    "ANALYSES",
    "STANDARD_REPORT",
    "Analysis",
    "Progress",
    "get_analysis",
    "no_progress",
    "parameters_hash",
]
