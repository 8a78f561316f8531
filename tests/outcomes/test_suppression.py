"""Small-cell suppression (DOMAIN.md): counts 1..k-1 withheld with what derives from them,
complementary suppression where a total is shown, nothing withheld recoverable."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from django.test import override_settings

from outcomes.statistics import (
    Variable,
    baseline_table,
    compare_samples,
    describe_continuous,
    rates_from_counts,
)
from outcomes.statistics.paired import paired_arrays
from outcomes.suppression import suppress


def table1_result(frame: pd.DataFrame, variables) -> dict:
    table = baseline_table(frame, variables, groups=["PKP", "PVP", "VBS"])
    return {
        "analysis": "table1",
        "cohort": {"n_patients": len(frame), "techniques": [["PKP", 20], ["PVP", 23], ["VBS", 30]]},
        "body": {"table": table.to_dict(), "text": table.to_text()},
    }


@pytest.fixture
def smoking():
    """Smoking by technique: PVP has 3 current smokers (the row total, Overall, is shown)."""
    rows = (
        [("PKP", "never")] * 12
        + [("PKP", "former")] * 8
        + [("PVP", "never")] * 10
        + [("PVP", "former")] * 10
        + [("PVP", "current")] * 3
        + [("VBS", "never")] * 14
        + [("VBS", "former")] * 9
        + [("VBS", "current")] * 7
    )
    return pd.DataFrame(rows, columns=["group", "smoking"])


LEVELS = {"never": "Never", "former": "Former", "current": "Current"}


def cell(result, category, column):
    rows = result["body"]["table"]["rows"]
    return next(r for r in rows if r["category"] == category and r["level"] != "missing"), column


def test_a_cell_of_3_with_its_row_total_shown_withholds_a_second_cell(smoking):
    result = suppress(
        table1_result(smoking, [Variable("smoking", "Smoking", "categorical", levels=LEVELS)]),
        analysis="table1",
    )
    rows = {r["category"]: r for r in result["body"]["table"]["rows"] if r["level"] != "missing"}
    current = rows["Current"]
    assert current["cells"]["PVP"] == "<5"
    assert current["values"]["PVP"] == {
        "count": None,
        "n": 23,
        "percent": None,
        "ci_low": None,
        "ci_high": None,
    }
    # The Overall (10) is shown: PVP's 3 = 10 - 7 unless VBS's 7 is withheld too.
    assert current["cells"]["Overall"].startswith("10 (")
    assert current["cells"]["VBS"] == "<5"
    # PVP's column total (23) is shown: a second cell of the column is withheld as well.
    assert sum(rows[c]["cells"]["PVP"] == "<5" for c in rows) >= 2
    # PKP has no current smoker: zero is shown.
    assert current["cells"]["PKP"].startswith("0 (")
    assert result["suppression"]["k"] == 5


def test_no_withheld_count_appears_anywhere_in_the_output(smoking):
    original = table1_result(
        smoking, [Variable("smoking", "Smoking", "categorical", levels=LEVELS)]
    )
    result = suppress(original, analysis="table1")
    text = json.dumps(result)
    assert not re.search(r'"3 \(', text) and "13.0%" not in text  # 3/23 = 13.0 %
    assert result["body"]["text"] is None  # the text copy would carry the cells
    assert current_p_withheld(result)
    assert json.dumps(original).count('"3 (') == 1  # the input is left unchanged


def current_p_withheld(result) -> bool:
    first = next(r for r in result["body"]["table"]["rows"] if r["variable_code"] == "smoking")
    return first["p"] is None and first["cells"]["P-value"] == ""


def test_rates_withhold_small_counts_their_percentages_cis_and_test():
    rates = rates_from_counts({"PKP": (3, 60), "VBS": (12, 64)}, unit="device")
    result = {
        "analysis": "rates",
        "cohort": {"techniques": [["PKP", 30], ["VBS", 32]]},
        "body": {
            "techniques": ["PKP", "VBS"],
            "leakage": [],
            "leakage_types": None,
            "device_rupture": [{"code": "device_rupture", "label": "Rupture", **rates.to_dict()}],
            "adverse_events": [],
            "perioperative": [],
        },
    }
    shown = suppress(result)
    pkp, vbs = shown["body"]["device_rupture"][0]["rates"]
    assert (pkp["events"], pkp["text"], pkp["proportion"]["ci_low"]) == (None, "<5", None)
    assert set(pkp["withheld"]) >= {"events", "text"}
    assert vbs["events"] == 12 and vbs["text"].startswith("12/64")
    comparison = shown["body"]["device_rupture"][0]["comparison"]
    assert comparison["p"] is None and comparison["observed"][0][0] is None
    assert "3/60" not in json.dumps(shown)


def test_k_comes_from_the_setting_and_can_be_given(smoking):
    result = table1_result(smoking, [Variable("smoking", "Smoking", "categorical", levels=LEVELS)])
    with override_settings(MIN_CELL_COUNT=11):
        assert suppress(result, analysis="table1")["suppression"]["k"] == 11
    loose = suppress(result, analysis="table1", k=3)
    rows = {r["category"]: r for r in loose["body"]["table"]["rows"] if r["level"] != "missing"}
    assert rows["Current"]["cells"]["PVP"].startswith("3 (")  # 3 is not below k = 3
    with pytest.raises(ValueError):
        suppress(result, analysis="no_such_analysis")


def test_small_technique_counts_in_the_cohort_are_withheld_with_a_partner():
    result = {
        "analysis": "logistic",
        "cohort": {"techniques": [["PKP", 40], ["PVP", 2], ["VBS", 30]]},
        "body": {"events": 20, "non_events": 52},
    }
    shown = suppress(result)
    counts = dict(shown["cohort"]["techniques"])
    assert counts["PVP"] is None and counts["VBS"] is None and counts["PKP"] == 40


def test_small_group_sizes_in_table_headers_are_withheld_with_a_partner():
    frame = pd.DataFrame(
        {"group": ["PKP"] * 9 + ["PVP"] * 3 + ["VBS"] * 20, "age": [70.0 + i for i in range(32)]}
    )
    table = baseline_table(
        frame, [Variable("age", "Age", "continuous")], groups=["PKP", "PVP", "VBS"]
    )
    result = {"analysis": "table1", "cohort": {}, "body": {"table": table.to_dict(), "text": ""}}
    shown = suppress(result, analysis="table1")["body"]["table"]
    assert shown["headers"]["PVP"] == "PVP (n <5)"
    # Overall (n = 32) is shown: PKP's 9 would give PVP's 3 back, so it goes too
    assert shown["headers"]["PKP"] == "PKP (n <5)" and shown["headers"]["VBS"] == "VBS (n = 20)"
    rows = [r for r in shown["rows"] if r["variable_code"] == "age" and r["level"] != "missing"]
    assert rows and all(r["cells"]["PVP"] == "<5" for r in rows)  # the range row too
    assert all(v is None for r in rows for v in r["values"]["PVP"].values())
    text = json.dumps(shown)
    assert "(n = 3)" not in text and "(n = 9)" not in text


def unit(level, site, events, n, surgeon=None):
    return {
        "level": level,
        "site_id": site,
        "surgeon_id": surgeon,
        "events": events,
        "n": n,
        "rate": events / n,
        "outside95": False,
        "outside998": False,
    }


def test_benchmarking_units_add_up_to_the_registry_and_a_second_is_withheld():
    units = [unit("site", 1, 3, 611), unit("site", 2, 379, 1999), unit("site", 3, 618, 2390)]
    units += [unit("surgeon", 3, 300, 1000, 31), unit("surgeon", 3, 318, 1390, 32)]
    result = {
        "analysis": "benchmarking",
        "cohort": {},
        "body": {
            "measures": [{"registry": {"events": 1000, "n": 5000, "rate": 0.2}, "units": units}]
        },
    }
    shown = suppress(result)["body"]["measures"][0]
    by_site = {(u["level"], u["site_id"], u["surgeon_id"]): u for u in shown["units"]}
    site1, site2, site3 = (by_site[("site", s, None)] for s in (1, 2, 3))
    assert site1["events"] is None and site1["rate"] is None and site1["n"] == 611
    # the smallest other site's events go with it: 1000 - 618 would give 3 + 379 only
    assert site2["events"] is None and site2["rate"] is None and site2["n"] == 1999
    assert site3["events"] == 618
    assert by_site[("surgeon", 3, 31)]["events"] == 300  # no small cell among them
    assert shown["registry"] == {"events": 1000, "n": 5000, "rate": 0.2}


def test_a_between_technique_comparison_with_its_total_shown_withholds_a_second_group():
    """Trajectories: PKP has 3 values at 12 weeks. The comparison's n (the total of its
    groups) is shown, so PKP's 3 = n - PVP - VBS unless a second group's n is withheld,
    here and wherever the same summary is shown (the summaries, the change)."""
    samples = {
        "PKP": np.array([2.0, 3.5, 4.0]),
        "PVP": np.linspace(1.0, 6.0, 20),
        "VBS": np.linspace(0.5, 7.0, 30),
    }
    comparison = compare_samples(samples).to_dict()
    summaries = [
        {"group": g, "timepoint": "12w", "summary": describe_continuous(v).to_dict()}
        for g, v in samples.items()
    ]
    changes = [
        {
            "group": g,
            "timepoint": "12w",
            "change": paired_arrays(v, v + 1.0, np.ones(v.size)).to_dict(),
        }
        for g, v in samples.items()
    ]
    difference = compare_samples({g: np.ones(v.size) for g, v in samples.items()}).to_dict()
    outcome = {
        "key": "vas",
        "groups": list(samples),
        "summaries": summaries,
        "changes": changes,
        "comparisons": [
            {"timepoint": "12w", "of": "value", "comparison": comparison},
            {"timepoint": "12w", "of": "change", "comparison": difference},
        ],
    }
    result = {
        "analysis": "trajectories",
        "cohort": {"techniques": [["PKP", 30], ["PVP", 30], ["VBS", 30]]},
        "body": {"outcomes": [outcome], "as_of": "2026-06-30"},
    }
    shown = suppress(result)["body"]["outcomes"][0]
    for item in shown["comparisons"]:
        groups = {g["group"]: g["summary"] for g in item["comparison"]["groups"]}
        assert item["comparison"]["n"] == 53  # the total stays shown
        assert groups["PKP"]["n"] is None and groups["PKP"]["mean"] is None
        assert groups["PVP"]["n"] is None and groups["PVP"]["mean"] is None  # the partner
        assert groups["VBS"]["n"] == 30
        assert item["comparison"]["mean_diff"] is None
    values = {i["group"]: i["summary"] for i in shown["summaries"]}
    assert values["PVP"]["n"] is None and values["VBS"]["n"] == 30
    pvp = next(i["change"] for i in shown["changes"] if i["group"] == "PVP")
    assert pvp["n_paired"] is None and pvp["difference"]["n"] is None and pvp["p"] is None
    # Nothing left gives the 3 (or the 20) back: no shown n of 3 or 20 anywhere.
    text = json.dumps(shown)
    found = re.search(r"\"n(_paired)?\": (3|20)\b", text)
    assert not found, text[max(0, found.start() - 400) : found.end() + 100]


def test_a_small_cohort_size_is_withheld_too():
    """Two patients in one technique: withholding the technique's count alone would leave
    the cohort's n_patients giving it back."""
    result = {
        "analysis": "logistic",
        "cohort": {"n_patients": 2, "techniques": [["PKP", 2]]},
        "body": {"events": 1, "non_events": 1},
    }
    shown = suppress(result)
    assert shown["cohort"]["n_patients"] is None and shown["cohort"]["techniques"] == [
        ["PKP", None]
    ]
    assert set(shown["cohort"]["withheld"]) == {"techniques", "n_patients"}
    assert (
        suppress({**result, "cohort": {"n_patients": 0, "techniques": []}})["cohort"]["n_patients"]
        == 0
    )
