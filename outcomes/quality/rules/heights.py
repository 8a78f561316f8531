"""Finders over radiographic heights and outcomes: the Genant grade the heights suggest,
change since baseline, and outliers within technique and timepoint.

Change and outliers are vectorised pandas over the context's shared frames (one COPY of
every film and visit of the run); the Genant check is one query.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db.models import Case, F, FloatField, IntegerField, Value, When
from django.db.models.functions import Cast

from outcomes.quality.rules.base import Context, assemble, empty_findings, flagged, number_text
from outcomes.quality.rules.plausibility import LKA_CORRECTION_MAX, RESTORATION_MAX
from registry.models import TimepointChoice

OUTLIER_SD = 3
OUTLIER_MIN_N = 3  # an SD needs a few values; a z beyond 3 needs n > 10 anyway


def suggested_grade_expression(rfvh: str = "rfvh_percent") -> Case:
    """registry.derived.suggested_genant_grade in SQL, on RFVH (height loss = 100 - RFVH):
    loss < 20 -> 0, <= 25 -> 1, <= 40 -> 2, else 3 (pinned by literal cases in the tests)."""
    return Case(
        When(**{f"{rfvh}__gt": 80}, then=Value(0)),
        When(**{f"{rfvh}__gte": 75}, then=Value(1)),
        When(**{f"{rfvh}__gte": 60}, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def genant_mismatch(ctx: Context) -> pd.DataFrame:
    """The recorded grade disagrees with the one the baseline (pre-operative) heights suggest."""
    rows = (
        ctx.films()
        .filter(visit__timepoint=TimepointChoice.BASELINE, rfvh_percent__isnull=False)
        .annotate(q_suggested=suggested_grade_expression())
        .exclude(q_suggested=F("treated_level__fracture__genant_grade"))
    )

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        recorded = frame["recorded"].astype(int).astype(str)
        suggested = frame["suggested"].astype(int).astype(str)
        rfvh = number_text(frame["rfvh"], 2)
        loss = number_text(100 - frame["rfvh"], 2)
        return (
            "grade " + recorded + ", RFVH " + rfvh,
            "recorded grade "
            + recorded
            + ", baseline height loss "
            + loss
            + " % suggests grade "
            + suggested,
        )

    return flagged(
        rows,
        site="visit__procedure__patient__site_id",
        patient="visit__procedure__patient_id",
        record="treated_level__fracture_id",
        edit="treated_level__fracture_id",
        item="treated_level__fracture__level",
        numbers={
            "recorded": F("treated_level__fracture__genant_grade"),
            "suggested": F("q_suggested"),
            "rfvh": Cast(F("rfvh_percent"), FloatField()),
        },
        describe=describe,
    )


def _against_baseline(ctx: Context) -> pd.DataFrame:
    """Follow-up films joined to the same vertebra's baseline film."""
    films = ctx.film_frame
    baseline = films[films["timepoint"] == TimepointChoice.BASELINE][
        ["level_id", "rfvh", "lka"]
    ].drop_duplicates("level_id")
    later = films[films["timepoint"] != TimepointChoice.BASELINE]
    return later.merge(baseline, on="level_id", suffixes=("", "_baseline"))


def _film_findings(frame: pd.DataFrame, columns: list[str], describe) -> pd.DataFrame:
    if frame.empty:
        return empty_findings()
    shaped = pd.DataFrame(
        {
            "site_id": frame["site"],
            "patient_id": frame["patient"],
            "record_id": frame["id"],
            "edit_pk": frame["visit"],
            "item": frame["level"].astype(str),
        }
    )
    return assemble(shaped.join(frame[columns]), describe)


