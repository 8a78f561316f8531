"""SQL to frames: each function reads one shape from the database for a cohort.

The database sends raw rows (one per visit, radiograph, treated level, event: `COPY` on
PostgreSQL, no grouping or casting there) and numpy shapes them: visits and radiographs
pivoted to one row per case (per vertebra for films) with a column per outcome per
timepoint; the treated levels collapsed per case (counts, totals, the highest Genant
grade, leakage by Yeom type, devices). Grouping in SQL cost more than reading the rows
(the pivots were most of the report's time), and reading whole tables lets the reads
start before the cohort's selection is known. `where(path)` is the SQL filter of the rows
read (the cohort's ids, or nothing when a whole table is cheaper, see `CohortData`); the
builders keep the cohort's rows only, by id. Each builder also returns the fingerprint
figures of the rows it kept.

Units: one case per patient, keyed `unit_id` = the index procedure's id. Radiographic
outcomes are per patient: the mean over the vertebrae treated in the index procedure that
were measured at that visit (vertebrae of one patient are not independent). Vertebral body
height is the anterior height, in cm as seed 002 reports it (stored in mm).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import connections
from django.db.models import Case, F, FloatField, IntegerField, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast

from outcomes import cohorts, variables
from outcomes.routers import read_alias
from outcomes.selectors.cases import treated_level_count
from outcomes.selectors.fingerprint import EpochDay, EpochMicroseconds, Figures
from outcomes.selectors.sql import in_ids, read_frame
from registry import vertebrae
from registry.models import (
    AdverseEvent,
    Aetiology,
    FollowUpVisit,
    Fracture,
    Leakage,
    Patient,
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
_VISIT_VALUES = {"vas": "vas", "odi": "odi_percent"}
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


def _number(path: str) -> Any:
    """A recorded decimal as a float: PostgreSQL sends its text (the COPY reader parses it
    to the nearest float, as a cast would, with no work in the database); elsewhere a cast."""
    return _float(path) if connections[read_alias()].vendor != "postgresql" else F(path)


def _index_of(ids: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The position in `ids` (unique non-negative integers, in any order) of each of
    `keys`, and whether it is there at all (0, a valid index, where it is not).

    By a table indexed by id when the ids are dense enough (one gather per key), else by
    sorting and binary search; the table was several times faster for the hundreds of
    thousands of visits and films each report looks up. Rows read from a whole table
    are kept to the cohort's by it (`found`)."""
    ids = np.asarray(ids, dtype=np.int64)
    keys = np.asarray(keys, dtype=np.int64)
    if not ids.size:
        return np.zeros(keys.size, dtype=np.int64), np.zeros(keys.size, dtype=bool)
    top = int(ids.max())
    if int(ids.min()) >= 0 and top <= 8 * (ids.size + keys.size):
        table = np.full(top + 2, -1, dtype=np.int64)  # top + 1: "not an id"
        table[ids] = np.arange(ids.size)
        at = table[np.where((keys < 0) | (keys > top), top + 1, keys)]
    else:
        order = np.argsort(ids, kind="stable")
        found_at = np.minimum(np.searchsorted(ids, keys, sorter=order), ids.size - 1)
        at = np.where(ids[order[found_at]] == keys, order[found_at], -1)
    found = at >= 0
    return np.where(found, at, 0), found


def _every_row(where: InCohort, path: str) -> bool:
    """`where` keeps every row (whole tables, `CohortData.rows_in`): the rows a read joins
    are then read whole too, cheaper than naming each one."""
    return not where(path)  # an empty Q(); a cohort's filter is never empty


def _stamps(stamped: bool, **paths: str) -> tuple[dict[str, EpochMicroseconds], dict[str, str]]:
    """Annotations and schema of the per-row `updated_at` (epoch microseconds) columns, or
    none: for whole tables the fingerprint finds the latest of the rows kept from their
    ids (`fingerprint.complete_latest`), far cheaper than a timestamp per row."""
    if not stamped:
        return {}, {}
    return (
        {name: EpochMicroseconds(path) for name, path in paths.items()},
        dict.fromkeys(paths, "float"),
    )


