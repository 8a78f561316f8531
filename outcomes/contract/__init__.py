"""The result contract: the declared shape of every analysis' stored result.

`schema_for(analysis)` is the JSON Schema (draft 2020-12) of one analysis' result, the
envelope included; the REST API publishes it, `validate(result)` checks a result against
it, and a test validates every analysis' stored result. `SCHEMA_VERSION` is stored in
each result (`schema_version`): it moves when a key is renamed or removed (adding a key
does not), so a client can tell which shape it holds.

Conventions: machine keys beside display text (`test` is a code, `test_label` or
`outcomes.variables.TEST_LABELS` its words; rows carry `variable_code` and `level`);
cells carry their numbers (`values`); counts are integers or null (withheld or undefined).
"""

from __future__ import annotations

from typing import Any

import jsonschema

from outcomes.contract.fragments import COUNT, DEFS, NUMBER, TEXT, array, obj, ref

SCHEMA_VERSION = 2  # 1: the results of issue 4, without a declared shape

_TIMEPOINT_ITEM = {"group": {}, "timepoint": {"type": "string"}, "timepoint_label": TEXT}

TRAJECTORY = obj(
    {
        "key": {"type": "string"},
        "variable": {"type": "string"},
        "label": {"type": "string"},
        "decimals": {"type": "integer"},
        "unit_of_analysis": {"enum": ["patient", "level"]},
        "out_of_window": {"enum": ["left out", "let in"]},
        "groups": array({}),
        "timepoints": array({"type": "string"}),
        "n_units": COUNT,
        "n_excluded": COUNT,
        "summaries": array(
            obj(
                {
                    **_TIMEPOINT_ITEM,
                    "summary": ref("continuous_summary"),
                    "followup": ref("followup"),
                }
            )
        ),
        "changes": array(
            obj({**_TIMEPOINT_ITEM, "change": ref("paired"), "followup": ref("followup")})
        ),
        "comparisons": array(
            obj(
                {
                    "timepoint": {"type": "string"},
                    "of": {"enum": ["value", "change"]},
                    "comparison": ref("group_comparison"),
                    "followup": array(ref("followup")),
                }
            )
        ),
    }
)
TRAJECTORIES = obj({"outcomes": array(TRAJECTORY), "as_of": {"type": "string", "format": "date"}})
RATES = obj(
    {
        "techniques": array({"type": "string"}),
        "leakage": array(ref("rate")),
        "leakage_types": {"allOf": [ref("contingency"), obj({"code": {"type": "string"}})]},
        "device_rupture": array(ref("rate")),
        "adverse_events": array(ref("rate")),
        "perioperative": array(
            {
                "allOf": [
                    ref("group_comparison"),
                    obj({"label": {"type": "string"}, "variable": {"type": "string"}}),
                ]
            }
        ),
    }
)
TABLE1 = obj({"table": ref("table"), "text": TEXT})  # null once suppressed
TABLE2 = obj(
    {
        "tables": array(obj({"technique": {"type": "string"}, "table": ref("table")})),
        "followup": {"type": "string"},
        "as_of": {"type": "string"},
    }
)
LOGISTIC = obj(
    {
        "outcome": {"type": "string"},
        "outcome_label": {"type": "string"},
        "predictors": array({"type": "string"}),
        "predictor_labels": {"type": "object"},
        "status": {"enum": ["ok", "refused"]},
        "refusal": TEXT,
        "reason": TEXT,
        "test": TEXT,
        "n": COUNT,
        "n_missing": COUNT,
        "events": COUNT,
        "non_events": COUNT,
        "terms": array(
            obj(
                {
                    "term": {"type": "string"},
                    "odds_ratio": NUMBER,
                    "ci_low": NUMBER,
                    "ci_high": NUMBER,
                    "p": NUMBER,
                    "coefficient": NUMBER,
                    "std_error": NUMBER,
                    "z": NUMBER,
                }
            )
        ),
    }
)
_POINT = obj(
    {
        "technique": {"type": "string"},
        "quarter": {"type": "string"},
        "n": COUNT,
        "value": NUMBER,
        "ci_low": NUMBER,
        "ci_high": NUMBER,
    },
    events=COUNT,
)
TRENDS = obj(
    {
        "techniques": array({"type": "string"}),
        "quarters": array({"type": "string"}),
        "measures": array(
            obj({"key": {"type": "string"}, "label": {"type": "string"}, "points": array(_POINT)})
        ),
    }
)
BENCHMARKING = obj(
    {
        "as_of": {"type": "string"},
        "measures": array(
            obj(
                {
                    "label": {"type": "string"},
                    "registry": obj({"events": COUNT, "n": COUNT, "rate": NUMBER}),
                    "units": array(
                        obj(
                            {
                                "level": {"enum": ["site", "surgeon"]},
                                "site_id": {"type": "integer"},
                                "events": COUNT,
                                "n": COUNT,
                                "rate": NUMBER,
                            }
                        )
                    ),
                }
            )
        ),
    }
)
STANDARD_REPORT = obj({"trajectories": TRAJECTORIES, "rates": RATES, "table1": TABLE1})

BODIES: dict[str, dict[str, Any]] = {
    "standard_report": STANDARD_REPORT,
    "trajectories": TRAJECTORIES,
    "rates": RATES,
    "table1": TABLE1,
    "table2": TABLE2,
    "logistic": LOGISTIC,
    "trends": TRENDS,
    "benchmarking": BENCHMARKING,
}


def schema_for(analysis: str) -> dict[str, Any]:
    """The JSON Schema of a stored result of `analysis` (envelope and body)."""
    if analysis not in BODIES:
        raise KeyError(f"no declared shape for analysis {analysis!r}")
    envelope = obj(
        {
            "analysis": {"const": analysis},
            "label": {"type": "string"},
            "schema_version": {"const": SCHEMA_VERSION},
            "parameters": {"type": "object"},
            "cohort": obj(
                {
                    "n_patients": COUNT,
                    "techniques": array(
                        {"type": "array", "prefixItems": [{"type": "string"}, COUNT]}
                    ),
                    "unit_of_analysis": {"type": "string"},
                }
            ),
            "as_of": {"type": ["string", "null"]},
            "data_version": {"type": "string"},
            "software_version": {"type": "string"},
            "body": BODIES[analysis],
        },
        suppression={"type": ["object", "null"]},
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:ovcf-registry:result:{analysis}:v{SCHEMA_VERSION}",
        "title": f"Result of the {analysis} analysis",
        **envelope,
        "$defs": DEFS,
    }


def schemas() -> dict[str, dict[str, Any]]:
    return {name: schema_for(name) for name in BODIES}


def errors(result: dict[str, Any]) -> list[str]:
    """Every way `result` departs from its analysis' declared shape ('' path = the root)."""
    validator = jsonschema.Draft202012Validator(schema_for(result.get("analysis", "")))
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(result), key=lambda e: list(e.absolute_path))
    ]


def validate(result: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` when `result` does not have its declared shape."""
    jsonschema.Draft202012Validator(schema_for(result["analysis"])).validate(result)


__all__ = ["SCHEMA_VERSION", "errors", "schema_for", "schemas", "validate"]
