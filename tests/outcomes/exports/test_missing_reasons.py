"""SPSS and Stata files say why a visit value is missing: not yet due, missed (window
closed), withdrawn, or not recorded at a recorded visit, as user-missing values with their
labels (registry.followup decides the status); read back with pyreadstat."""

from __future__ import annotations

from pathlib import Path

import pyreadstat
import pytest

from outcomes.dictionary.tables import TIMEPOINTS
from outcomes.exports.services import export_file
from outcomes.exports.statistical import MISSING_REASONS, NOT_RECORDED, SPSS_MISSING_RANGE
from registry.models import TreatedLevel
from tests.outcomes.exports.conftest import package
from tests.outcomes.exports.test_round_trip import _missing, expected_wide_row

REASON = {r.key: r for r in MISSING_REASONS}
VALUES = ("vas", "odi", "rfvh", "lka", "ant_height_mm", "beck_index")


def _read(export, name: str, fmt: str):
    path = Path(export_file(export)).with_suffix(f".{name}.{fmt}")
    path.write_bytes(package(export).read(f"{name}.{fmt}"))
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    return reader(str(path), user_missing=True)


def _expected_reason(status: str):
    return REASON.get(status) or REASON[NOT_RECORDED]  # a recorded visit: not recorded


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_missing_visit_values_carry_their_reason(fmt, coordinator, cohort_cases, export):
    made = export(coordinator, format=fmt)
    wide, meta = _read(made, "wide", fmt)
    seen = set()
    levels = TreatedLevel.objects.filter(procedure__patient__withdrawn_at__isnull=True)
    for level in levels.select_related("procedure__patient__site", "fracture"):
        row = wide[wide["cement_volume_ml"] == float(level.cement_volume_ml)].iloc[0]
        expected = expected_wide_row(level, made.as_of)
        for tp in TIMEPOINTS:
            for value in VALUES:
                column, recorded = f"{value}_{tp}", expected[f"{value}_{tp}"]
                cell = row[column]
                if recorded is not None:
                    assert float(cell) == pytest.approx(float(recorded), abs=1e-3), column
                    continue
                reason = _expected_reason(expected[f"status_{tp}"])
                seen.add(reason.key)
                assert cell == (reason.spss if fmt == "sav" else reason.stata), (column, cell)
                labels = meta.variable_value_labels[column]
                assert labels[cell] == reason.label
    # The cohort has missed visits and a recorded visit without its VAS.
    assert {"missing", NOT_RECORDED} <= seen
    if fmt == "sav":
        assert meta.missing_ranges["vas_2w"] == [SPSS_MISSING_RANGE]
    else:
        # (the file lists the tags it holds; every tag has its label)
        assert set(meta.missing_user_values["vas_2w"]) <= {r.stata for r in MISSING_REASONS}
        assert {r.stata: r.label for r in MISSING_REASONS}.items() <= meta.variable_value_labels[
            "vas_2w"
        ].items()


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_without_user_missing_the_reasons_read_as_missing(fmt, coordinator, cohort_cases, export):
    """A reader that ignores user-missing values (the default) sees plain missing values:
    no -999x code ever enters a mean."""
    made = export(coordinator, format=fmt)
    path = Path(export_file(made)).with_suffix(f".plain.{fmt}")
    path.write_bytes(package(made).read(f"wide.{fmt}"))
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    wide, _ = reader(str(path))
    for tp in TIMEPOINTS:
        for value in VALUES:
            column = wide[f"{value}_{tp}"]
            assert all(_missing(x) or x > -9000 for x in column), (value, tp)
    two_level = wide[wide["cement_volume_ml"] == 4.2].iloc[0]
    assert _missing(two_level["vas_2w"]) and two_level["vas_1y"] == 1.0  # out of window: kept


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_every_reason_round_trips(fmt, monkeypatch, tmp_path):
    """Each follow-up status (registry.followup) gives its reason to an empty value, written
    and read back by pyreadstat; values recorded in or out of window stay as recorded."""
    import pyarrow as pa

    from outcomes.dictionary import table
    from outcomes.exports import batches, statistical
    from outcomes.exports.sql import Query
    from registry.followup import FollowUpStatus

    by_name = {v.name: v for v in table("wide")}
    variables = (by_name["status_12w"], by_name["vas_12w"], by_name["analgesics_12w"])
    statuses = [str(s) for s in FollowUpStatus] + ["in_window"]
    vas = [2.5, 3.0, None, None, None, None]  # the last: a visit without its VAS
    analgesics = [variables[2].codes[0][0], None, None, None, None, None]
    schema = batches.arrow_schema(variables)
    batch = pa.RecordBatch.from_arrays(
        [pa.array(statuses), pa.array(vas, pa.float64()), pa.array(analgesics, pa.string())],
        schema=schema,
    )
    query = Query("wide", variables, "", [])
    monkeypatch.setattr(statistical, "count_rows", lambda query: 6)
    path = tmp_path / f"x.{fmt}"
    write = statistical.write_sav if fmt == "sav" else statistical.write_dta
    assert write(query, path, lambda n: None, "test", batches=iter([batch])) == 6
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, meta = reader(str(path), user_missing=True)
    expected = [
        REASON[NOT_RECORDED] if s in ("in_window", "out_of_window") else REASON[s] for s in statuses
    ]
    for i, reason in enumerate(expected):
        code = reason.spss if fmt == "sav" else reason.stata
        if vas[i] is None:
            assert frame["vas_12w"][i] == code
            assert meta.variable_value_labels["vas_12w"][code] == reason.label
        else:
            assert frame["vas_12w"][i] == vas[i]
        if analgesics[i] is None:
            assert frame["analgesics_12w"][i] == code
    assert frame["analgesics_12w"][0] == 1  # the first code, numbered 1


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_the_package_readme_says_how_to_read_the_reasons(fmt, coordinator, cohort_cases, export):
    readme = package(export(coordinator, format=fmt)).read("README.txt").decode()
    for reason in MISSING_REASONS:
        assert f"{reason.spss} / .{reason.stata} = {reason.label}" in readme
    # The call that keeps them (the one the tests above read the files with), in R and Python.
    assert "pyreadstat.read_sav('wide.sav', user_missing=True)" in readme
    assert "haven::read_sav('wide.sav', user_na = TRUE)" in readme
