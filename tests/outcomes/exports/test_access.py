"""Who may export what, and who may download: a surgeon cannot export; a coordinator exports
only their sites; identified data only for a site administrator of those sites, with a
reason, logged; a download is refused to anyone but its maker, and after expiry."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from outcomes.exports.models import Export, ExportStatus
from outcomes.exports.services import export_file, export_request, exports_expire
from outcomes.tasks import expire_exports
from registry.models import Role
from tests.factories import MembershipFactory, member
from tests.outcomes.exports.conftest import read_table


def test_a_surgeon_cannot_export(surgeon_a, client):
    with pytest.raises(PermissionDenied):
        export_request(user=surgeon_a, format="csv")
    client.force_login(surgeon_a)
    assert client.get(reverse("outcomes:export_list")).status_code == 403
    assert client.post(reverse("outcomes:export_list"), {"format": "csv"}).status_code == 403
    assert not Export.objects.exists()


def test_a_coordinator_exports_only_their_sites(site_a, site_b, cohort_cases, export):
    coordinator_a = member(site_a, Role.COORDINATOR, username="coord-a")
    made = export(coordinator_a)
    assert made.scope_sites == [site_a.pk]
    patients, _ = read_table(made, "patients")
    assert set(patients["site"]) == {"site-a"} and len(patients) == 3


def test_a_coordinator_filtering_on_another_site_gets_nobody_from_it(
    site_a, site_b, cohort_cases, export
):
    coordinator_a = member(site_a, Role.COORDINATOR, username="coord-a")
    made = export(coordinator_a, filters={"sites": ["site-b"]})
    assert made.row_counts["patients"] == 0


def test_identified_needs_a_site_administrator_and_a_reason(
    coordinator, site_admin_a, site_b, cohort_cases, export, caplog
):
    with pytest.raises(PermissionDenied):
        export_request(user=coordinator, format="csv", level="identified", reason="x" * 20)
    with pytest.raises(ValidationError) as error:
        export_request(user=site_admin_a, format="csv", level="identified", reason="")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        export_request(
            user=site_admin_a,
            format="csv",
            level="identified",
            reason="Linkage study",
            filters={"sites": ["site-b"]},
        )
    assert "level" in error.value.message_dict
    # An administrator of A who is a coordinator at B gets only A's patients identified.
    MembershipFactory(user=site_admin_a, site=site_b, role=Role.COORDINATOR)
    with caplog.at_level(logging.WARNING, logger="outcomes.exports"):
        made = export(site_admin_a, level="identified", reason="Linkage to the cancer registry")
    assert made.scope_sites == [cohort_cases["old"].patient.site_id]
    assert made.reason == "Linkage to the cancer registry"
    assert "identified export" in caplog.text and "cancer registry" in caplog.text


def test_every_export_is_recorded(coordinator, cohort_cases, export):
    made = export(coordinator, format="sav")
    assert (made.owner, made.format, made.level) == (coordinator, "sav", "deidentified")
    assert made.row_counts == {
        "patients": 4,
        "procedures": 4,
        "wide": 5,
        "long": 15,  # 3 + 4 visits x 2 vertebrae + 2 + 2
        "adverse_events": 1,
    }
    assert made.created_at and made.finished_at and made.data_version and made.cohort_hash
    assert made.expires_at > made.finished_at


def test_only_the_maker_downloads(coordinator, site_a, site_b, cohort_cases, export, client):
    made = export(coordinator)
    url = reverse("outcomes:export_download", args=[made.pk])
    colleague = member(site_a, Role.COORDINATOR, username="colleague")
    MembershipFactory(user=colleague, site=site_b, role=Role.COORDINATOR)
    client.force_login(colleague)
    assert client.get(url).status_code == 404
    assert client.get(reverse("outcomes:export_detail", args=[made.pk])).status_code == 404
    client.force_login(coordinator)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content)[:2] == b"PK"
    made.refresh_from_db()
    assert made.download_count == 1


def test_download_is_refused_after_expiry_and_the_file_deleted(
    coordinator, cohort_cases, export, client
):
    made = export(coordinator)
    path = export_file(made)
    assert path.exists()
    assert exports_expire() == 0  # not yet
    Export.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert expire_exports.delay().get() == 1
    made.refresh_from_db()
    assert made.status == ExportStatus.EXPIRED and made.deleted_at is not None
    assert not path.exists()
    client.force_login(coordinator)
    response = client.get(reverse("outcomes:export_download", args=[made.pk]))
    assert response.status_code == 410


def test_expired_before_the_beat_ran_is_refused_too(coordinator, cohort_cases, export, client):
    made = export(coordinator)
    Export.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(coordinator)
    assert client.get(reverse("outcomes:export_download", args=[made.pk])).status_code == 410


def test_expiry_time_is_configurable(coordinator, cohort_cases, export, settings):
    settings.EXPORT_EXPIRY_HOURS = 2
    made = export(coordinator)
    assert made.expires_at - made.finished_at == timedelta(hours=2)


def test_a_coordinator_who_lost_their_role_cannot_download(
    coordinator, cohort_cases, export, client
):
    made = export(coordinator)
    coordinator.memberships.all().delete()
    client.force_login(coordinator)
    assert client.get(reverse("outcomes:export_download", args=[made.pk])).status_code == 403