def height_restoration_too_high(ctx: Context) -> pd.DataFrame:
    pairs = _against_baseline(ctx)
    # rounded as registry.derived.difference rounds, so 95.01 - 55.01 is exactly 40
    gained = np.round(pairs["rfvh"] - pairs["rfvh_baseline"], 2)
    hits = pairs[gained > RESTORATION_MAX].assign(gained=gained)

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        value = (
            "RFVH "
            + number_text(frame["rfvh_baseline"], 2)
            + " -> "
            + number_text(frame["rfvh"], 2)
        )
        return value, value + ": +" + number_text(frame["gained"], 2) + " points since baseline"

    return _film_findings(hits, ["rfvh", "rfvh_baseline", "gained"], describe)


def lka_correction_too_high(ctx: Context) -> pd.DataFrame:
    pairs = _against_baseline(ctx)
    corrected = np.round(pairs["lka_baseline"] - pairs["lka"], 2)
    hits = pairs[corrected > LKA_CORRECTION_MAX].assign(corrected=corrected)

    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        value = (
            "LKA " + number_text(frame["lka_baseline"], 1) + " -> " + number_text(frame["lka"], 1)
        )
        return value, value + ": " + number_text(frame["corrected"], 1) + " degrees corrected"

    return _film_findings(hits, ["lka", "lka_baseline", "corrected"], describe)


def outliers(frame: pd.DataFrame, measures: dict[str, str]) -> pd.DataFrame:
    """Rows of `frame` whose measure lies beyond OUTLIER_SD sample SDs of the mean of its
    site, technique and timepoint; one row per (row, measure) with mean, sd, n, measure.

    A group whose SD is zero within a tolerance relative to its values flags nothing."""
    keys = ["site", "technique", "timepoint"]
    hits = []
    for column, label in measures.items():
        values = frame[column]
        grouped = values.groupby([frame[k] for k in keys], observed=True)
        mean = grouped.transform("mean")
        sd = grouped.transform("std")  # ddof=1
        n = grouped.transform("count")
        scale = np.maximum(
            values.abs().groupby([frame[k] for k in keys], observed=True).transform("max"), 1.0
        )
        usable = (n >= OUTLIER_MIN_N) & (sd > 1e-9 * scale)
        beyond = usable & ((values - mean).abs() > OUTLIER_SD * sd)
        picked = frame[beyond].assign(
            measure=label,
            measured=values[beyond],
            mean=mean[beyond],
            sd=sd[beyond],
            n=n[beyond],
        )
        hits.append(picked)
    return pd.concat(hits, ignore_index=True) if hits else frame.iloc[0:0]


def _describe_outlier(places: int):
    def describe(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        value = frame["measure"] + " " + number_text(frame["measured"], places)
        detail = (
            value
            + ": mean "
            + number_text(frame["mean"], places)
            + ", SD "
            + number_text(frame["sd"], places)
            + ", n "
            + frame["n"].astype(int).astype(str)
            + " ("
            + frame["technique"].astype(str)
            + ", "
            + frame["timepoint"].astype(str)
            + ")"
        )
        return value, detail

    return describe


def visit_outliers(ctx: Context) -> pd.DataFrame:
    hits = outliers(ctx.visit_frame, {"vas": "VAS", "odi": "ODI"})
    if hits.empty:
        return empty_findings()
    shaped = pd.DataFrame(
        {
            "site_id": hits["site"],
            "patient_id": hits["patient"],
            "record_id": hits["id"],
            "edit_pk": hits["id"],
            "item": hits["measure"],
        }
    ).join(hits[["measure", "measured", "mean", "sd", "n", "technique", "timepoint"]])
    return assemble(shaped, _describe_outlier(1))


def film_outliers(ctx: Context) -> pd.DataFrame:
    hits = outliers(ctx.film_frame, {"rfvh": "RFVH", "lka": "LKA"})
    if hits.empty:
        return empty_findings()
    shaped = pd.DataFrame(
        {
            "site_id": hits["site"],
            "patient_id": hits["patient"],
            "record_id": hits["id"],
            "edit_pk": hits["visit"],
            "item": hits["level"].astype(str) + " " + hits["measure"],
        }
    ).join(hits[["measure", "measured", "mean", "sd", "n", "technique", "timepoint"]])
    return assemble(shaped, _describe_outlier(2))
