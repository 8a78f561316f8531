"""The follow-up worklist: due soon, overdue, out of window, incomplete; per site; fixed
query count; and the SQL that lists pending visits agrees with the pure rule."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.selectors.worklist import (
    DUE,
    OVERDUE,
    follow_up_rows,
    pending_follow_ups,
)
from tests.registry.web_cases import full_case, patient_for, record_visit, signed_in

pytestmark = pytest.mark.django_db

URL = reverse("worklist")


def days_ago(n: int):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def worklist_cases(site_a, site_b, surgeon_a, surgeon_b):
    due, due_proc, _ = full_case(
        site_a, surgeon_a, procedure_date=days_ago(50), hospital_record_number="DUE"
    )
    record_visit(surgeon_a, due_proc, "2w", days=14)
    late, late_proc, _ = full_case(
        site_a, surgeon_a, procedure_date=days_ago(60), hospital_record_number="LATE"
    )
    oow, oow_proc, _ = full_case(
        site_a, surgeon_a, procedure_date=days_ago(100), hospital_record_number="OOW"
    )
    record_visit(surgeon_a, oow_proc, "2w", days=40)  # window 7..28: late
    record_visit(surgeon_a, oow_proc, "12w", days=84)
    stopped = patient_for(site_a, surgeon_a, hospital_record_number="STOP")
    other, _, _ = full_case(
        site_b, surgeon_b, procedure_date=days_ago(50), hospital_record_number="OTHER"
    )
    return {
        "due": due,
        "late": late,
        "oow": oow,
        "stopped": stopped,
        "other": other,
        "due_proc": due_proc,
        "late_proc": late_proc,
    }


def rows_of(response):
    return response.context["rows"]


def test_due_soon_lists_the_window_and_opens_the_visit_form(worklist_cases, surgeon_a):
    response = signed_in(surgeon_a).get(URL)
    (item,) = rows_of(response)
    assert item.procedure.patient == worklist_cases["due"]
    assert item.timepoint == "12w"
    assert item.window_start == days_ago(50) + timedelta(days=56)
    assert item.window_end == days_ago(50) + timedelta(days=126)
    html = response.content.decode()
    url = reverse(
        "visit_create", args=[worklist_cases["due"].registry_id, worklist_cases["due_proc"].pk]
    )
    assert f'href="{url}?timepoint=12w&amp;next=' in html
    assert f"{item.window_start:%-d %b %Y}" in html


def test_overdue_lists_every_open_or_recently_closed_window(worklist_cases, surgeon_a):
    response = signed_in(surgeon_a).get(URL, {"tab": "overdue"})
    items = {(i.procedure.patient.hospital_record_number, i.timepoint) for i in rows_of(response)}
    assert items == {("LATE", "2w"), ("LATE", "12w")}
    assert "window closed" in response.content.decode()


def test_out_of_window_lists_recorded_visits_with_their_window(worklist_cases, surgeon_a):
    response = signed_in(surgeon_a).get(URL, {"tab": "out_of_window"})
    (visit,) = rows_of(response)
    assert (visit.timepoint, visit.window.status) == ("2w", "late")
    assert "late" in response.content.decode()


def test_incomplete_cases_link_to_the_step_to_resume(worklist_cases, surgeon_a):
    response = signed_in(surgeon_a).get(URL, {"tab": "incomplete"})
    (row,) = rows_of(response)
    assert row["patient"] == worklist_cases["stopped"]
    assert row["resume"] == reverse("fractures_create", args=[row["patient"].registry_id])


def counts(client, **params) -> dict[str, int]:
    return {
        tab: client.get(reverse("worklist_count"), {"tab": tab, **params}).json()["count"]
        for tab in ("due", "overdue", "out_of_window", "incomplete")
    }


def test_the_tabs_count_each_list(worklist_cases, surgeon_a):
    client = signed_in(surgeon_a)
    assert counts(client) == {"due": 1, "overdue": 2, "out_of_window": 1, "incomplete": 1}
    html = client.get(URL).content.decode()
    assert f'data-worklist-counts="{reverse("worklist_count")}?site=site-a"' in html
    assert 'data-count-for="overdue"' in html  # filled in by worklist.js


def test_a_long_list_is_counted_up_to_the_cap(worklist_cases, surgeon_a, monkeypatch):
    monkeypatch.setattr("registry.views._paging.COUNT_CAP", 1)
    client = signed_in(surgeon_a)
    response = client.get(URL, {"tab": "overdue"})
    assert response.context["page"].paginator.capped
    assert "More than 1: only the first 1 are listed" in response.content.decode()
    assert client.get(reverse("worklist_count"), {"tab": "overdue"}).json() == {
        "tab": "overdue",
        "count": 1,
        "capped": True,
    }


def test_the_count_endpoint_needs_a_signed_in_user(client):
    assert client.get(reverse("worklist_count")).status_code == 302


def test_a_surgeon_sees_only_their_sites_worklist(worklist_cases, surgeon_b, site_a):
    client = signed_in(surgeon_b)
    response = client.get(URL)
    assert [i.procedure.patient for i in rows_of(response)] == [worklist_cases["other"]]
    assert counts(client) == {"due": 1, "overdue": 1, "out_of_window": 0, "incomplete": 0}
    assert counts(client, site=site_a.code) == counts(client)  # not a member: ignored


def test_asking_for_another_sites_worklist_shows_nothing_of_it(worklist_cases, surgeon_a, site_b):
    response = signed_in(surgeon_a).get(URL, {"site": site_b.code})
    assert worklist_cases["other"] not in [i.procedure.patient for i in rows_of(response)]


def test_a_coordinator_chases_both_sites_but_gets_no_record_button(
    worklist_cases, coordinator, site_a
):
    client = signed_in(coordinator)
    response = client.get(URL, {"site": "all"})
    assert {i.procedure.patient.hospital_record_number for i in rows_of(response)} == {
        "DUE",
        "OTHER",
    }
    html = client.get(URL, {"site": site_a.code}).content.decode()
    assert "Record visit" not in html
    assert reverse("patient_detail", args=[worklist_cases["due"].registry_id]) in html


@pytest.mark.parametrize("actor", ["surgeon_a", "surgeon_b", "coordinator"])
def test_the_worklist_sees_exactly_the_visible_patients(worklist_cases, actor, request):
    from registry.selectors import patients_visible_to
    from registry.selectors.worklist import incomplete_cases, out_of_window_visits

    user = request.getfixturevalue(actor)
    today = timezone.localdate()
    visible = set(patients_visible_to(user=user).values_list("pk", flat=True))
    listed = set()
    for status in (DUE, OVERDUE):
        rows = follow_up_rows(user=user, site=None, status=status, today=today)
        from registry.models import Procedure

        ids = [row["pk"] for row in rows[0:100]]
        listed |= set(Procedure.objects.filter(pk__in=ids).values_list("patient_id", flat=True))
    listed |= {
        v.procedure.patient_id for v in out_of_window_visits(user=user, site=None, today=today)
    }
    listed |= {p.pk for p in incomplete_cases(user=user, site=None, today=today)}
    assert listed and listed <= visible


def test_withdrawn_patients_are_not_chased(worklist_cases, surgeon_a, site_admin_a):
    from registry import services

    services.patient_withdraw(user=site_admin_a, patient=worklist_cases["due"], reason="Consent")
    assert rows_of(signed_in(surgeon_a).get(URL)) == []


def test_bad_parameters_fall_back_to_the_defaults(worklist_cases, surgeon_a):
    response = signed_in(surgeon_a).get(URL, {"tab": "nope", "per_page": "x", "page": "99"})
    assert response.status_code == 200
    assert response.context["tab"] == "due"


@pytest.mark.parametrize("tab", ["due", "overdue", "out_of_window", "incomplete"])
def test_the_query_count_does_not_grow_with_the_page_size(
    site_a, surgeon_a, tab, django_assert_num_queries
):
    for n in range(8):
        _, procedure, _ = full_case(
            site_a, surgeon_a, procedure_date=days_ago(50 + n % 3), hospital_record_number=f"W{n}"
        )
        if n % 2:
            record_visit(surgeon_a, procedure, "2w", days=40)
        patient_for(site_a, surgeon_a, hospital_record_number=f"I{n}")
    client = signed_in(surgeon_a)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        small_page = client.get(URL, {"tab": tab, "per_page": 25})
    assert len(rows_of(small_page)) >= 4
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(URL, {"tab": tab, "per_page": 100})


@pytest.mark.parametrize(
    "days",
    [0, 6, 7, 8, 28, 42, 43, 55, 56, 57, 118, 119, 126, 216, 217, 255, 256, 270, 300, 546, 547],
)
def test_the_sql_lists_the_same_pending_visits_as_the_rule(site_a, surgeon_a, days):
    today = timezone.localdate()
    _, procedure, _ = full_case(site_a, surgeon_a, procedure_date=today - timedelta(days=days))
    expected = {
        (i.timepoint, i.status) for i in pending_follow_ups(procedure.date, ["baseline"], today)
    }
    listed = {
        (row["timepoint"], status)
        for status in (DUE, OVERDUE)
        for row in follow_up_rows(user=surgeon_a, site=None, status=status, today=today)[0:10]
    }
    assert listed == expected


def test_a_later_visit_stops_the_chase_of_an_earlier_one(site_a, surgeon_a):
    today = timezone.localdate()
    assert pending_follow_ups(today - timedelta(days=60), ["12w"], today) == []
    _, procedure, _ = full_case(site_a, surgeon_a, procedure_date=today - timedelta(days=60))
    record_visit(surgeon_a, procedure, "12w", days=58)
    assert follow_up_rows(user=surgeon_a, site=None, status=OVERDUE, today=today).count() == 0
