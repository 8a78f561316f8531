"""Benchmarking: each site, and each surgeon within a site, against the registry rate.

For a funnel plot (Spiegelhalter 2005): every unit is a point at its denominator n and
its rate; the centre line is the registry rate; the 95 % and 99.8 % control limits come
from the binomial distribution at each n (scipy.stats.binom), with Spiegelhalter's
interpolation between the discrete quantiles (his appendix A.1.1) so that the limits are
smooth in n. A unit outside 99.8 % is flagged, never ranked.

The run reads every site of its scope; what a viewer may see of it (names, other sites,
small cells) is decided when the figure is drawn, not here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binom

from outcomes.analyses.base import Progress
from outcomes.selectors import CohortData
from registry.followup import window_dates

# Two-sided limits: probability in each tail.
LIMITS = {"95": 0.025, "998": 0.001}
GRID_POINTS = 120

MEASURES = {
    "leakage": ("Cement leakage, per patient (any treated level)", "patient"),
    "vas_12w_le_3": ("VAS 3 or less at 12 weeks", "patient with a 12-week VAS"),
    "followup_1y": ("1-year follow-up completed", "patient whose 1-year window has closed"),
}


def binomial_limit(n: np.ndarray, rate: float, probability: float) -> np.ndarray:
    """The `probability` quantile of events/n under Binomial(n, rate), interpolated."""
    n = np.asarray(n, dtype=float)
    if not 0.0 < rate < 1.0:
        return np.full(n.shape, rate)
    r = binom.ppf(probability, n, rate)
    at_r = binom.cdf(r, n, rate)
    below = binom.cdf(r - 1, n, rate)
    alpha = (at_r - probability) / (at_r - below)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def control_limits(n: np.ndarray, rate: float) -> dict[str, np.ndarray]:
    limits = {}
    for name, tail in LIMITS.items():
        limits[f"lower{name}"] = binomial_limit(n, rate, tail)
        limits[f"upper{name}"] = binomial_limit(n, rate, 1.0 - tail)
    return limits


def funnel(events: pd.Series, keys: pd.DataFrame) -> dict[str, Any]:
    """`events`: boolean per case (NA: not in the denominator); `keys`: site_id and
    surgeon_id per case, aligned on `events`."""
    known = events.notna().to_numpy()
    hits = events.fillna(False).astype(bool).to_numpy()[known]
    frame = keys.loc[known].assign(event=hits)
    total_n, total_events = len(frame), int(hits.sum())
    rate = total_events / total_n if total_n else None
    units = []
    for level, columns in (("site", ["site_id"]), ("surgeon", ["site_id", "surgeon_id"])):
        grouped = frame.dropna(subset=columns).groupby(columns, observed=True)["event"]
        counts = grouped.agg(["sum", "size"])
        for key, row in counts.iterrows():
            site_id, surgeon_id = (key, None) if level == "site" else key
            units.append(
                {
                    "level": level,
                    "site_id": int(site_id),
                    "surgeon_id": None if surgeon_id is None else int(surgeon_id),
                    "events": int(row["sum"]),
                    "n": int(row["size"]),
                }
            )
    limits: dict[str, list[float]] = {"n": []}
    if rate is not None and units:
        largest = max(unit["n"] for unit in units)
        grid = np.unique(np.geomspace(1, max(largest, 2) * 1.1, GRID_POINTS).round())
        limits = {"n": grid.tolist()}
        limits |= {key: values.tolist() for key, values in control_limits(grid, rate).items()}
        at_units = control_limits(np.array([unit["n"] for unit in units]), rate)
        for index, unit in enumerate(units):
            unit["rate"] = unit["events"] / unit["n"]
            for name in LIMITS:
                low, high = at_units[f"lower{name}"][index], at_units[f"upper{name}"][index]
                unit[f"outside{name}"] = bool(unit["rate"] < low or unit["rate"] > high)
    else:
        for unit in units:
            unit.update(rate=None, outside95=False, outside998=False)
    return {
        "registry": {"events": total_events, "n": total_n, "rate": rate},
        "limits": limits,
        "units": units,
    }


def one_year_closed(dates: pd.Series, as_of: date) -> np.ndarray:
    """Cases whose 1-year window has closed by `as_of` (the follow-up status rule)."""
    closes_after = window_dates("1y", date(2000, 1, 1)).closes - date(2000, 1, 1)
    last_closed = pd.Timestamp(as_of - closes_after - timedelta(days=1))
    return (dates <= last_closed).to_numpy()


def benchmarking(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    # The run's as-of date (a parameter, stored on the run), never the day it is read:
    # which 1-year windows have closed is a fact of the run, not of the clock.
    as_of = date.fromisoformat(parameters["as_of"])
    cases = data.cases.set_index("unit_id")
    facts = data.case_facts.reindex(cases.index)
    keys = facts[["site_id", "surgeon_id"]]
    vas_12w = data.visit_pivot["vas_12w"].reindex(cases.index)
    closed = one_year_closed(facts["date"], as_of)
    outcomes = {
        "leakage": cases["leaked"].astype("boolean"),
        "vas_12w_le_3": pd.Series(
            vas_12w.to_numpy() <= 3, index=cases.index, dtype="boolean"
        ).where(vas_12w.notna()),
        "followup_1y": pd.Series(
            facts["has_1y_visit"].to_numpy(), index=cases.index, dtype="boolean"
        ).where(closed),
    }
    measures = []
    for done, (key, events) in enumerate(outcomes.items(), start=1):
        label, unit = MEASURES[key]
        measures.append({"key": key, "label": label, "unit": unit, **funnel(events, keys)})
        progress(done / len(outcomes))
    return {"as_of": as_of.isoformat(), "measures": measures}
