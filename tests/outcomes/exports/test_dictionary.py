"""The data dictionary: generated from the models and the derived-value functions, shown as a
page and a CSV, and its column names kept stable by a snapshot."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from django.urls import reverse

from outcomes.dictionary import TABLES, Level, all_tables, columns, dictionary_rows
from registry.models import FollowUpVisit, Patient, Technique, TreatedLevel

SNAPSHOT = Path(__file__).with_name("column_names.json")


def test_column_names_match_the_snapshot():
    """A renamed or removed column breaks analysts' scripts: change the snapshot only with an
    announcement (README, release notes)."""
    current = {table: {str(level): columns(table, level) for level in Level} for table in TABLES}
    assert current == json.loads(SNAPSHOT.read_text())


def test_the_wide_layout_has_a_column_per_outcome_and_timepoint():
    wide = columns("wide")
    for name in ("vas_2w", "odi_12w", "rfvh_1y", "lka_baseline", "status_12w", "visit_day_1y"):
        assert name in wide
    assert "timepoint" in columns("long") and "vas" in columns("long")


def test_variables_come_from_the_model_fields():
    by_name = {v.name: v for v in all_tables()["wide"]}
    vas = by_name["vas_2w"]
    field = FollowUpVisit._meta.get_field("vas")
    assert vas.label == "VAS back pain at 2 weeks" and vas.unit == "0-10"
    assert vas.precision == field.decimal_places == 1
    leakage = by_name["leakage"]
    assert leakage.codes == tuple(
        (c, str(label)) for c, label in TreatedLevel._meta.get_field("leakage").flatchoices
    )
    patients = {v.name: v for v in all_tables()["patients"]}
    assert patients["height_cm"].unit == "cm" and patients["height_cm"].label == "Height"
    assert patients["sex"].codes == tuple(Patient._meta.get_field("sex").flatchoices)
    assert "registry.derived.bmi" in patients["bmi"].derivation
    assert "registry.derived.rfvh" in by_name["rfvh_1y"].derivation


def test_no_name_is_too_long_for_stata_and_names_are_unique():
    for name in TABLES:
        names = [v.name for v in all_tables()[name]]
        assert len(names) == len(set(names))
        assert all(len(n) <= 32 and n.isidentifier() for n in names)


def test_technique_codes_come_from_the_reference_table(db):
    Technique.objects.create(code="NEWTECH", name="A technique an administrator added")
    rows = [r for r in dictionary_rows() if r["variable"] == "technique" and r["table"] == "wide"]
    assert "NEWTECH=A technique an administrator added" in rows[0]["codes"]


def test_dictionary_page_and_csv(client, coordinator):
    client.force_login(coordinator)
    page = client.get(reverse("outcomes:dictionary"))
    assert page.status_code == 200
    assert b"rfvh_1y" in page.content and b"Download CSV" in page.content
    response = client.get(reverse("outcomes:dictionary_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == sum(len(v) for v in all_tables().values())
    odi = next(r for r in rows if r["variable"] == "odi_12w")
    assert odi["unit"] == "%" and odi["precision"] == "1" and "odi_percent" in odi["derivation"]
    sex = next(r for r in rows if r["variable"] == "sex")
    assert sex["codes"] == "F=Female; M=Male" and sex["spss_stata_codes"] == "1=Female; 2=Male"


def test_the_api_docs_read_labels_and_units_from_the_dictionary(client, coordinator):
    """The OpenAPI schema's field descriptions of the record serializers and the exports API
    come from the dictionary's reading of the models and derived values."""
    from registry.dictionary import derived_docs, field_doc

    client.force_login(coordinator)
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schemas = json.loads(response.content)["components"]["schemas"]

    def described(component: str, name: str) -> str:
        return schemas[component]["properties"][name].get("description", "")

    vas = described("Visit", "vas")
    assert vas == field_doc(FollowUpVisit, "vas").description()
    assert vas.startswith("VAS back pain (0-10)")
    height = described("Patient", "height_cm")
    assert height.startswith("Height (cm)")
    assert described("Patient", "bmi") == derived_docs()["bmi"].description()
    assert "registry.derived.bmi" in described("Patient", "bmi")
    leakage = described("TreatedLevel", "leakage")
    for code, label in TreatedLevel._meta.get_field("leakage").flatchoices:
        assert f"{code} = {label}" in leakage
    export = [s for n, s in schemas.items() if n.startswith("Export") and "row_counts" in str(s)]
    assert any(
        all(t in s["properties"]["row_counts"]["description"] for t in TABLES) for s in export
    )


def test_the_dictionary_lists_the_missing_codes_of_visit_values(db):
    from outcomes.dictionary.missing import MISSING_REASONS
    from registry.followup import STATUS_LABELS

    rows = {(r["table"], r["variable"]): r for r in dictionary_rows()}
    codes = rows[("wide", "vas_12w")]["spss_stata_codes"]
    for reason in MISSING_REASONS:
        assert f"{reason.spss} or .{reason.stata}={reason.label}" in codes
    assert {r.label for r in MISSING_REASONS} >= {
        STATUS_LABELS[k] for k in ("not_due", "missing", "withdrawn")
    }
    assert rows[("wide", "sex")]["spss_stata_codes"] == "1=Female; 2=Male"
    assert "-999" not in rows[("wide", "status_12w")]["spss_stata_codes"]
    # Visit dates (shifted and identified exports) say why they are empty too; the
    # procedure's date is never empty for a reason.
    dates = {(r["table"], r["variable"]): r for r in dictionary_rows(Level.SHIFTED)}
    assert "-9992 or .b=" in dates[("wide", "visit_date_12w")]["spss_stata_codes"]
    assert dates[("wide", "procedure_date")]["spss_stata_codes"] == ""


def test_labels_name_timepoints_in_words_not_codes():
    """SPSS, Stata and Excel show the labels to a person: `vas_2w` is labelled "... at 2 weeks"."""
    labels = [v.label for table in all_tables().values() for v in table]
    assert "Follow-up status at 1 year" in labels and "VAS back pain at baseline" in labels
    codes = [label for label in labels if re.search(r"\bat (baseline_|2w|12w|1y)\b", label)]
    assert codes == []
