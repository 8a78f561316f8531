"""The follow-up chase has one definition (`registry.followup.followup_status`, subdivided by
`followups.chase_status`) and SQL twins for the list pages: the worklist's due/overdue rows
(`FollowUpRows`) and the patient list's "follow-up due" filter. A table of literal cases pins
all three to the same answers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.followup import FollowUpStatus, followup_status
from registry.selectors.followups import (
    DUE,
    FOLLOW_UP_TIMEPOINTS,
    OVERDUE,
    FollowUpRows,
    chase_status,
)
from registry.selectors.patients import patient_list
from tests.factories import PatientFactory, ProcedureFactory, VisitFactory

pytestmark = pytest.mark.django_db

# (days since the procedure, timepoints recorded, withdrawn, expected chase per timepoint)
# Windows (days after the procedure): 2w 7-28, 12w 56-126, 1y 270-456; due soon = the window
# opens within 14 days; overdue = opened, nothing recorded, at most 90 days past its close.
CASES = [
    (0, [], False, {"2w": DUE}),
    (7, [], False, {"2w": DUE}),  # opens today
    (8, [], False, {"2w": OVERDUE}),  # opened yesterday
    (10, ["2w"], False, {}),
    (45, [], False, {"2w": OVERDUE, "12w": DUE}),
    (118, [], False, {"2w": OVERDUE, "12w": OVERDUE}),  # 2w: last day of the grace
    (119, [], False, {"12w": OVERDUE}),  # 2w: grace over, missing
    (130, ["12w"], False, {}),  # 2w superseded by a later visit
    (130, ["2w"], False, {"12w": OVERDUE}),
    (200, [], False, {"12w": OVERDUE}),
    (260, ["2w", "12w"], False, {"1y": DUE}),
    (271, ["2w", "12w"], False, {"1y": OVERDUE}),
    (546, ["2w", "12w"], False, {"1y": OVERDUE}),
    (547, ["2w", "12w"], False, {}),
    (10, [], True, {}),  # withdrawn: never chased
    (45, [], True, {}),
]


@pytest.fixture
def cases(site_a):
    today = timezone.localdate()
    built = []
    for days, recorded, withdrawn, expected in CASES:
        patient = PatientFactory(site=site_a)
        procedure = ProcedureFactory(patient=patient, date=today - timedelta(days=days))
        for timepoint in recorded:
            VisitFactory(procedure=procedure, timepoint=timepoint, visit_date=today)
        if withdrawn:
            patient.withdrawn_at = timezone.now() - timedelta(days=days)
            patient.save(update_fields=["withdrawn_at"])
        built.append((procedure, recorded, withdrawn, expected))
    return today, built


def test_the_python_rule_gives_the_table(cases):
    today, built = cases
    for procedure, recorded, withdrawn, expected in built:
        withdrawn_on = procedure.patient.withdrawn_at.date() if withdrawn else None
        got = {
            tp: status
            for tp in FOLLOW_UP_TIMEPOINTS
            if (status := chase_status(tp, procedure.date, recorded, today, withdrawn_on))
        }
        assert got == expected, (today - procedure.date).days


def test_the_worklist_rows_give_the_table(cases, site_a):
    today, built = cases
    by_pk = {procedure.pk: expected for procedure, _, _, expected in built}
    for status in (DUE, OVERDUE):
        rows = FollowUpRows([site_a.pk], status, today)
        got = {(row["pk"], row["timepoint"]) for row in rows[0:100]}
        want = {
            (pk, tp) for pk, expected in by_pk.items() for tp, s in expected.items() if s == status
        }
        assert got == want, status
        assert rows.count() == len(want)


def test_the_patient_list_filter_gives_the_table(cases, surgeon_a):
    today, built = cases
    chased = {p.patient_id for p, _, _, expected in built if expected}
    listed = set(
        patient_list(user=surgeon_a, follow_up_due=True, today=today).values_list("pk", flat=True)
    )
    assert listed == chased


def test_a_missing_visit_is_the_one_status_behind_overdue():
    """The chase subdivides the shared status: overdue is "not yet due, window open" or
    "missing, within the grace"; withdrawn is never chased."""
    today = timezone.localdate()
    for days, status in [(10, FollowUpStatus.NOT_DUE), (45, FollowUpStatus.MISSING)]:
        procedure_date = today - timedelta(days=days)
        assert (
            followup_status(
                timepoint="2w", procedure_date=procedure_date, visit_date=None, as_of=today
            )
            == status
        )
        assert chase_status("2w", procedure_date, [], today) == OVERDUE
