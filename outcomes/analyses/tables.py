"""Table 1 (baseline characteristics by technique) and Table 2 (pre/post by stratum)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from outcomes import variables
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

SEX = {"F": "Female", "M": "Male"}
REGIONS = dict(variables.variable("region").categories)


def _variable(code: str, **options: Any) -> Variable:
    """A Table 1 row block whose label, precision and categories come from the registry.
    Counts read from the database arrive as floats (ASA 5.0): the levels are keyed so."""
    info = variables.variable(code)
    if info.kind == "categorical":
        levels = {
            (float(key) if isinstance(key, int) and not isinstance(key, bool) else key): label
            for key, label in info.categories.items()
        }
        return Variable(code, variables.label(code), kind="categorical", levels=levels, **options)
    return Variable(code, variables.label(code), decimals=info.precision, **options)


TABLE1_VARIABLES = (
    _variable("age", show_range=True),
    _variable("sex"),
    _variable("bmi"),
    _variable("bmd_t_score"),
    _variable("asa_class"),
    _variable("smoking"),
    _variable("corticosteroid_use"),
    _variable("osteoporosis_treatment"),
    _variable("levels"),
    _variable("region"),
    _variable("genant_grade"),
    _variable("baseline_vas"),
    _variable("baseline_odi"),
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
    """One table per technique: pre vs follow-up per outcome, overall and by stratum.

    Pairs are those of the follow-up analyses: visits in their window (unless the run lets
    the others in), the vertebrae filmed at both visits, differences exact."""
    strata = {
        "age": age_stratum(parameters["age_cut"]),
        "sex": sex_stratum(levels={"M": "Male", "F": "Female"}),  # seed 002's order
        "region": region_stratum(levels=REGIONS),
    }
    chosen = [strata[name] for name in parameters["strata"]]
    followup = parameters["followup"]
    as_of = date.fromisoformat(parameters["as_of"])
    let_in = parameters["out_of_window"] == "include"
    cases = data.cases
    covariates = cases[["unit_id", "age", "sex", "region"]]
    unit_ids = data.visit_pivot.index.to_numpy()
    pairs = {}
    for key in parameters["outcomes"]:
        values = data.outcome_values(key, as_of=as_of, let_in_out_of_window=let_in)
        before, after, diff = values.pairs[followup]
        counted = values.counted(followup)
        pairs[key] = (
            pd.Series(before[counted], index=unit_ids[counted]),
            pd.Series(after[counted], index=unit_ids[counted]),
            pd.Series(diff[counted], index=unit_ids[counted]),
        )
    tables = []
    label = variables.timepoint_label(followup)
    for done, technique in enumerate(data.techniques, start=1):
        units = cases.loc[cases["technique"] == technique, "unit_id"]
        outcomes = []
        for key, (before, after, diff) in pairs.items():
            keep = before.index.isin(units)
            long = pd.concat(
                [
                    pd.DataFrame(
                        {
                            "unit_id": before.index[keep],
                            "timepoint": "baseline",
                            "value": before.to_numpy()[keep],
                        }
                    ),
                    pd.DataFrame(
                        {
                            "unit_id": after.index[keep],
                            "timepoint": followup,
                            "value": after.to_numpy()[keep],
                        }
                    ),
                ],
                ignore_index=True,
            )
            outcomes.append(
                Outcome(
                    OUTCOMES[key].label,
                    long,
                    OUTCOMES[key].decimals,
                    change=diff[keep],
                    variable=key,
                )
            )
        table = prepost_table(
            outcomes,
            covariates=covariates[covariates["unit_id"].isin(units)],
            strata=chosen,
            followup=followup,
            followup_label=label,
            title=f"Table 2. {technique} (n = {len(units)}): before vs {label}",
        )
        tables.append({"technique": technique, "table": table.to_dict(), "text": table.to_text()})
        progress(done / max(len(data.techniques), 1))
    return {"tables": tables, "as_of": as_of.isoformat(), "followup": followup}
