"""The access log: what is recorded, that it cannot be changed, who reads it, retention."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from registry.audit import purge_access_log, record_access
from registry.middleware import AccessAuditMiddleware
from registry.models import (
    AccessAction,
    AccessEvent,
    AccessLogIsAppendOnly,
    ApiToken,
    TokenScope,
)
from tests.factories import PASSWORD
from tests.registry.web_cases import full_case

pytestmark = pytest.mark.django_db


def signed(user):
    client = Client(REMOTE_ADDR="192.0.2.7")
    client.force_login(user)
    return client


@pytest.fixture
def patient(site_a, surgeon_a):
    return full_case(site_a, surgeon_a)[0]


def test_sign_in_failure_and_sign_out_are_recorded_with_the_address(surgeon_a):
    client = Client(REMOTE_ADDR="198.51.100.4")
    client.post(reverse("login"), {"username": "surgeon-a", "password": "nope"})
    client.post(reverse("login"), {"username": "surgeon-a", "password": PASSWORD})
    client.post(reverse("logout"))
    events = list(AccessEvent.objects.order_by("id"))
    assert [e.action for e in events] == ["sign_in_failed", "sign_in", "sign_out"]
    assert {e.ip_address for e in events} == {"198.51.100.4"}
    assert events[0].user_id is None and events[0].username == "surgeon-a"
    assert events[1].user_id == surgeon_a.pk


def test_opening_a_patient_records_who_opened_whose_record(patient, surgeon_a, site_a):
    signed(surgeon_a).get(reverse("patient_detail", args=[patient.registry_id]))
    event = AccessEvent.objects.get(action=AccessAction.PATIENT_VIEWED)
    assert (event.user_id, event.object_id, event.site_id) == (
        surgeon_a.pk,
        patient.registry_id,
        site_a.pk,
    )
    assert event.object_type == "registry.patient" and event.status == 200
    assert patient.family_name not in str(event.detail) + event.path


def test_denials_are_recorded_although_the_request_rolled_back(patient, surgeon_b, coordinator):
    signed(surgeon_b).get(reverse("patient_detail", args=[patient.registry_id]))
    signed(coordinator).post(reverse("patient_edit", args=[patient.registry_id]), {})
    denied = AccessEvent.objects.filter(action=AccessAction.DENIED).order_by("id")
    assert [(e.username, e.status, e.object_id) for e in denied] == [
        ("surgeon-b", 404, patient.registry_id),
        ("coordinator", 403, patient.registry_id),
    ]


def test_a_request_authenticated_by_a_token_is_a_token_use(site_a, surgeon_a):
    request = RequestFactory().get("/api/v1/anything/")
    request.user = surgeon_a
    request.auth = site_a  # any model instance stands for the token object DRF puts here
    AccessAuditMiddleware(lambda r: HttpResponse())(request)
    event = AccessEvent.objects.get(action=AccessAction.TOKEN_USED)
    assert event.object_type == "registry.site" and event.user_id == surgeon_a.pk


def test_a_token_made_on_the_page_then_used_revoked_and_refused_is_all_in_the_log(
    patient, surgeon_a
):
    page = signed(surgeon_a).post(
        reverse("api_tokens"), {"name": "ward dashboard", "scope": TokenScope.READ}
    )
    key = re.search(r'id="new-token-key">([^<]+)<', page.content.decode()).group(1)
    token = ApiToken.objects.get(user=surgeon_a)
    created = AccessEvent.objects.get(action=AccessAction.TOKEN_CREATED)
    assert (created.user_id, created.object_type, created.object_id, created.ip_address) == (
        surgeon_a.pk,
        "registry.apitoken",
        token.token_key,
        "192.0.2.7",
    )
    assert created.path == reverse("api_tokens") and created.detail["owner"] == "surgeon-a"
    assert key.startswith(token.token_key)

    api = APIClient(REMOTE_ADDR="192.0.2.9", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api-patient-list")).status_code == 200
    assert api.post(reverse("api-patient-list"), {}, format="json").status_code == 403
    used = AccessEvent.objects.filter(action=AccessAction.TOKEN_USED).order_by("id")
    assert [(e.user_id, e.object_id, e.ip_address, e.method, e.status) for e in used] == [
        (surgeon_a.pk, token.token_key, "192.0.2.9", "GET", 200),
        (surgeon_a.pk, token.token_key, "192.0.2.9", "POST", 403),
    ]
    assert used[0].path == reverse("api-patient-list")
    denied = AccessEvent.objects.get(action=AccessAction.DENIED)
    assert (denied.user_id, denied.status, denied.method) == (surgeon_a.pk, 403, "POST")

    signed(surgeon_a).post(reverse("api_token_revoke"), {"token": token.pk})
    revoked = AccessEvent.objects.get(action=AccessAction.TOKEN_REVOKED)
    assert (revoked.user_id, revoked.object_id, revoked.ip_address) == (
        surgeon_a.pk,
        token.token_key,
        "192.0.2.7",
    )
    # A revoked key authenticates nobody: a 401, and no token use.
    assert api.get(reverse("api-patient-list")).status_code == 401
    assert AccessEvent.objects.filter(action=AccessAction.TOKEN_USED).count() == 2


def test_the_log_refuses_updates_and_deletes(surgeon_a):
    event = record_access(request_or_user=surgeon_a, action=AccessAction.EXPORT, obj="x")
    event.username = "someone-else"
    with pytest.raises(AccessLogIsAppendOnly):
        event.save()
    with pytest.raises(AccessLogIsAppendOnly):
        event.delete()
    with pytest.raises(AccessLogIsAppendOnly):
        AccessEvent.objects.all().delete()
    with pytest.raises(AccessLogIsAppendOnly):
        AccessEvent.objects.update(username="x")


def test_on_postgresql_the_database_refuses_them_too(surgeon_a):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (SQLite: the model refuses)")
    from django.db.utils import DatabaseError

    record_access(request_or_user=surgeon_a, action=AccessAction.EXPORT, obj="x")
    for sql in (
        "UPDATE registry_accessevent SET username = 'x'",
        "DELETE FROM registry_accessevent",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(sql)
    assert AccessEvent.objects.filter(username="surgeon-a").count() == 1


def test_on_postgresql_the_database_refuses_truncate_too_and_retention_still_purges(
    surgeon_a, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("the TRUNCATE trigger is PostgreSQL's")
    from django.db.utils import DatabaseError

    settings.ACCESS_LOG_RETENTION_DAYS = 1
    record_access(request_or_user=surgeon_a, action=AccessAction.EXPORT, obj="kept")
    for sql in (
        "TRUNCATE registry_accessevent",
        "TRUNCATE registry_accessevent RESTART IDENTITY CASCADE",
    ):
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            connection.cursor().execute(sql)
    assert AccessEvent.objects.filter(object_id="kept").count() == 1
    # Retention deletes rows (it never truncates): the purge of everything older than a
    # moment from now goes through the triggers.
    assert purge_access_log(older_than=timezone.now() + timedelta(seconds=1)) == 1
    assert list(AccessEvent.objects.values_list("action", flat=True)) == [AccessAction.PURGED]


def test_the_retention_purge_is_the_one_delete_and_is_itself_logged(surgeon_a, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    old = record_access(request_or_user=surgeon_a, action=AccessAction.EXPORT, obj="old")
    # Back-date one row: the trigger refuses UPDATE, so the test lifts it for this statement.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE registry_accessevent DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE registry_accessevent SET at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=31), old.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE registry_accessevent ENABLE TRIGGER USER")
    recent = record_access(request_or_user=surgeon_a, action=AccessAction.EXPORT, obj="new")
    assert purge_access_log() == 1
    remaining = set(AccessEvent.objects.values_list("object_id", "action"))
    assert ("new", "export") in remaining and ("old", "export") not in remaining
    assert AccessEvent.objects.filter(action=AccessAction.PURGED, detail__deleted=1).exists()
    assert recent.pk in AccessEvent.objects.values_list("pk", flat=True)


def test_site_administrators_read_their_sites_part_and_surgeons_none(
    patient, surgeon_a, surgeon_b, site_admin_a, admin_user
):
    signed(surgeon_a).get(reverse("patient_detail", args=[patient.registry_id]))
    signed(surgeon_b).get(reverse("patient_list"))  # site B's member: not site A's business
    record_access(request_or_user=surgeon_b, action=AccessAction.EXPORT, obj="b-export")
    assert signed(surgeon_a).get(reverse("access_log")).status_code == 403
    html = signed(site_admin_a).get(reverse("access_log")).content.decode()
    assert patient.registry_id in html and "b-export" not in html
    everything = signed(admin_user).get(reverse("access_log")).content.decode()
    assert "b-export" in everything and patient.registry_id in everything


def test_the_log_filters_and_exports_as_csv_and_the_export_is_logged(
    patient, surgeon_a, site_admin_a
):
    signed(surgeon_a).get(reverse("patient_detail", args=[patient.registry_id]))
    admin = signed(site_admin_a)
    page = admin.get(reverse("access_log"), {"action": "sign_in"}).content.decode()
    assert patient.registry_id not in page.split('data-testid="access-log"')[1]
    response = admin.get(reverse("access_log_csv"), {"action": "patient_viewed"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["action"], r["object_id"], r["username"]) for r in rows] == [
        ("patient_viewed", patient.registry_id, "surgeon-a")
    ]
    assert AccessEvent.objects.filter(action=AccessAction.EXPORT, username="admin-a").exists()
    bad = admin.get(reverse("access_log"), {"since": "2025-02-01", "until": "2025-01-01"})
    assert "The end date is before the start date." in bad.content.decode()
