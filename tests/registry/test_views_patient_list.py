"""The patient list: visibility, search, filters, pagination and a fixed number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registry import services
from registry.models import Technique
from tests.factories import PatientFactory
from tests.registry.web_cases import full_case, patient_for, record_visit, signed_in

pytestmark = pytest.mark.django_db

URL = reverse("patient_list")


def registry_ids(response) -> set[str]:
    return {row["patient"].registry_id for row in response.context["rows"]}


@pytest.fixture
def cohort(site_a, site_b, surgeon_a, surgeon_b):
    a, _, _ = full_case(site_a, surgeon_a, hospital_record_number="A-1", family_name="Smith")
    a2 = patient_for(site_a, surgeon_a, hospital_record_number="A-2", family_name="Jones")
    b, _, _ = full_case(site_b, surgeon_b, hospital_record_number="B-1", family_name="Smith")
    return {"a": a, "a2": a2, "b": b}


def test_a_surgeon_lists_only_their_sites_patients(cohort, surgeon_a, surgeon_b):
    assert registry_ids(signed_in(surgeon_a).get(URL)) == {
        cohort["a"].registry_id,
        cohort["a2"].registry_id,
    }
    assert registry_ids(signed_in(surgeon_b).get(URL)) == {cohort["b"].registry_id}


def test_a_coordinator_lists_both_sites_without_a_new_patient_button(cohort, coordinator):
    response = signed_in(coordinator).get(URL)
    assert len(registry_ids(response)) == 3
    assert reverse("patient_create") not in response.content.decode().split("</nav>")[1]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("registry_id", {"a"}),
        ("A-2", {"a2"}),
        ("a-2", {"a2"}),
        ("smith", {"a"}),
        ("Smi Ja", {"a"}),
        ("Jones, Jane", {"a2"}),
        ("nobody", set()),
    ],
)
def test_search_by_registry_id_record_number_or_name(cohort, surgeon_a, query, expected):
    if query == "registry_id":
        query = cohort["a"].registry_id.lower()
    response = signed_in(surgeon_a).get(URL, {"q": query})
    assert registry_ids(response) == {cohort[key].registry_id for key in expected}


def test_search_never_reaches_another_sites_patient(cohort, surgeon_a):
    response = signed_in(surgeon_a).get(URL, {"q": cohort["b"].registry_id})
    assert registry_ids(response) == set()


def test_filter_by_technique_and_site(cohort, coordinator, site_b):
    client = signed_in(coordinator)
    assert len(registry_ids(client.get(URL, {"technique": "PKP"}))) == 2
    assert registry_ids(client.get(URL, {"technique": "PVP"})) == set()
    assert registry_ids(client.get(URL, {"site": site_b.pk})) == {cohort["b"].registry_id}


def test_a_surgeon_cannot_filter_their_way_into_another_site(cohort, surgeon_a, site_b):
    response = signed_in(surgeon_a).get(URL, {"site": site_b.pk})
    assert response.status_code == 200
    assert cohort["b"].registry_id not in registry_ids(response)


def test_filter_follow_up_due(site_a, surgeon_a):
    today = timezone.localdate()
    due, procedure, _ = full_case(
        site_a, surgeon_a, procedure_date=today - timedelta(days=50), hospital_record_number="D"
    )
    record_visit(surgeon_a, procedure, "2w", days=14)
    _, done, _ = full_case(
        site_a, surgeon_a, procedure_date=today - timedelta(days=150), hospital_record_number="N"
    )
    record_visit(surgeon_a, done, "2w", days=14)
    record_visit(surgeon_a, done, "12w", days=84)
    response = signed_in(surgeon_a).get(URL, {"due": "on"})
    assert registry_ids(response) == {due.registry_id}
    assert "12 weeks due" in response.content.decode()
    assert ">2 weeks due" not in response.content.decode()
    assert ">2 weeks overdue" not in response.content.decode()


def test_bad_filter_values_are_ignored_not_an_error(cohort, surgeon_a):
    response = signed_in(surgeon_a).get(
        URL, {"technique": "XYZ", "site": "abc", "per_page": "7", "page": "999"}
    )
    assert response.status_code == 200
    assert len(registry_ids(response)) == 2


def test_incomplete_and_withdrawn_patients_are_marked(cohort, site_a, surgeon_a, site_admin_a):
    services.patient_withdraw(user=site_admin_a, patient=cohort["a"], reason="Consent withdrawn")
    html = signed_in(surgeon_a).get(URL).content.decode()
    assert "Withdrawn" in html
    assert "Incomplete: fractures" in html  # a2 has only the patient page
    assert reverse("fractures_create", args=[cohort["a2"].registry_id]) in html


def test_pagination(site_a, surgeon_a):
    PatientFactory.create_batch(30, site=site_a)
    client = signed_in(surgeon_a)
    first = client.get(URL)
    assert len(first.context["rows"]) == 25
    assert first.context["page"].paginator.num_pages == 2
    second = client.get(URL, {"page": 2})
    assert len(second.context["rows"]) == 5
    assert len(client.get(URL, {"per_page": 50}).context["rows"]) == 30


def test_the_number_of_queries_does_not_grow_with_the_page_size(
    site_a, surgeon_a, django_assert_num_queries
):
    for n in range(12):
        full_case(
            site_a,
            surgeon_a,
            hospital_record_number=f"Q{n}",
            procedure_date=timezone.localdate() - timedelta(days=20 + n),
        )
    client = signed_in(surgeon_a)
    client.get(URL)  # warm the session
    technique = Technique.objects.get(code="PKP")
    for params in ({}, {"q": "Doe", "technique": technique.code, "due": "on"}):
        counts = []
        for per_page in (25, 100):
            with django_assert_num_queries(_count_of(client, {**params, "per_page": per_page})):
                response = client.get(URL, {**params, "per_page": per_page})
            counts.append(len(response.context["rows"]))
        assert counts[0] == counts[1] > 0


def _count_of(client, params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(URL, params)
    return len(captured)


def test_the_query_count_is_the_same_for_5_and_25_rows(
    site_a, surgeon_a, django_assert_num_queries
):
    client = signed_in(surgeon_a)
    for n in range(5):
        full_case(site_a, surgeon_a, hospital_record_number=f"S{n}")
    client.get(URL)
    with django_assert_num_queries(_count_of(client, {})) as small:
        client.get(URL)
    for n in range(20):
        full_case(site_a, surgeon_a, hospital_record_number=f"L{n}")
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    assert len(response.context["rows"]) == 25


@pytest.mark.parametrize("days", [3, 10, 50, 60, 130, 220, 260, 300, 560])
@pytest.mark.parametrize("recorded", [(), ("2w",), ("12w",), ("2w", "12w", "1y")])
def test_the_follow_up_due_filter_follows_the_rule(site_a, surgeon_a, days, recorded):
    from registry.selectors.worklist import pending_follow_ups

    today = timezone.localdate()
    patient, procedure, _ = full_case(
        site_a, surgeon_a, procedure_date=today - timedelta(days=days)
    )
    offsets = {"2w": 14, "12w": 84, "1y": 365}
    for timepoint in recorded:
        if offsets[timepoint] <= days:
            record_visit(surgeon_a, procedure, timepoint, days=offsets[timepoint])
    done = [v.timepoint for v in procedure.visits.all()]
    expected = bool(pending_follow_ups(procedure.date, done, today))
    listed = registry_ids(signed_in(surgeon_a).get(URL, {"due": "on"}))
    assert (patient.registry_id in listed) is expected
