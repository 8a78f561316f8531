"""run_once: a repeated key returns the first record; a failed create leaves no key."""

import pytest
from django.core.exceptions import ValidationError

from registry.models import IdempotencyKey, Site
from registry.services.idempotency import KeyReusedError, run_once
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _make_site(code):
    return lambda: Site.objects.create(code=code, name=code)


def test_a_repeated_key_returns_the_first_record():
    user = UserFactory()
    first, created = run_once(user=user, key="k1", action="site_create", create=_make_site("a"))
    again, created_again = run_once(
        user=user, key="k1", action="site_create", create=_make_site("b")
    )
    assert (created, created_again) == (True, False)
    assert again == first
    assert not Site.objects.filter(code="b").exists()


def test_keys_belong_to_their_user_and_no_key_means_no_replay():
    alice, bob = UserFactory(), UserFactory()
    run_once(user=alice, key="same", action="site_create", create=_make_site("a"))
    _, created = run_once(user=bob, key="same", action="site_create", create=_make_site("b"))
    assert created
    _, created = run_once(user=bob, key=None, action="site_create", create=_make_site("c"))
    assert created and IdempotencyKey.objects.count() == 2


def test_a_failed_create_leaves_no_key_so_a_retry_runs_again():
    user = UserFactory()

    def failing():
        Site.objects.create(code="x", name="x")
        raise ValidationError({"code": "no"})

    with pytest.raises(ValidationError):
        run_once(user=user, key="k", action="site_create", create=failing)
    assert not Site.objects.filter(code="x").exists()
    _, created = run_once(user=user, key="k", action="site_create", create=_make_site("x"))
    assert created


def test_a_key_reused_for_another_action_is_refused():
    user = UserFactory()
    run_once(user=user, key="k", action="site_create", create=_make_site("a"))
    with pytest.raises(KeyReusedError):
        run_once(user=user, key="k", action="visit_record", create=_make_site("b"))


def test_an_overlong_key_is_a_field_error():
    with pytest.raises(ValidationError) as caught:
        run_once(user=UserFactory(), key="k" * 200, action="a", create=_make_site("a"))
    assert "idempotency_key" in caught.value.message_dict
