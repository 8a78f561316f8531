"""Withdrawal: a site administrator only, a reason required; the record stays, read-only."""

import pytest
from django.urls import reverse

from registry.models import Patient
from tests.registry.web_cases import full_case, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(site_a, surgeon_a):
    patient, _, _ = full_case(site_a, surgeon_a)
    return patient


def url(patient, name="patient_withdraw"):
    return reverse(name, args=[patient.registry_id])


def test_a_site_administrator_withdraws_a_patient_with_a_reason(patient, site_admin_a):
    client = signed_in(site_admin_a)
    assert url(patient) in client.get(url(patient, "patient_detail")).content.decode()
    response = client.post(url(patient), {"reason": "Consent withdrawn by phone"}, follow=True)
    html = response.content.decode()
    assert "Withdrawn" in html and "Consent withdrawn by phone" in html
    patient.refresh_from_db()
    assert patient.is_withdrawn
    assert not Patient.objects.active().exists()
    assert Patient.objects.count() == 1  # nothing deleted


def test_a_reason_is_required(patient, site_admin_a):
    response = signed_in(site_admin_a).post(url(patient), {"reason": "   "})
    assert response.status_code == 200
    assert 'id="id_reason_error"' in response.content.decode()
    patient.refresh_from_db()
    assert not patient.is_withdrawn


@pytest.mark.parametrize(
    "actor, status", [("surgeon_a", 403), ("coordinator", 403), ("surgeon_b", 404)]
)
def test_others_cannot_withdraw(patient, actor, status, request):
    client = signed_in(request.getfixturevalue(actor))
    assert client.get(url(patient)).status_code == status
    assert client.post(url(patient), {"reason": "x"}).status_code == status
    patient.refresh_from_db()
    assert not patient.is_withdrawn


def test_a_surgeon_sees_no_withdraw_button(patient, surgeon_a):
    html = signed_in(surgeon_a).get(url(patient, "patient_detail")).content.decode()
    assert url(patient) not in html


def test_a_withdrawn_record_is_read_only(patient, site_admin_a, surgeon_a):
    signed_in(site_admin_a).post(url(patient), {"reason": "Consent withdrawn"})
    client = signed_in(surgeon_a)
    assert client.get(url(patient, "patient_edit")).status_code == 403
    assert client.get(url(patient, "fractures_create")).status_code == 403
    detail = client.get(url(patient, "patient_detail")).content.decode()
    assert url(patient, "patient_edit") not in detail
    again = signed_in(site_admin_a).get(url(patient), follow=True)
    assert "already withdrawn" in again.content.decode()
