"""Doubles and races on real PostgreSQL: concurrent clients (threads, each with its own
database connection and session) post the same form at once. Every race ends with one record
and clear answers for the others: never a 500, never a second record.

The data are committed (`committed_db`) so that every thread's connection sees them; on
SQLite (one writer, no row locks) these tests are skipped.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outcomes.models import Cohort
from registry import services
from registry.models import (
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    Role,
)
from tests.factories import SiteFactory, member
from tests.outcomes.conftest import committed_db  # noqa: F401 - the fixture
from tests.registry.web_cases import full_case, patient_for


@pytest.mark.django_db
def test_the_races_run_on_the_test_database():
    """Also makes pytest-django create the test database for this module alone."""
    if connection.vendor == "postgresql":
        assert connection.settings_dict["NAME"].startswith("test_")


# Committed rows: these fixtures must not use pytest-django's `db` (a rolled-back transaction
# other connections cannot see), so they shadow the shared ones.
@pytest.fixture
def site_a(committed_db):  # noqa: F811
    return SiteFactory(code="site-a", name="Hospital A")


@pytest.fixture
def surgeon_a(site_a):
    return member(site_a, Role.SURGEON, username="surgeon-a")


@pytest.fixture
def site_admin_a(site_a):
    return member(site_a, Role.SITE_ADMIN, username="admin-a")


def clients_for(user, n: int) -> list[Client]:
    """n browsers of the same user (each its own session, as two tabs or two devices)."""
    clients = []
    for _ in range(n):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients.append(client)
    return clients


def at_once(n: int, action) -> list:
    """Run action(i) in n threads released together; each result or the exception raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = action(i)
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def statuses(responses) -> Counter:
    return Counter(getattr(r, "status_code", type(r).__name__) for r in responses)


def test_two_identical_procedure_submits_give_one_procedure(site_a, surgeon_a):
    patient = patient_for(site_a, surgeon_a)
    fracture = services.fracture_create(user=surgeon_a, patient=patient, level="L1", genant_grade=3)
    url = reverse("procedure_create", args=[patient.registry_id])
    data = {
        "date": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "technique": Technique_pk("PKP"),
        "approach": "bipedicular",
        "route": "transpedicular",
        "anaesthesia": "local",
        f"level-{fracture.pk}-treated": "on",
        f"level-{fracture.pk}-leakage": "none",
        f"level-{fracture.pk}-devices_used": "2",
        f"level-{fracture.pk}-devices_ruptured": "0",
    }
    # A double click: one browser, the same form (token) posted twice.
    clients = clients_for(surgeon_a, 1) * 2
    double = at_once(2, lambda i: clients[i].post(url, {**data, "idempotency_key": "dbl-1"}))
    assert statuses(double) == {302: 2}
    assert Procedure.objects.count() == 1
    first = Procedure.objects.get()
    targets = {r["Location"] for r in double}
    assert any(f"/procedures/{first.pk}/visits/new/" in t for t in targets)

    # Two tabs (two tokens) on a second fracture: one procedure, the other told why.
    other = services.fracture_create(user=surgeon_a, patient=patient, level="T12", genant_grade=2)
    data = {k.replace(f"level-{fracture.pk}", f"level-{other.pk}"): v for k, v in data.items()}
    tabs = clients_for(surgeon_a, 2)
    answers = at_once(2, lambda i: tabs[i].post(url, {**data, "idempotency_key": f"tab-{i}"}))
    assert Procedure.objects.count() == 2
    assert sorted(r.status_code for r in answers) == [200, 302]
    refused = next(r for r in answers if r.status_code == 200).content.decode()
    assert "T12 is already treated by the PKP" in refused


def Technique_pk(code: str) -> int:
    from registry.models import Technique

    return Technique.objects.get(code=code).pk


