"""Who sees which cohort and which run: an owner, a colleague, an outsider."""

import pytest

from outcomes.models import StatisticsRun
from outcomes.selectors import (
    Scope,
    cohort_visible_to,
    patients_in_scope,
    run_visible_to,
    scope_for,
)
from outcomes.services import cohort_create
from registry.selectors import patients_visible_to
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patients(site_a, site_b):
    return PatientFactory.create_batch(2, site=site_a) + PatientFactory.create_batch(3, site=site_b)


def test_a_scope_is_the_sites_of_the_patients_the_user_may_see(
    patients, site_a, site_b, surgeon_a, surgeon_b, coordinator
):
    assert scope_for(user=surgeon_a) == Scope((site_a.pk,))
    assert scope_for(user=surgeon_b) == Scope((site_b.pk,))
    assert scope_for(user=coordinator) == Scope.of([site_b.pk, site_a.pk])
    assert scope_for(user=UserFactory()) == Scope(())


def test_statistics_read_exactly_the_visible_active_patients(
    patients, surgeon_a, surgeon_b, coordinator
):
    from django.utils import timezone

    patients[0].withdrawn_at = timezone.now()
    patients[0].save()
    for user in (surgeon_a, surgeon_b, coordinator):
        expected = set(patients_visible_to(user=user).active().values_list("pk", flat=True))
        read = set(patients_in_scope(scope_for(user=user)).values_list("pk", flat=True))
        assert read == expected


def test_a_cohort_is_seen_by_its_owner_and_colleagues_at_a_shared_site(
    surgeon_a, surgeon_b, coordinator
):
    mine = cohort_create(owner=surgeon_a, name="Surgeon A's")
    theirs = cohort_create(owner=coordinator, name="Coordinator's")
    assert cohort_visible_to(user=surgeon_a, cohort=mine)
    assert cohort_visible_to(user=coordinator, cohort=mine)  # shares site A
    assert not cohort_visible_to(user=surgeon_b, cohort=mine)
    assert cohort_visible_to(user=surgeon_b, cohort=theirs)  # shares site B
    assert not cohort_visible_to(user=UserFactory(), cohort=theirs)


def test_a_run_is_seen_only_by_users_whose_scope_covers_it(
    patients, site_a, site_b, surgeon_a, surgeon_b, coordinator
):
    cohort = cohort_create(owner=coordinator, name="Both sites")

    def run_over(*sites):
        return StatisticsRun(cohort=cohort, scope_sites=[s.pk for s in sites])

    both, only_a = run_over(site_a, site_b), run_over(site_a)
    assert run_visible_to(user=coordinator, run=both)
    assert not run_visible_to(user=surgeon_a, run=both)
    assert not run_visible_to(user=surgeon_b, run=both)
    assert run_visible_to(user=surgeon_a, run=only_a)
    assert run_visible_to(user=coordinator, run=only_a)
    assert not run_visible_to(user=surgeon_b, run=only_a)
