"""What a rule is, what it returns, and the reads rules share.

A rule's finder takes a `Context` (the sites, the as-of date) and returns a frame with one
row per flagged record: FINDING_COLUMNS. Finders are set-based: either one query that
returns only the flagged rows (the database filters), or a vectorised pandas computation
over one shared frame (heights per vertebra per visit, outcomes per visit) that the context
reads once with COPY. No finder loops over records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import pandas as pd
from django.db.models import F, Func, IntegerField, QuerySet

from outcomes.selectors.sql import read_frame
from registry import derived
from registry.models import (
    FollowUpVisit,
    Patient,
    Procedure,
    RadiographicMeasurement,
    TreatedLevel,
)

FINDING_COLUMNS = ("site_id", "patient_id", "record_id", "edit_pk", "item", "value", "detail")
SCHEDULED = tuple(derived.SCHEDULED_TIMEPOINTS)
FOLLOW_UP = tuple(tp for tp in SCHEDULED if tp != derived.Timepoint.BASELINE)


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    description: str
    severity: str
    record_type: str  # patient, fracture, procedure, treated_level, visit, radiograph
    category: str  # see CATEGORIES
    find: Callable[[Context], pd.DataFrame] = field(repr=False, compare=False)


CATEGORIES = {
    "missing": "Missing key items",
    "implausible": "Implausible values",
    "genant": "Genant grade vs heights",
    "outlier": "Outliers (3 SD)",
    "window": "Visits out of window",
}


class EpochDays(Func):
    """A date as whole days since 1970-01-01, on PostgreSQL and SQLite."""

    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "(%(expressions)s - DATE '1970-01-01')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)


def day_text(days: pd.Series) -> pd.Series:
    """Epoch days as ISO dates."""
    stamps = pd.to_datetime(days.astype("float64"), unit="D", origin="unix")
    return stamps.dt.strftime("%Y-%m-%d").fillna("")


def number_text(values: pd.Series, places: int) -> pd.Series:
    return values.map(lambda x: "" if pd.isna(x) else f"{x:.{places}f}")


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in FINDING_COLUMNS})


def flagged(
    queryset: QuerySet,
    *,
    site: str,
    patient: str,
    record: str = "pk",
    edit: str = "pk",
    item: Any = None,
    numbers: dict[str, Any] | None = None,
    describe: Callable[[pd.DataFrame], tuple[pd.Series, pd.Series]],
) -> pd.DataFrame:
    """Read the flagged rows of `queryset` (one query) and word their value and detail.

    `numbers` are annotations read as floats for `describe(frame) -> (value, detail)`."""
    numbers = numbers or {}
    annotations = {
        "q_site": F(site),
        "q_patient": F(patient),
        "q_record": F(record),
        "q_edit": F(edit),
        **({"q_item": F(item) if isinstance(item, str) else item} if item is not None else {}),
        **{f"n_{name}": expression for name, expression in numbers.items()},
    }
    schema = {
        "q_site": "id",
        "q_patient": "id",
        "q_record": "id",
        "q_edit": "id",
        **({"q_item": "category"} if item is not None else {}),
        **{f"n_{name}": "float" for name in numbers},
    }
    frame = read_frame(queryset.annotate(**annotations).order_by(), schema)
    frame = frame.rename(columns={f"n_{name}": name for name in numbers})
    return assemble(
        frame.rename(
            columns={
                "q_site": "site_id",
                "q_patient": "patient_id",
                "q_record": "record_id",
                "q_edit": "edit_pk",
                "q_item": "item",
            }
        ),
        describe,
    )


def assemble(
    frame: pd.DataFrame, describe: Callable[[pd.DataFrame], tuple[pd.Series, pd.Series]]
) -> pd.DataFrame:
    """The finding columns of a frame of flagged rows (site_id ... edit_pk, maybe item)."""
    if frame.empty:
        return empty_findings()
    value, detail = describe(frame)
    item = frame["item"].astype(object).fillna("") if "item" in frame else ""
    out = pd.DataFrame(
        {
            "site_id": frame["site_id"].astype("int64"),
            "patient_id": frame["patient_id"].astype("int64"),
            "record_id": frame["record_id"].astype("int64"),
            "edit_pk": frame["edit_pk"].astype("int64"),
            "item": item,
            "value": value.astype(str),
            "detail": detail.astype(str),
        }
    )
    return out.reset_index(drop=True)


@dataclass
class Context:
    """What a run reads: the sites' patients who have not withdrawn, on `as_of`."""

    site_ids: tuple[int, ...]
    as_of: date

    # -- scoped querysets (active patients only: a withdrawn record cannot be corrected)

    def patients(self) -> QuerySet[Patient]:
        return Patient.objects.filter(site_id__in=self.site_ids, withdrawn_at__isnull=True)

    def procedures(self) -> QuerySet[Procedure]:
        return Procedure.objects.filter(
            patient__site_id__in=self.site_ids, patient__withdrawn_at__isnull=True
        )

    def levels(self) -> QuerySet[TreatedLevel]:
        return TreatedLevel.objects.filter(
            procedure__patient__site_id__in=self.site_ids,
            procedure__patient__withdrawn_at__isnull=True,
        )

    def visits(self) -> QuerySet[FollowUpVisit]:
        return FollowUpVisit.objects.filter(
            procedure__patient__site_id__in=self.site_ids,
            procedure__patient__withdrawn_at__isnull=True,
        )

    def films(self) -> QuerySet[RadiographicMeasurement]:
        return RadiographicMeasurement.objects.filter(
            visit__procedure__patient__site_id__in=self.site_ids,
            visit__procedure__patient__withdrawn_at__isnull=True,
        )

    # -- shared frames, read once per run

    @cached_property
    def film_frame(self) -> pd.DataFrame:
        """One row per radiograph at a scheduled visit: who, which vertebra, RFVH, LKA."""
        rows = self.films().filter(visit__timepoint__in=SCHEDULED)
        rows = rows.annotate(
            f_id=F("pk"),
            f_visit=F("visit_id"),
            f_level_id=F("treated_level_id"),
            f_site=F("visit__procedure__patient__site_id"),
            f_patient=F("visit__procedure__patient_id"),
            f_technique=F("visit__procedure__technique__code"),
            f_timepoint=F("visit__timepoint"),
            f_level=F("treated_level__fracture__level"),
            f_rfvh=F("rfvh_percent"),
            f_lka=F("lka_degrees"),
        ).order_by()
        schema = {
            "f_id": "id",
            "f_visit": "id",
            "f_level_id": "id",
            "f_site": "id",
            "f_patient": "id",
            "f_technique": "category",
            "f_timepoint": "category",
            "f_level": "category",
            "f_rfvh": "float",
            "f_lka": "float",
        }
        frame = read_frame(rows, schema)
        return frame.rename(columns={c: c[2:] for c in schema})

    @cached_property
    def visit_frame(self) -> pd.DataFrame:
        """One row per scheduled visit: who, technique, timepoint, VAS and ODI %."""
        rows = self.visits().filter(timepoint__in=SCHEDULED)
        rows = rows.annotate(
            v_id=F("pk"),
            v_site=F("procedure__patient__site_id"),
            v_patient=F("procedure__patient_id"),
            v_technique=F("procedure__technique__code"),
            v_timepoint=F("timepoint"),
            v_vas=F("vas"),
            v_odi=F("odi_percent"),
        ).order_by()
        schema = {
            "v_id": "id",
            "v_site": "id",
            "v_patient": "id",
            "v_technique": "category",
            "v_timepoint": "category",
            "v_vas": "float",
            "v_odi": "float",
        }
        frame = read_frame(rows, schema)
        return frame.rename(columns={c: c[2:] for c in schema})
