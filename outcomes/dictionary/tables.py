"""The exported tables and their variables, declared once.

- `patients`: one row per patient of the cohort;
- `procedures`: one row per index procedure;
- `wide`: one row per vertebra treated in the index procedure, with its patient and
  procedure, and per scheduled timepoint the follow-up status, the visit's values and that
  vertebra's radiograph (`vas_2w`, `odi_12w`, `rfvh_1y`, `lka_baseline`, `status_12w`);
- `long`: one row per visit per treated vertebra (`timepoint` column), the shape mixed models
  take;
- `adverse_events`: one row per adverse event.

Identifying fields come from `registry.identifiers` (identified exports only); free-text
fields are refused by `from_field`.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from outcomes.dictionary.variables import (
    ALL_LEVELS,
    DATED_LEVELS,
    IDENTIFIED_ONLY,
    Kind,
    Level,
    Variable,
    derivation_of,
    from_field,
)
from outcomes.variables import timepoint_label
from registry import derived
from registry.dictionary import derived_docs
from registry.followup import STATUS_LABELS
from registry.identifiers import PATIENT_IDENTIFIERS
from registry.models import TimepointChoice
from registry.vertebrae import REGION_LUMBAR, REGION_THORACIC

TIMEPOINTS = derived.SCHEDULED_TIMEPOINTS
TABLES = ("patients", "procedures", "wide", "long", "adverse_events")
MAX_AGE = 90  # ages above 89 are shown as 90 in de-identified exports

STATUS_CODES = tuple((str(code), label) for code, label in STATUS_LABELS.items())
SCHEDULED_CODES = tuple((c, label) for c, label in TimepointChoice.choices)


def _computed(name: str, label: str, kind: Kind, compute: str, **extra) -> Variable:
    return Variable(name=name, label=label, kind=kind, compute=compute, **extra)


def pseudonym() -> Variable:
    return _computed(
        "pseudonym",
        "Patient pseudonym",
        Kind.TEXT,
        "pseudonym",
        derivation="HMAC-SHA256 of the patient with a secret made for this export and then "
        "discarded: two exports cannot be joined on it",
    )


def age() -> Variable:
    return _computed(
        "age",
        "Age at the index procedure",
        Kind.INTEGER,
        "age",
        unit="years",
        precision=0,
        derivation=derivation_of(derived.age_at)
        + f"; de-identified exports show ages above {MAX_AGE - 1} as {MAX_AGE}",
    )


def procedure_year() -> Variable:
    return _computed(
        "procedure_year",
        "Year of the index procedure",
        Kind.INTEGER,
        "procedure_year",
        precision=0,
    )


def procedure_date() -> Variable:
    return _computed(
        "procedure_date",
        "Date of the index procedure",
        Kind.DATE,
        "shifted_date",
        model="Procedure",
        field="date",
        levels=DATED_LEVELS,
        derivation="shifted exports: the true date plus the patient's offset (0-364 days)",
    )


def days_after(name: str, label: str, model: str, field: str, timepoint: str = "") -> Variable:
    return _computed(
        name,
        label,
        Kind.INTEGER,
        "days_after_procedure",
        model=model,
        field=field,
        timepoint=timepoint,
        unit="days",
        precision=0,
        derivation="days after the index procedure (negative: before it)",
    )


def shifted(name: str, label: str, model: str, field: str, timepoint: str = "") -> Variable:
    return _computed(
        name,
        label,
        Kind.DATE,
        "shifted_date",
        model=model,
        field=field,
        timepoint=timepoint,
        levels=DATED_LEVELS,
        derivation="shifted exports: the true date plus the patient's offset (0-364 days)",
    )


def site() -> Variable:
    return _computed("site", "Site", Kind.TEXT, "site_code", model="Site", field="code")


def technique() -> Variable:
    return _computed(
        "technique",
        "Technique",
        Kind.CODE,
        "technique_code",
        model="Technique",
        field="code",
        codes_from="technique",
    )


def vertebra() -> Variable:
    return replace(from_field("Fracture", "level", as_name="vertebra"), label="Vertebra")


def region() -> Variable:
    return _computed(
        "region",
        "Region of the vertebra",
        Kind.CODE,
        "region",
        codes=((REGION_THORACIC, "Thoracic (T1-T12)"), (REGION_LUMBAR, "Lumbar (L1-L5)")),
    )


def n_levels() -> Variable:
    return _computed(
        "n_levels",
        "Vertebrae treated in the index procedure",
        Kind.INTEGER,
        "n_levels",
        precision=0,
    )


def bmi() -> Variable:
    doc = derived_docs()["bmi"]
    return _computed(
        "bmi",
        doc.label,
        Kind.DECIMAL,
        "bmi",
        unit=doc.unit,
        precision=doc.precision,
        derivation=doc.derivation,
    )


def _at(timepoint: str) -> str:
    """A label's timepoint in words, as a person reads it in SPSS, Stata or Excel:
    " at 2 weeks", " at baseline" (the column names keep the codes: `vas_2w`)."""
    if not timepoint:
        return ""
    return f" at {timepoint_label(timepoint, short=True).lower()}"


def status(timepoint: str = "") -> Variable:
    suffix = _at(timepoint)
    return _computed(
        f"status_{timepoint}" if timepoint else "window_status",
        f"Follow-up status{suffix}",
        Kind.CODE,
        "followup_status",
        timepoint=timepoint,
        codes=STATUS_CODES,
        derivation="registry.followup.followup_status on the export date: a visit in or out "
        "of its window, missing (window closed), not yet due, or withdrawn",
    )


def _visit_values(timepoint: str = "") -> list[Variable]:
    """The visit's and the vertebra's values; with a timepoint, as wide columns."""
    tp = f"_{timepoint}" if timepoint else ""
    at = _at(timepoint)

    def field(model: str, name: str, short: str | None = None) -> Variable:
        return from_field(
            model, name, as_name=f"{short or name}{tp}", timepoint=timepoint, label_suffix=at
        )

    values = [
        days_after(f"visit_day{tp}", f"Visit day{at}", "FollowUpVisit", "visit_date", timepoint),
        shifted(f"visit_date{tp}", f"Visit date{at}", "FollowUpVisit", "visit_date", timepoint),
        field("FollowUpVisit", "vas"),
        replace(
            field("FollowUpVisit", "odi_percent", "odi"),
            derivation=derivation_of(derived.odi_percent),
        ),
        field("FollowUpVisit", "analgesics"),
        field("FollowUpVisit", "weight_bearing_resumed", "weight_bearing"),
        field("RadiographicMeasurement", "film_position"),
        field("RadiographicMeasurement", "anterior_height_mm", "ant_height_mm"),
        field("RadiographicMeasurement", "middle_height_mm", "mid_height_mm"),
        field("RadiographicMeasurement", "posterior_height_mm", "post_height_mm"),
        field("RadiographicMeasurement", "above_anterior_height_mm", "above_ant_height_mm"),
        field("RadiographicMeasurement", "below_anterior_height_mm", "below_ant_height_mm"),
        field("RadiographicMeasurement", "lka_degrees", "lka"),
        replace(
            field("RadiographicMeasurement", "rfvh_percent", "rfvh"),
            derivation=derivation_of(derived.rfvh),
        ),
        _computed(
            f"height_loss{tp}",
            f"Height loss{at}",
            Kind.DECIMAL,
            "height_loss",
            timepoint=timepoint,
            unit="%",
            precision=2,
            derivation=derivation_of(derived.height_loss, "100 - RFVH"),
        ),
        _computed(
            f"beck_index{tp}",
            f"Beck index{at}",
            Kind.DECIMAL,
            "beck_index",
            timepoint=timepoint,
            precision=3,
            derivation=derivation_of(
                derived.beck_index, "anterior / posterior height, three decimals"
            ),
        ),
    ]
    return [status(timepoint), *(replace(v, per_visit=True) for v in values)]


def _patient_core() -> list[Variable]:
    return [
        from_field("Patient", "sex"),
        age(),
        bmi(),
    ]


def _level_values() -> list[Variable]:
    return [
        vertebra(),
        region(),
        from_field("Fracture", "genant_grade"),
        from_field("Fracture", "morphology"),
        from_field("Fracture", "imaging"),
        from_field("Fracture", "bone_marrow_oedema"),
        from_field("Fracture", "intravertebral_cleft"),
        from_field("Fracture", "posterior_wall_intact"),
        from_field("Fracture", "aetiology"),
        days_after("onset_day", "Fracture onset day", "Fracture", "onset_date"),
        shifted("onset_date", "Date of fracture onset", "Fracture", "onset_date"),
        from_field("TreatedLevel", "cement_volume_ml"),
        from_field("TreatedLevel", "leakage"),
        from_field("TreatedLevel", "leakage_location"),
        from_field("TreatedLevel", "leakage_symptomatic"),
        from_field("TreatedLevel", "leakage_seen_on"),
        from_field("TreatedLevel", "devices_used"),
        from_field("TreatedLevel", "devices_ruptured"),
    ]


def _patients() -> list[Variable]:
    identifiers = [
        from_field("Patient", "registry_id", levels=IDENTIFIED_ONLY),
        *(from_field("Patient", name, levels=IDENTIFIED_ONLY) for name in PATIENT_IDENTIFIERS),
    ]
    return [
        pseudonym(),
        *identifiers,
        site(),
        *_patient_core(),
        from_field("Patient", "height_cm"),
        from_field("Patient", "weight_kg"),
        from_field("Patient", "bmd_t_score"),
        from_field("Patient", "osteoporosis_treatment"),
        from_field("Patient", "corticosteroid_use"),
        from_field("Patient", "asa_class"),
        from_field("Patient", "smoking"),
        from_field("Patient", "consent_given"),
        days_after("consent_day", "Consent day", "Patient", "consent_date"),
        procedure_year(),
        procedure_date(),
    ]


def _procedures() -> list[Variable]:
    return [
        pseudonym(),
        procedure_year(),
        procedure_date(),
        technique(),
        from_field("Procedure", "approach"),
        from_field("Procedure", "route"),
        from_field("Procedure", "anaesthesia"),
        from_field("Procedure", "operation_time_min"),
        from_field("Procedure", "fluoroscopy_shots"),
        from_field("Procedure", "ambulation_hours"),
        from_field("Procedure", "hospital_stay_days"),
        n_levels(),
    ]


def _wide() -> list[Variable]:
    head = [pseudonym(), site(), technique(), procedure_year(), procedure_date()]
    per_timepoint = [v for tp in TIMEPOINTS for v in _visit_values(tp)]
    return [*head, *_patient_core(), n_levels(), *_level_values(), *per_timepoint]


def _long() -> list[Variable]:
    head = [pseudonym(), site(), technique(), procedure_year(), procedure_date()]
    level = [vertebra(), region(), from_field("Fracture", "genant_grade")]
    timepoint = from_field("FollowUpVisit", "timepoint")
    return [*head, *_patient_core(), *level, timepoint, *_visit_values()]


def _adverse_events() -> list[Variable]:
    return [
        pseudonym(),
        from_field("AdverseEvent", "event_type"),
        replace(vertebra(), label="Treated vertebra concerned", compute="event_vertebra"),
        days_after("onset_day", "Onset day", "AdverseEvent", "onset_date"),
        shifted("onset_date", "Onset date", "AdverseEvent", "onset_date"),
        from_field("AdverseEvent", "clavien_dindo"),
        from_field("AdverseEvent", "resolved"),
    ]


@cache
def all_tables() -> dict[str, tuple[Variable, ...]]:
    """Every table with every variable of every level (the dictionary page shows these)."""
    builders = {
        "patients": _patients,
        "procedures": _procedures,
        "wide": _wide,
        "long": _long,
        "adverse_events": _adverse_events,
    }
    return {name: tuple(builders[name]()) for name in TABLES}


def table(name: str, level: Level = Level.DEIDENTIFIED) -> tuple[Variable, ...]:
    """The variables of one table at one de-identification level, in column order."""
    return tuple(v for v in all_tables()[name] if level in v.levels)


def columns(name: str, level: Level = Level.DEIDENTIFIED) -> list[str]:
    return [v.name for v in table(name, level)]


__all__ = ["ALL_LEVELS", "TABLES", "TIMEPOINTS", "columns", "table"]
