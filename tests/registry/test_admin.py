from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
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


# --- clinical records go through the edit service -------------------------------------


def admin_visit_form(client, visit):
    """The visit's admin change form as a browser would post it back unchanged."""
    url = reverse("admin:registry_followupvisit_change", args=[visit.pk])
    page = client.get(url)
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is not None:
                data[form.add_prefix(name)] = value
    return url, data


def test_an_admin_change_goes_through_the_edit_service(admin_client):
    radiograph = RadiographFactory()
    visit = radiograph.visit
    url, data = admin_visit_form(admin_client, visit)
    response = admin_client.post(url, {**data, "vas": "3.5"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    visit.refresh_from_db()
    assert (visit.vas, visit.version) == (Decimal("3.5"), 2)
    latest = visit.history.order_by("-history_date").first()
    assert latest.history_user.is_superuser and latest.version == 2


def test_a_stale_admin_edit_is_refused(admin_client):
    from registry.services import clinical_update

    visit = RadiographFactory().visit
    url, data = admin_visit_form(admin_client, visit)
    surgeon = UserFactory(is_superuser=True)
    clinical_update(user=surgeon, instance=visit, expected_version=1, data={"vas": Decimal(1)})
    response = admin_client.post(url, {**data, "vas": "3.5"})
    assert response.status_code == 200
    assert "Someone saved this record after you opened it" in response.content.decode()
    visit.refresh_from_db()
    assert visit.vas == Decimal(1)


def test_the_admin_cannot_move_a_patient_or_add_clinical_rows(admin_client):
    patient = RadiographFactory().visit.procedure.patient
    page = admin_client.get(reverse("admin:registry_patient_change", args=[patient.pk]))
    assert "site" not in page.context["adminform"].form.fields
    assert admin_client.get(reverse("admin:registry_fracture_add")).status_code == 403


def test_only_a_superuser_deletes_and_the_deletion_is_recorded(admin_client):
    from django.contrib.admin.models import DELETION, LogEntry
    from django.contrib.auth.models import Permission

    from registry.models import Role, SiteMembership

    radiograph = RadiographFactory()
    event_visit = radiograph.visit
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="registry"))
    SiteMembership.objects.create(
        user=staff, site=event_visit.procedure.patient.site, role=Role.SITE_ADMIN
    )
    client = Client()
    client.force_login(staff)
    delete_url = reverse("admin:registry_radiographicmeasurement_delete", args=[radiograph.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    gone = type(radiograph).history.filter(id=radiograph.pk, history_type="-").get()
    assert gone.history_user.is_superuser
    assert LogEntry.objects.filter(action_flag=DELETION, object_id=str(radiograph.pk)).exists()


def test_an_admin_edit_then_a_stale_page_save_shows_the_conflict(admin_client, site_a):
    """Reproduction: the admin's change was silently overwritten by a form opened before."""
    from registry.models import Role
    from tests.factories import member
    from tests.registry.web_cases import full_case, signed_in

    surgeon = member(site_a, Role.SURGEON, username="surgeon-x")
    patient, _, visit = full_case(site_a, surgeon, levels=("L1",))
    edit_url = reverse("visit_edit", args=[patient.registry_id, visit.pk])
    page = signed_in(surgeon)
    form = page.get(edit_url).context["form"]
    stale = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    film = visit.radiographs.get()
    for name in ("film_position", "anterior_height_mm", "above_anterior_height_mm"):
        stale[f"rad-{film.treated_level_id}-{name}"] = str(getattr(film, name))
    stale[f"rad-{film.treated_level_id}-below_anterior_height_mm"] = "27.0"
    stale[f"rad-{film.treated_level_id}-lka_degrees"] = "20.0"
    stale[f"rad-{film.treated_level_id}-version"] = "1"

    url, data = admin_visit_form(admin_client, visit)
    assert admin_client.post(url, {**data, "vas": "4.0"}).status_code == 302

    response = page.post(edit_url, {**stale, "vas": "6.0"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not saved: someone else changed this while you were editing" in html
    visit.refresh_from_db()
    assert visit.vas == Decimal("4.0") and visit.version == 2
