"""The export SQL against the registry's Python definitions: the follow-up status twin of
registry.followup on literal cases, and the pseudonym HMAC of PostgreSQL's sha256()."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from outcomes.dictionary import TIMEPOINTS
from outcomes.exports import subjects
from outcomes.exports.models import ExportSubject
from registry.followup import followup_status
from tests.factories import VisitFactory
from tests.outcomes.conftest import Level, make_case
from tests.outcomes.exports.conftest import read_table

TODAY = timezone.localdate()

# (days from the procedure to today, {timepoint: visit day after the procedure})
CASES = [
    (3, {"baseline": 0}),  # everything after baseline not yet due
    (20, {"baseline": -30, "2w": 7}),  # window edges are inside
    (60, {"baseline": -31, "2w": 29}),  # just outside: out of window; 12w open, not due
    (127, {"baseline": -2}),  # 2w and 12w closed without a visit: missing
    (500, {"baseline": -1, "12w": 126, "1y": 457}),
]


def test_followup_status_sql_matches_the_python_definition(coordinator, site_a, export):
    cement = {}
    for n, (age_days, visits) in enumerate(CASES):
        operated = TODAY - timedelta(days=age_days)
        volume = f"{n + 1}.5"
        procedure = make_case(
            site=site_a,
            operated=operated,
            vas={},
            levels=[Level(cement=volume, films={})],
        )
        procedure.patient.__class__.objects.filter(pk=procedure.patient_id).update(
            consent_date=operated - timedelta(days=40)
        )
        for timepoint, day in visits.items():
            VisitFactory(
                procedure=procedure, timepoint=timepoint, visit_date=operated + timedelta(days=day)
            )
        cement[float(volume)] = (operated, visits)
    wide, _ = read_table(export(coordinator), "wide")
    seen = set()
    for _, row in wide.iterrows():
        operated, visits = cement[row["cement_volume_ml"]]
        for timepoint in TIMEPOINTS:
            day = visits.get(timepoint)
            expected = followup_status(
                timepoint=timepoint,
                procedure_date=operated,
                visit_date=None if day is None else operated + timedelta(days=day),
                as_of=TODAY,
            )
            assert row[f"status_{timepoint}"] == expected, (row["cement_volume_ml"], timepoint)
            seen.add(expected)
    assert seen == {"in_window", "out_of_window", "missing", "not_due"}


def test_database_pseudonyms_and_offsets_are_the_python_hmac(
    coordinator, cohort_cases, export, monkeypatch
):
    keys = subjects.Keys(b"p" * 32, b"s" * 32)
    monkeypatch.setattr(subjects.Keys, "new", classmethod(lambda cls: keys))
    monkeypatch.setattr(subjects, "subjects_delete", lambda *, export: None)
    from outcomes.exports import services

    monkeypatch.setattr(services, "subjects_delete", lambda *, export: None)
    made = export(coordinator, level="shifted")
    rows = ExportSubject.objects.filter(export=made)
    assert rows.count() == 4
    for row in rows:
        assert row.pseudonym == subjects.pseudonym(keys.pseudonym, row.patient_id)
        assert row.shift_days == subjects.shift_days(keys.shift, row.patient_id)


def test_subjects_are_deleted_once_the_export_is_built(coordinator, cohort_cases, export):
    export(coordinator)
    assert not ExportSubject.objects.exists()


@pytest.mark.parametrize("born", [date(1934, 3, 1), date(1934, 2, 28)])
def test_age_counts_whole_years_at_the_procedure(born, site_a, site_admin_a, export):
    make_case(site=site_a, born=born, operated=date(2024, 2, 29))
    patients, _ = read_table(
        export(site_admin_a, level="identified", reason="Checking ages in the registry"),
        "patients",
    )
    assert patients["age"].iloc[0] == (89 if born.month == 3 else 90)
