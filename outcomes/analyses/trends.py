"""Trends over time: per quarter of the procedure date and per technique, the cement
leakage rate per patient (Wilson 95 % CI) and the mean VAS improvement from baseline to
12 weeks (95 % t CI, complete pairs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from outcomes.analyses.base import Progress
from outcomes.selectors import CohortData
from outcomes.statistics import describe_continuous, describe_proportion

VAS_DECIMALS = 1  # VAS is recorded to one decimal: differences are exact at that precision


def quarter_labels(dates: pd.Series) -> pd.Series:
    periods = pd.PeriodIndex(pd.to_datetime(dates), freq="Q")
    return pd.Series([f"{p.year} Q{p.quarter}" for p in periods], index=dates.index)


def trends(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    cases = data.cases.set_index("unit_id")
    facts = data.case_facts.reindex(cases.index)
    pivot = data.visit_pivot.reindex(cases.index)
    frame = pd.DataFrame(
        {
            "technique": cases["technique"].astype(str),
            "quarter": quarter_labels(facts["date"]),
            "leaked": cases["leaked"].astype("boolean"),
            # Improvement = baseline - 12 weeks (positive is less pain), at VAS precision.
            "vas_gain": np.round(pivot["vas_baseline"] - pivot["vas_12w"], VAS_DECIMALS),
        }
    )
    quarters = sorted(frame["quarter"].dropna().unique())
    leakage, vas = [], []
    groups = frame.groupby(["technique", "quarter"], observed=True, sort=True)
    for (technique, quarter), group in groups:
        leaked = group["leaked"].dropna()
        if len(leaked):
            p = describe_proportion(int(leaked.sum()), len(leaked))
            leakage.append(
                {
                    "technique": technique,
                    "quarter": quarter,
                    "n": p.n,
                    "events": p.count,
                    "value": p.proportion,
                    "ci_low": p.ci_low,
                    "ci_high": p.ci_high,
                }
            )
        gain = describe_continuous(group["vas_gain"])
        if gain.n:
            vas.append(
                {
                    "technique": technique,
                    "quarter": quarter,
                    "n": gain.n,
                    "value": gain.mean,
                    "ci_low": gain.ci_low,
                    "ci_high": gain.ci_high,
                }
            )
    progress(1.0)
    return {
        "techniques": data.techniques,
        "quarters": quarters,
        "measures": [
            {
                "key": "leakage",
                "label": "Cement leakage per patient",
                "unit": "proportion",
                "points": leakage,
            },
            {
                "key": "vas_gain_12w",
                "label": "VAS improvement, baseline to 12 weeks",
                "unit": "VAS points",
                "points": vas,
            },
        ],
    }
