"""Every URL pattern x every actor answers what registry.permission_matrix says.

The whole URL configuration is walked: a route without a row fails, a REST API operation (a
method its view answers) without a row fails, a row whose route or operation is gone fails,
and the README's table must be the one the module renders."""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from registry.models import ApiToken
from registry.permission_matrix import (
    ACTORS,
    ADMIN,
    ADMIN_EXPECT,
    ADMIN_LOGIN,
    ADMIN_PREFIX,
    LOGIN,
    render_markdown,
    rows_by_key,
)
from tests.security.matrix_world import api_operations, build_world, client_for, url_for, walk

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[2] / "README.md"


def observed(response) -> int | str:
    location = response.get("Location", "") if response.status_code == 302 else ""
    if location.startswith(reverse("admin:login")):
        return ADMIN_LOGIN
    if location.startswith(reverse(settings.LOGIN_URL)):
        return LOGIN
    return response.status_code


def matches(expected, got, response) -> bool:
    if expected == ADMIN:
        return got not in (LOGIN, ADMIN_LOGIN) and response.status_code < 500
    return expected == got


def routes():
    return list(walk())


def test_every_route_has_a_row_and_every_row_a_route():
    table = rows_by_key()
    present = {route for route, _, _ in routes()}
    unlisted = sorted(
        route
        for route in present
        if not route.startswith(ADMIN_PREFIX) and not any(key[1] == route for key in table)
    )
    assert not unlisted, f"URL patterns without a row in registry/permission_matrix.py: {unlisted}"
    stale = sorted(key for key in table if key[1] not in present)
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_api_operation_has_a_row_and_every_api_row_an_operation():
    table = rows_by_key()
    missing, stale = [], []
    for route, _, pattern in routes():
        operations = api_operations(pattern)
        if operations is None or route.startswith(ADMIN_PREFIX):
            continue
        listed = {method for method, r in table if r == route}
        missing += [f"{method} /{route}" for method in sorted(operations - listed)]
        stale += [f"{method} /{route}" for method in sorted(listed - operations)]
    assert not missing, f"API operations without a row in registry/permission_matrix.py: {missing}"
    assert not stale, f"rows for API operations the view does not answer: {stale}"


def test_the_readme_shows_the_current_matrix():
    assert render_markdown() in README.read_text(), (
        "README.md's permission matrix is out of date: python manage.py permission_matrix --write"
    )


def test_the_token_actors_are_real_tokens_of_site_a_surgeon_with_scope_and_flag():
    world = build_world()
    tokens = {t.name: t for t in ApiToken.objects.filter(user=world.users["surgeon"])}
    assert (tokens["matrix feed"].scope, tokens["matrix feed"].deidentified) == ("read", True)
    assert (tokens["matrix client"].scope, tokens["matrix client"].deidentified) == ("write", False)
    url = reverse("api-patient-detail", kwargs={"pk": world.patient.pk})
    feed = client_for(world, "token_read").get(url).json()
    client = client_for(world, "token_write").get(url).json()
    assert client["family_name"] == world.patient.family_name
    assert "family_name" not in feed and feed["registry_id"] == world.patient.registry_id


@pytest.mark.parametrize("actor", ACTORS)
@override_settings(EMAIL_CONFIGURED=False)
def test_each_route_answers_the_actor_as_the_matrix_says(actor):
    world = build_world()
    table = rows_by_key()
    wrong, seen = [], {}
    requests = []
    for route, name, pattern in routes():
        url = url_for(world, route, name, pattern)
        if url is None:
            continue
        rows = [row for (_, r), row in table.items() if r == route]
        if rows:
            requests += [(row.method, route, url, row) for row in rows]
        elif route.startswith(ADMIN_PREFIX):
            requests.append(("GET", route, url, None))
    # Deletes last, so that no other row meets an object a delete removed.
    requests.sort(key=lambda request: request[0] == "DELETE")
    for method, route, url, row in requests:
        expected = row.expect[actor] if row else ADMIN_EXPECT[actor]
        client = client_for(world, actor)  # fresh: a sign-out must not leak into the next
        kwargs = {}
        if row is not None and row.query:
            url = f"{url}?{row.query}"
        if row is not None and row.body is not None:
            kwargs = {"data": json.dumps(row.body), "content_type": "application/json"}
        response = getattr(client, method.lower())(url, **kwargs)
        got = observed(response)
        seen[(method, route)] = got
        if not matches(expected, got, response):
            wrong.append(f"{method} /{route} as {actor}: expected {expected}, got {got}")
    if os.environ.get("MATRIX_DISCOVER"):
        for key, got in sorted(seen.items()):
            print(f"DISCOVER {actor} {key[0]} {key[1]} {got}")
    assert not wrong, "\n".join(wrong)
