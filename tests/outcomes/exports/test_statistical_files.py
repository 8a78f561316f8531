"""Our SPSS and Stata writers, at their edges: an empty table, one row, text at its widest in
UTF-8 (é, ü, 中; SPSS's very long strings past 255 bytes), long variable names and SPSS's
short names, the order of value labels, an empty cell of every kind, Stata's str width, and
visit dates that say why they are empty. Read back by pyreadstat and by pandas."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pyarrow as pa
import pyreadstat
import pytest

from outcomes.dictionary import Kind, Level, all_tables, table
from outcomes.dictionary.tables import TIMEPOINTS
from outcomes.exports import batches, statistical
from outcomes.exports.sql import Query
from outcomes.exports.statistical.dta import MAX_NAME_CHARS, MAX_STR
from outcomes.exports.statistical.sav import short_names
from registry.models import Patient
from tests.outcomes.exports.test_missing_reasons import REASON, _read

WIDE = {v.name: v for v in table("wide", Level.SHIFTED)}
PATIENTS = {v.name: v for v in table("patients", Level.IDENTIFIED)}
# One variable of each kind: text, code, boolean, integer, decimal, date; a per-visit value.
VARIABLES = (
    PATIENTS["family_name"],
    WIDE["morphology"],
    WIDE["leakage_symptomatic"],
    WIDE["onset_day"],
    WIDE["cement_volume_ml"],
    WIDE["procedure_date"],
    WIDE["status_12w"],
    WIDE["above_ant_height_mm_12w"],
)
WIDEST = "é" * 40 + "ü" * 40 + "中" * 20  # 220 bytes, 100 characters (the field's max_length)
VERY_LONG = "中" * 100 + "x"  # 301 bytes: an SPSS very long string (two segments)
READERS = {"sav": pyreadstat.read_sav, "dta": pyreadstat.read_dta}
TERMINATOR = {"sav": 0, "dta": 1}  # ReadStat counts a byte for Stata's NUL in a str# width


def _batch(rows: list[tuple], variables=VARIABLES) -> pa.RecordBatch:
    schema = batches.arrow_schema(variables)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(variables)
    return pa.RecordBatch.from_arrays(
        [pa.array(list(c), type=f.type) for c, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _write(fmt, tmp_path, monkeypatch, rows, variables=VARIABLES, widths=None, count=None):
    texts = {
        v.name: max([len(str(r[i]).encode()) for r in rows if r[i]] or [None])
        for i, v in enumerate(variables)
        if v.kind is Kind.TEXT
    }
    monkeypatch.setattr(
        statistical, "count_rows", lambda query: len(rows) if count is None else count
    )
    monkeypatch.setattr(statistical, "text_widths", lambda query: widths or texts)
    path = tmp_path / f"x.{fmt}"
    write = statistical.write_sav if fmt == "sav" else statistical.write_dta
    written = write(
        Query("wide", variables, "", []),
        path,
        lambda n: None,
        "Étude 中",
        batches=iter([_batch(rows, variables)]),
    )
    assert written == len(rows)
    return path


ROW = ("Zoë Ünal-中村", "wedge", 1, -3, 2.5, date(2021, 3, 4), "in_window", 21.75)
EMPTY_ROW = (None, None, None, None, None, None, "missing", None)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_an_empty_table_keeps_its_variables_and_labels(fmt, tmp_path, monkeypatch):
    path = _write(fmt, tmp_path, monkeypatch, [])
    frame, meta = READERS[fmt](str(path), user_missing=True)
    assert list(frame.columns) == [v.name for v in VARIABLES] and len(frame) == 0
    assert meta.number_rows == 0
    assert meta.column_names_to_labels["cement_volume_ml"] == "Cement volume (ml)"
    assert meta.variable_value_labels["leakage_symptomatic"] == {1: "Yes", 0: "No"}
    assert meta.file_label == "Étude 中"


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_one_row_and_an_empty_cell_of_every_kind(fmt, tmp_path, monkeypatch):
    path = _write(fmt, tmp_path, monkeypatch, [ROW, EMPTY_ROW])
    frame, _ = READERS[fmt](str(path), user_missing=True)
    first, empty = frame.iloc[0], frame.iloc[1]
    assert first["family_name"] == "Zoë Ünal-中村"
    assert first["morphology"] == 1  # wedge: the first code, numbered 1
    assert first["leakage_symptomatic"] == 1 and first["onset_day"] == -3
    assert first["cement_volume_ml"] == 2.5 and first["above_ant_height_mm_12w"] == 21.75
    assert first["procedure_date"] == date(2021, 3, 4)
    # Empty: text is "", the others system missing; a per-visit value says why.
    assert empty["family_name"] == ""
    for name in ("morphology", "leakage_symptomatic", "onset_day", "cement_volume_ml"):
        assert _nan(empty[name]), name
    assert pd.isna(empty["procedure_date"])
    reason = REASON["missing"]
    assert empty["above_ant_height_mm_12w"] == (reason.spss if fmt == "sav" else reason.stata)


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@pytest.mark.parametrize("fmt", ["sav", "dta"])
@pytest.mark.parametrize("text", [WIDEST, VERY_LONG])
def test_text_at_its_widest_in_utf8_reads_back_whole(fmt, text, tmp_path, monkeypatch):
    rows = [(text, *ROW[1:]), ("ü", *ROW[1:]), EMPTY_ROW]
    path = _write(fmt, tmp_path, monkeypatch, rows)
    frame, meta = READERS[fmt](str(path))
    assert frame["family_name"].tolist() == [text, "ü", ""]
    assert meta.variable_storage_width["family_name"] == len(text.encode()) + TERMINATOR[fmt]
    pandas = pd.read_spss(path) if fmt == "sav" else pd.read_stata(path)
    assert pandas["family_name"].tolist() == [text, "ü", ""]
    assert pandas["cement_volume_ml"].tolist()[:2] == [2.5, 2.5]


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_a_text_wider_than_measured_or_a_changed_row_count_is_refused(fmt, tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="changed"):
        _write(fmt, tmp_path, monkeypatch, [ROW], widths={"family_name": 3})
    with pytest.raises(RuntimeError, match="changed"):
        _write(fmt, tmp_path, monkeypatch, [ROW], count=2)


def test_stata_strings_are_str_up_to_2045_bytes(tmp_path, monkeypatch):
    """No dictionary text comes near it (CharFields of at most 100 characters); past it a
    file would need strL, which the writer refuses rather than truncate."""
    text = "中" * (MAX_STR // 3) + "xy"  # 2045 bytes
    path = _write("dta", tmp_path, monkeypatch, [(text, *ROW[1:])])
    frame, meta = pyreadstat.read_dta(str(path))
    assert frame["family_name"][0] == text
    assert meta.variable_storage_width["family_name"] == 2045 + TERMINATOR["dta"]
    assert pd.read_stata(path)["family_name"][0] == text
    with pytest.raises(ValueError, match="str2045"):
        _write("dta", tmp_path, monkeypatch, [(text + "z", *ROW[1:])])


def test_spss_short_names_are_unique_and_the_long_names_are_kept(tmp_path, monkeypatch):
    names = [v.name for v in table("wide")]
    shorts = short_names(names, [0] * len(names))
    flat = [s for mine in shorts for s in mine]
    assert len(set(flat)) == len(flat) and all(len(s) <= 8 and s == s.upper() for s in flat)
    # visit_day_baseline, visit_day_2w, ... share their first 8 characters.
    assert len({s[0] for n, s in zip(names, shorts, strict=True) if n.startswith("visit_da")}) == 4
    # A very long string's later segments get names of their own.
    assert short_names(["name", "name1"], [1, 0]) == [["NAME", "NAME1"], ["NAME11"]]
    # Every name of the dictionary fits Stata's 32 characters (its writer refuses longer).
    assert max(len(v.name) for t in all_tables().values() for v in t) <= MAX_NAME_CHARS
    variables = tuple(v for v in table("wide") if v.kind is not Kind.TEXT)
    path = _write("sav", tmp_path, monkeypatch, [], variables=variables)
    _, meta = pyreadstat.read_sav(str(path))
    assert meta.column_names == [v.name for v in variables]


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_value_labels_are_in_order(fmt, tmp_path, monkeypatch):
    """SPSS: the dictionary's order, then the reasons -9991..-9994; Stata sorts its table
    by value, so the codes come first and .a-.d after them."""
    path = _write(fmt, tmp_path, monkeypatch, [ROW])
    _, meta = READERS[fmt](str(path), user_missing=True)
    morphology = [label for _, label in WIDE["morphology"].codes]
    assert list(meta.variable_value_labels["morphology"].values()) == morphology
    status = list(meta.variable_value_labels["above_ant_height_mm_12w"])
    assert status == ([-9991, -9992, -9993, -9994] if fmt == "sav" else ["a", "b", "c", "d"])
    booleans = meta.variable_value_labels["leakage_symptomatic"]
    assert list(booleans.items()) == (
        [(1, "Yes"), (0, "No")] if fmt == "sav" else [(0, "No"), (1, "Yes")]
    )


def test_spss_declares_the_reasons_a_missing_range_with_measure_levels(tmp_path, monkeypatch):
    path = _write("sav", tmp_path, monkeypatch, [ROW])
    _, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert meta.missing_ranges == {"above_ant_height_mm_12w": [{"lo": -9999.0, "hi": -9991.0}]}
    assert meta.variable_measure == {
        "family_name": "nominal",
        "morphology": "nominal",
        "leakage_symptomatic": "nominal",
        "onset_day": "scale",
        "cement_volume_ml": "scale",
        "procedure_date": "scale",
        "status_12w": "nominal",
        "above_ant_height_mm_12w": "scale",
    }
    assert meta.original_variable_types["procedure_date"] == "DATE11"
    assert meta.original_variable_types["cement_volume_ml"] == "F8.1"


def test_pandas_reads_the_stata_reasons_as_extended_missing_values(tmp_path, monkeypatch):
    path = _write("dta", tmp_path, monkeypatch, [ROW, EMPTY_ROW])
    # (pandas converts neither dates nor value labels of columns with missing values so)
    frame = pd.read_stata(
        path, convert_missing=True, convert_dates=False, convert_categoricals=False
    )
    assert frame["above_ant_height_mm_12w"][1].string == ".b"
    assert frame["onset_day"][1].string == "."
    reader = pd.read_stata(path, iterator=True)
    assert reader.value_labels()["morphology"][1] == WIDE["morphology"].codes[0][1]
    assert reader.variable_labels()["onset_day"] == "Fracture onset day (days)"


# ------------------------------------------------------------------ exports (the database)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_visit_dates_say_why_they_are_empty(fmt, coordinator, cohort_cases, export):
    """Shifted dates: a visit's date is empty for the reason its visit day is, with the
    labels; a recorded one keeps the interval to the procedure."""
    made = export(coordinator, format=fmt, level="shifted")
    wide, meta = _read(made, "wide", fmt)
    raw, _ = (
        pyreadstat.read_sav(
            str(_path(made, fmt)), user_missing=True, disable_datetime_conversion=True
        )
        if fmt == "sav"
        else (wide, meta)
    )
    checked = 0
    for i, row in wide.iterrows():
        for tp in TIMEPOINTS:
            day, when = row[f"visit_day_{tp}"], row[f"visit_date_{tp}"]
            if isinstance(day, str) or day < -9000:  # a reason: the date has the same one
                cell = raw[f"visit_date_{tp}"][i]
                assert cell == day, (tp, cell, day)
                assert meta.variable_value_labels[f"visit_date_{tp}"][cell]
                checked += 1
            else:
                assert (when - row["procedure_date"]).days == day
    assert checked
    labels = meta.variable_value_labels["visit_date_12w"]
    assert set(labels.values()) == {r.label for r in REASON.values()}


def _path(made, fmt, name="wide"):
    from pathlib import Path

    from outcomes.exports.services import export_file

    return Path(export_file(made)).with_suffix(f".{name}.{fmt}")


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_identified_names_in_any_script_round_trip(fmt, site_admin_a, cohort_cases, export):
    """The widths come from the database (UTF-8 bytes): a 100-character name of 300 bytes is
    an SPSS very long string and a Stata str300."""
    patient = cohort_cases["old"].patient
    Patient.objects.filter(pk=patient.pk).update(family_name="中" * 100, given_name="Zoë-Ünal")
    made = export(
        site_admin_a, format=fmt, level="identified", reason="Linkage to the cancer registry"
    )
    patients, meta = _read(made, "patients", fmt)
    row = patients[patients["hospital_record_number"] == patient.hospital_record_number].iloc[0]
    assert row["family_name"] == "中" * 100 and row["given_name"] == "Zoë-Ünal"
    assert meta.variable_storage_width["family_name"] == 300 + TERMINATOR[fmt]


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_pandas_reads_every_table_as_pyreadstat_does(fmt, coordinator, cohort_cases, export):
    """pandas' own Stata reader (and read_spss) finds the values, the variable labels and the
    value labels pyreadstat finds, in every table of a shifted export (dates included)."""
    from outcomes.dictionary import TABLES

    made = export(coordinator, format=fmt, level="shifted")
    for name in TABLES:
        _, meta = _read(made, name, fmt)  # (writes the table's file beside the zip)
        path = _path(made, fmt, name)
        ours, _ = READERS[fmt](str(path))  # the reasons read as plain missing values
        if fmt == "sav":
            theirs = pd.read_spss(path, convert_categoricals=False)
        else:
            theirs = pd.read_stata(path, convert_categoricals=False)
            reader = pd.read_stata(path, iterator=True)
            assert reader.variable_labels() == meta.column_names_to_labels
            assert reader.data_label == meta.file_label
            for column, label_set in meta.variable_to_label.items():
                assert reader.value_labels()[label_set] == {
                    k: v for k, v in meta.value_labels[label_set].items() if isinstance(k, int)
                } | {
                    2_147_483_622 + "abcd".index(k): v
                    for k, v in meta.value_labels[label_set].items()
                    if isinstance(k, str)
                }, column
        assert list(theirs.columns) == list(ours.columns) and len(theirs) == len(ours) > 0
        for column in ours.columns:
            for a, b in zip(ours[column], theirs[column], strict=True):
                if pd.isna(a) or (isinstance(a, str) and a == "" and pd.isna(b)):
                    assert pd.isna(b) or b == "", (name, column, a, b)
                elif isinstance(a, date):
                    assert pd.Timestamp(a) == pd.Timestamp(b), (name, column)
                else:
                    assert a == b, (name, column, a, b)
