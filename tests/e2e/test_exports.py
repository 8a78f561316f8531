"""Exports in a real browser: a research coordinator asks for an SPSS and an Excel export of
their site, watches the progress bar finish, downloads the zip and opens the files (every
label, value label and missing reason there); a surgeon is offered no export."""

import re
import zipfile

import openpyxl
import pyreadstat
import pytest

from registry.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import member

pytestmark = pytest.mark.e2e


def _export(page, label: str, tmp_path, screenshot, name: str) -> zipfile.ZipFile:
    page.goto("/outcomes/exports/")
    page.select_option("select[name=format]", label=label)
    assert page.is_checked("input[name=level][value=deidentified]")  # the default
    page.click("button[type=submit]:has-text('Export')")
    page.wait_for_url(re.compile(r"/outcomes/exports/\d+/$"))
    # The status poll shows the download once the job is done.
    page.wait_for_selector("[data-export-download]:not(.d-none)")
    assert page.text_content("[data-export-badge]").strip() == "Ready"
    screenshot(f"exports-{name}")
    with page.expect_download() as download:
        page.click("text=Download the zip")
    path = tmp_path / f"{name}.zip"
    download.value.save_as(path)
    return zipfile.ZipFile(path)


def test_a_coordinator_exports_spss_and_excel_and_opens_them(
    page, north, eager, screenshot, tmp_path
):
    coordinator = member(north, Role.COORDINATOR, username="coordinator-north")
    sign_in(page, coordinator)
    page.click("nav >> text=Exports")
    page.wait_for_url(re.compile(r"/outcomes/exports/$"))

    archive = _export(page, "SPSS (.sav)", tmp_path, screenshot, "spss")
    assert {"wide.sav", "long.sav", "dictionary.csv", "README.txt"} <= set(archive.namelist())
    (tmp_path / "wide.sav").write_bytes(archive.read("wide.sav"))
    wide, meta = pyreadstat.read_sav(str(tmp_path / "wide.sav"), user_missing=True)
    assert len(wide) == 3
    assert sorted(wide["cement_volume_ml"]) == [4.0, 5.5, 6.5]
    assert meta.column_names_to_labels["vas_2w"] == "VAS back pain at 2 weeks (0-10)"
    techniques = meta.variable_value_labels["technique"]
    assert "Percutaneous vertebroplasty" in techniques.values()
    assert "not yet due" in meta.variable_value_labels["vas_1y"].values()
    assert b"Zebedee-Quist" not in archive.read("wide.sav")  # de-identified

    archive = _export(page, "Excel (XLSX)", tmp_path, screenshot, "xlsx")
    (tmp_path / "wide.xlsx").write_bytes(archive.read("wide.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "wide.xlsx", read_only=True)["wide"]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    volumes = sorted(row[header.index("cement_volume_ml")] for row in body)
    assert volumes == [4.0, 5.5, 6.5]

    # Both are listed on the exports page, newest first.
    page.goto("/outcomes/exports/")
    listed = page.locator("tbody tr")
    assert listed.count() == 2
    assert "Excel (XLSX)" in listed.nth(0).text_content()
    assert "SPSS (.sav)" in listed.nth(1).text_content()
    assert "De-identified (days relative to the procedure)" in listed.nth(0).text_content()
    screenshot("exports-list")


def test_a_surgeon_is_offered_no_export(page, north):
    surgeon = member(north, Role.SURGEON, username="surgeon-north")
    sign_in(page, surgeon)
    assert page.locator("nav >> text=Exports").count() == 0
    response = page.goto("/outcomes/exports/")
    assert response.status == 403
