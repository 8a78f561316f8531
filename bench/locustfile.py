"""Locust users of `make load` (bench/load.py starts the servers and checks the counts).

Two kinds of user. A `Surgeon` signs in as a demo surgeon and mixes what surgeons do all day:
the worklist, the patient list, a patient's timeline, entering a new patient (case entry,
step 1), asking for a statistics run (the Celery worker computes it) and the dashboards. A
`Feed` is a REST client (a hospital dashboard) reading aggregates with a real read-only API
token (LOAD_TOKENS, one per feed user; no session): a first read queues the computation on the
worker (202), later reads get the numbers (200). Every save the server confirms is counted in
LOAD_REPORT, which load.py compares with the rows the database gained.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import uuid
from html.parser import HTMLParser

from locust import HttpUser, between, events, task

SURGEONS = json.loads(os.environ.get("LOAD_SURGEONS", '["surgeon-north"]'))
PASSWORD = os.environ.get("LOAD_PASSWORD", "ovcf-surgeon")
COHORTS = json.loads(os.environ.get("LOAD_COHORTS", "{}"))  # username -> cohort id
TOKENS = json.loads(os.environ.get("LOAD_TOKENS", "[]"))
DASHBOARDS = ["/outcomes/dashboards/", "/outcomes/dashboards/outcomes/"]
AGGREGATES = [
    "/api/v1/aggregates/outcomes/?metric=vas",
    "/api/v1/aggregates/outcomes/?metric=odi",
    "/api/v1/aggregates/rates/?event=leakage",
]
SAVED: dict = {"patients": 0, "aggregates": {}}  # aggregates: status -> count
_LOCK = threading.Lock()
_NEXT_TOKEN = itertools.count()
_PATIENT_LINK = re.compile(r'href="(/patients/[A-Z0-9-]+/)"')


class _Form(HTMLParser):
    """The named inputs of the first POST form, with their current values."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.values[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif (
            tag == "option"
            and self._select
            and ("selected" in attrs or not self.values.get(self._select))
        ):
            self.values[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "form" and self._in_form:
            self._in_form = False


def form_values(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    return parser.values


class Surgeon(HttpUser):
    weight = 4
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.username = random.choice(SURGEONS)
        page = self.client.get("/accounts/login/", name="sign in (page)")
        values = form_values(page.text)
        values.update(username=self.username, password=PASSWORD)
        signed = self.client.post("/accounts/login/", data=values, name="sign in")
        if "/accounts/login/" in signed.url:
            raise RuntimeError(f"{self.username} could not sign in")
        self.patients: list[str] = []

    @task(4)
    def worklist(self) -> None:
        self.client.get("/worklist/", name="worklist")

    @task(3)
    def patient_list(self) -> None:
        page = self.client.get("/patients/", name="patient list")
        found = _PATIENT_LINK.findall(page.text)
        if found:
            self.patients = found

    @task(3)
    def timeline(self) -> None:
        if self.patients:
            self.client.get(random.choice(self.patients), name="patient timeline")

    @task(2)
    def case_entry(self) -> None:
        page = self.client.get("/patients/new/", name="case entry (form)")
        values = form_values(page.text)
        values.update(
            hospital_record_number=f"LOAD-{uuid.uuid4().hex[:12]}",
            family_name="Load",
            given_name="Test",
            date_of_birth="1951-04-03",
            sex="F",
            height_cm="160",
            weight_kg="62",
            consent_given="on",
            consent_date="2024-02-01",
        )
        with self.client.post(
            "/patients/new/", data=values, name="case entry (save patient)", catch_response=True
        ) as response:
            saved = response.history and response.history[0].status_code == 302
            if saved and "/fractures/new/" in response.url:
                with _LOCK:
                    SAVED["patients"] += 1
                response.success()
            else:
                response.failure(f"patient not saved: {response.status_code} {response.url}")

    @task(1)
    def statistics_run(self) -> None:
        cohort = COHORTS.get(self.username)
        if cohort is None:
            return
        page = self.client.get(f"/outcomes/cohorts/{cohort}/", name="cohort")
        values = {"csrfmiddlewaretoken": form_values(page.text).get("csrfmiddlewaretoken", "")}
        self.client.post(
            f"/outcomes/cohorts/{cohort}/run/rates/", data=values, name="statistics run (request)"
        )

    @task(2)
    def dashboards(self) -> None:
        self.client.get(random.choice(DASHBOARDS), name="dashboard")


class Feed(HttpUser):
    """A REST client with its own read-only, de-identified token: aggregates only."""

    weight = 1
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        if not TOKENS:
            raise RuntimeError("LOAD_TOKENS names no API token for the feeds")
        key = TOKENS[next(_NEXT_TOKEN) % len(TOKENS)]
        self.client.headers["Authorization"] = f"Token {key}"

    @task
    def aggregate(self) -> None:
        with self.client.get(
            random.choice(AGGREGATES), name="api aggregate (token)", catch_response=True
        ) as response:
            if response.status_code in (200, 202):
                response.success()
                with _LOCK:
                    counted = SAVED["aggregates"]
                    counted[str(response.status_code)] = (
                        counted.get(str(response.status_code), 0) + 1
                    )
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")


@events.test_stop.add_listener
def _report(environment, **kwargs) -> None:
    path = os.environ.get("LOAD_REPORT")
    if path:
        with open(path, "w") as handle:
            json.dump(SAVED, handle)
