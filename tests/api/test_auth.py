"""Tokens: hashed, expiring, scoped, revocable; both header spellings; no Basic auth;
a per-token request budget."""

from __future__ import annotations

import base64
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from registry.api.throttling import PerTokenThrottle, parse_rate
from registry.models import ApiToken, TokenScope
from registry.services.api_tokens import api_token_create
from tests.api.conftest import token_client
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _client(key: str, scheme: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


def test_the_key_is_stored_only_as_a_digest(surgeon_a):
    token, key = api_token_create(user=surgeon_a, name="feed")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in (stored.digest, stored.token_key) and key.startswith(stored.token_key)
    assert len(stored.digest) == 128  # SHA-512


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer"])
def test_token_and_bearer_headers_authenticate(surgeon_a, scheme):
    _, key = api_token_create(user=surgeon_a, name="feed")
    assert _client(key, scheme).get("/api/v1/patients/").status_code == 200


def test_wrong_expired_or_revoked_tokens_are_401(surgeon_a):
    token, key = api_token_create(user=surgeon_a, name="feed", expires_in_days=1)
    assert _client(key + "x").get("/api/v1/patients/").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert _client(key).get("/api/v1/patients/").status_code == 401
    token, key = api_token_create(user=surgeon_a, name="feed")
    token.delete()
    assert _client(key).get("/api/v1/patients/").status_code == 401


def test_basic_auth_is_off(surgeon_a):
    client = APIClient()
    basic = base64.b64encode(f"{surgeon_a.username}:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {basic}")
    assert client.get("/api/v1/patients/").status_code == 401


def test_session_of_a_signed_in_user_works(client, surgeon_a):
    client.force_login(surgeon_a)
    assert client.get("/api/v1/patients/").status_code == 200


def test_coordinators_tokens_are_deidentified_by_default(coordinator, surgeon_a):
    assert api_token_create(user=coordinator, name="x")[0].deidentified is True
    assert api_token_create(user=surgeon_a, name="x")[0].deidentified is False


def test_a_coordinator_cannot_make_a_write_token(coordinator):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        api_token_create(user=coordinator, name="x", scope=TokenScope.WRITE)
    assert "scope" in error.value.message_dict


def test_tokens_page_shows_the_key_once_and_revokes(client, surgeon_a):
    client.force_login(surgeon_a)
    page = client.post(
        "/account/tokens/", {"name": "Dashboard", "scope": "read", "expires_in_days": "30"}
    )
    assert page.status_code == 200
    key = page.context["new_key"]
    assert key and key in page.content.decode()
    token = ApiToken.objects.get(user=surgeon_a)
    assert token.expiry is not None and token.scope == "read"
    assert _client(key).get("/api/v1/patients/").status_code == 200
    again = client.get("/account/tokens/").content.decode()
    assert key not in again and token.token_key in again
    client.post("/account/tokens/revoke/", {"token": token.pk})
    assert _client(key).get("/api/v1/patients/").status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(client, surgeon_a, surgeon_b):
    token, key = api_token_create(user=surgeon_b, name="theirs")
    client.force_login(surgeon_a)
    assert client.post("/account/tokens/revoke/", {"token": token.pk}).status_code == 404
    assert _client(key).get("/api/v1/patients/").status_code == 200


def test_an_administrator_revokes_any_token_in_the_admin(client, surgeon_a, django_user_model):
    token, key = api_token_create(user=surgeon_a, name="feed")
    admin = django_user_model.objects.create_superuser("root", "r@example.org", PASSWORD)
    client.force_login(admin)
    response = client.post(
        "/admin/registry/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert _client(key).get("/api/v1/patients/").status_code == 401


def test_management_command_prints_a_working_key(surgeon_a):
    out = StringIO()
    call_command(
        "create_api_token",
        surgeon_a.username,
        "--name",
        "feed",
        "--scope",
        "write",
        stdout=out,
        stderr=StringIO(),
    )
    key = out.getvalue().strip()
    assert _client(key).get("/api/v1/patients/").status_code == 200
    assert ApiToken.objects.get(user=surgeon_a).scope == "write"


@pytest.mark.parametrize(
    ("rate", "parsed"), [("600/10m", (600, 600)), ("100/hour", (100, 3600)), ("5/s", (5, 1))]
)
def test_rates_are_parsed(rate, parsed):
    assert parse_rate(rate) == parsed


def test_the_budget_is_per_token_and_over_it_is_429_with_retry_after(surgeon_a, monkeypatch):
    cache.clear()
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"api": "3/10m"})
    first, second = token_client(surgeon_a), token_client(surgeon_a)
    for _ in range(3):
        assert first.get("/api/v1/patients/").status_code == 200
    refused = first.get("/api/v1/patients/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 600
    assert second.get("/api/v1/patients/").status_code == 200  # its own budget
    cache.clear()


def test_default_rate_is_600_per_10_minutes():
    assert api_settings.DEFAULT_THROTTLE_RATES["api"] == "600/10m"


@override_settings()
def test_the_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
