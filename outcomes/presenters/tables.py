"""Table 1, Table 2 and the logistic regression as printed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from outcomes.presenters.base import DisplayTable, Section, ci_text
from outcomes.statistics import Table, TableRow, format_number, format_p

REFUSALS = {
    "too_few_events_per_predictor": "too few events per predictor",
    "separation": "the outcome is separated by the predictors",
    "not_converged": "the fit did not converge",
    "singular_design": "the predictors are collinear or constant",
    "outcome_not_binary": "the outcome is not yes/no",
    "no_variation": "the outcome does not vary",
}


def statistics_table(table: Mapping[str, Any]) -> DisplayTable:
    """A stored `outcomes.statistics.Table`, laid out by the Table itself (variable and
    stratum printed once per block, as the seed's tables are)."""
    known = set(TableRow.__dataclass_fields__)
    rows = [TableRow(**{k: v for k, v in row.items() if k in known}) for row in table["rows"]]
    rebuilt = Table(**{**{k: table[k] for k in ("title", "columns", "headers")}, "rows": rows})
    rebuilt.footnotes = list(table.get("footnotes") or [])
    records = rebuilt.as_records()
    headers = list(records[0]) if records else ["Variable", "Category"]
    display = DisplayTable(table["title"], headers, [list(r.values()) for r in records])
    display.notes = list(rebuilt.footnotes)
    display.notes += [f"{row.variable}: {row.note}" for row in rebuilt.rows if row.note]
    return display


def present_table1(body: Mapping[str, Any]) -> list[Section]:
    return [Section("Table 1", tables=[statistics_table(body["table"])])]


def present_table2(body: Mapping[str, Any]) -> list[Section]:
    return [Section("Table 2", tables=[statistics_table(t["table"]) for t in body["tables"]])]


def term_label(term: str, labels: Mapping[str, str]) -> str:
    """'sex_M' -> 'Sex: M' (a dummy column of a categorical predictor)."""
    if term in labels:
        return labels[term]
    for code, label in sorted(labels.items(), key=lambda item: -len(item[0])):
        if term.startswith(f"{code}_"):
            return f"{label}: {term[len(code) + 1 :]}"
    return term


def present_logistic(body: Mapping[str, Any]) -> list[Section]:
    section = Section(f"Logistic regression: {body['outcome_label']}")
    section.text.append(
        f"n = {body['n']} complete cases ({body['n_missing']} missing), "
        f"{body['events']} events, {body['non_events']} non-events, "
        f"{body['n_parameters']} predictor column(s)."
    )
    if body["status"] != "ok":
        why = REFUSALS.get(body["refusal"], "refused")
        section.text.append(f"Not fitted: {why}. {body['reason']}.")
        return [section]
    labels = body.get("predictor_labels") or {}
    table = DisplayTable("Odds ratios", ["Term", "OR", "95% CI", "P"])
    for term in body["terms"]:
        table.rows.append(
            [
                term_label(term["term"], labels),
                format_number(term["odds_ratio"], 3),
                ci_text(term["ci_low"], term["ci_high"], 3),
                format_p(term["p"]),
            ]
        )
    if body.get("note"):
        table.notes.append(body["note"])
    section.tables.append(table)
    return [section]