def _figures(keep: np.ndarray, ids: pd.Series, latest: pd.Series | None) -> Figures:
    if latest is None:
        kept = ids.to_numpy()[keep]
        return Figures(int(keep.sum()), int(kept.sum()), kept=kept)
    kept_latest = latest.to_numpy(dtype=float)[keep]
    return Figures.of_parts(
        int(keep.sum()), int(ids.to_numpy()[keep].sum()), kept_latest if keep.any() else []
    )


def read_case_rows(selection: QuerySet[Procedure]) -> pd.DataFrame:
    """The cohort's cases, sorted: unit_id, technique (categorical), procedure_day."""
    rows = selection.annotate(
        unit_id=F("pk"), technique_code=F("technique__code"), procedure_day=EpochDay("date")
    ).order_by()
    frame = read_frame(
        rows, {"unit_id": "id", "technique_code": "category", "procedure_day": "float"}
    )
    frame = frame.rename(columns={"technique_code": "technique"})
    return frame.sort_values("unit_id", ignore_index=True)


def read_visit_rows(where: InCohort, *, stamped: bool = True) -> pd.DataFrame:
    """Every visit of the rows `where` selects, raw: one row each (no grouping in SQL).
    `tp`: the scheduled timepoint's position in TIMEPOINTS (-1: unscheduled or other),
    from the timepoint's text (cheaper for the database to send than to compare)."""
    stamps, stamp_schema = _stamps(stamped, fp_latest="updated_at")
    rows = FollowUpVisit.objects.filter(where("procedure_id")).annotate(
        visit_id=F("pk"),
        unit_id=F("procedure_id"),
        visit_day=EpochDay("visit_date"),
        **{f"{key}_value": _number(path) for key, path in _VISIT_VALUES.items()},
        **stamps,
    )
    schema = {
        "visit_id": "id",
        "unit_id": "id",
        "timepoint": "category",
        "visit_day": "id",  # never null (a visit has its date)
        **{f"{key}_value": "float" for key in _VISIT_VALUES},
        **stamp_schema,
    }
    frame = read_frame(rows.order_by(), schema)
    timepoint = frame.pop("timepoint").array
    positions = [
        TIMEPOINTS.index(code) if code in TIMEPOINTS else -1 for code in timepoint.categories
    ]
    tp = np.append(np.array(positions, dtype=np.int64), -1)[timepoint.codes]
    frame.insert(2, "tp", tp)
    frame["visit_day"] = frame["visit_day"].astype("float64")
    return frame


