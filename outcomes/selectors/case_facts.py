"""Per case: where, by whom and when it was done, and whether a 1-year visit exists.

What benchmarking (per site, per surgeon) and trends (per quarter) need beyond the
frames of `frames`: one narrow row per case, read in the same snapshot as the others.
The date is read as year, month and day numbers (the frame reader's kinds are numeric).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear

from outcomes.selectors.sql import read_frame
from registry.models import FollowUpVisit, Procedure, TimepointChoice

InCohort = Callable[[str], Any]


def read_case_facts(in_cohort: InCohort) -> pd.DataFrame:
    """One row per case (index unit_id): site_id, surgeon_id (NaN when not recorded),
    procedure date, and has_1y_visit (a 1-year visit recorded, in or out of window)."""
    one_year = FollowUpVisit.objects.filter(
        procedure_id=OuterRef("pk"), timepoint=TimepointChoice.YEAR_1
    )
    rows = (
        Procedure.objects.filter(in_cohort("pk"))
        .annotate(
            unit_id=F("pk"),
            case_site=F("patient__site_id"),
            case_surgeon=F("surgeon_id"),
            year=ExtractYear("date"),
            month=ExtractMonth("date"),
            day=ExtractDay("date"),
            has_1y_visit=Exists(one_year),
        )
        .order_by("pk")
    )
    frame = read_frame(
        rows,
        {
            "unit_id": "id",
            "case_site": "id",
            "case_surgeon": "int",
            "year": "int",
            "month": "int",
            "day": "int",
            "has_1y_visit": "bool",
        },
    )
    dates = pd.to_datetime(frame[["year", "month", "day"]].astype("int64"), errors="coerce")
    return pd.DataFrame(
        {
            "site_id": frame["case_site"].to_numpy(),
            "surgeon_id": frame["case_surgeon"].to_numpy(),
            "date": dates.to_numpy(),
            "has_1y_visit": frame["has_1y_visit"].fillna(False).astype(bool).to_numpy(),
        },
        index=pd.Index(frame["unit_id"], name="unit_id"),
    )
