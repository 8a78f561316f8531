"""The trajectories of an outcome as three tables: summaries, changes, between techniques."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from outcomes.presenters.base import (
    DisplayTable,
    Section,
    ci_text,
    count,
    notes,
    test_name,
    timepoint_label,
)
from outcomes.statistics import format_mean_sd, format_median_iqr, format_number, format_p

OF_LABELS = {"value": "Value at the visit", "change": "Change from baseline"}


def _withheld(item: Mapping[str, Any], key: str) -> bool:
    return key in (item.get("withheld") or ())


def followup_cells(block: Mapping[str, Any] | None) -> list[str]:
    """Missing (window closed), not yet due, withdrawn, out of window left out / let in."""
    block = block or {}
    left_out, let_in = block.get("n_out_of_window_left_out"), block.get("n_out_of_window_let_in")
    out = f"{count(left_out, _withheld(block, 'n_out_of_window_left_out'))} left out"
    if let_in:
        out = f"{count(let_in, _withheld(block, 'n_out_of_window_let_in'))} let in"
    return [
        count(block.get("n_missing"), _withheld(block, "n_missing")),
        count(block.get("n_not_due"), _withheld(block, "n_not_due")),
        count(block.get("n_withdrawn"), _withheld(block, "n_withdrawn")),
        out,
    ]


FOLLOWUP_HEADERS = ["Missing (window closed)", "Not yet due", "Withdrawn", "Out of window"]


def trajectory_tables(outcome: Mapping[str, Any]) -> list[DisplayTable]:
    d = outcome["decimals"]
    label = outcome["label"]
    unit = "vertebrae" if outcome.get("unit_of_analysis") == "level" else "patients"
    summary = DisplayTable(
        f"{label}: by technique and timepoint ({unit})",
        [
            "Technique",
            "Timepoint",
            "n",
            "No value",
            "Mean ± SD",
            "Median [Q1, Q3]",
            "95% CI",
            *FOLLOWUP_HEADERS,
        ],
    )
    for item in outcome["summaries"]:
        s = item["summary"]
        summary.rows.append(
            [
                str(item["group"]),
                timepoint_label(item["timepoint"]),
                count(s["n"], _withheld(s, "n")),
                count(s["n_missing"], _withheld(s, "n_missing")),
                format_mean_sd(s["mean"], s["sd"], d),
                format_median_iqr(s["median"], s["q1"], s["q3"], d),
                ci_text(s["ci_low"], s["ci_high"], d),
                *followup_cells(item.get("followup")),
            ]
        )
    summary.notes.append(
        "No value: the visit's window has closed and there is no visit, or the visit did not "
        "record this item. Visits outside their window are "
        f"{outcome.get('out_of_window', 'left out')} at their nominal timepoint."
    )
    changes = DisplayTable(
        f"{label}: change from baseline (complete pairs, the same vertebrae at both visits)",
        [
            "Technique",
            "Timepoint",
            "Pairs",
            "Excluded",
            "Mean change (95% CI)",
            "P",
            "Test",
            "Rank test",
            "Rank P",
        ],
    )
    for item in outcome["changes"]:
        c = item["change"]
        mean = format_number(c["mean_diff"], d)
        ci = ci_text(c["ci_low"], c["ci_high"], d)
        twin = c.get("nonparametric") or {}
        changes.rows.append(
            [
                str(item["group"]),
                timepoint_label(item["timepoint"]),
                count(c["n_paired"], _withheld(c, "n_paired")),
                count(c["n_excluded"], _withheld(c, "n_excluded")),
                f"{mean} ({ci})" if ci else mean,
                format_p(c["p"]),
                test_name(c),
                test_name(twin),
                format_p(twin.get("p")),
            ]
        )
    changes.notes = notes(
        (f"{i['group']} {timepoint_label(i['timepoint'])}", i["change"]["note"])
        for i in outcome["changes"]
    )
    between = DisplayTable(
        f"{label}: between techniques",
        ["Timepoint", "Of", "n", "No value", "Test", "P", "Rank test", "Rank P"],
    )
    for item in outcome["comparisons"]:
        c = item["comparison"]
        twin = c.get("nonparametric") or {}
        between.rows.append(
            [
                timepoint_label(item["timepoint"]),
                OF_LABELS.get(item["of"], item["of"]),
                count(c["n"], _withheld(c, "n")),
                count(c["n_missing"], _withheld(c, "n_missing")),
                test_name(c),
                format_p(c["p"]),
                test_name(twin),
                format_p(twin.get("p")),
            ]
        )
    between.notes = notes(
        (
            f"{timepoint_label(i['timepoint'])}, {OF_LABELS.get(i['of'], i['of']).lower()}",
            i["comparison"]["note"],
        )
        for i in outcome["comparisons"]
    )
    return [summary, changes, between]


def present(body: Mapping[str, Any]) -> list[Section]:
    return [
        Section(outcome["label"], tables=trajectory_tables(outcome)) for outcome in body["outcomes"]
    ]
