"""`GET /api/v1/`: the index a client starts from, built from the URL resolver."""

import pytest
from django.urls import resolve

pytestmark = pytest.mark.django_db


def test_the_index_is_public_and_links_the_docs_and_every_collection(anonymous):
    response = anonymous.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["documentation"].endswith("/api/v1/docs/")
    endpoints = body["endpoints"]
    for name in ("patients", "visits", "aggregates/outcomes", "cohorts", "exports", "quality"):
        assert endpoints[name] == f"http://testserver/api/v1/{name}/"
    # Nothing with a path parameter, and nothing that is not a route.
    assert not any("<" in url or "(?P" in url for url in endpoints.values())
    for url in endpoints.values():
        resolve(url.removeprefix("http://testserver"))


def test_every_listed_collection_answers_a_signed_in_client(api_surgeon_a):
    endpoints = api_surgeon_a.get("/api/v1/").json()["endpoints"]
    for name, url in endpoints.items():
        response = api_surgeon_a.get(url)
        if response.status_code == 400:  # an aggregate asks for its question (metric, event)
            assert name.startswith("aggregates/"), (name, response.json())
            continue
        # Aggregates without a stored run answer 202 (queued); quality runs are POST-only.
        assert response.status_code in (200, 202, 405), (name, response.status_code)
