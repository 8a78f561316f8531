"""Follow-up completeness per site x timepoint, and PROM (ODI) completion.

`followup_statuses` is the vectorised twin of `registry.followup.followup_status` (the one
definition): the tests run both over a table of literal cases and require equal answers.
One query reads a row per procedure (its date, the patient's withdrawal, the visit date and
ODI per scheduled timepoint, pivoted by the database); the rest is numpy.

- due = recorded in window + recorded out of window + missing: the timepoints a patient
  owes by the as-of date (not-yet-due and withdrawn are not owed); completion = recorded / due.
- PROM completion: of the patients whose 12-week window has closed (and who had not
  withdrawn before it closed), the share with a baseline ODI and at least one follow-up ODI,
  on each patient's first procedure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import F, FloatField, Max, Q
from django.db.models.functions import Cast

from outcomes.quality.rules.base import SCHEDULED, EpochDays
from outcomes.selectors.fingerprint import EpochMicroseconds
from outcomes.selectors.sql import read_frame
from registry.derived import WINDOWS, Timepoint
from registry.followup import FollowUpStatus
from registry.models import Procedure

STATUSES = tuple(FollowUpStatus)
RECORDED = (FollowUpStatus.IN_WINDOW, FollowUpStatus.OUT_OF_WINDOW)
DUE = (*RECORDED, FollowUpStatus.MISSING)
FOLLOW_UP = tuple(tp for tp in SCHEDULED if tp != Timepoint.BASELINE)
PROM_DUE_TIMEPOINT = Timepoint.WEEK_12
_EPOCH = date(1970, 1, 1)


def epoch_day(value: date) -> int:
    return (value - _EPOCH).days


def followup_statuses(
    *,
    timepoint: str,
    procedure_day: np.ndarray,
    visit_day: np.ndarray,
    as_of_day: int,
    withdrawn_day: np.ndarray,
) -> np.ndarray:
    """FollowUpStatus codes for arrays of procedures at one timepoint (days since 1970;
    NaN = no visit / not withdrawn). Same rules, same order as `followup_status`."""
    window = WINDOWS[timepoint]
    procedure_day = np.asarray(procedure_day, dtype="float64")
    visit_day = np.asarray(visit_day, dtype="float64")
    withdrawn_day = np.asarray(withdrawn_day, dtype="float64")
    opens, closes = procedure_day + window.start, procedure_day + window.end
    has_visit = ~np.isnan(visit_day)
    inside = (visit_day >= opens) & (visit_day <= closes)
    withdrawn = ~np.isnan(withdrawn_day) & (withdrawn_day <= np.minimum(as_of_day, closes))
    return np.select(
        [has_visit & inside, has_visit, withdrawn, as_of_day > closes],
        [
            FollowUpStatus.IN_WINDOW.value,
            FollowUpStatus.OUT_OF_WINDOW.value,
            FollowUpStatus.WITHDRAWN.value,
            FollowUpStatus.MISSING.value,
        ],
        default=FollowUpStatus.NOT_DUE.value,
    )


def read_procedures(site_ids: Sequence[int]) -> pd.DataFrame:
    """A row per procedure of the sites (withdrawn patients included: they count as such)."""
    pivot = {}
    for tp in SCHEDULED:
        at = Q(visits__timepoint=tp)
        pivot[f"visit_{tp}"] = Max(EpochDays("visits__visit_date"), filter=at)
        pivot[f"odi_{tp}"] = Max(Cast("visits__odi_percent", FloatField()), filter=at)
    rows = (
        Procedure.objects.filter(patient__site_id__in=list(site_ids))
        .values("pk")
        .annotate(
            c_id=F("pk"),
            c_site=F("patient__site_id"),
            c_patient=F("patient_id"),
            c_day=EpochDays("date"),
            c_withdrawn=EpochMicroseconds("patient__withdrawn_at"),
            **pivot,
        )
        .order_by()
    )
    schema = {
        "c_id": "id",
        "c_site": "id",
        "c_patient": "id",
        "c_day": "id",
        "c_withdrawn": "float",
        **dict.fromkeys(pivot, "float"),
    }
    frame = read_frame(rows, schema)
    frame = frame.rename(columns={c: c[2:] for c in schema if c.startswith("c_")})
    frame["withdrawn_day"] = _local_days(frame["withdrawn"])
    return frame


def _local_days(epoch_us: pd.Series) -> pd.Series:
    """Withdrawal timestamps as days since 1970 of their date in TIME_ZONE (NaN: none)."""
    if epoch_us.isna().all():
        return pd.Series(np.nan, index=epoch_us.index)
    stamps = pd.to_datetime(epoch_us, unit="us", utc=True).dt.tz_convert(settings.TIME_ZONE)
    local = stamps.dt.tz_localize(None).dt.normalize()
    return (local - pd.Timestamp(_EPOCH)).dt.days.astype("float64")


def with_statuses(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    as_of_day = epoch_day(as_of)
    out = frame.copy()
    for tp in SCHEDULED:
        out[f"status_{tp}"] = followup_statuses(
            timepoint=tp,
            procedure_day=frame["day"].to_numpy(),
            visit_day=frame[f"visit_{tp}"].to_numpy(),
            as_of_day=as_of_day,
            withdrawn_day=frame["withdrawn_day"].to_numpy(),
        )
    return out


def completeness_by_site(frame: pd.DataFrame) -> dict[int, dict[str, dict[str, int]]]:
    """{site_id: {timepoint: {status: n, "due": n, "recorded": n}}} from `with_statuses`."""
    result: dict[int, dict[str, dict[str, int]]] = {}
    for tp in SCHEDULED:
        counts = frame.groupby(["site", f"status_{tp}"]).size()
        for (site_id, status), n in counts.items():
            cell = result.setdefault(int(site_id), {}).setdefault(tp, {})
            cell[status] = int(n)
    for per_tp in result.values():
        for tp in SCHEDULED:
            cell = per_tp.setdefault(tp, {})
            for status in STATUSES:
                cell.setdefault(status.value, 0)
            cell["recorded"] = sum(cell[s.value] for s in RECORDED)
            cell["due"] = sum(cell[s.value] for s in DUE)
    return result


def prom_by_site(frame: pd.DataFrame, as_of: date) -> dict[int, dict[str, int]]:
    """{site_id: {eligible, baseline, follow_up, complete}} on each patient's first procedure."""
    if frame.empty:
        return {}
    first = frame.sort_values(["patient", "day", "id"]).drop_duplicates("patient")
    closes = first["day"] + WINDOWS[PROM_DUE_TIMEPOINT].end
    withdrawn_before = first["withdrawn_day"].notna() & (first["withdrawn_day"] <= closes)
    eligible = (epoch_day(as_of) > closes) & ~withdrawn_before
    baseline = first[f"odi_{Timepoint.BASELINE}"].notna()
    follow_up = first[[f"odi_{tp}" for tp in FOLLOW_UP]].notna().any(axis=1)
    table = pd.DataFrame(
        {
            "site": first["site"],
            "eligible": eligible,
            "baseline": eligible & baseline,
            "follow_up": eligible & follow_up,
            "complete": eligible & baseline & follow_up,
        }
    )
    sums = table.groupby("site").sum()
    return {
        int(site_id): {column: int(row[column]) for column in sums.columns}
        for site_id, row in sums.iterrows()
    }


def compute(site_ids: Sequence[int], as_of: date) -> tuple[dict, dict]:
    """(completeness by site, PROM by site) for the sites on `as_of`."""
    frame = with_statuses(read_procedures(site_ids), as_of)
    return completeness_by_site(frame), prom_by_site(frame, as_of)
