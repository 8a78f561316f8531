"""Fuzzing the whole OpenAPI schema (schemathesis): every operation, a fixed number of
generated requests each, as a surgeon (read-write, identified) and as a coordinator
(read-only, de-identified). Zero server errors; every response conforms to the schema
(status code documented, body valid, content type declared)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.models import TokenScope
from registry.services.api_tokens import api_token_create
from registry.wsgi import application
from tests.api.cases import make_case

# Small and fixed: the whole schema in about a minute; raise them locally to dig deeper.
EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 2}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app is called directly: like Django's test client, stop it from closing the
    database connection (and with it the test's transaction) at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(site_a, site_b, surgeon_a, coordinator):
    make_case(site_a)
    make_case(site_b, technique="VBS")
    _, surgeon = api_token_create(user=surgeon_a, name="fuzz", scope=TokenScope.WRITE)
    _, reader = api_token_create(user=coordinator, name="fuzz", scope=TokenScope.READ)
    return {"surgeon": surgeon, "coordinator": reader}


@pytest.mark.django_db
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres")
    and not os.environ.get("API_FUZZ"),
    reason="about a minute: runs in the PostgreSQL pass of CI (or set API_FUZZ=1)",
)
@pytest.mark.parametrize("actor", ["surgeon", "coordinator"])
@pytest.mark.parametrize("mode", list(EXAMPLES_PER_OPERATION), ids=lambda mode: mode.value)
def test_every_operation_answers_within_its_schema(tokens, actor, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    headers = {"Authorization": f"Token {tokens[actor]}"}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES_PER_OPERATION[mode],
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): only in negative mode.
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as error:  # collect every operation's failure, then report all
            failures.append(f"{operation.label}: {error}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
