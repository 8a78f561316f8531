"""SQL to frames: each function reads one shape from the database for a cohort.

Grouping that shrinks the data is done by the database before anything reaches Python:
visits, and radiographs joined to their visits, pivoted to one row per patient with a
column per outcome per timepoint; the treated levels collapsed per patient (counts,
totals, the highest Genant grade, leakage by Yeom type, devices). What needs individual
values (paired and rank tests, Table 1) gets these narrow per-patient frames.
`in_cohort(path)` filters rows whose `path` is one of the cohort's index procedures (see
`CohortData`). Each reader also returns the fingerprint figures of the rows it read.

Units: one case per patient, keyed `unit_id` = the index procedure's id. Radiographic
outcomes are per patient: the mean over the vertebrae treated in the index procedure that
were measured at that visit (vertebrae of one patient are not independent). Vertebral body
height is the anterior height, in cm as seed 002 reports it (stored in mm).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, F, FloatField, Max, Q, QuerySet, Sum
from django.db.models.functions import Cast

from outcomes import variables
from outcomes.selectors.cases import age_at_procedure
from outcomes.selectors.fingerprint import DaysBetween, EpochDay, EpochMicroseconds, Figures
from outcomes.selectors.sql import read_frame
from registry import vertebrae
from registry.models import (
    AdverseEvent,
    Leakage,
    Procedure,
    RadiographicMeasurement,
    TreatedLevel,
)

InCohort = Callable[[str], Any]

TIMEPOINTS = ("baseline", "2w", "12w", "1y")


@dataclass(frozen=True)
class OutcomeSpec:
    """`decimals`: printed precision; `recorded`: the precision values are recorded at
    (in the unit analysed), on which differences and means are exact; `radiographic`:
    measured per treated vertebra on films (else once per visit)."""

    key: str
    decimals: int
    recorded: int
    radiographic: bool = False

    @property
    def label(self) -> str:
        return variables.label(self.key)

    @property
    def scale(self) -> float:
        return 10.0**self.recorded


OUTCOMES: dict[str, OutcomeSpec] = {
    spec.key: spec
    for spec in (
        OutcomeSpec("vas", 1, 1),
        OutcomeSpec("odi", 1, 1),
        OutcomeSpec("rfvh", 2, 2, radiographic=True),
        OutcomeSpec("body_height", 2, 2, radiographic=True),  # mm to 0.1 = cm to 0.01
        OutcomeSpec("lka", 2, 1, radiographic=True),
    )
}
_VISIT_VALUES = {"vas": "visits__vas", "odi": "visits__odi_percent"}
_FILM_VALUES = {"rfvh": "rfvh_percent", "body_height": "anterior_height_mm", "lka": "lka_degrees"}
VISIT_OUTCOMES = tuple(_VISIT_VALUES)

# column: (label, printed decimals); labels from the variables registry
PERIOPERATIVE = {
    code: (variables.label(code), decimals)
    for code, decimals in (
        ("operation_time_min", 1),
        ("fluoroscopy_shots", 1),
        ("cement_volume_ml", 2),
        ("ambulation_hours", 1),
        ("hospital_stay_days", 1),
    )
}

# Per-case level counts that the rates sum per technique.
LEVEL_COUNTS = ("n_levels", "leaked_levels", "yeom_B", "yeom_S", "yeom_C", "symptomatic")
DEVICE_COUNTS = ("devices_used", "devices_ruptured")


def _float(expression: Any) -> Cast:
    return Cast(expression, FloatField())


def read_case_ids(selection: QuerySet[Procedure]) -> list[int]:
    ids = read_frame(selection.annotate(unit_id=F("pk")), {"unit_id": "id"})
    return sorted(ids["unit_id"].tolist())


def read_visit_pivot(in_cohort: InCohort) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """One row per case (index unit_id): technique, and VAS and ODI per timepoint
    (`vas_baseline`, `odi_12w`, ...), NaN where the visit or the value is missing.

    The database pivots: the index procedure left-joined to its visits, grouped by
    procedure, one FILTER-ed aggregate per outcome and timepoint (one visit per timepoint:
    MAX is that visit's value).
    """
    annotations = {
        f"{key}_{timepoint}": Max(_float(path), filter=Q(visits__timepoint=timepoint))
        for timepoint in TIMEPOINTS
        for key, path in _VISIT_VALUES.items()
    }
    # Visit dates as days after the procedure: the follow-up status needs nothing else.
    days = {
        f"day_{timepoint}": Max(
            DaysBetween("visits__visit_date", "date"), filter=Q(visits__timepoint=timepoint)
        )
        for timepoint in TIMEPOINTS
    }
    annotations = {**annotations, **days, "procedure_day": Max(EpochDay("date"))}
    fingerprint = {
        "fp_n": Count("visits"),
        "fp_ids": Sum("visits__id"),
        "fp_latest": Max(EpochMicroseconds("visits__updated_at")),
    }
    rows = (
        Procedure.objects.filter(in_cohort("pk"))
        .values("pk")
        .annotate(
            unit_id=F("pk"), technique_code=F("technique__code"), **annotations, **fingerprint
        )
        .order_by("pk")
    )
    schema = {
        "unit_id": "id",
        "technique_code": "category",
        **dict.fromkeys(annotations, "float"),
        **dict.fromkeys(fingerprint, "float"),
    }
    frame = read_frame(rows, schema).rename(columns={"technique_code": "technique"})
    visits = Figures.of_parts(frame["fp_n"], frame["fp_ids"], frame["fp_latest"])
    return frame.drop(columns=list(fingerprint)).set_index("unit_id"), {"visits": visits}


def read_film_pivot(in_cohort: InCohort) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """One row per treated vertebra filmed at least once: `unit_id` (its case), `level_id`,
    and the recorded RFVH, anterior height (mm) and LKA per timepoint (`rfvh_12w`, ...),
    NaN where that vertebra was not filmed at that visit.

    Per vertebra, not per patient: a paired change must compare the same vertebrae at
    both visits, and `unit=level` analyses each vertebra (see `film_values`).
    """
    annotations = {
        f"{key}_{timepoint}": Max(_float(path), filter=Q(visit__timepoint=timepoint))
        for timepoint in TIMEPOINTS
        for key, path in _FILM_VALUES.items()
    }
    fingerprint = {
        "fp_n": Count("pk"),
        "fp_ids": Sum("pk"),
        "fp_latest": Max(EpochMicroseconds("updated_at")),
    }
    rows = (
        RadiographicMeasurement.objects.filter(in_cohort("visit__procedure_id"))
        .values("visit__procedure_id", "treated_level_id")
        .annotate(
            unit_id=F("visit__procedure_id"),
            level_id=F("treated_level_id"),
            **annotations,
            **fingerprint,
        )
        .order_by()
    )
    schema = {
        "unit_id": "id",
        "level_id": "id",
        **dict.fromkeys(annotations, "float"),
        **dict.fromkeys(fingerprint, "float"),
    }
    frame = read_frame(rows, schema)
    films = Figures.of_parts(frame["fp_n"], frame["fp_ids"], frame["fp_latest"])
    frame = frame.drop(columns=list(fingerprint)).rename(
        columns=lambda c: c.replace("body_height_", "height_mm_")
    )
    return frame.sort_values(["unit_id", "level_id"], ignore_index=True), {"films": films}


def read_withdrawn(selection: QuerySet[Procedure]) -> pd.DataFrame:
    """Cases of the definition whose patient withdrew consent: technique, procedure day and
    withdrawal day only. Their clinical data are never read; they are counted (n_withdrawn)."""
    rows = selection.annotate(
        unit_id=F("pk"),
        technique_code=F("technique__code"),
        procedure_day=EpochDay("date"),
        withdrawn_day=EpochDay("patient__withdrawn_at"),
    ).order_by("pk")
    frame = read_frame(
        rows,
        {
            "unit_id": "id",
            "technique_code": "category",
            "procedure_day": "float",
            "withdrawn_day": "float",
        },
    )
    return frame.rename(columns={"technique_code": "technique"})


def read_patients(in_cohort: InCohort) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """One row per case: demographics and perioperative items."""
    rows = (
        Procedure.objects.filter(in_cohort("pk"))
        .annotate(
            unit_id=F("pk"),
            site_id=F("patient__site_id"),
            technique_code=F("technique__code"),
            age=age_at_procedure(),
            sex=F("patient__sex"),
            bmi=_float("patient__weight_kg")
            / (_float("patient__height_cm") * _float("patient__height_cm") / 10000.0),
            bmd_t_score=_float("patient__bmd_t_score"),
            asa_class=F("patient__asa_class"),
            smoking=F("patient__smoking"),
            osteoporosis_treatment=F("patient__osteoporosis_treatment"),
            corticosteroid_use=F("patient__corticosteroid_use"),
            ambulation=_float("ambulation_hours"),
            fp_procedure=EpochMicroseconds("updated_at"),
            fp_patient=EpochMicroseconds("patient__updated_at"),
        )
        .order_by("pk")
    )
    frame = read_frame(
        rows,
        {
            "unit_id": "id",
            "patient_id": "id",
            "site_id": "id",
            "technique_code": "category",
            "age": "int",
            "sex": "category",
            "bmi": "float",
            "bmd_t_score": "float",
            "asa_class": "int",
            "smoking": "category",
            "osteoporosis_treatment": "category",
            "corticosteroid_use": "bool",
            "approach": "category",
            "anaesthesia": "category",
            "operation_time_min": "float",
            "fluoroscopy_shots": "float",
            "ambulation": "float",
            "hospital_stay_days": "float",
            "fp_procedure": "float",
            "fp_patient": "float",
        },
    )
    figures = {
        "procedures": Figures.of_parts(len(frame), frame["unit_id"], frame["fp_procedure"]),
        "patients": Figures.of_parts(0, 0, frame["fp_patient"]),
    }
    frame = frame.drop(columns=["fp_procedure", "fp_patient"])
    names = {"technique_code": "technique", "ambulation": "ambulation_hours"}
    return frame.rename(columns=names), figures


def read_levels(in_cohort: InCohort) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """The treated levels of each case, collapsed by the database (GROUP BY procedure)."""
    counts = {
        "n_levels": Count("pk"),
        "leaked_levels": Count("pk", filter=~Q(leakage=Leakage.NONE)),
        "yeom_B": Count("pk", filter=Q(leakage=Leakage.B)),
        "yeom_S": Count("pk", filter=Q(leakage=Leakage.S)),
        "yeom_C": Count("pk", filter=Q(leakage=Leakage.C)),
        "symptomatic": Count("pk", filter=Q(leakage_symptomatic=True)),
        "devices_used": Sum("devices_used"),
        "devices_ruptured": Sum("devices_ruptured"),
    }
    rows = (
        TreatedLevel.objects.filter(in_cohort("procedure_id"))
        .values("procedure_id")
        .annotate(
            unit_id=F("procedure_id"),
            cement_total=Sum(_float("cement_volume_ml")),
            cement_known=Count("cement_volume_ml"),
            thoracic_levels=Count("pk", filter=Q(fracture__level__in=vertebrae.THORACIC)),
            genant_grade=Max("fracture__genant_grade"),
            fp_ids=Sum("pk"),
            fp_latest=Max(EpochMicroseconds("updated_at")),
            fp_fracture=Max(EpochMicroseconds("fracture__updated_at")),
            **counts,
        )
        .order_by("procedure_id")
    )
    frame = read_frame(
        rows,
        {
            "unit_id": "id",
            "cement_total": "float",
            "cement_known": "int",
            "thoracic_levels": "int",
            "genant_grade": "int",
            **dict.fromkeys(counts, "int"),
            "fp_ids": "float",
            "fp_latest": "float",
            "fp_fracture": "float",
        },
    )
    figures = {
        "levels": Figures.of_parts(frame["n_levels"], frame["fp_ids"], frame["fp_latest"]),
        "fractures": Figures.of_parts(0, 0, frame["fp_fracture"]),
    }
    n_levels = frame["n_levels"]
    region = np.select(
        [frame["thoracic_levels"] == n_levels, frame["thoracic_levels"] == 0],
        ["thoracic", "lumbar"],
        default="both",
    )
    collapsed = pd.DataFrame(
        {
            "unit_id": frame["unit_id"],
            "levels": pd.Categorical(np.where(n_levels > 1, "multi", "single")),
            "region": pd.Categorical(region),
            "genant_grade": frame["genant_grade"],
            # A total is only a total when every level's volume was recorded.
            "cement_volume_ml": frame["cement_total"].where(frame["cement_known"] == n_levels),
            "leaked": (frame["leaked_levels"] > 0).astype("boolean"),
            **{column: frame[column] for column in (*LEVEL_COUNTS, *DEVICE_COUNTS)},
        }
    )
    return collapsed, figures


def read_adverse_events(in_cohort: InCohort) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """The cohort's adverse events, one row each (a few per hundred patients)."""
    rows = AdverseEvent.objects.filter(in_cohort("procedure_id")).annotate(
        unit_id=F("procedure_id"),
        kind=F("event_type"),
        grade=F("clavien_dindo"),
        event_id=F("pk"),
        fp_latest=EpochMicroseconds("updated_at"),
    )
    frame = read_frame(
        rows.order_by("pk"),
        {
            "unit_id": "id",
            "kind": "category",
            "grade": "category",
            "event_id": "id",
            "fp_latest": "float",
        },
    )
    events = Figures.of_parts(len(frame), frame["event_id"], frame["fp_latest"])
    return frame[["unit_id", "kind", "grade"]], {"events": events}
