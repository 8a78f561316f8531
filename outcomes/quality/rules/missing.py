"""Finders for missing key items, per form. Each is one query returning only flagged rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db.models import Exists, F, IntegerField, OuterRef, Q, Value
from django.db.models.functions import Coalesce

from outcomes.quality.rules.base import FOLLOW_UP, SCHEDULED, Context, flagged
from registry import derived
from registry.models import ODI_FIELDS, FollowUpVisit, RadiographicMeasurement, TimepointChoice


def _fixed(text: str):
    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        return pd.Series([""] * len(frame), index=frame.index), pd.Series(
            [text] * len(frame), index=frame.index
        )

    return describe


def baseline_visit_missing(ctx: Context) -> pd.DataFrame:
    """A procedure with no baseline (pre-operative) visit."""
    baseline = FollowUpVisit.objects.filter(
        procedure=OuterRef("pk"), timepoint=TimepointChoice.BASELINE
    )
    rows = ctx.procedures().filter(~Exists(baseline))
    return flagged(
        rows,
        site="patient__site_id",
        patient="patient_id",
        describe=_fixed("no baseline visit recorded"),
    )


def _vas_missing(ctx: Context, timepoints: tuple[str, ...]) -> pd.DataFrame:
    rows = ctx.visits().filter(timepoint__in=timepoints, vas__isnull=True)
    return flagged(
        rows,
        site="procedure__patient__site_id",
        patient="procedure__patient_id",
        item="timepoint",
        describe=_fixed("VAS back pain not recorded"),
    )


def baseline_vas_missing(ctx: Context) -> pd.DataFrame:
    return _vas_missing(ctx, (TimepointChoice.BASELINE,))


def follow_up_vas_missing(ctx: Context) -> pd.DataFrame:
    return _vas_missing(ctx, FOLLOW_UP)


def odi_not_scored(ctx: Context) -> pd.DataFrame:
    """A scheduled visit whose ODI cannot be scored: fewer than 8 of 10 sections answered."""
    answered = sum(
        (Coalesce(F(name) * 0 + 1, Value(0), output_field=IntegerField()) for name in ODI_FIELDS),
        Value(0),
    )
    rows = ctx.visits().filter(timepoint__in=SCHEDULED, odi_percent__isnull=True)

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        counts = frame["answered"].astype(int).astype(str)
        return (
            counts + "/10",
            counts + f" of 10 sections answered (at least {derived.ODI_MIN_ANSWERED} needed)",
        )

    return flagged(
        rows,
        site="procedure__patient__site_id",
        patient="procedure__patient_id",
        item="timepoint",
        numbers={"answered": answered},
        describe=describe,
    )


def radiograph_missing(ctx: Context) -> pd.DataFrame:
    """A treated vertebra with no radiograph at a scheduled visit of its procedure."""
    film = RadiographicMeasurement.objects.filter(
        visit_id=OuterRef("pk"), treated_level_id=OuterRef("q_level_id")
    )
    rows = (
        ctx.visits()
        .filter(timepoint__in=SCHEDULED)
        .annotate(q_level_id=F("procedure__treated_levels__id"))
        .filter(q_level_id__isnull=False)
        .filter(~Exists(film))
    )

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        blank = pd.Series([""] * len(frame), index=frame.index)
        return blank, "no radiograph of " + frame["item"].astype(str)

    return flagged(
        rows,
        site="procedure__patient__site_id",
        patient="procedure__patient_id",
        item="procedure__treated_levels__fracture__level",
        describe=describe,
    )


_FILM_ITEMS = {
    "anterior": "anterior_height_mm",
    "above": "above_anterior_height_mm",
    "below": "below_anterior_height_mm",
    "LKA": "lka_degrees",
}


def radiograph_incomplete(ctx: Context) -> pd.DataFrame:
    """A radiograph without the heights RFVH needs (anterior, above, below) or the LKA."""
    gaps = Q()
    for column in _FILM_ITEMS.values():
        gaps |= Q(**{f"{column}__isnull": True})
    rows = ctx.films().filter(gaps)

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        listed = pd.Series([""] * len(frame), index=frame.index)
        for label in _FILM_ITEMS:
            listed = listed + np.where(frame[label].isna(), label + ", ", "")
        listed = listed.str.removesuffix(", ")
        return "missing: " + listed, "not recorded: " + listed

    return flagged(
        rows,
        site="visit__procedure__patient__site_id",
        patient="visit__procedure__patient_id",
        edit="visit_id",
        item="treated_level__fracture__level",
        numbers={label: F(column) for label, column in _FILM_ITEMS.items()},
        describe=describe,
    )


def cement_volume_missing(ctx: Context) -> pd.DataFrame:
    rows = ctx.levels().filter(cement_volume_ml__isnull=True)
    return flagged(
        rows,
        site="procedure__patient__site_id",
        patient="procedure__patient_id",
        edit="procedure_id",
        item="fracture__level",
        describe=_fixed("cement volume not recorded"),
    )


def height_or_weight_missing(ctx: Context) -> pd.DataFrame:
    rows = ctx.patients().filter(Q(height_cm__isnull=True) | Q(weight_kg__isnull=True))

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        blank = pd.Series([""] * len(frame), index=frame.index)
        return blank, pd.Series(["BMI cannot be computed"] * len(frame), index=frame.index)

    return flagged(rows, site="site_id", patient="pk", describe=describe)
