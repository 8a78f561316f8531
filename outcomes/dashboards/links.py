"""From a statistics run to the dashboard that draws it (the run result page links there)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from outcomes.dashboards.filters import URL_KEYS
from outcomes.models import StatisticsRun

PAGE_OF = {
    "standard_report": "outcomes",
    "trajectories": "outcomes",
    "rates": "complications",
    "trends": "trends",
    "benchmarking": "benchmarking",
}
REPORT_ANALYSES = ("table1", "table2")


def dashboard_url(run: StatisticsRun) -> str:
    """The dashboard of the run's analysis with its cohort in the URL ("" if none)."""
    if run.analysis in REPORT_ANALYSES:
        path = reverse("outcomes:dashboard_report")
    elif run.analysis in PAGE_OF:
        path = reverse("outcomes:dashboard", args=[PAGE_OF[run.analysis]])
    else:
        return ""
    cohort = run.cohort
    if not cohort.dashboard_view:
        return f"{path}?{urlencode({'cohort': cohort.pk})}"
    # A dashboard's own cohort: its filters back into the URL they came from.
    query = []
    for name, key in URL_KEYS.items():
        value = cohort.filters.get(key)
        for item in value if isinstance(value, list) else [value]:
            if item not in (None, ""):
                query.append((name, item))
    return f"{path}?{urlencode(query)}" if query else path
