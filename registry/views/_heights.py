"""The heights typed on the fractures page, carried explicitly to the baseline radiographs.

They are an aid (they suggest a Genant grade and prefill the baseline films), not a record:
the fractures page puts them in the procedure page's address, the procedure page carries them
in a hidden field, and the baseline visit form starts from them. No session state: two tabs
entering two patients never mix, and a stale value cannot prefill another case.
Format: "T12:20.5/30/31;L1:..." (anterior / above / below, mm). Anything unparsable is dropped.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from registry import vertebrae
from registry.forms.fractures import AID_FIELDS

PARAM = "heights"
MAX_LENGTH = 600


def encode(heights: dict[str, dict[str, str]]) -> str:
    parts = []
    for level, values in heights.items():
        numbers = "/".join(str(values.get(name, "")) for name in AID_FIELDS)
        parts.append(f"{level}:{numbers}")
    return ";".join(parts)


def decode(text: str | None) -> dict[str, dict[str, str]]:
    heights: dict[str, dict[str, str]] = {}
    if not text or len(text) > MAX_LENGTH:
        return heights
    for part in text.split(";"):
        level, _, numbers = part.partition(":")
        if level not in vertebrae.LEVELS:
            continue
        values = {}
        for name, raw in zip(AID_FIELDS, numbers.split("/"), strict=False):
            try:
                number = Decimal(raw)
            except (InvalidOperation, ValueError):
                continue
            if number.is_finite() and 0 < number < 1000:
                values[name] = str(number)
        if values:
            heights[level] = values
    return heights
