"""The result contract, published in the OpenAPI schema.

Aggregate responses are results of the contract (outcomes/api/aggregates.py), so their
schema is the contract's: `schema_for(analysis)` converted to OpenAPI 3.0 (`nullable`
instead of a type list, `enum` instead of `const`, `$defs` as components), beside the few
keys the API adds (`AggregateEnvelope`). `contract_components` is a drf-spectacular
postprocessing hook that adds those components; views reference them with
`aggregate_response(analysis)` and `result_response()`.
"""

from __future__ import annotations

from typing import Any

from outcomes.contract import schema_for, schemas
from outcomes.contract.fragments import COUNT, array, obj

PREFIX = "Contract"  # components: ContractTrajectoriesResult, Contract_continuous_summary, ...

ENVELOPE = obj(
    {
        "cohort": obj(
            {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "definition": array({"type": "string"}),
            }
        ),
        "cohort_hash": {"type": "string"},
        "computed_at": {"type": ["string", "null"], "format": "date-time"},
        "run": {"type": "integer"},
        "tests": array({"type": "string"}),
        "query": {"type": "object", "description": "The query parameters answered."},
        "suppression": obj(
            {
                "applied": {"type": "boolean"},
                "k": {"type": "integer"},
                "cells_withheld": COUNT,
                "text": {"type": "string"},
            }
        ),
    }
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def result_component(analysis: str) -> str:
    return PREFIX + "".join(part.title() for part in analysis.split("_")) + "Result"


def oas30(node: Any) -> Any:
    """A JSON Schema (draft 2020-12) node as an OpenAPI 3.0 schema object."""
    if isinstance(node, list):
        return [oas30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$schema", "$id", "$defs", "prefixItems"):
            continue
        if key == "$ref" and value.startswith("#/$defs/"):
            out[key] = f"#/components/schemas/{PREFIX}_{value.removeprefix('#/$defs/')}"
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "const":
            out["enum"] = [value]
        elif key == "anyOf" and {"type": "null"} in value:
            rest = [oas30(v) for v in value if v != {"type": "null"}]
            out.update({"allOf": rest} if len(rest) == 1 else {"anyOf": rest})
            out["nullable"] = True
        elif key in ("properties", "additionalProperties") and isinstance(value, dict):
            out[key] = (
                {name: oas30(sub) for name, sub in value.items()}
                if key == "properties"
                else oas30(value)
            )
        else:
            out[key] = oas30(value)
    if out.get("type") == "array" and "items" not in out:
        out["items"] = {}
    return out


def components() -> dict[str, Any]:
    """Every analysis' result and the shared fragments, as OpenAPI components."""
    found: dict[str, Any] = {"AggregateEnvelope": oas30(ENVELOPE)}
    for analysis, schema in schemas().items():
        for name, fragment in schema["$defs"].items():
            found[f"{PREFIX}_{name}"] = oas30(fragment)
        found[result_component(analysis)] = {
            "description": schema["title"] + f" ({schema['$id']}).",
            **oas30(schema),
        }
    return found


def aggregate_response(analysis: str) -> dict[str, Any]:
    """The raw response schema of an aggregate: a result of `analysis` with the envelope."""
    schema_for(analysis)  # a KeyError here, at import, for an analysis without a shape
    return {"allOf": [_ref(result_component(analysis)), _ref("AggregateEnvelope")]}


def result_response() -> dict[str, Any]:
    """A stored run's result: any analysis' result (its `analysis` tells which)."""
    return {"anyOf": [_ref(result_component(name)) for name in schemas()]}


def contract_components(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(components())
    return result
