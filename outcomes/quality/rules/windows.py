"""Finder for visits recorded outside their timepoint's window (registry/followup.py)."""

from __future__ import annotations

import pandas as pd
from django.db.models import F, Q

from outcomes.quality.rules.base import SCHEDULED, Context, EpochDays, day_text, flagged
from registry import derived


def outside_window_q(days: str = "q_days") -> Q:
    """Visits whose day after the procedure lies outside their timepoint's inclusive window:
    the SQL twin of `followup_status(...) == OUT_OF_WINDOW` (pinned by literal cases)."""
    condition = Q(pk__in=[])
    for timepoint in SCHEDULED:
        window = derived.WINDOWS[timepoint]
        outside = Q(**{f"{days}__lt": window.start}) | Q(**{f"{days}__gt": window.end})
        condition |= Q(timepoint=timepoint) & outside
    return condition


def visit_out_of_window(ctx: Context) -> pd.DataFrame:
    rows = (
        ctx.visits()
        .filter(timepoint__in=SCHEDULED)
        .annotate(q_days=EpochDays("visit_date") - EpochDays("procedure__date"))
        .filter(outside_window_q())
    )

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        days = frame["days"].astype(int)
        start = frame["item"].astype(str).map(lambda tp: derived.WINDOWS[tp].start)
        end = frame["item"].astype(str).map(lambda tp: derived.WINDOWS[tp].end)
        value = day_text(frame["visited"]) + " (day " + days.astype(str) + ")"
        detail = (
            "visit on day "
            + days.astype(str)
            + " after the procedure; window days "
            + start.astype(str)
            + " to "
            + end.astype(str)
        )
        return value, detail

    return flagged(
        rows,
        site="procedure__patient__site_id",
        patient="procedure__patient_id",
        item="timepoint",
        numbers={"days": F("q_days"), "visited": EpochDays("visit_date")},
        describe=describe,
    )
