"""The one place where an analysed variable gets its label, unit, precision and categories.

Results are keyed by these codes; every statistics page and table reads labels from here.
Where a model field backs a variable, its label, precision and categories are the data
dictionary's reading of the field (`registry.dictionary`, which the exports' dictionary and
the API docs read too), so renaming a field's label in the registry renames it everywhere.
Precision is the number of decimals a value is recorded
(and printed) at: the statistics compute on those decimals (ties stay ties).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from outcomes.statistics._names import TEST_LABELS, test_label  # noqa: F401 - one list
from registry.dictionary import field_doc
from registry.models import (
    AdverseEventType,
    ClavienDindo,
    FollowUpVisit,
    Patient,
    Procedure,
    RadiographicMeasurement,
    TimepointChoice,
    TreatedLevel,
)


@dataclass(frozen=True)
class VariableInfo:
    code: str
    label: str
    unit: str = ""
    precision: int = 1
    kind: str = "continuous"  # or "categorical"
    categories: Mapping[Any, str] = field(default_factory=dict)
    source: str = ""  # "model.field" that backs it, when one does

    def category_label(self, value: Any) -> str:
        return self.categories.get(value, str(value))


def _label(model: Any, name: str) -> str:
    """The field's label as the data dictionary reads it (`registry.dictionary`): its
    verbose_name, capitalised, without a trailing "(unit)": the unit is printed from
    `unit`, once."""
    return field_doc(model, name).label


def _from_field(
    code: str, model: Any, name: str, *, unit: str = "", label: str | None = None, **extra: Any
) -> VariableInfo:
    """Label, precision and categories from the data dictionary's reading of the field."""
    doc = field_doc(model, name)
    precision = doc.precision if doc.kind == "decimal" else None
    choices = dict(doc.choices)
    kind = "categorical" if choices else "continuous"
    return VariableInfo(
        code=code,
        label=label or doc.label,
        unit=unit,
        precision=extra.pop("precision", precision if precision is not None else 0),
        kind=extra.pop("kind", kind),
        categories=extra.pop("categories", choices),
        source=f"{model.__name__}.{name}",
        **extra,
    )


YES_NO = {True: "Yes", False: "No"}
ASA_CLASSES = {n: f"ASA {roman}" for n, roman in enumerate(("I", "II", "III", "IV", "V"), 1)}


def _build() -> dict[str, VariableInfo]:
    items = [
        VariableInfo("age", "Age at the procedure", "years", 1, source="Patient.date_of_birth"),
        _from_field("sex", Patient, "sex", label="Sex"),
        VariableInfo("bmi", "BMI", "kg/m²", 1, source="Patient.height_cm, Patient.weight_kg"),
        _from_field("bmd_t_score", Patient, "bmd_t_score"),
        _from_field("asa_class", Patient, "asa_class", kind="categorical", categories=ASA_CLASSES),
        _from_field("smoking", Patient, "smoking", label="Smoking"),
        _from_field(
            "corticosteroid_use",
            Patient,
            "corticosteroid_use",
            label="Corticosteroid use",
            kind="categorical",
            categories=YES_NO,
        ),
        _from_field("osteoporosis_treatment", Patient, "osteoporosis_treatment"),
        VariableInfo(
            "levels",
            "Number of treated levels",
            kind="categorical",
            categories={"single": "Single level", "multi": "Multi-level"},
            source="TreatedLevel",
        ),
        VariableInfo(
            "region",
            "Treated region",
            kind="categorical",
            categories={"thoracic": "Thoracic", "lumbar": "Lumbar", "both": "Thoracic and lumbar"},
            source="Fracture.level",
        ),
        VariableInfo(
            "genant_grade",
            "Genant grade (highest treated)",
            kind="categorical",
            categories={1: "Grade 1", 2: "Grade 2", 3: "Grade 3"},
            source="Fracture.genant_grade",
        ),
        _from_field("vas", FollowUpVisit, "vas", label="VAS back pain", unit="0-10"),
        _from_field("odi", FollowUpVisit, "odi_percent", label="ODI", unit="%"),
        _from_field("rfvh", RadiographicMeasurement, "rfvh_percent", label="RFVH", unit="%"),
        VariableInfo(
            "body_height",
            "Vertebral body height (anterior)",
            "cm",
            2,  # recorded in mm to one decimal: cm to two
            source="RadiographicMeasurement.anterior_height_mm",
        ),
        _from_field(
            "lka", RadiographicMeasurement, "lka_degrees", label="Local kyphosis angle", unit="°"
        ),
        _from_field(
            "baseline_vas", FollowUpVisit, "vas", label="VAS back pain before the procedure"
        ),
        _from_field(
            "baseline_odi", FollowUpVisit, "odi_percent", label="ODI before the procedure", unit="%"
        ),
        _from_field("operation_time_min", Procedure, "operation_time_min", unit="min"),
        _from_field("fluoroscopy_shots", Procedure, "fluoroscopy_shots"),
        VariableInfo(
            "cement_volume_ml",
            "Cement volume per patient",
            "ml",
            1,
            source="TreatedLevel.cement_volume_ml",
        ),
        _from_field("ambulation_hours", Procedure, "ambulation_hours", unit="hours"),
        _from_field("hospital_stay_days", Procedure, "hospital_stay_days", unit="days"),
        _from_field("leakage", TreatedLevel, "leakage", label="Cement leakage (Yeom)"),
        VariableInfo(
            "adverse_event",
            "Adverse event",
            kind="categorical",
            categories=dict(AdverseEventType.choices),
            source="AdverseEvent.event_type",
        ),
        VariableInfo(
            "clavien_dindo",
            "Clavien-Dindo grade",
            kind="categorical",
            categories={v: f"Grade {label}" for v, label in ClavienDindo.choices},
            source="AdverseEvent.clavien_dindo",
        ),
    ]
    return {item.code: item for item in items}


VARIABLES: dict[str, VariableInfo] = _build()


def variable(code: str) -> VariableInfo:
    return VARIABLES[code]


def label(code: str) -> str:
    """'VAS back pain', or 'BMI (kg/m²)' with the unit when there is one."""
    info = VARIABLES.get(code)
    if info is None:
        return code
    return f"{info.label} ({info.unit})" if info.unit else info.label


# ------------------------------------------------------------------ words for codes

TIMEPOINT_LABELS: dict[str, str] = {
    value: str(text) for value, text in TimepointChoice.choices if value != "unscheduled"
}

UNIT_LABELS = {
    "patient": "per patient",
    "level": "per treated vertebra",
    "device": "per device",
}


def timepoint_label(code: str | None, *, short: bool = False) -> str:
    """Words for a timepoint code; `short`: without its note ("Baseline", not "Baseline
    (pre-operative)"), for a chart's axis."""
    label = TIMEPOINT_LABELS.get(code or "", code or "")
    return label.split(" (")[0] if short else label
