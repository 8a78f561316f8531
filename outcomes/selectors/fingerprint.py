"""The data version of a cohort: a fingerprint of every row an analysis of it reads.

Per table: how many rows, the sum of their ids and the latest `updated_at` (as epoch
microseconds). An edit moves the latest `updated_at` (every clinical record has
`auto_now`), an insert or a delete moves the count or the id sum, and a patient entering
or leaving the cohort (a withdrawal, a corrected baseline VAS) moves the cases' figures.
The technique codes are included because results are labelled with them.

Two ways to the same figures: `standalone_figures` asks the database for them (a run
request, before anything is read), and the frame readers collect them per patient while
they read (`Figures.of_parts`), so that a computing job gets its data version for free.
Reading whole tables, they read no timestamp per row (its text was a third of a table's
reading): only the kept rows' ids, and `complete_latest` finds the latest `updated_at`
among them from each table's latest rows (an index on `updated_at`). Tests check that
every way agrees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import BigIntegerField, Count, Func, Max, QuerySet, Sum

from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    Patient,
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
    """`kept`: the ids of the rows counted, when their latest `updated_at` was not read
    with them (whole tables): `complete_latest` finds it from the table's latest rows."""

    n: int = 0
    id_sum: int = 0
    latest: int | None = None
    kept: Any = field(default=None, compare=False, repr=False)

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


def _standalone(in_cohort: Callable[[str], Any]) -> dict[str, tuple[QuerySet, str]]:
    """Per table: the cohort's rows and the path of their `updated_at`."""
    procedures = Procedure.objects.filter(in_cohort("pk"))
    levels = TreatedLevel.objects.filter(in_cohort("procedure_id"))
    return {
        "procedures": (procedures, "updated_at"),
        "patients": (procedures, "patient__updated_at"),
        "levels": (levels, "updated_at"),
        "fractures": (levels, "fracture__updated_at"),
        "visits": (FollowUpVisit.objects.filter(in_cohort("procedure_id")), "updated_at"),
        "films": (
            RadiographicMeasurement.objects.filter(in_cohort("visit__procedure_id")),
            "updated_at",
        ),
        "events": (AdverseEvent.objects.filter(in_cohort("procedure_id")), "updated_at"),
    }


def standalone_figures(in_cohort: Callable[[str], Any]) -> dict[str, Figures]:
    """`in_cohort(path)` filters rows whose `path` is a procedure id of the cohort."""
    figures = {table: _aggregate(*read) for table, read in _standalone(in_cohort).items()}
    for table in ("patients", "fractures"):  # only their latest: counted as the cases'
        figures[table] = Figures(latest=figures[table].latest)
    return figures


# The table each figure's `updated_at` is on, and how many of its latest rows are read to
# find the latest of the rows a cohort kept (see `complete_latest`).
MODELS = {
    "procedures": Procedure,
    "patients": Patient,
    "levels": TreatedLevel,
    "fractures": Fracture,
    "visits": FollowUpVisit,
    "films": RadiographicMeasurement,
    "events": AdverseEvent,
}
LATEST_ROWS = 200


def latest_rows() -> dict[str, list[tuple[int, int]]]:
    """Per table: (id, `updated_at` as epoch microseconds) of its latest rows, latest first."""
    return {
        table: list(
            model._base_manager.filter(updated_at__isnull=False)
            .order_by("-updated_at")
            .values_list("pk", EpochMicroseconds("updated_at"))[:LATEST_ROWS]
        )
        for table, model in MODELS.items()
    }


def complete_latest(
    figures: dict[str, Figures],
    latest: Callable[[], dict[str, list[tuple[int, int]]]],
    in_cohort: Callable[[str], Any],
) -> dict[str, Figures]:
    """The figures with the latest `updated_at` of the rows kept where only their ids
    were read (whole tables: a timestamp per row cost more than all else it read).

    Exact: the table's latest rows (`latest()`, from the same snapshot), latest first;
    the first that was kept has the latest `updated_at` of the kept rows (a kept row not
    among them is no later than all of them). When none was kept, the database is asked
    (`in_cohort`, as `standalone_figures`)."""
    if all(figure.kept is None for figure in figures.values()):
        return figures
    rows = latest()
    done = {}
    for table, figure in figures.items():
        if figure.kept is None:
            done[table] = figure
            continue
        kept = np.asarray(figure.kept, dtype=np.int64)
        stamp = None
        if kept.size:
            flags = np.zeros(int(kept.max()) + 1, dtype=bool)
            flags[kept] = True
            found = [value for pk, value in rows[table] if pk < flags.size and flags[pk]]
            stamp = found[0] if found else _aggregate(*_standalone(in_cohort)[table]).latest
        done[table] = Figures(figure.n, figure.id_sum, None if stamp is None else int(stamp))
    return done


def data_version(figures: dict[str, Figures]) -> str:
    document = {
        "tables": {table: figures[table].as_list() for table in TABLES},
        "techniques": list(Technique.objects.order_by("pk").values_list("pk", "code")),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
