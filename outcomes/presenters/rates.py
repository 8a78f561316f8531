"""Rates (leakage, device rupture, adverse events) and the perioperative items."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from outcomes.presenters.base import (
    UNIT_LABELS,
    WITHHELD,
    DisplayTable,
    Section,
    ci_text,
    count,
    test_name,
)
from outcomes.statistics import format_mean_sd, format_p

NOT_APPLICABLE = "not applicable"


def rate_cell(rate: Mapping[str, Any]) -> str:
    if "events" in (rate.get("withheld") or ()):
        return WITHHELD
    p = rate["proportion"]
    ci = ""
    if p.get("ci_low") is not None:
        ci = f" [{ci_text(100 * p['ci_low'], 100 * p['ci_high'], 1)}]"
    return rate["text"] + ci


def rate_table(title: str, items: list[Mapping[str, Any]], techniques: list[str]) -> DisplayTable:
    table = DisplayTable(title, ["Rate", "Unit", *techniques, "Test", "P"])
    for item in items:
        cells = {str(rate["group"]): rate_cell(rate) for rate in item["rates"]}
        cells.update(dict.fromkeys(item.get("not_applicable") or (), NOT_APPLICABLE))
        comparison = item.get("comparison") or {}
        table.rows.append(
            [
                item["label"],
                UNIT_LABELS.get(item["unit"], item["unit"]),
                *(cells.get(t, "") for t in techniques),
                test_name(comparison),
                format_p(comparison.get("p")),
            ]
        )
        for note in (item.get("note"), comparison.get("warning")):
            if note:
                table.notes.append(f"{item['label']}: {note}")
        if item.get("not_applicable"):
            table.notes.append(
                f"{item['label']}: not applicable to {', '.join(item['not_applicable'])} "
                "(no device that can rupture)"
            )
    return table


def perioperative_table(items: list[Mapping[str, Any]], techniques: list[str]) -> DisplayTable:
    table = DisplayTable(
        "Perioperative items between techniques",
        ["Item", *techniques, "Test", "P", "Rank test", "Rank P"],
    )
    for item in items:
        d = item["decimals"]
        cells = {
            str(g["group"]): format_mean_sd(g["summary"]["mean"], g["summary"]["sd"], d)
            for g in item["groups"]
        }
        twin = item.get("nonparametric") or {}
        table.rows.append(
            [
                item["label"],
                *(cells.get(t, "") for t in techniques),
                test_name(item),
                format_p(item["p"]),
                test_name(twin),
                format_p(twin.get("p")),
            ]
        )
    return table


def leakage_type_table(types: Mapping[str, Any]) -> DisplayTable:
    names = types.get("col_names") or {}
    table = DisplayTable(
        types["label"], ["Technique", *[names.get(c, str(c)) for c in types["col_labels"]]]
    )
    withheld = types.get("withheld_cells") or []
    for row, (label, counts) in enumerate(zip(types["row_labels"], types["observed"], strict=True)):
        table.rows.append(
            [str(label), *(count(n, [row, col] in withheld) for col, n in enumerate(counts))]
        )
    ran = test_name(types)
    table.notes = [
        f"{ran}: p = {format_p(types['p'])}" if ran else "No test could run.",
        *(note for note in (types.get("note"), types.get("warning")) if note),
    ]
    return table


def present(body: Mapping[str, Any]) -> list[Section]:
    techniques = [str(t) for t in body["techniques"]]
    return [
        Section(
            "Rates",
            tables=[
                rate_table("Cement leakage (Wilson 95% CI)", body["leakage"], techniques),
                leakage_type_table(body["leakage_types"]),
                rate_table("Device rupture", body["device_rupture"], techniques),
                rate_table("Adverse events", body["adverse_events"], techniques),
                perioperative_table(body["perioperative"], techniques),
            ],
        )
    ]
