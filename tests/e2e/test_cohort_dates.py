"""A coordinator sets a cohort's procedure date range in the browser: it saves (it used to be
refused with "Value must be valid JSON") and selects the procedures of that range."""

import re
from datetime import date

import pytest

from outcomes.models import Cohort
from outcomes.selectors import Scope, cohort_cases
from registry.models import Role
from tests.e2e.test_case_entry import sign_in
from tests.factories import SiteFactory, member
from tests.outcomes.conftest import make_case

pytestmark = pytest.mark.e2e


def test_a_cohort_with_a_procedure_date_range_is_saved_from_the_browser(page, techniques):
    site = SiteFactory(code="east", name="Eastbridge Hospital")
    coordinator = member(site, Role.COORDINATOR, username="coordinator-east")
    before = make_case(site=site, operated=date(2022, 6, 1))
    inside = make_case(site=site, operated=date(2024, 2, 10))
    sign_in(page, coordinator)

    page.goto("/outcomes/cohorts/new/")
    page.fill("#id_name", "Operated in 2024")
    page.fill("#id_date_from", "2024-01-01")
    page.fill("#id_date_to", "2024-12-31")
    page.click("text=Save cohort")
    page.wait_for_url(re.compile(r"/outcomes/cohorts/\d+/$"))
    assert "Value must be valid JSON" not in page.content()

    cohort = Cohort.objects.get(name="Operated in 2024")
    assert (cohort.filters["date_from"], cohort.filters["date_to"]) == ("2024-01-01", "2024-12-31")
    chosen = {
        c.patient_id
        for c in cohort_cases(filters=cohort.filters, rules={}, scope=Scope.of([site.pk]))
    }
    assert chosen == {inside.patient_id} and before.patient_id not in chosen

    page.goto(f"/outcomes/cohorts/{cohort.pk}/edit/")
    assert page.input_value("#id_date_from") == "2024-01-01"
