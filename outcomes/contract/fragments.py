"""JSON Schema fragments of the shapes results are built from (`$defs` of every schema).

Machine keys stay beside display text: counts are integers, statistics numbers, tests codes
(`outcomes.variables.TEST_LABELS` gives their words), variables codes of
`outcomes.variables`. A count or statistic may be null: undefined (n < 2, no test), or
withheld by small-cell suppression (the object then lists it in `withheld`).
Objects allow extra keys: a later version may add keys, never rename or drop one.
"""

from __future__ import annotations

from typing import Any

NUMBER = {"type": ["number", "null"]}
COUNT = {"type": ["integer", "null"], "minimum": 0}
TEXT = {"type": ["string", "null"]}
WITHHELD = {"type": "array", "items": {"type": "string"}}


def obj(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **optional, "withheld": WITHHELD},
    }


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


DEFS: dict[str, Any] = {
    "continuous_summary": obj(
        {
            "n": COUNT,
            "n_missing": COUNT,
            "mean": NUMBER,
            "sd": NUMBER,
            "median": NUMBER,
            "q1": NUMBER,
            "q3": NUMBER,
            "min": NUMBER,
            "max": NUMBER,
            "ci_low": NUMBER,
            "ci_high": NUMBER,
            "confidence": {"type": "number"},
            "note": TEXT,
        }
    ),
    "test": obj({"test": TEXT, "n": COUNT, "statistic": NUMBER, "p": NUMBER, "note": TEXT}),
    "followup": obj(
        {
            "unit": {"enum": ["patient", "level"]},
            "n_in_window": COUNT,
            "n_out_of_window": COUNT,
            "n_out_of_window_left_out": COUNT,
            "n_out_of_window_let_in": COUNT,
            "n_missing": COUNT,
            "n_not_due": COUNT,
            "n_withdrawn": COUNT,
        }
    ),
    "paired": obj(
        {
            "n_paired": COUNT,
            "n_excluded": COUNT,
            "n_missing_before": COUNT,
            "n_missing_after": COUNT,
            "before": ref("continuous_summary"),
            "after": ref("continuous_summary"),
            "difference": ref("continuous_summary"),
            "test": TEXT,
            "mean_diff": NUMBER,
            "ci_low": NUMBER,
            "ci_high": NUMBER,
            "statistic": NUMBER,
            "df": NUMBER,
            "p": NUMBER,
            "nonparametric": {"anyOf": [ref("test"), {"type": "null"}]},
            "note": TEXT,
        }
    ),
    "group_comparison": obj(
        {
            "n": COUNT,
            "n_missing": COUNT,
            "n_excluded": COUNT,
            "groups": array(obj({"group": {}, "summary": ref("continuous_summary")})),
            "test": TEXT,
            "statistic": NUMBER,
            "df": NUMBER,
            "p": NUMBER,
            "mean_diff": NUMBER,
            "ci_low": NUMBER,
            "ci_high": NUMBER,
            "nonparametric": {"anyOf": [ref("test"), {"type": "null"}]},
            "note": TEXT,
        }
    ),
    "contingency": obj(
        {
            "n": COUNT,
            "row_labels": array({}),
            "col_labels": array({}),
            "observed": array(array(COUNT)),
            "test": TEXT,
            "statistic": NUMBER,
            "p": NUMBER,
            "pearson_chi2": NUMBER,
            "pearson_p": NUMBER,
            "warning": TEXT,
            "note": TEXT,
        }
    ),
    "proportion": obj(
        {
            "count": COUNT,
            "n": COUNT,
            "proportion": NUMBER,
            "percent": NUMBER,
            "ci_low": NUMBER,
            "ci_high": NUMBER,
        }
    ),
    "rate": obj(
        {
            "code": {"type": "string"},
            "label": {"type": "string"},
            "unit": {"enum": ["patient", "level", "device"]},
            "rates": array(
                obj(
                    {
                        "group": {},
                        "events": COUNT,
                        "n": COUNT,
                        "n_missing": COUNT,
                        "proportion": ref("proportion"),
                        "text": {"type": "string"},
                    }
                )
            ),
            "comparison": {"anyOf": [ref("contingency"), {"type": "null"}]},
        },
        not_applicable=array({"type": "string"}),
    ),
    "table": obj(
        {
            "title": {"type": "string"},
            "columns": array({"type": "string"}),
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "rows": array(
                obj(
                    {
                        "variable": {"type": "string"},
                        "category": {"type": "string"},
                        "variable_code": TEXT,
                        "level": {},
                        "cells": {"type": "object", "additionalProperties": {"type": "string"}},
                        "values": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "additionalProperties": {"type": ["number", "null"]},
                            },
                        },
                        "p": NUMBER,
                        "test": TEXT,
                        "test_label": TEXT,
                        "smd": NUMBER,
                        "n": COUNT,
                        "n_missing": COUNT,
                    }
                )
            ),
            "footnotes": array({"type": "string"}),
        }
    ),
}
