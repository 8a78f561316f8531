"""Stored results (JSON) to printable sections for the result page.

Each analysis owns its presenter (`Analysis.present`, one module here per analysis
family); `sections` dispatches on the result's analysis. Every section is made of
`DisplayTable`s of text cells, so one template prints them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from outcomes.presenters.base import DisplayTable, Section


def sections(result: Mapping[str, Any]) -> list[Section]:
    from outcomes.analyses import get_analysis  # analyses import the presenters

    try:
        analysis = get_analysis(result["analysis"])
    except ValueError:
        raise ValueError(f"no presenter for {result['analysis']!r}") from None
    return analysis.present(result["body"])


def parameter_lines(result: Mapping[str, Any]) -> list[str]:
    """'Follow-up: 12 weeks' for every parameter of the run, in words."""
    from outcomes.analyses import get_analysis
    from outcomes.variables import timepoint_label

    try:
        declared = get_analysis(result["analysis"]).parameters
    except ValueError:
        declared = {}
    lines = []
    for name, value in (result.get("parameters") or {}).items():
        parameter = declared.get(name)
        names = dict(getattr(parameter, "names", None) or {})

        def word(item: Any, names: dict = names) -> str:
            return names.get(item) or timepoint_label(str(item)) or str(item)

        shown = ", ".join(word(v) for v in value) if isinstance(value, list) else word(value)
        lines.append(f"{getattr(parameter, 'label', name)}: {shown or 'none'}")
    return lines


__all__ = ["DisplayTable", "Section", "parameter_lines", "sections"]
