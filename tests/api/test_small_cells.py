"""The API's small-cell rule on shaped aggregates and whole results (k = 5)."""

from __future__ import annotations

import json

from outcomes.api.small_cells import withhold_in_part, withhold_in_result, withhold_in_table


def _rate(technique, n, events):
    return {"technique": technique, "n": n, "events": events, "rate": events / n, "ci95": [0, 1]}


def test_a_small_count_and_its_complement_are_withheld_zero_is_shown():
    part = {"rates": [_rate("PKP", 50, 3), _rate("VBS", 40, 0), _rate("PVP", 30, 28)]}
    shaped, flag = withhold_in_part(part, k=5)
    pkp, vbs, pvp = shaped["rates"]
    assert pkp["events"] is None and pkp["rate"] is None and pkp["ci95"] == [None, None]
    assert vbs["events"] == 0  # zero is shown
    assert pvp["events"] is None  # 2 without the event: 28 would give it away with n
    assert flag == {"applied": True, "k": 5, "rule": flag["rule"], "withheld": 2}


def test_a_small_group_hides_its_summary_and_the_total_that_would_reveal_it():
    part = {
        "summaries": [
            {
                "technique": "PKP",
                "timepoint": "12w",
                "n": 3,
                "mean": 2.0,
                "sd": 1.0,
                "median": 2.0,
                "q1": 1.0,
                "q3": 3.0,
                "ci95": [1, 3],
            },
            {
                "technique": "VBS",
                "timepoint": "12w",
                "n": 40,
                "mean": 3.0,
                "sd": 1.0,
                "median": 3.0,
                "q1": 2.0,
                "q3": 4.0,
                "ci95": [2.7, 3.3],
            },
        ],
        "comparisons": [{"timepoint": "12w", "of": "value", "n": 43}],
    }
    shaped, _ = withhold_in_part(part, k=5)
    assert shaped["summaries"][0]["n"] is None and shaped["summaries"][0]["mean"] is None
    assert shaped["summaries"][1]["n"] == 40
    assert shaped["comparisons"][0]["n"] is None  # 43 - 40 = 3


def _table(cells_by_category):
    columns = ["Overall", "PKP", "VBS", "P-value", "Test", "Missing"]
    rows = [
        {
            "variable": "ASA class",
            "category": category,
            "cells": dict(zip(columns, cells, strict=False)),
        }
        for category, cells in cells_by_category.items()
    ]
    return {"title": "Table 1", "columns": columns, "rows": rows}


def test_a_table_cell_of_3_with_a_shown_total_withholds_a_second_cell():
    table = _table(
        {
            "I": ["13 (13.0%)", "3 (6.0%)", "10 (20.0%)", "0.1", "fisher_exact", "0"],
            "II": ["87 (87.0%)", "47 (94.0%)", "40 (80.0%)"],
        }
    )
    withheld = withhold_in_table(table, k=5)
    text = json.dumps(table)
    assert withheld >= 2
    cells = [row["cells"] for row in table["rows"]]
    assert cells[0]["PKP"] == "<5"
    # Neither the row (Overall 13 - VBS) nor the column (PKP header n - II) gives it back.
    assert cells[0]["Overall"] == "<5" or cells[0]["VBS"] == "<5"
    assert cells[1]["PKP"] == "<5"
    assert '"3 (' not in text


def test_whole_results_have_small_counts_withheld_everywhere():
    result = {
        "body": {
            "leakage": [
                {
                    "rates": [
                        {
                            "group": "PKP",
                            "events": 2,
                            "n": 60,
                            "text": "2/60 (3.3%)",
                            "proportion": {
                                "count": 2,
                                "n": 60,
                                "proportion": 0.033,
                                "ci_low": 0.01,
                                "ci_high": 0.1,
                            },
                        },
                    ],
                    "comparison": {"observed": [[2, 58], [10, 40]], "expected": [[1, 1]]},
                }
            ]
        }
    }
    shown = withhold_in_result(result, k=5)
    rate = shown["body"]["leakage"][0]["rates"][0]
    assert rate["events"] is None and rate["proportion"]["count"] is None
    assert shown["body"]["leakage"][0]["comparison"]["observed"] == [[None, None], [10, 40]]
    assert "expected" not in shown["body"]["leakage"][0]["comparison"]
    assert shown["suppression"]["applied"]
    assert result["body"]["leakage"][0]["rates"][0]["events"] == 2  # the stored one untouched
