"""Literal stored results, in the layout the analyses store today, for the builders."""

from __future__ import annotations


def summary(n, mean, low, high):
    return {
        "n": n,
        "n_missing": 0,
        "mean": mean,
        "sd": 1.0,
        "median": mean,
        "q1": mean,
        "q3": mean,
        "min": mean,
        "max": mean,
        "ci_low": low,
        "ci_high": high,
        "confidence": 0.95,
        "note": None,
    }


def change(n, diff, low, high):
    return {
        "n_paired": n,
        "n_excluded": 0,
        "test": "paired_t",
        "mean_diff": diff,
        "ci_low": low,
        "ci_high": high,
        "p": 1e-6,
        "note": None,
    }


def comparison(n, p, test="welch_t"):
    return {"n": n, "n_missing": 0, "test": test, "p": p, "note": None}


TRAJECTORIES = {
    "analysis": "trajectories",
    "cohort": {"n_patients": 60},
    "body": {
        "outcomes": [
            {
                "key": "vas",
                "label": "VAS back pain",
                "decimals": 1,
                "groups": ["PKP", "PVP"],
                "timepoints": ["baseline", "12w"],
                "summaries": [
                    {
                        "group": "PKP",
                        "timepoint": "baseline",
                        "summary": summary(30, 8.5, 8.1, 8.9),
                    },
                    {"group": "PKP", "timepoint": "12w", "summary": summary(28, 2.0, 1.6, 2.4)},
                    {
                        "group": "PVP",
                        "timepoint": "baseline",
                        "summary": summary(30, 8.0, 7.6, 8.4),
                    },
                    {"group": "PVP", "timepoint": "12w", "summary": summary(3, 3.0, 1.0, 5.0)},
                ],
                "changes": [
                    {"group": "PKP", "timepoint": "12w", "change": change(28, -6.5, -7.0, -6.0)},
                    {"group": "PVP", "timepoint": "12w", "change": change(3, -5.0, -8.0, -2.0)},
                ],
                "comparisons": [
                    {"timepoint": "baseline", "of": "value", "comparison": comparison(60, 0.2)},
                    {"timepoint": "12w", "of": "value", "comparison": comparison(31, 0.0004)},
                    {"timepoint": "12w", "of": "change", "comparison": comparison(31, 0.03)},
                ],
            }
        ]
    },
}


def rate(group, events, n, low, high):
    return {
        "group": group,
        "events": events,
        "n": n,
        "n_missing": 0,
        "proportion": {
            "count": events,
            "n": n,
            "proportion": events / n if n else None,
            "ci_low": low,
            "ci_high": high,
        },
        "text": f"{events}/{n}",
    }


RATES = {
    "analysis": "rates",
    "cohort": {"n_patients": 95},
    "body": {
        "techniques": ["PVP", "VESSELPLASTY"],
        "leakage": [
            {
                "label": "Cement leakage, per patient (any treated level)",
                "unit": "patient",
                "rates": [rate("PVP", 6, 41, 0.07, 0.28), rate("VESSELPLASTY", 1, 54, 0.003, 0.1)],
                "comparison": {"test": "fisher_exact", "p": 0.040},
            },
            {
                "label": "Cement leakage, per treated level",
                "unit": "level",
                "rates": [rate("PVP", 7, 50, 0.07, 0.26), rate("VESSELPLASTY", 1, 60, 0.003, 0.09)],
                "comparison": {"test": "fisher_exact", "p": 0.02},
            },
            {
                "label": "Leakage type B, per treated level",
                "unit": "level",
                "rates": [],
                "comparison": None,
            },
        ],
        "leakage_types": {
            "label": "Leakage by Yeom type, per treated level",
            "row_labels": ["PVP", "VESSELPLASTY"],
            "col_labels": ["none", "B", "S", "C"],
            "observed": [[43, 4, 2, 1], [59, 1, 0, 0]],
        },
        "device_rupture": [
            {
                "label": "Device rupture, per device (balloons, stents)",
                "unit": "device",
                "rates": [rate("PVP", 0, 0, None, None), rate("VESSELPLASTY", 0, 0, None, None)],
                "comparison": {"test": None, "p": None},
            },
        ],
        "adverse_events": [
            {
                "label": "Any adverse event, per patient",
                "unit": "patient",
                "rates": [rate("PVP", 2, 41, 0, 0.1), rate("VESSELPLASTY", 1, 54, 0, 0.1)],
            },
            {
                "label": "Clavien-Dindo grade I, per patient",
                "unit": "patient",
                "rates": [rate("PVP", 2, 41, 0, 0.1), rate("VESSELPLASTY", 0, 54, 0, 0.1)],
            },
            {
                "label": "Clavien-Dindo grade II, per patient",
                "unit": "patient",
                "rates": [rate("PVP", 0, 41, 0, 0.1), rate("VESSELPLASTY", 1, 54, 0, 0.1)],
            },
        ],
        "perioperative": [],
    },
}

