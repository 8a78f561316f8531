"""Headers on every response Django renders, and templates free of inline code."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.registry.web_cases import full_case

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.fixture
def pages(site_a, surgeon_a):
    patient, _, _ = full_case(site_a, surgeon_a)
    client = Client()
    client.force_login(surgeon_a)
    return client, [
        reverse("worklist"),
        reverse("patient_list"),
        reverse("patient_detail", args=[patient.registry_id]),
        reverse("patient_edit", args=[patient.registry_id]),
        reverse("outcomes:cohort_list"),
    ]


def test_every_page_has_a_strict_policy_no_store_and_a_permissions_policy(pages):
    client, urls = pages
    anonymous = Client()
    for response in [client.get(url) for url in urls] + [
        anonymous.get(reverse("login")),
        anonymous.get("/healthz"),
        anonymous.get(reverse("worklist")),
    ]:
        policy = _policy(response)
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert "unsafe" not in response["Content-Security-Policy"]
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert "no-store" in response["Cache-Control"]
        assert "camera=()" in response["Permissions-Policy"]
        assert "geolocation=()" in response["Permissions-Policy"]


def test_the_admin_has_the_same_policy(admin_client):
    response = admin_client.get("/admin/registry/patient/")
    assert response.status_code == 200
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_static_files_stay_cacheable(client):
    response = client.get(settings.STATIC_URL + "registry/js/registry.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


SCRIPT_WITH_CODE = r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>"
INLINE = [
    (re.compile(SCRIPT_WITH_CODE), "inline <script>"),
    (re.compile(r"\sstyle=\""), "style attribute"),
    (re.compile(r"<style[\s>]"), "<style> element"),
    (re.compile(r"\son[a-z]+=\"", re.IGNORECASE), "on* handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
]  # fmt: skip


COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def test_no_template_holds_inline_script_style_or_handlers():
    """Every template of the project, present and future: the CSP would refuse them."""
    offenders = []
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    for folder in folders:
        for path in folder.rglob("*.html"):
            text = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), path.read_text())
            for pattern, what in INLINE:
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not offenders, "\n".join(offenders)
