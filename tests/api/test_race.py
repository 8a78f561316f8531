"""Two clients PUT the same record with the same If-Match at the same moment: one wins
(200), the other is told what changed (412). Real PostgreSQL, a live server, two threads."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.conf import settings

from registry.models import Fracture
from tests.api.cases import make_case
from tests.api.conftest import token_client


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="row locks under concurrent requests: PostgreSQL only",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_puts_with_one_if_match_give_one_200_and_one_412(live_server, site_a, surgeon_a):
    fracture = make_case(site_a).level.fracture
    key = token_client(surgeon_a).token_key
    url = f"{live_server.url}/api/v1/fractures/{fracture.pk}/"
    headers = {"Authorization": f"Token {key}"}
    etag = httpx.get(url, headers=headers).headers["ETag"]
    start = threading.Barrier(2)
    answers: dict[int, httpx.Response] = {}

    def put(grade: int) -> None:
        body = {"patient": fracture.patient_id, "level": "L1", "genant_grade": grade}
        with httpx.Client(headers={**headers, "If-Match": etag}, timeout=30) as client:
            start.wait()
            answers[grade] = client.put(url, json=body)

    threads = [threading.Thread(target=put, args=(grade,)) for grade in (1, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    codes = sorted(response.status_code for response in answers.values())
    assert codes == [200, 412], {g: r.text for g, r in answers.items()}
    winner = next(g for g, r in answers.items() if r.status_code == 200)
    loser = next(r for r in answers.values() if r.status_code == 412)
    assert loser.json()["changes"] == [{"field": "genant_grade", "was": 2, "now": winner}]
    fracture.refresh_from_db()
    assert fracture.genant_grade == winner and fracture.version == 2
    assert Fracture.history.filter(id=fracture.pk).count() == 2
