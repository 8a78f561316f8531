"""The one permission module: three actors and a superuser."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from registry import permissions
from registry.models import Role
from tests.factories import PatientFactory, SiteFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def test_it_answers_by_role_at_the_patients_site():
    site, other = SiteFactory(), SiteFactory()
    patient = PatientFactory(site=site)
    surgeon = member(site, Role.SURGEON)
    coordinator = member(site, Role.COORDINATOR)
    admin = member(site, Role.SITE_ADMIN)
    outsider = member(other, Role.SITE_ADMIN)

    assert [permissions.can_edit(u, patient) for u in (surgeon, coordinator, admin, outsider)] == [
        True,
        False,
        True,
        False,
    ]
    assert [permissions.can_withdraw(u, patient) for u in (surgeon, admin, outsider)] == [
        False,
        True,
        False,
    ]
    assert permissions.can_export(coordinator, site) and not permissions.can_export(surgeon)
    assert permissions.can_export_identified(admin, site)
    assert not permissions.can_export_identified(coordinator, site)
    assert permissions.can_read(coordinator, site) and not permissions.can_read(outsider, site)
    assert all(permissions.can_run_statistics(u) for u in (surgeon, coordinator, admin))


def test_superuser_acts_as_site_admin_and_anonymous_has_nothing():
    site = SiteFactory()
    patient = PatientFactory(site=site)
    root = UserFactory(is_superuser=True)
    assert permissions.role_at(root, site) == Role.SITE_ADMIN
    assert permissions.can_withdraw(root, patient)
    assert permissions.roles_of(AnonymousUser()) == {}
    assert not permissions.can_enter_cases(AnonymousUser())


def test_roles_are_read_once_per_user_object(django_assert_num_queries):
    site = SiteFactory()
    user = member(site, Role.SURGEON)
    with django_assert_num_queries(1):
        for _ in range(5):
            permissions.can_edit_site(user, site)
            permissions.editable_site_ids(user)


def test_a_withdrawn_patient_is_read_only_for_everyone():
    site = SiteFactory()
    patient = PatientFactory(site=site)
    patient.withdrawn_at = timezone.now()
    admin = member(site, Role.SITE_ADMIN)
    assert not permissions.can_edit(admin, patient)
    assert not permissions.can_withdraw(admin, patient)
