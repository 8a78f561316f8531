"""One small builder per figure: records from `outcomes.dashboards.results` in, a `Chart`
(plotly.js figure dict and CSV rows) out. No database, no request."""

from outcomes.dashboards.figures.base import Chart
from outcomes.dashboards.figures.complications import (
    clavien_dindo,
    device_rupture,
    leakage_rates,
    leakage_types,
)
from outcomes.dashboards.figures.funnel import funnel_plot
from outcomes.dashboards.figures.outcomes import change_from_baseline, outcome_by_technique
from outcomes.dashboards.figures.trends import trend

__all__ = [
    "Chart",
    "change_from_baseline",
    "clavien_dindo",
    "device_rupture",
    "funnel_plot",
    "leakage_rates",
    "leakage_types",
    "outcome_by_technique",
    "trend",
]
