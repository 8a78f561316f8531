"""Round trips: export, read back (pandas, openpyxl, pyreadstat, pyarrow), and every value
equals the database: codes and their labels, missing values, derived values, the follow-up
status; wide and long hold the same values."""

from __future__ import annotations

import math

import pandas as pd

from outcomes.dictionary import Kind, table
from outcomes.dictionary.rows import resolve_codes, technique_codes
from outcomes.dictionary.tables import MAX_AGE, TIMEPOINTS
from outcomes.exports.statistical import MISSING_REASONS, status_column
from outcomes.exports.writers import variable_label
from registry import derived
from registry.followup import followup_status
from registry.models import AdverseEvent, TreatedLevel
from tests.outcomes.exports.conftest import read_table


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _same(exported, expected, precision: int | None = None) -> bool:
    if expected is None:
        return _missing(exported)
    if _missing(exported):
        return False
    if isinstance(expected, bool):
        return int(exported) == int(expected)
    if isinstance(expected, (int, float)) or hasattr(expected, "as_tuple"):
        tolerance = 10 ** -(precision or 0) if precision else 1e-9
        return abs(float(exported) - float(expected)) <= tolerance
    return str(exported) == str(expected)


def expected_wide_row(level: TreatedLevel, as_of) -> dict:
    """What the wide table must say about one treated vertebra, from the ORM and the
    registry's own functions."""
    procedure, patient, fracture = level.procedure, level.procedure.patient, level.fracture
    age = derived.age_at(patient.date_of_birth, procedure.date)
    row = {
        "site": patient.site.code,
        "technique": procedure.technique.code,
        "procedure_year": procedure.date.year,
        "sex": patient.sex,
        "age": min(age, MAX_AGE),
        "bmi": derived.bmi(patient.height_cm, patient.weight_kg),
        "n_levels": procedure.treated_levels.count(),
        "vertebra": fracture.level,
        "genant_grade": fracture.genant_grade,
        "aetiology": fracture.aetiology,
        "onset_day": (fracture.onset_date - procedure.date).days,
        "cement_volume_ml": level.cement_volume_ml,
        "leakage": level.leakage,
        "leakage_symptomatic": level.leakage_symptomatic,
        "devices_used": level.devices_used,
        "imaging": fracture.imaging or None,
        "morphology": fracture.morphology or None,
    }
    visits = {v.timepoint: v for v in procedure.visits.all()}
    for tp in TIMEPOINTS:
        visit = visits.get(tp)
        film = visit.radiographs.filter(treated_level=level).first() if visit else None
        row[f"status_{tp}"] = str(
            followup_status(
                timepoint=tp,
                procedure_date=procedure.date,
                visit_date=visit.visit_date if visit else None,
                as_of=as_of,
            )
        )
        row[f"visit_day_{tp}"] = (visit.visit_date - procedure.date).days if visit else None
        row[f"vas_{tp}"] = visit.vas if visit else None
        row[f"odi_{tp}"] = visit.odi_percent if visit else None
        row[f"rfvh_{tp}"] = film.rfvh_percent if film else None
        row[f"lka_{tp}"] = film.lka_degrees if film else None
        row[f"ant_height_mm_{tp}"] = film.anterior_height_mm if film else None
        row[f"height_loss_{tp}"] = film.height_loss if film else None
        row[f"beck_index_{tp}"] = film.beck_index if film else None
    return row


PRECISION = {"bmi": 1, "beck_index": 3, "height_loss": 2, "rfvh": 2}


def _precision(column: str) -> int | None:
    return PRECISION.get(column.rsplit("_", 1)[0], PRECISION.get(column))


def test_wide_csv_equals_the_database(coordinator, cohort_cases, export):
    made = export(coordinator)
    wide, _ = read_table(made, "wide")
    levels = TreatedLevel.objects.filter(procedure__patient__withdrawn_at__isnull=True)
    assert len(wide) == levels.count() == 5
    for level in levels.select_related("procedure__patient__site", "fracture"):
        row = wide[wide["cement_volume_ml"] == float(level.cement_volume_ml)]
        assert len(row) == 1
        exported = row.iloc[0]
        for column, expected in expected_wide_row(level, made.as_of).items():
            assert _same(exported[column], expected, _precision(column)), (
                column,
                exported[column],
                expected,
            )


def test_out_of_window_and_missing_follow_up_are_flagged(coordinator, cohort_cases, export):
    wide, _ = read_table(export(coordinator), "wide")
    two_level = wide[wide["cement_volume_ml"] == 4.2].iloc[0]
    assert two_level["status_1y"] == "out_of_window" and two_level["vas_1y"] == 1.0
    assert two_level["status_2w"] == "missing" and _missing(two_level["vas_2w"])
    third = wide[wide["cement_volume_ml"] == 2.7].iloc[0]
    assert third["status_12w"] == "in_window" and _missing(third["vas_12w"])