def visit_pivot(
    cases: pd.DataFrame, visits: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """One row per case (index unit_id): technique, and VAS and ODI per timepoint
    (`vas_baseline`, `odi_12w`, ...), NaN where the visit or the value is missing; the
    visit's day after the procedure per timepoint (`day_12w`) and the procedure's epoch day.

    Pivoted here, from the raw visits: one scheduled visit per case and timepoint (a
    unique constraint), so each visit's values land in its case's row."""
    case_ids = cases["unit_id"].to_numpy()
    procedure_day = cases["procedure_day"].to_numpy(dtype=float)
    position, keep = _index_of(case_ids, visits["unit_id"].to_numpy())
    timepoint = visits["tp"].to_numpy()
    raw = {key: visits[f"{key}_value"].to_numpy(dtype=float) for key in VISIT_OUTCOMES}
    visit_day = visits["visit_day"].to_numpy(dtype=float)
    columns: dict[str, Any] = {"technique": cases["technique"].array}
    days = {}
    for i, tp in enumerate(TIMEPOINTS):
        chosen = keep & (timepoint == i)
        at = position[chosen]
        for key in VISIT_OUTCOMES:
            column = np.full(len(case_ids), np.nan)
            column[at] = raw[key][chosen]
            columns[f"{key}_{tp}"] = column
        day = np.full(len(case_ids), np.nan)
        day[at] = visit_day[chosen] - procedure_day[at]
        days[f"day_{tp}"] = day
    frame = pd.DataFrame(
        {**columns, **days, "procedure_day": procedure_day},
        index=pd.Index(case_ids, name="unit_id"),
        copy=False,  # fresh arrays: no need to copy them into one block
    )
    return frame, {"visits": _figures(keep, visits["visit_id"], visits.get("fp_latest"))}


def read_film_rows(where: InCohort, *, stamped: bool = True) -> pd.DataFrame:
    """Every radiograph of the rows `where` selects, raw (its visit gives case and time)."""
    stamps, stamp_schema = _stamps(stamped, fp_latest="updated_at")
    rows = RadiographicMeasurement.objects.filter(where("visit__procedure_id")).annotate(
        film_id=F("pk"),
        film_visit=F("visit_id"),
        level_id=F("treated_level_id"),
        **{f"{key}_value": _number(path) for key, path in _FILM_VALUES.items()},
        **stamps,
    )
    schema = {
        "film_id": "id",
        "film_visit": "id",
        "level_id": "id",
        **{f"{key}_value": "float" for key in _FILM_VALUES},
        **stamp_schema,
    }
    return read_frame(rows.order_by(), schema)


def film_pivot(
    cases: pd.DataFrame, visits: pd.DataFrame, films: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """One row per treated vertebra filmed at least once: `unit_id` (its case), `level_id`,
    and the recorded RFVH, anterior height (mm) and LKA per timepoint (`rfvh_12w`, ...),
    NaN where that vertebra was not filmed at that visit.

    Per vertebra, not per patient: a paired change must compare the same vertebrae at
    both visits, and `unit=level` analyses each vertebra (see `film_values`). Each film
    finds its visit (case, timepoint) among the cases' visits; one film per vertebra per
    visit (a unique constraint)."""
    case_ids = cases["unit_id"].to_numpy()
    _, visit_kept = _index_of(case_ids, visits["unit_id"].to_numpy())
    visit_ids = visits["visit_id"].to_numpy()[visit_kept]
    visit_unit = visits["unit_id"].to_numpy()[visit_kept]
    visit_tp = visits["tp"].to_numpy()[visit_kept]
    at_visit, keep = _index_of(visit_ids, films["film_visit"].to_numpy())
    unit = visit_unit[at_visit][keep]
    timepoint = visit_tp[at_visit][keep]
    level = films["level_id"].to_numpy()[keep]
    width = int(level.max()) + 1 if level.size else 1
    pairs, row = np.unique(unit * width + level, return_inverse=True)
    columns: dict[str, Any] = {"unit_id": pairs // width, "level_id": pairs % width}
    raw = {key: films[f"{key}_value"].to_numpy(dtype=float)[keep] for key in _FILM_VALUES}
    for i, tp in enumerate(TIMEPOINTS):
        chosen = timepoint == i
        for key in _FILM_VALUES:
            column = np.full(len(pairs), np.nan)
            column[row[chosen]] = raw[key][chosen]
            name = "height_mm" if key == "body_height" else key
            columns[f"{name}_{tp}"] = column
    frame = pd.DataFrame(columns, copy=False)
    return frame, {"films": _figures(keep, films["film_id"], films.get("fp_latest"))}


def read_withdrawn(selection: QuerySet[Procedure]) -> pd.DataFrame:
    """Cases of the definition whose patient withdrew consent: technique, procedure day and
    withdrawal day and the number of vertebrae treated only. Their clinical data are never
    read; they are counted (n_withdrawn: cases, or their treated vertebrae per level)."""
    rows = selection.annotate(
        unit_id=F("pk"),
        technique_code=F("technique__code"),
        procedure_day=EpochDay("date"),
        withdrawn_day=EpochDay("patient__withdrawn_at"),
        # What a per-vertebra (unit=level) result counts as withdrawn: treated vertebrae.
        n_levels=Subquery(treated_level_count()),
    ).order_by("pk")
    frame = read_frame(
        rows,
        {
            "unit_id": "id",
            "technique_code": "category",
            "procedure_day": "float",
            "withdrawn_day": "float",
            "n_levels": "int",
        },
    )
    return frame.rename(columns={"technique_code": "technique"})


def read_procedure_rows(where: InCohort, *, stamped: bool = True) -> pd.DataFrame:
    """Every procedure of the rows `where` selects with its patient, raw (the patients'
    frame, and for whole tables the cohort's selection, are made from them).

    Read as two statements, the procedures and their patients, joined here by the
    patient's id: PostgreSQL's join of the two whole tables cost more than reading both
    (and `CohortData` reads the two on two connections at once)."""
    procedures = read_procedure_part(where, stamped=stamped)
    whole = _every_row(where, "pk")
    patients = read_patient_part(where, None if whole else procedures, stamped=stamped)
    return with_patients(procedures, patients)


def with_patients(procedures: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """`read_procedure_rows` from its two parts: each procedure with its patient's columns."""
    at = _lookup(patients["patient_id"].to_numpy(), procedures["patient_id"].to_numpy())
    patient_columns = {
        column: _taken(patients[column], at)
        for column in patients.columns
        if column != "patient_id"
    }
    merged = {**procedures, **patient_columns}
    return pd.DataFrame(
        {column: merged[column] for column in _PROCEDURE_COLUMNS if column in merged}, copy=False
    )


_PROCEDURE_SCHEMA = {
    "unit_id": "id",
    "patient_id": "id",
    "technique_code": "category",
    "procedure_day": "float",
    "approach": "category",
    "anaesthesia": "category",
    "operation_time_min": "float",
    "fluoroscopy_shots": "float",
    "ambulation": "float",
    "hospital_stay_days": "float",
}
_PATIENT_SCHEMA = {
    "patient_id": "id",
    "site_id": "id",
    "birth_day": "float",
    "sex": "category",
    "weight": "float",
    "height": "float",
    "bmd_t_score": "float",
    "asa_class": "int",
    "smoking": "category",
    "osteoporosis_treatment": "category",
    "corticosteroid_use": "bool",
    "withdrawn_day": "float",
}
# The columns of `read_procedure_rows`, in its order.
_PROCEDURE_COLUMNS = (
    "unit_id",
    "patient_id",
    "site_id",
    "technique_code",
    "procedure_day",
    "birth_day",
    "sex",
    "weight",
    "height",
    "bmd_t_score",
    "asa_class",
    "smoking",
    "osteoporosis_treatment",
    "corticosteroid_use",
    "approach",
    "anaesthesia",
    "operation_time_min",
    "fluoroscopy_shots",
    "ambulation",
    "hospital_stay_days",
    "withdrawn_day",
    "fp_procedure",
    "fp_patient",
)


def read_procedure_part(where: InCohort, *, stamped: bool = True) -> pd.DataFrame:
    """The procedures' own columns of `read_procedure_rows`, by id."""
    stamps, stamp_schema = _stamps(stamped, fp_procedure="updated_at")
    rows = (
        Procedure.objects.filter(where("pk"))
        .annotate(
            unit_id=F("pk"),
            technique_code=F("technique__code"),
            procedure_day=EpochDay("date"),
            ambulation=_number("ambulation_hours"),
            **stamps,
        )
        .order_by("pk")
    )
    return read_frame(rows, {**_PROCEDURE_SCHEMA, **stamp_schema})


def read_patient_part(
    where: InCohort, procedures: pd.DataFrame | None, *, stamped: bool = True
) -> pd.DataFrame:
    """The patients' columns of `read_procedure_rows`: of `procedures` (the procedures
    `where` selects, `read_procedure_part`), or every patient when None (whole tables)."""
    stamps, stamp_schema = _stamps(stamped, fp_patient="updated_at")
    patients = Patient.objects.all()
    if procedures is not None:
        patient_ids = np.unique(procedures["patient_id"].to_numpy()).tolist()
        of_procedures = Procedure.objects.filter(where("pk")).values("patient_id")
        patients = patients.filter(in_ids("pk", patient_ids, of_procedures))
    rows = patients.annotate(
        patient_id=F("pk"),
        birth_day=EpochDay("date_of_birth"),
        weight=_number("weight_kg"),
        height=_number("height_cm"),
        # not `bmd_t_score`: an annotation may not take a field's name
        bmd_t_score_value=_number("bmd_t_score"),
        withdrawn_day=EpochDay("withdrawn_at"),
        **stamps,
    )
    schema = {
        ("bmd_t_score_value" if column == "bmd_t_score" else column): kind
        for column, kind in {**_PATIENT_SCHEMA, **stamp_schema}.items()
    }
    frame = read_frame(rows.order_by(), schema)
    return frame.rename(columns={"bmd_t_score_value": "bmd_t_score"})


def _lookup(ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The position in `ids` (unique, any order) of each of `keys` (each one of them)."""
    position, found = _index_of(ids, keys)
    if not found.all():
        raise ValueError("a row refers to a row the database did not send")
    return position


def _taken(column: pd.Series, at: np.ndarray) -> Any:
    """`column`'s values at positions `at`; a categorical keeps the categories present."""
    values = column.array.take(at)
    if isinstance(column.dtype, pd.CategoricalDtype):
        return values.remove_unused_categories()
    return values


def patients_frame(
    rows: pd.DataFrame, case_ids: np.ndarray
) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """The cases' rows of `read_procedure_rows`: demographics and perioperative items."""
    frame = rows.drop(columns=["withdrawn_day"])
    _, keep = _index_of(case_ids, frame["unit_id"].to_numpy())
    if not keep.all():
        frame = frame[keep].reset_index(drop=True)
        frame = frame.assign(
            **{
                column: _recategorised(frame[column])
                for column in frame.columns
                if isinstance(frame[column].dtype, pd.CategoricalDtype)
            }
        )
    every = np.ones(len(frame), dtype=bool)
    figures = {
        "procedures": _figures(every, frame["unit_id"], frame.get("fp_procedure")),
        "patients": (
            Figures.of_parts(0, 0, frame["fp_patient"])
            if "fp_patient" in frame
            else Figures(kept=frame["patient_id"].to_numpy())
        ),
    }
    # Age in whole years at the procedure and BMI, as the SQL expressions computed them
    # (the same float operations in the same order), off the database's clock.
    height = frame["height"].to_numpy()
    derived = {
        "age": whole_years(frame["birth_day"].to_numpy(), frame["procedure_day"].to_numpy()),
        "bmi": frame["weight"].to_numpy() / (height * height / 10000.0),
    }
    at = frame.columns.get_loc("procedure_day")
    stamps = [column for column in ("fp_procedure", "fp_patient") if column in frame]
    frame = frame.drop(columns=[*stamps, "procedure_day", "birth_day"])
    frame.insert(at, "age", derived["age"])
    frame.insert(frame.columns.get_loc("weight"), "bmi", derived["bmi"])
    frame = frame.drop(columns=["weight", "height"])
    names = {"technique_code": "technique", "ambulation": "ambulation_hours"}
    return frame.rename(columns=names), figures


def read_collapsed_visits() -> np.ndarray:
    """The visits with a film showing the collapse of the inclusion rule (the SQL
    selection's own condition; `select_cases` keeps the baseline visits among them): one
    column of the films that match, not every film's columns (`read_film_rows`, read
    behind for the outcomes)."""
    rows = RadiographicMeasurement.objects.filter(
        rfvh_percent__lte=100 - cohorts.MIN_COLLAPSE_PERCENT
    ).values("visit_id")
    return read_frame(rows.order_by(), {"visit_id": "id"})["visit_id"].to_numpy()


def read_pathological_patients() -> np.ndarray:
    """The patients with a fracture that is not osteoporotic (every site: whole tables)."""
    rows = Fracture.objects.exclude(aetiology=Aetiology.OSTEOPOROTIC).values("patient_id")
    return read_frame(rows.order_by(), {"patient_id": "id"})["patient_id"].to_numpy()


def select_cases(
    procedures: pd.DataFrame,
    *,
    site_ids: Iterable[int],
    rules: Mapping[str, bool],
    withdrawn: bool,
    visits: pd.DataFrame | None = None,
    collapsed: np.ndarray | None = None,
    pathological: np.ndarray | None = None,
) -> np.ndarray:
    """`cases.cohort_cases` for a definition without filters, in numpy on whole tables:
    which rows of `read_procedure_rows` of whole tables (every procedure) are the cohort's
    cases. Index procedure per patient (earliest date, then lowest id), scope, withdrawal
    and the inclusion rules, on the same values the SQL compares (recorded decimals parsed to the
    nearest float compare with the integer thresholds exactly). `visits` is needed for
    the baseline VAS rule, `visits` and `collapsed` (`read_collapsed_visits`) for the
    collapse rule, `pathological` (`read_pathological_patients`) to exclude pathological
    fractures."""
    unit = procedures["unit_id"].to_numpy()
    patient = procedures["patient_id"].to_numpy()
    day = procedures["procedure_day"].to_numpy(dtype=float)
    order = np.lexsort((unit, day, patient))
    first = np.ones(len(order), dtype=bool)
    first[1:] = patient[order][1:] != patient[order][:-1]
    chosen = np.zeros(len(unit), dtype=bool)
    chosen[order[first]] = True
    chosen &= _member(procedures["site_id"].to_numpy(), np.fromiter(site_ids, dtype=np.int64))
    gone = ~np.isnan(procedures["withdrawn_day"].to_numpy(dtype=float))
    chosen &= gone if withdrawn else ~gone
    if rules.get("rule_min_age"):
        born = procedures["birth_day"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            chosen &= whole_years(born, day) >= cohorts.MIN_AGE
    if rules.get("rule_baseline_vas") or rules.get("rule_collapse"):
        baseline = visits["tp"].to_numpy() == TIMEPOINTS.index("baseline")
        baseline_unit = visits["unit_id"].to_numpy()[baseline]
    if rules.get("rule_baseline_vas"):
        vas = visits["vas_value"].to_numpy(dtype=float)[baseline]
        with np.errstate(invalid="ignore"):
            chosen &= _member(unit, baseline_unit[vas >= cohorts.MIN_BASELINE_VAS])
    if rules.get("rule_collapse"):
        visit_ids = visits["visit_id"].to_numpy()[baseline]
        chosen &= _member(unit, baseline_unit[_member(visit_ids, collapsed)])
    if rules.get("rule_exclude_pathological"):
        chosen &= ~_member(patient, pathological)
    return chosen


def _member(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """`np.isin` for ids (non-negative integers): one flag per id, no sorting."""
    values = np.asarray(values, dtype=np.int64)
    members = np.asarray(members, dtype=np.int64)
    if not values.size or not members.size:
        return np.zeros(values.shape, dtype=bool)
    flags = np.zeros(int(max(values.max(), members.max())) + 1, dtype=bool)
    flags[members] = True
    return flags[values]


def selected_case_rows(procedures: pd.DataFrame, chosen: np.ndarray) -> pd.DataFrame:
    """`read_case_rows` of the rows of `read_procedure_rows` that `select_cases` chose."""
    frame = procedures.loc[chosen, ["unit_id", "technique_code", "procedure_day"]]
    frame = frame.sort_values("unit_id", ignore_index=True)
    technique = _recategorised(frame["technique_code"])
    return frame.drop(columns=["technique_code"]).assign(technique=technique)[
        ["unit_id", "technique", "procedure_day"]
    ]


def selected_withdrawn(
    procedures: pd.DataFrame, chosen: np.ndarray, levels: pd.DataFrame
) -> pd.DataFrame:
    """`read_withdrawn` of the rows `select_cases(withdrawn=True)` chose (`levels`: every
    treated level, `read_level_rows` of whole tables)."""
    columns = ["unit_id", "technique_code", "procedure_day", "withdrawn_day"]
    frame = procedures.loc[chosen, columns].sort_values("unit_id", ignore_index=True)
    counted, n = np.unique(levels["unit_id"].to_numpy(), return_counts=True)
    position, found = _index_of(counted, frame["unit_id"].to_numpy())
    n_levels = np.where(found, n[position] if len(n) else 0, np.nan).astype("float64")
    technique = _recategorised(frame["technique_code"])
    frame = frame.assign(technique_code=technique, n_levels=n_levels)
    return frame.rename(columns={"technique_code": "technique"})


def whole_years(born: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Age in whole years from epoch days (NaN where either is missing): the year
    difference, less one before the birthday (as `cases.age_at_procedure`)."""
    known = ~(np.isnan(born) | np.isnan(on))
    ages = np.full(born.shape, np.nan)
    by, bm, bd = _civil(born[known].astype(np.int64))
    dy, dm, dd = _civil(on[known].astype(np.int64))
    before_birthday = (dm < bm) | ((dm == bm) & (dd < bd))
    ages[known] = dy - by - before_birthday
    return ages


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day of epoch days in the proleptic Gregorian calendar, in
    integer arithmetic (H. Hinnant's civil_from_days): several times faster than numpy's
    datetime64 conversions, which were most of the cohort selection's own time."""
    z = days + 719468  # days since 0000-03-01
    era = np.floor_divide(z, 146097)
    day_of_era = z - era * 146097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153  # 0 = March
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = np.where(shifted_month < 10, shifted_month + 3, shifted_month - 9)
    year = year_of_era + era * 400 + (month <= 2)
    return year, month, day


def _recategorised(values: pd.Series) -> pd.Categorical:
    """Categories of the rows kept only (as a read of those rows alone gives)."""
    return values.cat.remove_unused_categories().array


def read_level_rows(where: InCohort, *, stamped: bool = True) -> pd.DataFrame:
    """Every treated level of the rows `where` selects, with its fracture, raw.

    Read as two statements, the levels and their fractures, joined here by the fracture's
    id (as `read_procedure_rows`: cheaper than PostgreSQL's join of the whole tables)."""
    stamps, stamp_schema = _stamps(stamped, fp_latest="updated_at")
    rows = TreatedLevel.objects.filter(where("procedure_id")).annotate(
        level_pk=F("pk"),
        unit_id=F("procedure_id"),
        cement=_number("cement_volume_ml"),
        leak=Case(
            *[When(leakage=kind, then=Value(i)) for i, kind in enumerate(_LEAKAGE)],
            default=Value(len(_LEAKAGE)),
            output_field=IntegerField(),
        ),
        is_symptomatic=Case(
            When(leakage_symptomatic=True, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        used=F("devices_used"),
        ruptured=F("devices_ruptured"),
        fracture_pk=F("fracture_id"),
        **stamps,
    )
    schema = {
        "level_pk": "id",
        "unit_id": "id",
        "cement": "float",
        "leak": "id",
        "is_symptomatic": "id",
        "used": "float",
        "ruptured": "float",
        "fracture_pk": "id",
        **stamp_schema,
    }
    levels = read_frame(rows.order_by(), schema)
    whole = _every_row(where, "procedure_id")
    fractures = _read_fractures(
        where, None if whole else levels["fracture_pk"].to_numpy(), stamped=stamped
    )
    at = _lookup(fractures["fracture_pk"].to_numpy(), levels["fracture_pk"].to_numpy())
    level = fractures["level"].array
    thoracic = np.isin(np.asarray(level.categories, dtype=object), vertebrae.THORACIC)
    columns = {
        **levels,
        "thoracic": np.append(thoracic, False).astype(np.int64)[level.codes][at],
        "genant": fractures["genant"].to_numpy()[at],
    }
    if stamped:
        columns["fp_fracture"] = fractures["fp_fracture"].to_numpy()[at]
    order = [*list(levels.columns[:7]), "thoracic", "genant", "fracture_pk"]
    order += [name for name in ("fp_latest", "fp_fracture") if name in columns]
    return pd.DataFrame({name: columns[name] for name in order}, copy=False)


def _read_fractures(
    where: InCohort, fracture_ids: np.ndarray | None, *, stamped: bool
) -> pd.DataFrame:
    """The fractures `fracture_ids`, treated in the procedures `where` selects (every
    fracture when None: whole tables): level and Genant grade."""
    stamps, stamp_schema = _stamps(stamped, fp_fracture="updated_at")
    fractures = Fracture.objects.all()
    if fracture_ids is not None:
        treated = TreatedLevel.objects.filter(where("procedure_id")).values("fracture_id")
        fractures = fractures.filter(in_ids("pk", np.unique(fracture_ids).tolist(), treated))
    rows = fractures.annotate(fracture_pk=F("pk"), genant=F("genant_grade"), **stamps)
    schema = {"fracture_pk": "id", "level": "category", "genant": "float", **stamp_schema}
    return read_frame(rows.order_by(), schema)


_LEAKAGE = (Leakage.NONE, Leakage.B, Leakage.S, Leakage.C)


def collapse_levels(
    case_ids: np.ndarray, levels: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """The treated levels of each case collapsed (one row per case with levels, by id):
    counts, the cement total (only when every level's volume was recorded; summed on the
    recorded tenths of a ml, so it is exact), the highest Genant grade, leakage by Yeom
    type, devices."""
    _, keep = _index_of(case_ids, levels["unit_id"].to_numpy())
    kept = levels[keep]
    cases, row = np.unique(kept["unit_id"].to_numpy(), return_inverse=True)
    size = len(cases)

    def count(weights: np.ndarray) -> np.ndarray:
        return np.bincount(row, weights=weights, minlength=size)

    leak = kept["leak"].to_numpy()
    cement = kept["cement"].to_numpy(dtype=float)
    known = ~np.isnan(cement)
    n_levels = count(np.ones(len(kept)))
    cement_total = count(np.where(known, np.rint(cement * 10), 0)) / 10
    genant = np.full(size, np.nan)
    np.fmax.at(genant, row, kept["genant"].to_numpy(dtype=float))
    thoracic = count(kept["thoracic"].to_numpy(dtype=float))
    counts = {
        "n_levels": n_levels,
        "leaked_levels": count((leak != 0).astype(float)),
        "yeom_B": count((leak == 1).astype(float)),
        "yeom_S": count((leak == 2).astype(float)),
        "yeom_C": count((leak == 3).astype(float)),
        "symptomatic": count(kept["is_symptomatic"].to_numpy(dtype=float)),
        "devices_used": count(np.nan_to_num(kept["used"].to_numpy(dtype=float))),
        "devices_ruptured": count(np.nan_to_num(kept["ruptured"].to_numpy(dtype=float))),
    }
    figures = {
        "levels": _figures(keep, levels["level_pk"], levels.get("fp_latest")),
        "fractures": (
            Figures.of_parts(0, 0, kept["fp_fracture"])
            if "fp_fracture" in kept
            else Figures(kept=kept["fracture_pk"].to_numpy())
        ),
    }
    # Categoricals from codes (no string per case), with the categories present, sorted,
    # as pd.Categorical of the labels makes them.
    region = _categories_present(
        np.select([thoracic == n_levels, thoracic == 0], [2, 1], default=0),
        ["both", "lumbar", "thoracic"],
    )
    collapsed = pd.DataFrame(
        {
            "unit_id": cases.astype("int64"),
            "levels": _categories_present(np.where(n_levels > 1, 0, 1), ["multi", "single"]),
            "region": region,
            "genant_grade": genant,
            "cement_volume_ml": np.where(
                count(known.astype(float)) == n_levels, cement_total, np.nan
            ),
            "leaked": pd.array(counts["leaked_levels"] > 0, dtype="boolean"),
            **{column: counts[column] for column in (*LEVEL_COUNTS, *DEVICE_COUNTS)},
        }
    )
    return collapsed, figures


def _categories_present(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    """`pd.Categorical` of `labels[code]` per row (`labels` sorted): the same categories."""
    categories = pd.Index(labels, dtype="str")
    return pd.Categorical.from_codes(codes, categories=categories).remove_unused_categories()


def read_event_rows(where: InCohort, *, stamped: bool = True) -> pd.DataFrame:
    """The adverse events of the rows `where` selects, one row each."""
    stamps, stamp_schema = _stamps(stamped, fp_latest="updated_at")
    rows = AdverseEvent.objects.filter(where("procedure_id")).annotate(
        unit_id=F("procedure_id"),
        kind=F("event_type"),
        grade=F("clavien_dindo"),
        event_id=F("pk"),
        **stamps,
    )
    return read_frame(
        rows.order_by("pk"),
        {
            "unit_id": "id",
            "kind": "category",
            "grade": "category",
            "event_id": "id",
            **stamp_schema,
        },
    )


def adverse_events(
    case_ids: np.ndarray, events: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Figures]]:
    """The cases' adverse events, one row each (a few per hundred patients)."""
    _, keep = _index_of(case_ids, events["unit_id"].to_numpy())
    figures = {"events": _figures(keep, events["event_id"], events.get("fp_latest"))}
    kept = events.loc[keep, ["unit_id", "kind", "grade"]].reset_index(drop=True)
    if not keep.all():
        kept = kept.assign(kind=_recategorised(kept["kind"]), grade=_recategorised(kept["grade"]))
    return kept, figures
