"""Actors of the API tests: a token per role, and a client that sends it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.models import TokenScope
from registry.services.api_tokens import api_token_create


def token_client(user, *, scope=TokenScope.WRITE, deidentified=None, scheme="Token") -> APIClient:
    _, key = api_token_create(user=user, name="test", scope=scope, deidentified=deidentified)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    client.token_key = key
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def api_surgeon_a(surgeon_a):
    return token_client(surgeon_a)


@pytest.fixture
def api_surgeon_b(surgeon_b):
    return token_client(surgeon_b)


@pytest.fixture
def api_coordinator(coordinator):
    return token_client(coordinator, scope=TokenScope.READ)


@pytest.fixture
def api_site_admin_a(site_admin_a):
    return token_client(site_admin_a)


@pytest.fixture
def api_read_only_a(surgeon_a):
    return token_client(surgeon_a, scope=TokenScope.READ)


@pytest.fixture(autouse=True)
def _fresh_throttle_budget():
    """Throttle counters live in the cache: each test starts with a full budget."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
