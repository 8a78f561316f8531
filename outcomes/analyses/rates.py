"""Rates (leakage, device rupture, adverse events) and perioperative items by technique.

Counts come aggregated from the database (`CohortData.level_counts`,
`adverse_event_counts`); the per-patient leakage and the perioperative items come from the
one-row-per-patient frame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from outcomes.analyses.base import Progress
from outcomes.selectors import PERIOPERATIVE, CohortData
from outcomes.statistics import compare_counts, compare_groups, rates_by_group, rates_from_counts
from registry.models import AdverseEventType, ClavienDindo, Leakage

# Techniques whose devices can rupture, and which (DOMAIN.md: balloons of PKP and VBS; the
# registry records balloons and stents together as devices). A Vesselplasty mesh container
# or a technique without devices is "not applicable", never 0/0; a technique an
# administrator adds is not applicable until it is listed here.
RUPTURABLE_DEVICES = {"PKP": "balloons", "VBS": "balloons and stents"}
NOT_APPLICABLE = "not applicable"


def _rate(code: str, label: str, counts: dict[str, tuple[int, int]], unit: str) -> dict[str, Any]:
    return {"code": code, "label": label, **rates_from_counts(counts, unit=unit).to_dict()}


def device_rupture(techniques: list[str], levels: pd.DataFrame) -> dict[str, Any]:
    """Rupture per device among the techniques with devices that can rupture."""
    applicable = [t for t in techniques if t in RUPTURABLE_DEVICES]
    counts = {
        t: (levels.at[t, "devices_ruptured"], levels.at[t, "devices_used"]) for t in applicable
    }
    item = _rate(
        "device_rupture",
        "Device rupture, per device (balloons of PKP, balloons and stents of VBS)",
        counts,
        "device",
    )
    item["devices"] = {t: RUPTURABLE_DEVICES[t] for t in applicable}
    item["not_applicable"] = [t for t in techniques if t not in RUPTURABLE_DEVICES]
    return item


def rates(data: CohortData, parameters: dict[str, Any], progress: Progress) -> dict:
    techniques = data.techniques
    patients = data.patients_per_technique
    levels = data.level_counts
    events = data.adverse_event_counts
    cases = data.cases

    per_patient = rates_by_group(
        cases, value_col="leaked", group_col="technique", groups=techniques, unit="patient"
    )
    leakage = [
        {
            "code": "leakage_per_patient",
            "label": "Cement leakage, per patient (any treated level)",
            **per_patient.to_dict(),
        },
        _rate(
            "leakage_per_level",
            "Cement leakage, per treated level",
            {t: (levels.at[t, "leaked_levels"], levels.at[t, "n_levels"]) for t in techniques},
            "level",
        ),
        *(
            _rate(
                f"leakage_{kind.value}",
                f"Leakage type {kind.label}, per treated level",
                {
                    t: (levels.at[t, f"yeom_{kind.value}"], levels.at[t, "n_levels"])
                    for t in techniques
                },
                "level",
            )
            for kind in (Leakage.B, Leakage.S, Leakage.C)
        ),
        _rate(
            "leakage_symptomatic",
            "Symptomatic leakage, per treated level",
            {t: (levels.at[t, "symptomatic"], levels.at[t, "n_levels"]) for t in techniques},
            "level",
        ),
    ]
    by_type = pd.DataFrame(
        {
            "none": levels["n_levels"] - levels["leaked_levels"],
            **{kind: levels[f"yeom_{kind}"] for kind in ("B", "S", "C")},
        }
    )
    progress(0.3)
    devices = device_rupture(techniques, levels)
    adverse = [
        _rate(
            "adverse_event_any",
            "Any adverse event, per patient",
            {t: (events["any"][t], patients[t]) for t in techniques},
            "patient",
        ),
        *(
            _rate(
                f"adverse_event_{kind.value}",
                f"{kind.label}, per patient",
                {t: (events["type"].at[t, kind.value], patients[t]) for t in techniques},
                "patient",
            )
            for kind in AdverseEventType
        ),
        *(
            _rate(
                f"clavien_dindo_{grade.value}",
                f"Clavien-Dindo grade {grade.label}, per patient",
                {t: (events["grade"].at[t, grade.value], patients[t]) for t in techniques},
                "patient",
            )
            for grade in ClavienDindo
        ),
    ]
    progress(0.6)
    perioperative = [
        {
            "label": label,
            "variable": column,
            "decimals": decimals,
            **compare_groups(
                cases, value_col=column, group_col="technique", groups=techniques
            ).to_dict(),
        }
        for column, (label, decimals) in PERIOPERATIVE.items()
    ]
    progress(1.0)
    return {
        "techniques": techniques,
        "leakage": leakage,
        "leakage_types": {
            "code": "leakage_types",
            "label": "Leakage by Yeom type, per treated level",
            "col_names": {
                "none": "None",
                **{k.value: k.label for k in (Leakage.B, Leakage.S, Leakage.C)},
            },
            **compare_counts(by_type, level_names=dict(Leakage.choices)).to_dict(),
        },
        "device_rupture": [devices],
        "adverse_events": adverse,
        "perioperative": perioperative,
    }
