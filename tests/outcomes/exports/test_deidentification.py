"""De-identification: no identifying or free-text value leaves in any format; pseudonyms are
re-keyed per export; ages above 89 show as 90; shifted dates keep every interval."""

from __future__ import annotations

from datetime import date

import pytest

from outcomes.dictionary import columns
from outcomes.exports.models import ExportFormat
from outcomes.exports.subjects import pseudonym, shift_days
from registry.models import Patient
from tests.outcomes.exports.conftest import (
    BORN,
    EVENT_TEXT,
    FAMILY,
    GIVEN,
    NOTE,
    RECORD,
    WITHDRAWAL,
    decoded_texts,
    read_table,
)


def identifying_values(patient: Patient) -> list[str]:
    return [
        FAMILY,
        GIVEN,
        RECORD,
        patient.registry_id,
        BORN.isoformat(),
        BORN.strftime("%d/%m/%Y"),
        BORN.strftime("%Y%m%d"),
        NOTE,
        EVENT_TEXT,
        WITHDRAWAL,
    ]


@pytest.mark.parametrize("level", ["deidentified", "shifted"])
def test_no_identifying_value_in_any_file_of_any_format(level, coordinator, cohort_cases, export):
    patient = cohort_cases["old"].patient
    for fmt in ExportFormat.values:  # one cohort, every format (building it is the slow part)
        made = export(coordinator, format=fmt, level=level)
        texts = decoded_texts(made)
        leaked = [v for v in identifying_values(patient) if any(v in t for t in texts)]
        assert leaked == [], fmt
        # The search finds what is there: a pseudonym.
        wide, _ = read_table(made, "wide")
        assert any(wide.iloc[0]["pseudonym"] in t for t in texts), fmt


@pytest.mark.parametrize("fmt", ["csv", "sav"])
def test_the_identified_export_holds_what_the_search_looks_for(
    fmt, site_admin_a, cohort_cases, export
):
    made = export(
        site_admin_a, format=fmt, level="identified", reason="Linkage to the cancer registry"
    )
    texts = decoded_texts(made)
    for value in (FAMILY, GIVEN, RECORD, cohort_cases["old"].patient.registry_id):
        assert any(value in t for t in texts), value
    # Free text is never exported, identified or not.
    assert not any(NOTE in t or EVENT_TEXT in t or WITHDRAWAL in t for t in texts)


def test_withdrawn_patients_are_not_exported(coordinator, cohort_cases, export):
    patients, _ = read_table(export(coordinator), "patients")
    assert len(patients) == 4  # five made, one withdrawn


def test_pseudonyms_differ_between_two_exports_of_the_same_cohort(
    coordinator, cohort_cases, export
):
    first, _ = read_table(export(coordinator), "patients")
    second, _ = read_table(export(coordinator), "patients")
    assert len(set(first["pseudonym"])) == len(first)
    assert set(first["pseudonym"]).isdisjoint(second["pseudonym"])


def test_pseudonym_is_an_hmac_of_the_patient_under_the_export_key():
    import hashlib
    import hmac

    key = b"k" * 32
    expected = hmac.new(key, b"42", hashlib.sha256).hexdigest()[:16].upper()
    assert pseudonym(key, 42) == "P" + expected
    assert pseudonym(key, 42) != pseudonym(b"j" * 32, 42)
    assert {shift_days(key, n) for n in range(2000)} <= set(range(365))


def test_ages_above_89_are_90_and_dates_are_days_with_the_year(coordinator, cohort_cases, export):
    made = export(coordinator)
    patients, _ = read_table(made, "patients")
    assert patients["age"].max() == 90
    assert "date_of_birth" not in patients.columns and "procedure_date" not in patients.columns
    wide, _ = read_table(made, "wide")
    old = wide[wide["cement_volume_ml"] == 3.1].iloc[0]
    assert old["procedure_year"] == 2024
    assert old["visit_day_baseline"] == -1 and old["visit_day_2w"] == 14
    assert old["onset_day"] == (date(2024, 1, 1) - date(2024, 1, 15)).days


def test_identified_export_keeps_the_true_age(site_admin_a, cohort_cases, export):
    made = export(site_admin_a, level="identified", reason="Linkage to the cancer registry")
    patients, _ = read_table(made, "patients")
    assert patients["age"].max() == 92
    assert patients["family_name"].tolist().count(FAMILY) == 1


def test_shifted_dates_move_each_patient_by_one_offset_that_keeps_intervals(
    coordinator, cohort_cases, export
):
    made = export(coordinator, level="shifted")
    wide, _ = read_table(made, "wide")
    procedure = cohort_cases["old"]
    row = wide[wide["cement_volume_ml"] == 3.1].iloc[0]
    shifted = date.fromisoformat(row["procedure_date"])
    offset = (shifted - procedure.date).days
    assert 0 <= offset <= 364
    for timepoint in ("baseline", "2w", "12w"):
        visit = procedure.visits.get(timepoint=timepoint)
        moved = date.fromisoformat(row[f"visit_date_{timepoint}"])
        assert (moved - visit.visit_date).days == offset
        assert (moved - shifted).days == row[f"visit_day_{timepoint}"]
    assert date.fromisoformat(row["onset_date"]) == date(2024, 1, 1).fromordinal(
        date(2024, 1, 1).toordinal() + offset
    )


def test_no_deidentified_column_reads_an_identifier_or_free_text():
    from outcomes.dictionary import all_tables
    from registry.identifiers import PATIENT_IDENTIFIERS

    for name, variables in all_tables().items():
        deidentified = set(columns(name))
        for variable in variables:
            if variable.name in deidentified and variable.model == "Patient":
                assert variable.field not in (*PATIENT_IDENTIFIERS, "registry_id")
