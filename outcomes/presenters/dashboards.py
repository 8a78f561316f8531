"""Trends and benchmarking (the dashboards' analyses) as printed on the result page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from outcomes.presenters.base import DisplayTable, Section
from outcomes.presenters.base import ci_text as _ci
from outcomes.statistics import format_number


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


def present_trends(body: Mapping[str, Any]) -> list[Section]:
    return [trends_section(body)]


def present_benchmarking(body: Mapping[str, Any]) -> list[Section]:
    return [benchmarking_section(body)]
