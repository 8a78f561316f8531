"""How an aggregate response is cut from a stored statistics result.

An aggregate is a result of the result contract (`outcomes.contract`), narrowed to what was
asked: the outcomes aggregate is a `trajectories` result holding the one metric's outcome,
the rates aggregate a `rates` result holding the one event block, the tables the stored
`table1` / `table2` results. So each response validates against `schema_for(analysis)`,
the OpenAPI schema publishes that shape, and `outcomes.suppression.suppress` applies to it
as to any result. Pure functions of the stored dict; nothing here queries or computes.
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
RATE_LISTS = {"leakage": "leakage", "rupture": "device_rupture", "adverse_event": "adverse_events"}


class NotInResult(LookupError):
    """The stored result has no such part (an older layout): answer 404, never 500."""


def _part(result: dict[str, Any], name: str) -> dict[str, Any]:
    """The analysis' own body, or its part inside a standard report."""
    body = result.get("body") or {}
    return body.get(name, body) if result.get("analysis") == "standard_report" else body


def _narrowed(result: dict[str, Any], analysis: str, body: dict[str, Any]) -> dict[str, Any]:
    """A result of `analysis` with `body`: the envelope is the stored one (shallow copy)."""
    return {**result, "analysis": analysis, "body": body}


def outcome_result(result: dict[str, Any], metric: str) -> dict[str, Any]:
    """A trajectories result with the metric's outcome only: per technique and timepoint the
    summary and the follow-up accounting (n_missing, n_not_due, n_withdrawn, out of window),
    the change from baseline, the between-technique comparisons."""
    body = _part(result, "trajectories")
    key = METRICS[metric]
    outcome = next((o for o in body.get("outcomes", []) if o.get("key") == key), None)
    if outcome is None:
        raise NotInResult(key)
    return _narrowed(result, "trajectories", {**body, "outcomes": [outcome]})


def rate_code(event: str, kind: str | None, unit: str) -> str:
    """The stored block's code (outcomes/analyses/rates.py) answering the query."""
    if event == "leakage":
        return f"leakage_{kind}" if kind else f"leakage_per_{unit}"
    if event == "rupture":
        return "device_rupture"
    return f"adverse_event_{kind or 'any'}"


def rate_result(result: dict[str, Any], event: str, kind: str | None, unit: str) -> dict:
    """A rates result with the asked block only (per technique n, events, proportion with
    its Wilson CI, and the comparison); the other lists are empty."""
    rates = _part(result, "rates")
    if "leakage" not in rates:
        raise NotInResult("rates")
    code = rate_code(event, kind, unit)
    block = next((b for b in rates.get(RATE_LISTS[event], []) if b.get("code") == code), None)
    if block is None:
        raise NotInResult(code)
    lists: dict[str, list] = {name: [] for name in RATE_LISTS.values()}
    lists[RATE_LISTS[event]] = [block]
    return _narrowed(result, "rates", {**rates, **lists, "perioperative": []})


def table1_result(result: dict[str, Any]) -> dict[str, Any]:
    body = _part(result, "table1")
    if not body.get("table"):
        raise NotInResult("table1")
    return _narrowed(result, "table1", body)


def table2_result(result: dict[str, Any]) -> dict[str, Any]:
    if "tables" not in (result.get("body") or {}):
        raise NotInResult("tables")
    return result


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
