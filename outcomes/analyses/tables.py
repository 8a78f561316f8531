"""Table 1 (baseline characteristics by technique) and Table 2 (pre/post by stratum)."""

from __future__ import annotations

from typing import Any

from outcomes.analyses.base import Progress
from outcomes.selectors import OUTCOMES, CohortData
from outcomes.statistics import (
    Outcome,
    Variable,
    age_stratum,
    baseline_table,
    prepost_table,
    region_stratum,
    sex_stratum,
)
from registry.models import OsteoporosisTreatment, Smoking

SEX = {"F": "Female", "M": "Male"}
REGIONS = {"thoracic": "Thoracic", "lumbar": "Lumbar", "both": "Thoracic and lumbar"}

TABLE1_VARIABLES = (
    Variable("age", "Age (years)", decimals=1, show_range=True),
    Variable("sex", "Sex", kind="categorical", levels=SEX),
    Variable("bmi", "BMI (kg/m²)", decimals=1),
    Variable("bmd_t_score", "Lowest BMD T-score", decimals=1),
    Variable(
        "asa_class",
        "ASA class",
        kind="categorical",
        levels={float(n): label for n, label in enumerate(("I", "II", "III", "IV", "V"), 1)},
    ),
    Variable("smoking", "Smoking", kind="categorical", levels=dict(Smoking.choices)),
    Variable(
        "corticosteroid_use",
        "Corticosteroid use",
        kind="categorical",
        levels={True: "Yes", False: "No"},
    ),
    Variable(
        "osteoporosis_treatment",
        "Anti-osteoporosis treatment",
        kind="categorical",
        levels=dict(OsteoporosisTreatment.choices),
    ),
    Variable(
        "levels",
        "Number of treated levels",
        kind="categorical",
        levels={"single": "Single level", "multi": "Multi-level"},
    ),
    Variable("region", "Treated region", kind="categorical", levels=REGIONS),
    Variable(
        "genant_grade",
        "Genant grade (highest treated)",
        kind="categorical",
        levels={1.0: "1", 2.0: "2", 3.0: "3"},
    ),
    Variable("baseline_vas", "VAS before the procedure", decimals=1),
    Variable("baseline_odi", "ODI (%) before the procedure", decimals=1),
)


def table1(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    table = baseline_table(
        data.cases,
        TABLE1_VARIABLES,
        group_col="technique",
        groups=data.techniques,
        title="Table 1. Baseline characteristics by technique",
    )
    progress(1.0)
    return {"table": table.to_dict(), "text": table.to_text()}


def table2(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    """One table per technique: pre vs follow-up per outcome, overall and by stratum."""
    strata = {
        "age": age_stratum(parameters["age_cut"]),
        "sex": sex_stratum(),  # Male, then Female, as seed 002 prints them
        "region": region_stratum(levels=REGIONS),
    }
    chosen = [strata[name] for name in parameters["strata"]]
    cases = data.cases
    covariates = cases[["unit_id", "age", "sex", "region"]]
    frames = {key: data.outcome_long(key) for key in parameters["outcomes"]}
    tables = []
    for done, technique in enumerate(data.techniques, start=1):
        units = cases.loc[cases["technique"] == technique, "unit_id"]
        outcomes = [
            Outcome(
                OUTCOMES[key].label,
                frame.loc[frame["unit_id"].isin(units), ["unit_id", "timepoint", "value"]],
                OUTCOMES[key].decimals,
            )
            for key, frame in frames.items()
        ]
        table = prepost_table(
            outcomes,
            covariates=covariates[covariates["unit_id"].isin(units)],
            strata=chosen,
            followup=parameters["followup"],
            title=f"Table 2. {technique} (n = {len(units)}): before vs {parameters['followup']}",
        )
        tables.append({"technique": technique, "table": table.to_dict(), "text": table.to_text()})
        progress(done / max(len(data.techniques), 1))
    return {"tables": tables}
