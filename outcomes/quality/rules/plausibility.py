"""Finders for implausible values. The database filters: only flagged rows come back."""

from __future__ import annotations

import pandas as pd
from django.db.models import F, FloatField, Q
from django.db.models.functions import Cast

from outcomes.quality.rules.base import Context, EpochDays, day_text, flagged, number_text

RFVH_MAX = 110  # % of the neighbours' mean anterior height
CEMENT_MAX_ML = 12  # per treated level
BMI_MIN, BMI_MAX = 12, 60
RESTORATION_MAX = 40  # percentage points of RFVH gained since baseline
LKA_CORRECTION_MAX = 30  # degrees of kyphosis corrected since baseline


def _float(name: str) -> Cast:
    return Cast(F(name), FloatField())


def rfvh_too_high(ctx: Context) -> pd.DataFrame:
    rows = ctx.films().filter(rfvh_percent__gt=RFVH_MAX)

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        value = "RFVH " + number_text(frame["rfvh"], 2)
        return value, value + f" % (above {RFVH_MAX} %)"

    return flagged(
        rows,
        site="visit__procedure__patient__site_id",
        patient="visit__procedure__patient_id",
        edit="visit_id",
        item="treated_level__fracture__level",
        numbers={"rfvh": _float("rfvh_percent")},
        describe=describe,
    )


def cement_too_much(ctx: Context) -> pd.DataFrame:
    rows = ctx.levels().filter(cement_volume_ml__gt=CEMENT_MAX_ML)

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        value = number_text(frame["ml"], 1) + " ml"
        return value, value + f" in one level (above {CEMENT_MAX_ML} ml)"

    return flagged(
        rows,
        site="procedure__patient__site_id",
        patient="procedure__patient_id",
        edit="procedure_id",
        item="fracture__level",
        numbers={"ml": _float("cement_volume_ml")},
        describe=describe,
    )


def bmi_implausible(ctx: Context) -> pd.DataFrame:
    """BMI = kg / m^2 outside 12-60, computed unrounded from the stored height and weight."""
    bmi = _float("weight_kg") * 10000.0 / (_float("height_cm") * _float("height_cm"))
    rows = (
        ctx.patients()
        .filter(height_cm__isnull=False, weight_kg__isnull=False)
        .annotate(q_bmi=bmi)
        .filter(Q(q_bmi__lt=BMI_MIN) | Q(q_bmi__gt=BMI_MAX))
    )

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        value = number_text(frame["height"], 1) + " cm, " + number_text(frame["weight"], 1) + " kg"
        detail = "BMI " + number_text(frame["bmi"], 1) + f" (outside {BMI_MIN}-{BMI_MAX})"
        return value, detail

    return flagged(
        rows,
        site="site_id",
        patient="pk",
        numbers={"bmi": F("q_bmi"), "height": _float("height_cm"), "weight": _float("weight_kg")},
        describe=describe,
    )


def weight_bearing_before_procedure(ctx: Context) -> pd.DataFrame:
    rows = ctx.visits().filter(
        weight_bearing_date__isnull=False, weight_bearing_date__lt=F("procedure__date")
    )

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        resumed, operated = day_text(frame["resumed"]), day_text(frame["operated"])
        return (
            "resumed " + resumed + ", procedure " + operated,
            "weight-bearing resumed " + resumed + ", before the procedure on " + operated,
        )

    return flagged(
        rows,
        site="procedure__patient__site_id",
        patient="procedure__patient_id",
        item="timepoint",
        numbers={
            "resumed": EpochDays("weight_bearing_date"),
            "operated": EpochDays("procedure__date"),
        },
        describe=describe,
    )
