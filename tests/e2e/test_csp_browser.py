"""The Content-Security-Policy in a real browser: our pages and Django's admin run without a
single violation, and plotly.js draws under it with the styles of static/registry/vendor."""

import re
from pathlib import Path

import plotly
import pytest

from registry.models import Role
from tests.factories import PASSWORD, SiteFactory, UserFactory, member
from tests.registry.web_cases import full_case

pytestmark = pytest.mark.e2e
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_CSS = Path(__file__).resolve().parents[2] / "static/registry/vendor/plotly-csp.css"
EMPTY_STYLE_HASH = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="  # of ""
# Like <script src> tags of a page, one after the other (Playwright's add_script_tag would
# report the refused style of plotly's bundled map library as its own failure).
LOAD_SCRIPTS = """urls => urls.reduce((previous, url) => previous.then(() => new Promise(
  (resolve, reject) => { const s = document.createElement("script"); s.src = url;
    s.onload = resolve; s.onerror = reject; document.body.appendChild(s); })), Promise.resolve())"""
PLOT = """Plotly.newPlot(document.querySelector("main"), [
  {x: [1, 2, 3], y: [2, 1, 3], type: "scatter", mode: "lines+markers"},
  {x: [1, 2, 3], y: [1, 2, 2], type: "bar"}], {title: {text: "csp"}}
).then(function () { document.body.dataset.plotted = "1"; });"""


def violations(page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_pages_and_the_admin_run_without_a_policy_violation(page, techniques):
    site = SiteFactory(code="north", name="Northgate")
    surgeon = member(site, Role.SURGEON, username="surgeon-north")
    patient = full_case(site, surgeon)[0]
    UserFactory(username="root", is_staff=True, is_superuser=True)
    seen = violations(page)
    sign_in(page, "root")
    for path in [
        "/worklist/",
        "/patients/",
        f"/patients/{patient.registry_id}/",
        f"/patients/{patient.registry_id}/edit/",
        "/access-log/",
        "/accounts/two-factor/setup/",
        "/admin/",
        "/admin/registry/patient/",
        f"/admin/registry/patient/{patient.pk}/change/",
        f"/admin/registry/patient/{patient.pk}/history/",
        "/admin/auth/user/add/",
    ]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.locator("body").count() == 1
    assert seen == []


def test_plotly_draws_under_the_policy_with_its_styles_from_a_file(page, techniques):
    site = SiteFactory(code="north", name="Northgate")
    member(site, Role.SURGEON, username="surgeon-north")
    # Same-origin scripts, as a dashboard page serves them from static files.
    page.route("**/test-only/plotly.min.js", lambda r: r.fulfill(path=str(PLOTLY_JS)))
    page.route(
        "**/test-only/plot.js",
        lambda r: r.fulfill(body=PLOT, content_type="text/javascript"),
    )
    seen = violations(page)
    sign_in(page, "surgeon-north")
    page.evaluate(LOAD_SCRIPTS, ["/test-only/plotly.min.js", "/test-only/plot.js"])
    page.wait_for_function("document.body.dataset.plotted === '1'")
    assert page.locator("main svg.main-svg").count() >= 1
    # The modebar is placed by plotly's own rules: they came from the file...
    position = page.evaluate("getComputedStyle(document.querySelector('.modebar')).position")
    assert position == "absolute"
    # ...and plotly.js did not try to inject its (empty, then filled) global style element.
    # (Its bundled map library's CSS is refused: map traces are not used.)
    assert not [v for v in seen if EMPTY_STYLE_HASH in v], seen


def test_the_plotly_style_file_matches_the_installed_plotly(page):
    """plotly.js's rules, read from a page without a policy, equal the shipped file. After a
    plotly upgrade, regenerate it: the rules printed below, one per line, after the header."""
    page.set_content("<html><head></head><body><div id='c'></div></body></html>")
    page.add_script_tag(path=str(PLOTLY_JS))
    page.evaluate("Plotly.newPlot('c', [{y: [1, 2]}])")
    rules = page.evaluate(
        "Array.from(document.getElementById('plotly.js-style-global').sheet.cssRules)"
        ".map(r => r.cssText).reverse()"
    )
    shipped = [
        line
        for line in PLOTLY_CSS.read_text().splitlines()
        if line and not re.match(r"^( \*|/\*)", line)
    ]
    assert shipped == rules, "\n".join(rules)
