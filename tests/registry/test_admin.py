import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import RadiographFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTRY_MODELS = [m for m in admin.site._registry if m._meta.app_label == "registry"]


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_every_registry_model_is_in_the_admin():
    names = {m.__name__ for m in REGISTRY_MODELS}
    assert names >= {
        "Site",
        "SiteMembership",
        "Technique",
        "Patient",
        "Fracture",
        "Procedure",
        "TreatedLevel",
        "AdverseEvent",
        "FollowUpVisit",
        "RadiographicMeasurement",
    }


@pytest.mark.parametrize("model", REGISTRY_MODELS, ids=lambda m: m.__name__)
def test_each_changelist_loads_and_searches(admin_client, model):
    RadiographFactory()
    url = reverse(f"admin:registry_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    if admin.site._registry[model].search_fields:
        assert admin_client.get(url, {"q": "OV-"}).status_code == 200


def test_the_history_page_shows_who_changed_a_patient(admin_client):
    radiograph = RadiographFactory()
    patient = radiograph.visit.procedure.patient
    url = reverse("admin:registry_patient_history", args=[patient.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"Created" in response.content or b"+" in response.content
