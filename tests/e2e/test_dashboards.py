"""Every dashboard in Debian's Chromium: each plot draws (`.main-svg`), no console error and
no request leaves the server, under a strict Content-Security-Policy added to every
response; one chart downloads as PNG and the cohort report as DOCX. Screenshots are kept
in artifacts/e2e/."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from outcomes.dashboards.plotly_css import injected_style_hashes
from registry.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import SiteFactory, member
from tests.outcomes.conftest import Level, make_case

pytestmark = pytest.mark.e2e

# What django-csp will send (issue 13): nothing inline, nothing from elsewhere; the one
# allowance plotly.js needs is the hash of the maplibre-gl <style> it writes on load.
CSP = (
    "default-src 'self'; script-src 'self'; "
    f"style-src 'self' {' '.join(injected_style_hashes())}; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
PAGES = ["outcomes", "complications", "trends", "benchmarking"]


@pytest.fixture
def surgeon(techniques, eager):
    north = SiteFactory(code="north", name="Northgate University Hospital")
    river = SiteFactory(code="river", name="Riverside General")
    user = member(
        north, Role.SURGEON, username="surgeon-north", first_name="Ada", last_name="Okafor"
    )
    colleague = member(river, Role.SURGEON, username="surgeon-river")
    for index in range(12):
        for site, who in ((north, user), (river, colleague)):
            make_case(
                site=site,
                technique=("PKP", "PVP", "VBS")[index % 3],
                levels=[Level(leakage="B")] if index % 4 == 0 else None,
                vas={"baseline": "8.5", "2w": "4.0", "12w": f"{2 + index % 3}.0"},
                procedure_fields={"surgeon": who},
            )
    return user


def warm_up(user):
    """The runs the pages ask for, computed before the browser comes (eagerly, here)."""
    cache.clear()
    client = Client()
    client.force_login(user)
    for page in PAGES:
        client.get(f"/outcomes/dashboards/{page}/")
    client.get("/outcomes/dashboards/report/")
    cache.clear()


def strict_csp(context):
    def add_header(route):
        response = route.fetch(max_redirects=0)  # the browser follows redirects itself
        headers = {**response.headers, "content-security-policy": CSP}
        route.fulfill(response=response, headers=headers)

    context.route("**/*", add_header)


def test_every_dashboard_draws_without_errors_and_downloads(
    page, surgeon, live_server, screenshot, tmp_path
):
    warm_up(surgeon)
    strict_csp(page.context)
    errors, outside = [], []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} at {m.location} on {page.url}") if m.type == "error" else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith((live_server.url, "data:", "blob:")) else outside.append(r.url)
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation', e.violatedDirective, JSON.stringify(e.sample), e.columnNumber))"
    )
    page.set_default_timeout(30_000)
    sign_in(page, surgeon)
    page.wait_for_url(re.compile(r"/worklist/$"))
    page.get_by_role("link", name="Dashboards").click()
    page.wait_for_url(re.compile(r"/outcomes/dashboards/$"))

    for name in PAGES:
        page.goto(f"/outcomes/dashboards/{name}/")
        charts = page.locator(".dashboard-chart")
        count = charts.count()
        assert count > 0, name
        for index in range(count):
            charts.nth(index).locator(".main-svg").first.wait_for()
        page.wait_for_load_state("networkidle")
        screenshot(f"dashboard-{name}")

    page.goto("/outcomes/dashboards/complications/")
    chart = page.locator("#chart-leakage")
    chart.locator(".main-svg").first.wait_for()
    chart.hover()
    with page.expect_download() as png:
        chart.locator("[data-title='Download plot as a PNG']").click()
    assert png.value.suggested_filename == "leakage.png"
    saved = tmp_path / "leakage.png"
    png.value.save_as(saved)
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page.goto("/outcomes/dashboards/report/")
    page.locator(".publication-table").first.wait_for()
    screenshot("dashboard-report")
    with page.expect_download() as docx:
        page.click("#download-docx")
    saved = tmp_path / "report.docx"
    docx.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"

    assert errors == [], errors
    assert outside == [], outside
