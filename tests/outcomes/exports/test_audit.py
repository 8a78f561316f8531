"""Every export is in the access log (registry.audit.record_access): its request (who, from
where, format, level, cohort, and for identified data the reason) and each download (how
many rows), from the pages and from the API."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from outcomes.exports.models import Export
from registry.models import AccessAction, AccessEvent


def _export_events(**detail):
    events = AccessEvent.objects.filter(action=AccessAction.EXPORT, object_type="outcomes.export")
    return [e for e in events if all(e.detail.get(k) == v for k, v in detail.items())]


def test_a_page_request_and_its_download_are_logged(
    client, coordinator, cohort_cases, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("outcomes:export_list"),
            {"format": "sav", "level": "deidentified"},
            REMOTE_ADDR="10.1.2.3",
        )
    assert response.status_code == 302
    made = Export.objects.get()
    [requested] = _export_events(event="requested")
    assert requested.user_id == coordinator.pk and requested.object_id == str(made.pk)
    assert requested.ip_address == "10.1.2.3"
    assert requested.detail["format"] == "sav" and requested.detail["level"] == "deidentified"
    assert requested.detail["identified"] is False
    assert requested.detail["cohort_hash"] == made.cohort_hash
    assert sorted(requested.detail["sites"]) == sorted(made.scope_sites)
    assert "reason" not in requested.detail

    download = client.get(reverse("outcomes:export_download", args=[made.pk]))
    assert download.status_code == 200
    [downloaded] = _export_events(event="downloaded")
    assert downloaded.user_id == coordinator.pk
    made.refresh_from_db()
    assert downloaded.detail["rows"] == made.row_counts and made.row_counts["wide"] > 0


def test_an_identified_export_is_logged_with_its_reason_and_site(
    site_admin_a, site_a, cohort_cases, django_capture_on_commit_callbacks
):
    api = APIClient()
    api.force_authenticate(site_admin_a)
    reason = "Linking to the hospital's fracture liaison service records"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/exports/",
            {"format": "csv", "level": "identified", "reason": reason},
            format="json",
        )
    assert response.status_code == 202
    [requested] = _export_events(event="requested")
    assert requested.detail["identified"] is True and requested.detail["reason"] == reason
    assert requested.site_id == site_a.pk  # the site administrator sees it in their site's log
    assert requested.path == "/api/v1/exports/" and requested.method == "POST"

    polled = api.get(response["Location"]).json()
    assert api.get(polled["download_url"]).status_code == 200
    [downloaded] = _export_events(event="downloaded")
    assert downloaded.detail["reason"] == reason and downloaded.user_id == site_admin_a.pk


def test_a_refused_download_is_not_logged_as_a_download(
    client, coordinator, surgeon_a, cohort_cases, export
):
    made = export(coordinator)
    client.force_login(surgeon_a)
    assert client.get(reverse("outcomes:export_download", args=[made.pk])).status_code == 404
    assert _export_events(event="downloaded") == []
