"""Completeness: the vectorised status is pinned to registry.followup by literal cases, and
the stored table is checked against counts the test computes itself."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from outcomes.quality import completeness
from outcomes.quality.completeness import epoch_day, followup_statuses
from registry.followup import FollowUpStatus, followup_status
from registry.models import ODI_FIELDS, Patient
from tests.factories import PatientFactory, ProcedureFactory, VisitFactory

P = date(2024, 1, 15)
# (timepoint, visit day after the procedure or None, as-of day, withdrawn day or None)
CASES = [
    ("2w", 7, 100, None),  # first day of the window
    ("2w", 28, 100, None),  # last day
    ("2w", 6, 100, None),  # early
    ("2w", 29, 100, None),  # late
    ("2w", None, 28, None),  # window still open on its last day: not yet due
    ("2w", None, 29, None),  # closed: missing
    ("2w", None, 3, None),  # not open yet
    ("2w", None, 100, 20),  # withdrew while the window was open
    ("2w", None, 100, 28),  # withdrew on the last day
    ("2w", None, 100, 29),  # withdrew after it closed: still missing
    ("2w", None, 10, 5),  # withdrew before as-of, window open
    ("2w", 14, 100, 5),  # a visit counts even after a withdrawal
    ("baseline", -30, 100, None),
    ("baseline", -31, 100, None),
    ("baseline", None, 0, None),
    ("baseline", None, 1, None),
    ("12w", 126, 200, None),
    ("12w", 127, 200, None),
    ("1y", None, 456, None),
    ("1y", None, 457, None),
    ("1y", 270, 500, 300),
]


@pytest.mark.parametrize(("timepoint", "visit", "as_of", "withdrawn"), CASES)
def test_vectorised_status_matches_followup_status(timepoint, visit, as_of, withdrawn):
    day = lambda n: None if n is None else P + timedelta(days=n)  # noqa: E731
    expected = followup_status(
        timepoint=timepoint,
        procedure_date=P,
        visit_date=day(visit),
        as_of=day(as_of),
        withdrawn_on=day(withdrawn),
    )
    nan_or = lambda n: np.nan if n is None else epoch_day(P) + n  # noqa: E731
    got = followup_statuses(
        timepoint=timepoint,
        procedure_day=np.array([epoch_day(P)]),
        visit_day=np.array([nan_or(visit)]),
        as_of_day=epoch_day(P) + as_of,
        withdrawn_day=np.array([nan_or(withdrawn)]),
    )
    assert got[0] == expected.value


def test_every_status_is_exercised_by_the_cases():
    seen = set()
    for timepoint, visit, as_of, withdrawn in CASES:
        day = lambda n: None if n is None else P + timedelta(days=n)  # noqa: E731
        seen.add(
            followup_status(
                timepoint=timepoint,
                procedure_date=P,
                visit_date=day(visit),
                as_of=day(as_of),
                withdrawn_on=day(withdrawn),
            )
        )
    assert seen == set(FollowUpStatus)


def _cohort(site, rng):
    """Procedures over two years, random visits in and out of window, some withdrawals."""
    offsets = {"baseline": (-40, 0), "2w": (3, 40), "12w": (40, 140), "1y": (250, 480)}
    for i in range(40):
        patient = PatientFactory(site=site)
        operated = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 540)))
        procedure = ProcedureFactory(patient=patient, date=operated)
        for tp, (low, high) in offsets.items():
            visit_date = operated + timedelta(days=int(rng.integers(low, high)))
            if rng.random() < 0.3 or visit_date > date(2026, 6, 30):
                continue
            odi = dict.fromkeys(ODI_FIELDS, 2) if rng.random() < 0.7 else {}
            VisitFactory(procedure=procedure, timepoint=tp, visit_date=visit_date, **odi)
        if i % 7 == 3:
            withdrawn = operated + timedelta(days=int(rng.integers(1, 300)))
            Patient.objects.filter(pk=patient.pk).update(
                withdrawn_at=datetime.combine(withdrawn, datetime.min.time(), UTC)
            )


@pytest.mark.django_db
def test_completeness_table_matches_counts_computed_one_by_one(site_a, site_b):
    rng = np.random.default_rng(12)
    _cohort(site_a, rng)
    _cohort(site_b, rng)
    as_of = date(2026, 6, 30)

    by_site, prom = completeness.compute([site_a.pk, site_b.pk], as_of)

    for site in (site_a, site_b):
        expected = {tp: Counter() for tp in ("baseline", "2w", "12w", "1y")}
        prom_expected = Counter()
        for patient in Patient.objects.filter(site=site).prefetch_related("procedures__visits"):
            proc = patient.procedures.get()
            visits = {v.timepoint: v for v in proc.visits.all()}
            withdrawn_on = patient.withdrawn_at.date() if patient.withdrawn_at else None
            for tp in expected:
                status = followup_status(
                    timepoint=tp,
                    procedure_date=proc.date,
                    visit_date=visits[tp].visit_date if tp in visits else None,
                    as_of=as_of,
                    withdrawn_on=withdrawn_on,
                )
                expected[tp][status.value] += 1
            closes = proc.date + timedelta(days=126)
            if as_of > closes and not (withdrawn_on and withdrawn_on <= closes):
                prom_expected["eligible"] += 1
                has_baseline = "baseline" in visits and visits["baseline"].odi_percent is not None
                has_follow_up = any(
                    visits[tp].odi_percent is not None for tp in ("2w", "12w", "1y") if tp in visits
                )
                prom_expected["baseline"] += has_baseline
                prom_expected["follow_up"] += has_follow_up
                prom_expected["complete"] += has_baseline and has_follow_up
        for tp, counts in expected.items():
            cell = by_site[site.pk][tp]
            for status in FollowUpStatus:
                assert cell[status.value] == counts[status.value], (site.code, tp, status)
            assert cell["due"] == counts["in_window"] + counts["out_of_window"] + counts["missing"]
        assert prom[site.pk] == {k: prom_expected[k] for k in prom[site.pk]}
        assert prom_expected["eligible"] > 5  # the cohort exercises the measure


@pytest.mark.django_db
def test_prom_uses_the_first_procedure_of_a_patient(site_a):
    patient = PatientFactory(site=site_a)
    first = ProcedureFactory(patient=patient, date=date(2024, 1, 15))
    ProcedureFactory(patient=patient, date=date(2024, 6, 1))
    VisitFactory(procedure=first, visit_date=date(2024, 1, 14), **dict.fromkeys(ODI_FIELDS, 1))
    VisitFactory(
        procedure=first,
        timepoint="12w",
        visit_date=date(2024, 4, 8),
        **dict.fromkeys(ODI_FIELDS, 1),
    )
    _, prom = completeness.compute([site_a.pk], date(2025, 1, 1))
    assert prom[site_a.pk] == {"eligible": 1, "baseline": 1, "follow_up": 1, "complete": 1}
