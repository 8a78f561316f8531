"""A cohort definition: filters plus inclusion rules, normalised and hashed.

Pure functions (no queries) so that the form, the model, the admin and the tests agree on
what a definition means. Normalising first makes the hash canonical: the same patients
asked for in another order, with other spellings of "no filter", hash the same.

Filter keys (all optional; an absent or empty value means "no restriction"):
- techniques: technique codes ("PKP", "PVP", ...), any of them
- sites: site codes, any of them (always within the sites the requester may see)
- date_from, date_to: procedure date range, inclusive, ISO dates
- age_min, age_max: age in whole years at the procedure date, inclusive
- sexes: "F" and/or "M"
- genant_grades: 1, 2, 3; every treated vertebra has one of them
- region: "thoracic" (T1-T12), "lumbar" (L1-L5) or "thoracolumbar" (T11-L2); every treated
  vertebra lies in it
- levels: "single" (one treated vertebra) or "multi" (more than one)

Inclusion rules of the seed studies are separate toggles (see RULES). Withdrawn patients
are never analysed and so are not a toggle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError

from registry import vertebrae
from registry.models import Sex

DEFINITION_VERSION = 1

REGIONS = {
    "thoracic": vertebrae.THORACIC,
    "lumbar": vertebrae.LUMBAR,
    "thoracolumbar": tuple(sorted(vertebrae.THORACOLUMBAR_JUNCTION, key=vertebrae.level_index)),
}
LEVEL_COUNTS = ("single", "multi")
GENANT_GRADES = (1, 2, 3)

# The inclusion criteria the three seed studies share.
MIN_AGE = 50
MIN_BASELINE_VAS = 5
MIN_COLLAPSE_PERCENT = 20  # height loss at baseline = 100 - RFVH


@dataclass(frozen=True)
class Rule:
    field: str
    label: str


RULES = (
    Rule("rule_min_age", f"Age {MIN_AGE} or more at the procedure"),
    Rule("rule_baseline_vas", f"Baseline VAS {MIN_BASELINE_VAS} or more"),
    Rule(
        "rule_collapse",
        f"Collapse {MIN_COLLAPSE_PERCENT} % or more: a treated vertebra's baseline "
        f"height loss (100 - RFVH) is at least {MIN_COLLAPSE_PERCENT} %",
    ),
    Rule("rule_exclude_pathological", "Exclude patients with a pathological fracture"),
)
RULE_FIELDS = tuple(rule.field for rule in RULES)

FILTER_KEYS = (
    "techniques",
    "sites",
    "date_from",
    "date_to",
    "age_min",
    "age_max",
    "sexes",
    "genant_grades",
    "region",
    "levels",
)


def normalise_filters(
    raw: Mapping[str, Any] | None,
    *,
    technique_codes: Iterable[str] | None = None,
    site_codes: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Validate and canonicalise filters; raise ValidationError naming every bad key.

    ``technique_codes`` / ``site_codes`` are the codes that exist; None skips that check
    (pure callers). Lists come back sorted and de-duplicated, empty values as None/[].
    """
    raw = dict(raw or {})
    errors: dict[str, str] = {}
    unknown = sorted(set(raw) - set(FILTER_KEYS))
    if unknown:
        errors["filters"] = f"Unknown filter(s): {', '.join(unknown)}."

    def codes(key: str, known: Iterable[str] | None) -> list[str]:
        values = _as_list(raw.get(key))
        if not all(isinstance(v, str) and v.strip() for v in values):
            errors[key] = "Give codes as text."
            return []
        cleaned = sorted({v.strip() for v in values})
        if known is not None:
            missing = sorted(set(cleaned) - set(known))
            if missing:
                errors[key] = f"Unknown code(s): {', '.join(missing)}."
        return cleaned

    result: dict[str, Any] = {
        "techniques": codes("techniques", technique_codes),
        "sites": codes("sites", site_codes),
        "date_from": _date_or_none(raw.get("date_from"), "date_from", errors),
        "date_to": _date_or_none(raw.get("date_to"), "date_to", errors),
        "age_min": _int_or_none(raw.get("age_min"), "age_min", errors, 0, 120),
        "age_max": _int_or_none(raw.get("age_max"), "age_max", errors, 0, 120),
        "sexes": codes("sexes", Sex.values),
        "genant_grades": [],
        "region": _choice_or_none(raw.get("region"), "region", REGIONS, errors),
        "levels": _choice_or_none(raw.get("levels"), "levels", LEVEL_COUNTS, errors),
    }
    grades = _as_list(raw.get("genant_grades"))
    try:
        result["genant_grades"] = sorted({int(g) for g in grades})
    except (TypeError, ValueError):
        errors["genant_grades"] = "Genant grades are 1, 2 or 3."
    else:
        if not set(result["genant_grades"]) <= set(GENANT_GRADES):
            errors["genant_grades"] = "Genant grades are 1, 2 or 3."
    if result["date_from"] and result["date_to"] and result["date_from"] > result["date_to"]:
        errors["date_to"] = "The end of the date range is before its start."
    if (
        result["age_min"] is not None
        and result["age_max"] is not None
        and result["age_min"] > result["age_max"]
    ):
        errors["age_max"] = "The maximum age is below the minimum age."
    if errors:
        raise ValidationError(errors)
    return result


