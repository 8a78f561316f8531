"""A surgeon's day in a real browser: a whole case in four pages, the 12-week visit from the
worklist, the timeline, and a VAS of 11 refused by the browser and by the server."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import FollowUpVisit, Patient, Role
from tests.factories import PASSWORD, SiteFactory, member

pytestmark = pytest.mark.e2e


@pytest.fixture
def surgeon(techniques):
    site = SiteFactory(code="north", name="Northgate University Hospital")
    return member(
        site, Role.SURGEON, username="surgeon-north", first_name="Ada", last_name="Okafor"
    )


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/worklist/$"))
    settle(page)


def settle(page):
    """Let the worklist fetch its tab counts before the next click (the SQLite live server
    shares one connection between its threads)."""
    page.wait_for_load_state("networkidle")


def answer_odi(page, scores):
    for section, score in enumerate(scores, start=1):
        radio_id = page.locator(f"input[name=odi_{section}][value='{score}']").get_attribute("id")
        page.click(f"label[for='{radio_id}']")


def fill_films(page, level, anterior, above, below, lka):
    card = page.locator("[data-radiograph]", has_text=f"{level} recorded")
    card.locator("[name$='-anterior_height_mm']").fill(anterior)
    card.locator("[name$='-above_anterior_height_mm']").fill(above)
    card.locator("[name$='-below_anterior_height_mm']").fill(below)
    card.locator("[name$='-lka_degrees']").fill(lka)
    return card


def test_a_surgeon_enters_a_full_case_and_follows_it_up(page, surgeon, screenshot):
    today = timezone.localdate()
    operated = today - timedelta(days=90)

    sign_in(page, surgeon)
    screenshot("01-worklist-after-sign-in")

    # Step 1: the patient.
    page.get_by_role("link", name="New patient").first.click()
    page.fill("#id_hospital_record_number", "H-2024-0042")
    page.fill("#id_family_name", "Lindqvist")
    page.fill("#id_given_name", "Anna")
    page.fill("#id_date_of_birth", "1951-04-03")
    page.select_option("#id_sex", "F")
    page.fill("#id_height_cm", "162")
    page.fill("#id_weight_kg", "58")
    assert page.locator("#bmi-output").inner_text() == "22.1 kg/m²"
    page.check("#id_consent_given")
    page.fill("#id_consent_date", (operated - timedelta(days=2)).isoformat())
    screenshot("02-new-patient")
    page.get_by_role("button", name="Save and continue to fractures").click()

    # Step 2: two fractured vertebrae on one page, the grade suggested from the heights.
    page.wait_for_url(re.compile(r"/fractures/new/$"))
    page.click("label[for=level-T12]")
    page.click("label[for=level-L1]")
    page.select_option("#id_T12-genant_grade", "2")
    page.select_option("#id_T12-imaging", "mri")
    page.fill("#id_L1-anterior_height_mm", "14")
    page.fill("#id_L1-above_anterior_height_mm", "26")
    page.fill("#id_L1-below_anterior_height_mm", "28")
    assert "suggests Genant grade 3" in page.locator("#suggest-L1").inner_text()
    assert page.locator("#id_L1-genant_grade").input_value() == "3"
    screenshot("03-fractures")
    page.get_by_role("button", name="Save fractures and continue").click()

    # Step 3: PKP on both levels.
    # The heights typed here travel in the address (not the session) to the baseline films.
    page.wait_for_url(re.compile(r"/procedures/new/\?heights=L1%3A14%2F26%2F28$"))
    page.fill("#id_date", operated.isoformat())
    page.select_option("#id_technique", label="PKP: Percutaneous (balloon) kyphoplasty")
    page.select_option("#id_approach", "bipedicular")
    page.select_option("#id_anaesthesia", "general")
    page.fill("#id_operation_time_min", "48")
    for level, cement in (("T12", "4.5"), ("L1", "5.0")):
        card = page.locator("[data-level-card]", has_text=f"{level} Genant")
        assert card.locator("[name$='-treated']").is_checked()
        card.locator("[name$='-cement_volume_ml']").fill(cement)
        card.locator("[name$='-devices_used']").fill("2")
    l1 = page.locator("[data-level-card]", has_text="L1 Genant")
    l1.locator("[name$='-leakage']").select_option("B")
    l1.locator("[name$='-leakage_seen_on']").select_option("xray")
    screenshot("04-procedure")
    page.get_by_role("button", name=re.compile("Save procedure")).click()

    # Step 4: the baseline visit, ODI scored as answered, films per treated vertebra.
    page.wait_for_url(re.compile(r"/visits/new/\?timepoint=baseline&heights=L1%3A14%2F26%2F28$"))
    page.fill("#id_visit_date", (operated - timedelta(days=1)).isoformat())
    page.fill("#id_vas", "8.5")
    answer_odi(page, [4, 3, 4, 3, 3, 4, 3, 2, 3, 3])
    assert page.locator("#odi-score").inner_text().startswith("ODI 64.0 %")
    l1_film = page.locator("[data-radiograph]", has_text="L1 recorded")
    assert l1_film.locator("[name$='-anterior_height_mm']").input_value() == "14"
    fill_films(page, "T12", "18", "26", "27", "19")
    fill_films(page, "L1", "14", "26", "28", "21")
    assert "RFVH 51.9 %" in l1_film.locator(".rfvh-output").inner_text()
    screenshot("05-baseline-visit")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/patients/OV-[0-9A-Z]+/#visit-\d+$"))
    assert "ODI 64.0 %" in page.locator(".alert-success").inner_text()

    patient = Patient.objects.get()
    assert patient.procedures.get().treated_levels.count() == 2

    # The 12-week visit, one click from the worklist.
    page.goto("/worklist/?tab=overdue")
    settle(page)
    row = page.locator("tr", has_text=patient.registry_id).filter(has_text="12 weeks")
    screenshot("06-worklist-overdue")
    row.get_by_role("link", name=re.compile("Record visit")).click()
    page.wait_for_url(re.compile(r"timepoint=12w"))
    assert page.locator("#id_timepoint").input_value() == "12w"
    page.fill("#id_visit_date", (operated + timedelta(days=84)).isoformat())
    page.fill("#id_vas", "2")
    answer_odi(page, [1, 1, 1, 1, 0, 1, 0, 1, 1, 1])
    fill_films(page, "T12", "23", "26", "27", "12")
    fill_films(page, "L1", "22", "26", "28", "13")
    page.select_option("#id_weight_bearing_resumed", "true")
    page.select_option("#id_analgesics", "non_opioid")
    screenshot("07-twelve-week-visit")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/worklist/\?tab=overdue$"))
    settle(page)

    # The timeline: ODI and RFVH per visit, height restoration and LKA correction.
    page.goto(f"/patients/{patient.registry_id}/")
    twelve = page.locator(".visit-card", has_text="12 weeks")
    assert "16.0 %" in twelve.locator("[data-value=odi]").inner_text()
    assert "(minimal)" in twelve.inner_text()
    rfvh = twelve.locator("[data-value=rfvh]").all_inner_texts()
    assert rfvh == ["86.8 %", "81.5 %"]  # T12 23/26.5, L1 22/27
    assert "+29.6 pp" in twelve.inner_text()  # L1: 81.5 - 51.9
    assert "+8.0°" in twelve.inner_text()  # L1: 21 -> 13
    baseline = page.locator(".visit-card", has_text="Baseline")
    assert "64.0 %" in baseline.locator("[data-value=odi]").inner_text()
    assert "Ada Okafor" in page.locator(".history-table").inner_text()
    screenshot("08-timeline")


def test_a_vas_of_11_is_stopped_by_the_browser_and_by_the_server(page, surgeon, screenshot):
    from tests.registry.web_cases import full_case

    patient, procedure, _ = full_case(
        surgeon.memberships.get().site,
        surgeon,
        procedure_date=timezone.localdate() - timedelta(days=20),
    )
    sign_in(page, surgeon)
    page.goto(f"/patients/{patient.registry_id}/procedures/{procedure.pk}/visits/new/?timepoint=2w")
    page.fill("#id_vas", "11")
    page.get_by_role("button", name="Save visit").click()
    # The browser refuses to submit: the field's own constraint (max=10) is broken.
    vas = page.locator("#id_vas")
    assert vas.evaluate("el => el.validity.rangeOverflow") is True
    message = vas.evaluate("el => el.validationMessage")
    assert message
    assert page.locator("#id_vas_client_error").inner_text() == message  # shown by the field
    assert page.url.endswith("?timepoint=2w")
    screenshot("09-vas-11-browser")
    assert not FollowUpVisit.objects.filter(timepoint="2w").exists()

    # Bypass the browser check: the server refuses too and says so next to the field.
    page.evaluate("document.getElementById('visit-form').noValidate = true")
    page.get_by_role("button", name="Save visit").click()
    error = page.locator("#id_vas_error")
    error.wait_for()
    assert "less than or equal to 10" in error.inner_text()
    assert page.locator("#id_vas").input_value() == "11"
    assert "Nothing was saved" in page.locator("#error-summary").inner_text()
    screenshot("10-vas-11-server")
    assert not FollowUpVisit.objects.filter(timepoint="2w").exists()
