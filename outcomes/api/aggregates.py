"""How an aggregate response is cut from a stored statistics result.

The one module that knows the layout of the stored JSON (`StatisticsRun.result`): when the
statistics' result contract changes, only this module follows. Pure functions of the
stored dict; nothing here queries or computes a statistic.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from registry.models import AdverseEventType, Leakage

# metric in the API -> outcome key in the stored trajectories
METRICS = {"vas": "vas", "odi": "odi", "rfvh": "rfvh", "height": "body_height", "lka": "lka"}
EVENTS = ("leakage", "rupture", "adverse_event")
UNITS = {"leakage": ("patient", "level"), "rupture": ("device",), "adverse_event": ("patient",)}
LEAKAGE_TYPES = tuple(kind.value for kind in (Leakage.B, Leakage.S, Leakage.C))
EVENT_TYPES = tuple(AdverseEventType.values)
TYPES = {"leakage": LEAKAGE_TYPES, "adverse_event": EVENT_TYPES, "rupture": ()}


class NotInResult(LookupError):
    """The stored result has no such part (an older layout): answer 404, never 500."""


def _ci(block: dict[str, Any] | None) -> list[float | None]:
    block = block or {}
    return [block.get("ci_low"), block.get("ci_high")]


def _twin(block: dict[str, Any] | None) -> dict[str, Any] | None:
    if not block:
        return None
    return {"test": block.get("test"), "statistic": block.get("statistic"), "p": block.get("p")}


def _part(result: dict[str, Any], name: str) -> dict[str, Any]:
    """The analysis' own body, or its part inside a standard report."""
    body = result.get("body") or {}
    return body.get(name, body) if result.get("analysis") == "standard_report" else body


def _trajectory(result: dict[str, Any], key: str) -> dict[str, Any]:
    for outcome in _part(result, "trajectories").get("outcomes", []):
        if outcome.get("key") == key:
            return outcome
    raise NotInResult(key)


def outcome_aggregate(result: dict[str, Any], metric: str) -> dict[str, Any]:
    """Per technique and timepoint summaries, change from baseline, between techniques."""
    trajectory = _trajectory(result, METRICS[metric])
    summaries = [
        {
            "technique": item["group"],
            "timepoint": item["timepoint"],
            "n": item["summary"].get("n"),
            "n_missing": item["summary"].get("n_missing"),
            # Not in today's stored layout: the statistics issue splits not-yet-due out.
            "n_not_due": item["summary"].get("n_not_due"),
            "mean": item["summary"].get("mean"),
            "sd": item["summary"].get("sd"),
            "median": item["summary"].get("median"),
            "q1": item["summary"].get("q1"),
            "q3": item["summary"].get("q3"),
            "ci95": _ci(item["summary"]),
        }
        for item in trajectory.get("summaries", [])
    ]
    changes = [
        {
            "technique": item["group"],
            "timepoint": item["timepoint"],
            "n_paired": item["change"].get("n_paired"),
            "mean_difference": item["change"].get("mean_diff"),
            "ci95": _ci(item["change"]),
            "test": item["change"].get("test"),
            "statistic": item["change"].get("statistic"),
            "p": item["change"].get("p"),
            "nonparametric": _twin(item["change"].get("nonparametric")),
        }
        for item in trajectory.get("changes", [])
    ]
    comparisons = [
        {
            "timepoint": item["timepoint"],
            "of": item["of"],
            "n": item["comparison"].get("n"),
            "test": item["comparison"].get("test"),
            "statistic": item["comparison"].get("statistic"),
            "p": item["comparison"].get("p"),
            "nonparametric": _twin(item["comparison"].get("nonparametric")),
        }
        for item in trajectory.get("comparisons", [])
    ]
    return {
        "metric": metric,
        "label": trajectory.get("label"),
        "decimals": trajectory.get("decimals"),
        "unit_of_analysis": trajectory.get("unit_of_analysis"),
        "techniques": trajectory.get("groups", []),
        "timepoints": trajectory.get("timepoints", []),
        "summaries": summaries,
        "change_from_baseline": changes,
        "comparisons": comparisons,
    }


def _rate_block(result: dict[str, Any], event: str, kind: str | None, unit: str) -> dict:
    rates = _part(result, "rates")
    if "leakage" not in rates:
        raise NotInResult("rates")
    # The stored rows carry labels, not codes: their order is fixed by the rates analysis
    # (outcomes/analyses/rates.py), which is what these indexes follow.
    if event == "leakage":
        if kind is None:
            return rates["leakage"][0 if unit == "patient" else 1]
        return rates["leakage"][2 + LEAKAGE_TYPES.index(kind)]
    if event == "rupture":
        return rates["device_rupture"][0]
    if kind is None:
        return rates["adverse_events"][0]
    return rates["adverse_events"][1 + EVENT_TYPES.index(kind)]


def rate_aggregate(
    result: dict[str, Any], event: str, kind: str | None, unit: str
) -> dict[str, Any]:
    block = _rate_block(result, event, kind, unit)
    comparison = block.get("comparison") or {}
    return {
        "event": event,
        "type": kind,
        "unit": block.get("unit", unit),
        "label": block.get("label"),
        "rates": [
            {
                "technique": rate["group"],
                "n": rate["n"],
                "events": rate["events"],
                "rate": rate["proportion"].get("proportion"),
                "ci95": _ci(rate["proportion"]),
            }
            for rate in block.get("rates", [])
        ],
        "comparison": {
            "test": comparison.get("test"),
            "statistic": comparison.get("statistic"),
            "p": comparison.get("p"),
            "min_expected": comparison.get("min_expected"),
            "warning": comparison.get("warning"),
        },
    }


def table1_aggregate(result: dict[str, Any]) -> dict[str, Any]:
    table = _part(result, "table1").get("table")
    if not table:
        raise NotInResult("table1")
    return dict(table)


def table2_aggregate(result: dict[str, Any]) -> dict[str, Any]:
    body = result.get("body", {})
    if "tables" not in body:
        raise NotInResult("tables")
    return {"tables": [{"technique": t["technique"], "table": t["table"]} for t in body["tables"]]}


def tests_named(part: Any) -> list[str]:
    """Every test name in a part of a result (the envelope lists them)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("test", "twin_test") and isinstance(item, str):
                    found.add(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(part)
    return sorted(found)


def choices_text(choices: Iterable[str]) -> str:
    return ", ".join(choices)