def normalise_rules(raw: Mapping[str, Any] | None) -> dict[str, bool]:
    raw = raw or {}
    unknown = sorted(set(raw) - set(RULE_FIELDS))
    if unknown:
        raise ValidationError({"rules": f"Unknown rule(s): {', '.join(unknown)}."})
    return {field: bool(raw.get(field, False)) for field in RULE_FIELDS}


def canonical_json(filters: Mapping[str, Any], rules: Mapping[str, bool]) -> str:
    """One spelling per definition: normalised values, sorted keys, no whitespace."""
    document = {"version": DEFINITION_VERSION, "filters": filters, "rules": rules}
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def definition_hash(filters: Mapping[str, Any], rules: Mapping[str, bool]) -> str:
    """sha256 of the canonical definition; the name and owner are not part of it."""
    filters = normalise_filters(filters)
    rules = normalise_rules(rules)
    return hashlib.sha256(canonical_json(filters, rules).encode()).hexdigest()


def describe(filters: Mapping[str, Any], rules: Mapping[str, bool]) -> list[str]:
    """Plain-language lines for the cohort page and the result header."""
    f = normalise_filters(filters)
    lines = []
    if f["techniques"]:
        lines.append("Techniques: " + ", ".join(f["techniques"]))
    if f["sites"]:
        lines.append("Sites: " + ", ".join(f["sites"]))
    if f["date_from"] or f["date_to"]:
        lines.append(f"Procedure date: {f['date_from'] or '…'} to {f['date_to'] or '…'}")
    if f["age_min"] is not None or f["age_max"] is not None:
        low = f["age_min"] if f["age_min"] is not None else "…"
        high = f["age_max"] if f["age_max"] is not None else "…"
        lines.append(f"Age at procedure: {low} to {high}")
    if f["sexes"]:
        lines.append("Sex: " + ", ".join(f["sexes"]))
    if f["genant_grades"]:
        lines.append("Genant grade: " + ", ".join(str(g) for g in f["genant_grades"]))
    if f["region"]:
        lines.append(f"Region: {f['region']}")
    if f["levels"]:
        lines.append(f"Treated levels: {f['levels']}")
    lines += [rule.label for rule in RULES if rules.get(rule.field)]
    return lines or ["All active patients"]


def _as_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def _date_or_none(value: Any, key: str, errors: dict[str, str]) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        errors[key] = "Give a date as YYYY-MM-DD."
        return None


def _int_or_none(value: Any, key: str, errors: dict[str, str], low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[key] = "Give a whole number."
        return None
    if isinstance(value, float) and not value.is_integer():
        errors[key] = "Give a whole number."
        return None
    if not low <= number <= high:
        errors[key] = f"Give a number between {low} and {high}."
        return None
    return number


def _choice_or_none(
    value: Any, key: str, choices: Iterable[str], errors: dict[str, str]
) -> str | None:
    if value in (None, ""):
        return None
    if value not in tuple(choices):
        errors[key] = f"Choose one of: {', '.join(choices)}."
        return None
    return str(value)
