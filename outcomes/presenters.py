"""Stored results (JSON) to printable tables for the result page.

Every section becomes a `DisplayTable` of text cells, so one template prints them all.
Numbers are formatted by `outcomes.statistics` (mean ± SD, p-values) as in the exports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from outcomes.statistics import (
    Table,
    TableRow,
    format_mean_sd,
    format_median_iqr,
    format_number,
    format_p,
)


@dataclass
class DisplayTable:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    tables: list[DisplayTable] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def _ci(low: Any, high: Any, decimals: int) -> str:
    if low is None or high is None:
        return ""
    return f"{format_number(low, decimals)} to {format_number(high, decimals)}"


def _test(result: Mapping[str, Any] | None) -> str:
    return (result or {}).get("test") or ""


def _notes(items: Iterable[tuple[str, str | None]]) -> list[str]:
    return [f"{where}: {note}" for where, note in items if note]


# ---------------------------------------------------------------- trajectories


def trajectory_tables(outcome: Mapping[str, Any]) -> list[DisplayTable]:
    d = outcome["decimals"]
    label = outcome["label"]
    summary = DisplayTable(
        f"{label}: by technique and timepoint",
        ["Technique", "Timepoint", "n", "Missing", "Mean ± SD", "Median [Q1, Q3]", "95% CI"],
    )
    for item in outcome["summaries"]:
        s = item["summary"]
        summary.rows.append(
            [
                str(item["group"]),
                item["timepoint"],
                str(s["n"]),
                str(s["n_missing"]),
                format_mean_sd(s["mean"], s["sd"], d),
                format_median_iqr(s["median"], s["q1"], s["q3"], d),
                _ci(s["ci_low"], s["ci_high"], d),
            ]
        )
    changes = DisplayTable(
        f"{label}: change from baseline (complete pairs)",
        [
            "Technique",
            "Timepoint",
            "Pairs",
            "Excluded",
            "Mean change (95% CI)",
            "P",
            "Test",
            "Wilcoxon P",
        ],
    )
    for item in outcome["changes"]:
        c = item["change"]
        mean = format_number(c["mean_diff"], d)
        ci = _ci(c["ci_low"], c["ci_high"], d)
        changes.rows.append(
            [
                str(item["group"]),
                item["timepoint"],
                str(c["n_paired"]),
                str(c["n_excluded"]),
                f"{mean} ({ci})" if ci else mean,
                format_p(c["p"]),
                c["test"],
                format_p((c.get("nonparametric") or {}).get("p")),
            ]
        )
    changes.notes = _notes(
        (f"{i['group']} {i['timepoint']}", i["change"]["note"]) for i in outcome["changes"]
    )
    between = DisplayTable(
        f"{label}: between techniques",
        ["Timepoint", "Of", "n", "Missing", "Test", "P", "Rank test", "Rank P"],
    )
    for item in outcome["comparisons"]:
        c = item["comparison"]
        twin = c.get("nonparametric") or {}
        between.rows.append(
            [
                item["timepoint"],
                item["of"],
                str(c["n"]),
                str(c["n_missing"]),
                c["test"] or "",
                format_p(c["p"]),
                _test(twin),
                format_p(twin.get("p")),
            ]
        )
    between.notes = _notes(
        (f"{i['timepoint']} {i['of']}", i["comparison"]["note"]) for i in outcome["comparisons"]
    )
    return [summary, changes, between]


# ---------------------------------------------------------------- rates


def rate_table(title: str, items: list[Mapping[str, Any]], techniques: list[str]) -> DisplayTable:
    table = DisplayTable(title, ["Rate", "Unit", *techniques, "Test", "P"])
    for item in items:
        cells = {}
        for rate in item["rates"]:
            p = rate["proportion"]
            ci = ""
            if p["ci_low"] is not None:
                ci = f" [{_ci(100 * p['ci_low'], 100 * p['ci_high'], 1)}]"
            cells[str(rate["group"])] = rate["text"] + ci
        comparison = item.get("comparison") or {}
        table.rows.append(
            [
                item["label"],
                item["unit"],
                *(cells.get(t, "") for t in techniques),
                _test(comparison),
                format_p(comparison.get("p")),
            ]
        )
        for note in (item.get("note"), comparison.get("warning")):
            if note:
                table.notes.append(f"{item['label']}: {note}")
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
                item["test"] or "",
                format_p(item["p"]),
                _test(twin),
                format_p(twin.get("p")),
            ]
        )
    return table


def rates_section(body: Mapping[str, Any]) -> Section:
    techniques = [str(t) for t in body["techniques"]]
    types = body["leakage_types"]
    type_table = DisplayTable(types["label"], ["Technique", *[str(c) for c in types["col_labels"]]])
    for label, counts in zip(types["row_labels"], types["observed"], strict=True):
        type_table.rows.append([str(label), *(str(n) for n in counts)])
    type_table.notes = [
        f"{types['test'] or 'no test'}: p = {format_p(types['p']) or 'not run'}",
        *(note for note in (types.get("note"), types.get("warning")) if note),
    ]
    return Section(
        "Rates",
        tables=[
            rate_table("Cement leakage (Wilson 95% CI)", body["leakage"], techniques),
            type_table,
            rate_table("Device rupture", body["device_rupture"], techniques),
            rate_table("Adverse events", body["adverse_events"], techniques),
            perioperative_table(body["perioperative"], techniques),
        ],
    )


# ---------------------------------------------------------------- tables 1 and 2


def statistics_table(table: Mapping[str, Any]) -> DisplayTable:
    """A stored `outcomes.statistics.Table`, laid out by the Table itself (variable and
    stratum printed once per block, as the seed's tables are)."""
    rebuilt = Table(**{**table, "rows": [TableRow(**row) for row in table["rows"]]})
    records = rebuilt.as_records()
    headers = list(records[0]) if records else ["Variable", "Category"]
    display = DisplayTable(table["title"], headers, [list(r.values()) for r in records])
    display.notes = list(rebuilt.footnotes)
    display.notes += [f"{row.variable}: {row.note}" for row in rebuilt.rows if row.note]
    return display


def logistic_section(body: Mapping[str, Any]) -> Section:
    section = Section(f"Logistic regression: {body['outcome_label']}")
    section.text.append(
        f"n = {body['n']} complete cases ({body['n_missing']} missing), "
        f"{body['events']} events, {body['non_events']} non-events, "
        f"{body['n_parameters']} predictor column(s)."
    )
    if body["status"] != "ok":
        section.text.append(f"Refused ({body['refusal']}): {body['reason']}.")
        return section
    table = DisplayTable("Odds ratios", ["Term", "OR", "95% CI", "P"])
    for term in body["terms"]:
        table.rows.append(
            [
                term["term"],
                format_number(term["odds_ratio"], 3),
                _ci(term["ci_low"], term["ci_high"], 3),
                format_p(term["p"]),
            ]
        )
    if body.get("note"):
        table.notes.append(body["note"])
    section.tables.append(table)
    return section


# ---------------------------------------------------------------- a whole result


def sections(result: Mapping[str, Any]) -> list[Section]:
    analysis, body = result["analysis"], result["body"]
    if analysis == "standard_report":
        return [
            *trajectory_sections(body["trajectories"]),
            rates_section(body["rates"]),
            Section("Table 1", tables=[statistics_table(body["table1"]["table"])]),
        ]
    if analysis == "trajectories":
        return trajectory_sections(body)
    if analysis == "rates":
        return [rates_section(body)]
    if analysis == "table1":
        return [Section("Table 1", tables=[statistics_table(body["table"])])]
    if analysis == "table2":
        return [Section("Table 2", tables=[statistics_table(t["table"]) for t in body["tables"]])]
    if analysis == "logistic":
        return [logistic_section(body)]
    if analysis == "trends":
        return [trends_section(body)]
    if analysis == "benchmarking":
        return [benchmarking_section(body)]
    raise ValueError(f"no presenter for {analysis!r}")


def trajectory_sections(body: Mapping[str, Any]) -> list[Section]:
    return [
        Section(outcome["label"], tables=trajectory_tables(outcome)) for outcome in body["outcomes"]
    ]


# ---------------------------------------------------------------- trends and benchmarking


def trends_section(body: Mapping[str, Any]) -> Section:
    section = Section("Trends by quarter of the procedure date")
    for measure in body["measures"]:
        percent = measure["unit"] == "proportion"
        factor, d = (100.0, 1) if percent else (1.0, 1)
        table = DisplayTable(
            f"{measure['label']}{' (%)' if percent else ''}",
            ["Technique", "Quarter", "n", "Value", "95% CI"],
        )
        for point in measure["points"]:
            value = point["value"]
            table.rows.append(
                [
                    str(point["technique"]),
                    point["quarter"],
                    str(point["n"]),
                    format_number(None if value is None else value * factor, d),
                    _ci(
                        None if point["ci_low"] is None else point["ci_low"] * factor,
                        None if point["ci_high"] is None else point["ci_high"] * factor,
                        d,
                    ),
                ]
            )
        section.tables.append(table)
    return section


def benchmarking_section(body: Mapping[str, Any]) -> Section:
    section = Section(f"Benchmarking (as of {body['as_of']})")
    for measure in body["measures"]:
        registry = measure["registry"]
        rate = registry["rate"]
        table = DisplayTable(
            f"{measure['label']}: registry {registry['events']}/{registry['n']}"
            f" ({format_number(None if rate is None else 100 * rate, 1)} %)",
            [
                "Level",
                "Site",
                "Surgeon",
                "Events",
                "n",
                "Rate (%)",
                "Outside 95 %",
                "Outside 99.8 %",
            ],
        )
        for unit in measure["units"]:
            rate = unit["rate"]
            table.rows.append(
                [
                    unit["level"],
                    str(unit["site_id"]),
                    "" if unit["surgeon_id"] is None else str(unit["surgeon_id"]),
                    str(unit["events"]),
                    str(unit["n"]),
                    format_number(None if rate is None else 100 * rate, 1),
                    "yes" if unit["outside95"] else "no",
                    "yes" if unit["outside998"] else "no",
                ]
            )
        section.tables.append(table)
    return section
