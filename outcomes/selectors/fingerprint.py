"""The data version of a cohort: a fingerprint of every row an analysis of it reads.

Per table: how many rows, the sum of their ids and the latest `updated_at` (as epoch
microseconds). An edit moves the latest `updated_at` (every clinical record has
`auto_now`), an insert or a delete moves the count or the id sum, and a patient entering
or leaving the cohort (a withdrawal, a corrected baseline VAS) moves the cases' figures.
The technique codes are included because results are labelled with them.

Two ways to the same figures: `standalone_figures` asks the database for them (a run
request, before anything is read), and the frame readers collect them per patient while
they read (`Figures.of_parts`), so that a computing job gets its data version for free.
A test checks that both agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db.models import BigIntegerField, Count, Func, Max, QuerySet, Sum

from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Procedure,
    RadiographicMeasurement,
    Technique,
    TreatedLevel,
)

TABLES = ("procedures", "patients", "levels", "fractures", "visits", "films", "events")


class EpochMicroseconds(Func):
    """A timestamp as whole microseconds since 1970, identical wherever it is computed."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = (
            "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400000000.0) AS INTEGER)"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


class EpochDay(Func):
    """A date (or the date of a timestamp, in UTC) as whole days since 1970-01-01."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "((%(expressions)s)::date - DATE '1970-01-01')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(julianday(date(%(expressions)s)) - 2440587.5 AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)


class DaysBetween(Func):
    """`later - earlier` in whole days, for two date columns."""

    output_field = BigIntegerField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        template = "(%(expressions)s)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(julianday(%(expressions)s) AS INTEGER)"
        return self.as_sql(
            compiler, connection, template=template, arg_joiner=") - julianday(", **extra
        )


@dataclass(frozen=True)
class Figures:
    n: int = 0
    id_sum: int = 0
    latest: int | None = None

    @classmethod
    def of_parts(
        cls, n: Iterable[Any] | int, id_sum: Iterable[Any] | int, latest: Iterable[Any]
    ) -> Figures:
        """Totals of per-patient parts (pandas columns; NaN where a patient has no row)."""

        def total(values: Iterable[Any] | int) -> int:
            return int(values) if isinstance(values, int) else int(pd.Series(values).sum())

        peak = pd.Series(latest, dtype="float64").max()
        return cls(total(n), total(id_sum), None if pd.isna(peak) else int(peak))

    def as_list(self) -> list[int | None]:
        return [self.n, self.id_sum, self.latest]


def _aggregate(queryset: QuerySet, latest: str = "updated_at") -> Figures:
    row = queryset.order_by().aggregate(
        n=Count("pk"), id_sum=Sum("pk"), latest=Max(EpochMicroseconds(latest))
    )
    latest = row["latest"]
    return Figures(int(row["n"]), int(row["id_sum"] or 0), None if latest is None else int(latest))


def standalone_figures(in_cohort: Callable[[str], Any]) -> dict[str, Figures]:
    """`in_cohort(path)` filters rows whose `path` is a procedure id of the cohort."""
    procedures = Procedure.objects.filter(in_cohort("pk"))
    levels = TreatedLevel.objects.filter(in_cohort("procedure_id"))
    return {
        "procedures": _aggregate(procedures),
        "patients": Figures(latest=_aggregate(procedures, "patient__updated_at").latest),
        "levels": _aggregate(levels),
        "fractures": Figures(latest=_aggregate(levels, "fracture__updated_at").latest),
        "visits": _aggregate(FollowUpVisit.objects.filter(in_cohort("procedure_id"))),
        "films": _aggregate(
            RadiographicMeasurement.objects.filter(in_cohort("visit__procedure_id"))
        ),
        "events": _aggregate(AdverseEvent.objects.filter(in_cohort("procedure_id"))),
    }


def data_version(figures: dict[str, Figures]) -> str:
    document = {
        "tables": {table: figures[table].as_list() for table in TABLES},
        "techniques": list(Technique.objects.order_by("pk").values_list("pk", "code")),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
