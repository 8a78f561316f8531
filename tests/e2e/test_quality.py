"""A pass over the data-quality page in a real browser, as a site's surgeon: check now, the
tables and charts, the work list, a review kept in history, and the link to the form."""

import re
from decimal import Decimal

import pytest

from registry.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import (
    ProcedureFactory,
    SiteFactory,
    TreatedLevelFactory,
    VisitFactory,
    member,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def surgeon(techniques):
    site = SiteFactory(code="north", name="Northgate University Hospital")
    for ml in ("4.0", "5.0", "14.5"):
        procedure = ProcedureFactory(patient__site=site)
        VisitFactory(procedure=procedure)
        TreatedLevelFactory(procedure=procedure, cement_volume_ml=Decimal(ml))
    return member(site, Role.SURGEON, username="surgeon-north")


def test_a_surgeon_works_through_the_quality_page(page, surgeon, eager, screenshot):
    sign_in(page, surgeon)
    page.wait_for_url(re.compile(r"/worklist/$"))
    page.wait_for_load_state("networkidle")

    page.click("nav >> text=Data quality")
    page.wait_for_url(re.compile(r"/quality/$"))
    assert "No check has run" in page.text_content("[data-quality-run-info]")
    page.click("[data-quality-run]")
    page.wait_for_selector("[data-quality-completeness]")
    page.wait_for_selector("[data-figure='quality-completion'][data-drawn='1']")
    page.wait_for_selector("[data-figure='quality-missing'][data-drawn='1']")
    assert page.locator("[data-figure='quality-completion'] .main-svg").count() > 0
    screenshot("quality-01-overview")

    baseline = page.locator("[data-quality-completeness] tr[data-timepoint='baseline']")
    assert baseline.locator("td").nth(2).text_content().strip() == "3"  # due

    page.click("[data-quality-rules] >> text=IMP-CEMENT")
    page.wait_for_url(re.compile(r"/quality/findings/\?rule=IMP-CEMENT"))
    rows = page.locator("[data-quality-findings] tbody tr[data-finding]")
    assert rows.count() == 1
    assert "14.5 ml" in rows.first.text_content()
    rows.first.locator("text=Review").click()

    page.click("button[type=submit]:has-text('Save review')")  # nothing chosen: refused
    page.check("input[name=decision][value=verified]")
    page.fill("textarea[name=comment]", "Checked on the operative note.")
    page.click("button[type=submit]:has-text('Save review')")
    page.wait_for_selector("text=Review saved.")
    assert page.text_content("[data-finding-status]").strip() == "Verified as correct"
    assert "Checked on the operative note." in page.text_content("[data-review-history]")
    screenshot("quality-02-reviewed")

    page.click("[data-edit-link]")
    page.wait_for_url(re.compile(r"/procedures/\d+/edit/$"))
    assert page.locator("input[name$='cement_volume_ml']").count() >= 1
