import pytest

from registry.permissions import can_edit_site
from registry.selectors import patients_visible_to, sites_visible_to
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patients(site_a, site_b):
    return {
        "a": PatientFactory.create_batch(3, site=site_a),
        "b": PatientFactory.create_batch(2, site=site_b),
    }


def ids(queryset):
    return set(queryset.values_list("pk", flat=True))


def test_a_surgeon_sees_only_their_sites_patients(patients, surgeon_a, surgeon_b):
    assert ids(patients_visible_to(user=surgeon_a)) == {p.pk for p in patients["a"]}
    assert ids(patients_visible_to(user=surgeon_b)) == {p.pk for p in patients["b"]}


def test_a_coordinator_of_both_sites_sees_both_without_duplicates(patients, coordinator):
    visible = patients_visible_to(user=coordinator)
    assert visible.count() == 5
    assert ids(visible) == {p.pk for p in patients["a"] + patients["b"]}


def test_an_outsider_and_an_anonymous_user_see_nothing(patients):
    from django.contrib.auth.models import AnonymousUser

    assert not patients_visible_to(user=UserFactory()).exists()
    assert not patients_visible_to(user=AnonymousUser()).exists()


def test_an_inactive_user_sees_nothing(patients, surgeon_a):
    surgeon_a.is_active = False
    assert not patients_visible_to(user=surgeon_a).exists()


def test_a_superuser_sees_every_site(patients):
    root = UserFactory(is_superuser=True, is_staff=True)
    assert patients_visible_to(user=root).count() == 5
    assert sites_visible_to(user=root).count() == 2


def test_roles_decide_who_edits(site_a, site_b, surgeon_a, coordinator, site_admin_a):
    assert can_edit_site(surgeon_a, site_a)
    assert not can_edit_site(surgeon_a, site_b)
    assert not can_edit_site(coordinator, site_a)
    assert can_edit_site(site_admin_a, site_a)


def test_the_selector_is_one_query(patients, surgeon_a, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(patients_visible_to(user=surgeon_a))