def test_long_holds_the_wide_values_one_row_per_visit_per_vertebra(
    coordinator, cohort_cases, export
):
    made = export(coordinator)
    wide, _ = read_table(made, "wide")
    long, _ = read_table(made, "long")
    scheduled = long[long["timepoint"] != "unscheduled"]
    assert (long["timepoint"] == "unscheduled").sum() == 2  # one visit x two vertebrae
    assert _missing(long[long["timepoint"] == "unscheduled"]["window_status"].iloc[0])
    values = ["vas", "odi", "rfvh", "lka", "ant_height_mm", "beck_index", "height_loss"]
    checked = 0
    for _, row in scheduled.iterrows():
        match = wide[
            (wide["pseudonym"] == row["pseudonym"]) & (wide["vertebra"] == row["vertebra"])
        ]
        assert len(match) == 1
        w = match.iloc[0]
        tp = row["timepoint"]
        assert w[f"status_{tp}"] == row["window_status"]
        assert w[f"visit_day_{tp}"] == row["visit_day"]
        for value in values:
            assert _same(w[f"{value}_{tp}"], None if _missing(row[value]) else row[value])
            checked += 1
    # Every recorded wide visit is a long row.
    recorded = sum(
        (wide[f"status_{tp}"].isin(["in_window", "out_of_window"])).sum() for tp in TIMEPOINTS
    )
    assert recorded == len(scheduled) and checked


def test_adverse_events_and_procedures_equal_the_database(coordinator, cohort_cases, export):
    made = export(coordinator)
    events, _ = read_table(made, "adverse_events")
    event = AdverseEvent.objects.get()
    assert events.to_dict("records") == [
        {
            "pseudonym": events["pseudonym"].iloc[0],
            "event_type": event.event_type,
            "vertebra": "T12",
            "onset_day": 30,
            "clavien_dindo": "II",
            "resolved": 1,
        }
    ]
    procedures, _ = read_table(made, "procedures")
    assert sorted(procedures["n_levels"]) == [1, 1, 1, 2]
    assert sorted(procedures["technique"]) == ["PKP", "PKP", "PVP", "VBS"]
    assert 51 in procedures["operation_time_min"].tolist()


def _decoded(frame: pd.DataFrame, meta, variables) -> pd.DataFrame:
    """A SPSS/Stata frame back to codes: numbers -> labels (the file's own value labels) ->
    codes (the dictionary), so it compares with the CSV."""
    out = frame.copy()
    for v in variables:
        if v.kind is Kind.CODE:
            labels = meta.variable_value_labels[v.name]
            to_code = {label: code for code, label in v.codes}
            out[v.name] = frame[v.name].map(
                lambda n, to_code=to_code, labels=labels: (
                    None if _missing(n) else to_code[labels[int(n)]]
                )
            )
    return out


def _unlabelled(frame: pd.DataFrame, variables) -> pd.DataFrame:
    """The labelled CSV back to codes through the dictionary (every label is known)."""
    out = frame.copy()
    for v in variables:
        if v.kind in (Kind.CODE, Kind.BOOLEAN):
            to_code = {label: code for code, label in v.codes}
            convert = int if v.kind is Kind.BOOLEAN else str
            out[v.name] = frame[v.name].map(
                lambda x, to_code=to_code, convert=convert: (
                    None if _missing(x) else convert(to_code[x])
                )
            )
    return out


def _label_key(key):
    """Value-label keys: numbers, or a Stata tagged missing value as its letter."""
    return key if isinstance(key, str) else int(key)


FORMATS = ("xlsx", "sav", "dta", "parquet", "csv_labelled")


def test_every_format_holds_the_csv_values(coordinator, cohort_cases, export):
    reference = export(coordinator, format="csv")
    for fmt in FORMATS:
        _check_format(fmt, reference, export(coordinator, format=fmt))


def _check_format(fmt, reference, other):
    techniques = technique_codes()
    for name in ("wide", "long", "patients", "adverse_events"):
        variables = [resolve_codes(v, techniques) for v in table(name)]
        csv_frame, _ = read_table(reference, name)
        frame, meta = read_table(other, name)
        assert list(frame.columns) == [v.name for v in variables]
        assert len(frame) == len(csv_frame)
        if meta is not None:
            # Every label is in the file: variable labels and each coded variable's value labels.
            labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
            for v in variables:
                assert labels[v.name] == variable_label(v)[:80], v.name
            names = {v.name for v in variables}
            for v in variables:
                if v.kind in (Kind.CODE, Kind.BOOLEAN):
                    expected = {v.numeric_codes[c]: label for c, label in v.codes}
                    if status_column(v, names):  # and the reasons of missing values
                        expected |= {
                            (r.spss if fmt == "sav" else r.stata): r.label for r in MISSING_REASONS
                        }
                    assert {
                        _label_key(k): x for k, x in meta.variable_value_labels[v.name].items()
                    } == expected
            frame = _decoded(frame, meta, variables)
        if fmt == "csv_labelled":
            frame = _unlabelled(frame, variables)
        # Pseudonyms are re-keyed per export: compare rows in the order of the other columns.
        keys = [v.name for v in variables if v.name != "pseudonym" and v.kind is not Kind.DATE]
        left = csv_frame.drop(columns="pseudonym").sort_values(keys, ignore_index=True)
        right = frame.drop(columns="pseudonym").sort_values(keys, ignore_index=True)
        for v in variables:
            if v.name == "pseudonym":
                continue
            for a, b in zip(left[v.name], right[v.name], strict=True):
                assert _same(b, None if _missing(a) else a, v.precision), (name, v.name, a, b)
