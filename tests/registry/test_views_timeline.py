"""The patient timeline: computed values, window flags, adverse events and the history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from registry import services
from tests.registry.web_cases import full_case, record_visit, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def followed(site_a, surgeon_a):
    """A PKP on T12 and L1 with a baseline and a 12-week visit with films."""
    patient, procedure, _ = full_case(
        site_a, surgeon_a, procedure_date=timezone.localdate() - timedelta(days=100)
    )
    levels = list(procedure.treated_levels.all())
    visit = record_visit(
        surgeon_a,
        procedure,
        "12w",
        days=84,
        vas=Decimal("2.0"),
        **{f"odi_{n}": 1 for n in range(1, 11)},
        radiographs=[
            {
                "treated_level": tl,
                "anterior_height_mm": Decimal("22.0"),
                "above_anterior_height_mm": Decimal("25.0"),
                "below_anterior_height_mm": Decimal("27.0"),
                "lka_degrees": Decimal("12.0"),
            }
            for tl in levels
        ],
    )
    record_visit(surgeon_a, procedure, "2w", days=40)  # late: flagged
    services.adverse_event_record(
        user=surgeon_a,
        procedure=procedure,
        event_type="adjacent_fracture",
        onset_date=procedure.date + timedelta(days=30),
        clavien_dindo="II",
        resolved=False,
    )
    return patient, procedure, visit


def detail(client, patient, **params):
    return client.get(reverse("patient_detail", args=[patient.registry_id]), params)


def test_the_timeline_shows_computed_values_per_visit(followed, surgeon_a):
    patient, _, _ = followed
    response = detail(signed_in(surgeon_a), patient)
    html = response.content.decode()
    assert "60.0 %" in html and "(severe)" in html  # baseline ODI
    assert "20.0 %" in html and "(minimal)" in html  # 12-week ODI
    assert "57.7 %" in html  # baseline RFVH = 15 / 26
    assert "84.6 %" in html  # 12-week RFVH = 22 / 26
    assert "+26.9 pp" in html  # height restoration vs baseline
    assert "+8.0°" in html  # LKA correction 20 -> 12
    assert "Adjacent vertebral fracture" in html and "Clavien-Dindo II" in html
    block = response.context["timeline"].procedures[0]
    late = next(row for row in block.visits if row.visit.timepoint == "2w")
    assert late.out_of_window and late.window.status == "late"
    assert "late: window" in html
    assert "(multi-level)" in html


def test_expected_visits_show_their_windows(followed, surgeon_a):
    patient, procedure, _ = followed
    block = detail(signed_in(surgeon_a), patient).context["timeline"].procedures[0]
    (one_year,) = block.expected
    assert (one_year.timepoint, one_year.status) == ("1y", "upcoming")
    assert one_year.window_start == procedure.date + timedelta(days=270)


def test_the_history_says_who_changed_what_and_when(followed, surgeon_a, site_admin_a):
    patient, _, visit = followed
    services.clinical_update(
        instance=visit,
        user=site_admin_a,
        expected_version=visit.version,
        data={"vas": Decimal("3.5")},
    )
    response = detail(signed_in(surgeon_a), patient)
    entry = response.context["history"][0]
    assert entry.who == "admin-a"
    assert entry.record == "Visit: 12 weeks"
    assert entry.changes == [("VAS back pain (0-10)", "2.0", "3.5")]
    html = response.content.decode()
    assert "<del" in html and "3.5" in html
    kinds = {e.kind for e in response.context["history"]}
    assert kinds == {"created", "changed"}


def test_the_history_shows_a_withdrawal(followed, site_admin_a, surgeon_a):
    patient, _, _ = followed
    services.patient_withdraw(user=site_admin_a, patient=patient, reason="Moved abroad")
    response = detail(signed_in(surgeon_a), patient)
    changes = response.context["history"][0].changes
    assert ("Withdrawal reason", "—", "Moved abroad") in changes
    assert "Consent withdrawn on" in response.content.decode()


def test_access_to_the_timeline(followed, surgeon_a, surgeon_b, coordinator):
    patient, procedure, visit = followed
    assert detail(signed_in(surgeon_b), patient).status_code == 404
    own = detail(signed_in(surgeon_a), patient).content.decode()
    assert reverse("visit_edit", args=[patient.registry_id, visit.pk]) in own
    read_only = detail(signed_in(coordinator), patient)
    assert read_only.status_code == 200
    html = read_only.content.decode()
    assert reverse("visit_edit", args=[patient.registry_id, visit.pk]) not in html
    assert reverse("procedure_edit", args=[patient.registry_id, procedure.pk]) not in html
    assert "You can read this record" in html


def test_an_unknown_registry_id_is_a_404(surgeon_a):
    response = signed_in(surgeon_a).get(reverse("patient_detail", args=["OV-NOPE"]))
    assert response.status_code == 404


def test_the_timeline_query_count_does_not_grow_with_the_visits(
    site_a, surgeon_a, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    patient, procedure, _ = full_case(
        site_a, surgeon_a, procedure_date=timezone.localdate() - timedelta(days=400)
    )
    client = signed_in(surgeon_a)
    with CaptureQueriesContext(connection) as baseline_only:
        detail(client, patient)
    for timepoint, days in (("2w", 14), ("12w", 84), ("1y", 365)):
        record_visit(surgeon_a, procedure, timepoint, days=days)
    for n in range(4):
        record_visit(surgeon_a, procedure, "unscheduled", days=100 + n)
    with django_assert_num_queries(len(baseline_only.captured_queries)):
        response = detail(client, patient)
    assert len(response.context["timeline"].procedures[0].visits) == 8


def test_history_is_limited_unless_asked_for_all(followed, surgeon_a):
    patient, _, _ = followed
    client = signed_in(surgeon_a)
    short = detail(client, patient)
    assert len(short.context["history"]) == min(30, short.context["history_total"])
    everything = detail(client, patient, history="all")
    assert len(everything.context["history"]) == everything.context["history_total"] > 10