TRENDS = {
    "analysis": "trends",
    "cohort": {"n_patients": 40},
    "body": {
        "techniques": ["PKP"],
        "quarters": ["2024 Q1", "2024 Q2"],
        "measures": [
            {
                "key": "leakage",
                "label": "Cement leakage per patient",
                "unit": "proportion",
                "points": [
                    {
                        "technique": "PKP",
                        "quarter": "2024 Q2",
                        "n": 20,
                        "events": 5,
                        "value": 0.25,
                        "ci_low": 0.11,
                        "ci_high": 0.47,
                    },
                    {
                        "technique": "PKP",
                        "quarter": "2024 Q1",
                        "n": 20,
                        "events": 2,
                        "value": 0.1,
                        "ci_low": 0.03,
                        "ci_high": 0.3,
                    },
                ],
            },
            {
                "key": "vas_gain_12w",
                "label": "VAS improvement, baseline to 12 weeks",
                "unit": "VAS points",
                "points": [],
            },
        ],
    },
}

BENCHMARKING = {
    "analysis": "benchmarking",
    "cohort": {"n_patients": 300},
    "body": {
        "as_of": "2026-06-30",
        "measures": [
            {
                "key": "leakage",
                "label": "Cement leakage, per patient (any treated level)",
                "unit": "patient",
                "registry": {"events": 60, "n": 300, "rate": 0.2},
                "limits": {
                    "n": [1, 100, 200],
                    "lower95": [0, 0.12, 0.145],
                    "upper95": [1, 0.28, 0.256],
                    "lower998": [0, 0.09, 0.12],
                    "upper998": [1, 0.32, 0.29],
                },
                "units": [
                    {
                        "level": "site",
                        "site_id": 1,
                        "surgeon_id": None,
                        "events": 30,
                        "n": 150,
                        "rate": 0.2,
                        "outside95": False,
                        "outside998": False,
                    },
                    {
                        "level": "site",
                        "site_id": 2,
                        "surgeon_id": None,
                        "events": 27,
                        "n": 100,
                        "rate": 0.27,
                        "outside95": False,
                        "outside998": False,
                    },
                    {
                        "level": "site",
                        "site_id": 3,
                        "surgeon_id": None,
                        "events": 3,
                        "n": 50,
                        "rate": 0.06,
                        "outside95": True,
                        "outside998": True,
                    },
                    {
                        "level": "surgeon",
                        "site_id": 1,
                        "surgeon_id": 11,
                        "events": 20,
                        "n": 100,
                        "rate": 0.2,
                        "outside95": False,
                        "outside998": False,
                    },
                    {
                        "level": "surgeon",
                        "site_id": 1,
                        "surgeon_id": 12,
                        "events": 10,
                        "n": 50,
                        "rate": 0.2,
                        "outside95": False,
                        "outside998": False,
                    },
                    {
                        "level": "surgeon",
                        "site_id": 2,
                        "surgeon_id": 21,
                        "events": 27,
                        "n": 100,
                        "rate": 0.27,
                        "outside95": False,
                        "outside998": False,
                    },
                ],
            }
        ],
    },
}