def test_twenty_concurrent_one_year_visits_give_one_visit_and_nineteen_clear_errors(
    site_a, surgeon_a
):
    patient, procedure, _ = full_case(
        site_a, surgeon_a, levels=("L1",), procedure_date=timezone.localdate() - timedelta(400)
    )
    url = reverse("visit_create", args=[patient.registry_id, procedure.pk])
    data = {
        "timepoint": "1y",
        "visit_date": (procedure.date + timedelta(days=365)).isoformat(),
        "vas": "2.5",
    }
    clients = clients_for(surgeon_a, 20)
    answers = at_once(20, lambda i: clients[i].post(url, {**data, "idempotency_key": f"visit-{i}"}))
    assert statuses(answers) == {302: 1, 200: 19}
    visit = FollowUpVisit.objects.get(timepoint="1y")
    link = reverse("visit_edit", args=[patient.registry_id, visit.pk])
    for answer in answers:
        if answer.status_code == 200:
            html = answer.content.decode()
            assert "A 1-year visit is already recorded for this procedure." in html
            assert f'<a href="{link}">Open it</a>' in html


def test_eight_concurrent_withdrawals_give_one_withdrawal(site_a, surgeon_a, site_admin_a):
    patient = patient_for(site_a, surgeon_a)
    url = reverse("patient_withdraw", args=[patient.registry_id])
    clients = clients_for(site_admin_a, 8)
    answers = at_once(8, lambda i: clients[i].post(url, {"reason": f"Withdrew ({i})."}))
    assert statuses(answers) == {302: 8}
    patient.refresh_from_db()
    assert patient.is_withdrawn
    assert patient.history.filter(history_type="~").count() == 1
    told = [clients[i].get(answers[i]["Location"]).content.decode() for i in range(8)]
    assert sum("already withdrawn" in page for page in told) == 7


def test_concurrent_creates_of_unique_records_never_answer_500(site_a, surgeon_a):
    """Patients with one record number, fractures at one level, cohorts of one definition,
    radiographs of one vertebra at one visit: one record each, field-level answers."""
    n = 5
    clients = clients_for(surgeon_a, n)
    patient_data = {
        "site": site_a.pk,
        "hospital_record_number": "HRN-RACE",
        "family_name": "Race",
        "given_name": "Ann",
        "date_of_birth": "1950-01-01",
        "sex": "F",
    }
    answers = at_once(
        n,
        lambda i: clients[i].post(
            reverse("patient_create"), {**patient_data, "idempotency_key": f"p-{i}"}
        ),
    )
    assert statuses(answers) == {302: 1, 200: n - 1}
    assert Patient.objects.filter(hospital_record_number="HRN-RACE").count() == 1
    assert all(
        "already registered at this site" in a.content.decode()
        for a in answers
        if a.status_code == 200
    )

    patient = Patient.objects.get(hospital_record_number="HRN-RACE")
    fracture_data = {"levels": ["L2"], "L2-genant_grade": "2", "L2-aetiology": "osteoporotic"}
    url = reverse("fractures_create", args=[patient.registry_id])
    answers = at_once(
        n, lambda i: clients[i].post(url, {**fracture_data, "idempotency_key": f"f-{i}"})
    )
    assert 500 not in statuses(answers)
    assert statuses(answers)[302] == 1
    assert Fracture.objects.filter(patient=patient, level="L2").count() == 1
    assert all("already recorded" in a.content.decode() for a in answers if a.status_code == 200)

    answers = at_once(
        n,
        lambda i: clients[i].post(
            reverse("outcomes:cohort_create"),
            {"name": f"Race {i}", "levels": "multi", "idempotency_key": f"c-{i}"},
        ),
    )
    assert statuses(answers) == {302: 1, 200: n - 1}
    assert Cohort.objects.count() == 1
    assert all(
        "already have a cohort with this definition" in a.content.decode()
        for a in answers
        if a.status_code == 200
    )

    _, procedure, _ = full_case(
        site_a, surgeon_a, levels=("L4",), baseline=False, hospital_record_number="HRN-F"
    )
    visit = services.visit_record(
        user=surgeon_a,
        procedure=procedure,
        timepoint="12w",
        visit_date=procedure.date + timedelta(days=84),
    )
    level = procedure.treated_levels.get()
    results = at_once(
        n,
        lambda i: services.radiograph_record(
            user=surgeon_a,
            visit=visit,
            treated_level=level,
            anterior_height_mm=Decimal("20.0"),
            above_anterior_height_mm=Decimal("25.0"),
            below_anterior_height_mm=Decimal("26.0"),
        ),
    )
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"RadiographicMeasurement": 1, "DuplicateError": n - 1}
    assert RadiographicMeasurement.objects.filter(visit=visit).count() == 1
