"""The one reader of stored result JSON for the dashboards.

Every key of a stored result that a figure or a table needs is named here and nowhere
else, so a change of the result layout (the result contract of the statistics issue)
is adapted in this module. What comes out are small records with plain numbers; the
figure builders never look inside a result.

Where a result includes patients outside the viewer's sites (the registry-wide
reference, other sites' benchmark points) the records are passed through
`outcomes.dashboards.cells` for small-cell suppression before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TIMEPOINT_LABELS = {"baseline": "Baseline", "2w": "2 weeks", "12w": "12 weeks", "1y": "1 year"}
TEST_LABELS = {
    "paired_t": "paired t-test",
    "wilcoxon_signed_rank": "Wilcoxon signed-rank test",
    "welch_t": "Welch's t-test",
    "mann_whitney_u": "Mann-Whitney U test",
    "one_way_anova": "one-way ANOVA",
    "kruskal_wallis": "Kruskal-Wallis test",
    "pearson_chi2": "Pearson's chi-square test",
    "fisher_exact": "Fisher's exact test",
    "logistic_regression": "logistic regression",
}


def test_label(code: str | None) -> str:
    return TEST_LABELS.get(code or "", code or "")


def timepoint_label(code: str) -> str:
    return TIMEPOINT_LABELS.get(code, code)


@dataclass
class Estimate:
    """A mean (or a rate, as a proportion) with its 95 % CI and how many it rests on."""

    group: str
    x: str  # timepoint, quarter or category
    n: int
    value: float | None
    low: float | None
    high: float | None
    events: int | None = None  # rates only
    withheld: bool = False


@dataclass
class Comparison:
    x: str
    test: str
    p: float | None
    n: int


@dataclass
class OutcomeSeries:
    key: str
    label: str
    decimals: int
    timepoints: list[str]
    groups: list[str]
    values: list[Estimate] = field(default_factory=list)
    changes: list[Estimate] = field(default_factory=list)
    between: list[Comparison] = field(default_factory=list)
    between_change: list[Comparison] = field(default_factory=list)


def _trajectory_body(result: Mapping[str, Any]) -> Mapping[str, Any]:
    body = result["body"]
    return body["trajectories"] if result["analysis"] == "standard_report" else body


def outcome_series(result: Mapping[str, Any]) -> list[OutcomeSeries]:
    """Means per technique per timepoint, changes from baseline, and the between-technique
    tests, from a `trajectories` or `standard_report` result."""
    series = []
    for outcome in _trajectory_body(result)["outcomes"]:
        item = OutcomeSeries(
            key=outcome["key"],
            label=outcome["label"],
            decimals=int(outcome["decimals"]),
            timepoints=list(outcome["timepoints"]),
            groups=[str(g) for g in outcome["groups"]],
        )
        for entry in outcome["summaries"]:
            s = entry["summary"]
            item.values.append(
                Estimate(
                    str(entry["group"]),
                    entry["timepoint"],
                    int(s["n"]),
                    s["mean"],
                    s["ci_low"],
                    s["ci_high"],
                )
            )
        for entry in outcome["changes"]:
            c = entry["change"]
            item.changes.append(
                Estimate(
                    str(entry["group"]),
                    entry["timepoint"],
                    int(c["n_paired"]),
                    c["mean_diff"],
                    c["ci_low"],
                    c["ci_high"],
                )
            )
        for entry in outcome["comparisons"]:
            c = entry["comparison"]
            target = item.between if entry["of"] == "value" else item.between_change
            target.append(Comparison(entry["timepoint"], c.get("test") or "", c["p"], int(c["n"])))
        series.append(item)
    return series


# ---------------------------------------------------------------- rates


@dataclass
class RateSet:
    label: str
    unit: str
    rates: list[Estimate]
    test: str = ""
    p: float | None = None


@dataclass
class CountTable:
    """A technique x category table of counts (leakage by Yeom type, Clavien-Dindo)."""

    label: str
    groups: list[str]
    categories: list[str]
    counts: list[list[int | None]]  # None: withheld


@dataclass
class Complications:
    techniques: list[str]
    leakage: list[RateSet]  # per patient, per level
    leakage_types: CountTable
    clavien_dindo: CountTable
    device_rupture: RateSet


def _rate_set(item: Mapping[str, Any]) -> RateSet:
    rates = []
    for rate in item["rates"]:
        p = rate["proportion"]
        rates.append(
            Estimate(
                str(rate["group"]),
                str(rate["group"]),
                int(rate["n"]),
                p["proportion"],
                p["ci_low"],
                p["ci_high"],
                events=int(rate["events"]),
            )
        )
    comparison = item.get("comparison") or {}
    return RateSet(
        item["label"], item["unit"], rates, comparison.get("test") or "", comparison.get("p")
    )


_GRADE_PREFIX = "Clavien-Dindo grade "


def complications(result: Mapping[str, Any]) -> Complications:
    """From a `rates` or `standard_report` result."""
    body = result["body"]
    body = body["rates"] if result["analysis"] == "standard_report" else body
    techniques = [str(t) for t in body["techniques"]]
    leakage = [_rate_set(item) for item in body["leakage"] if item["label"].startswith("Cement")]
    types = body["leakage_types"]
    grades = [item for item in body["adverse_events"] if item["label"].startswith(_GRADE_PREFIX)]
    by_group = {t: [] for t in techniques}
    for item in grades:
        events = {str(r["group"]): int(r["events"]) for r in item["rates"]}
        for technique in techniques:
            by_group[technique].append(events.get(technique, 0))
    clavien = CountTable(
        "Patients with an adverse event, by worst Clavien-Dindo grade",
        techniques,
        [item["label"].removeprefix(_GRADE_PREFIX).split(",")[0] for item in grades],
        [by_group[t] for t in techniques],
    )
    return Complications(
        techniques=techniques,
        leakage=leakage,
        leakage_types=CountTable(
            types["label"],
            [str(g) for g in types["row_labels"]],
            [str(c) for c in types["col_labels"]],
            [[int(n) for n in row] for row in types["observed"]],
        ),
        clavien_dindo=clavien,
        device_rupture=_rate_set(body["device_rupture"][0]),
    )


# ---------------------------------------------------------------- trends


@dataclass
class TrendSeries:
    key: str
    label: str
    unit: str
    quarters: list[str]
    groups: list[str]
    points: list[Estimate]


def trends(result: Mapping[str, Any]) -> list[TrendSeries]:
    body = result["body"]
    series = []
    for measure in body["measures"]:
        points = [
            Estimate(
                str(p["technique"]),
                p["quarter"],
                int(p["n"]),
                p["value"],
                p["ci_low"],
                p["ci_high"],
                events=p.get("events"),
            )
            for p in measure["points"]
        ]
        series.append(
            TrendSeries(
                measure["key"],
                measure["label"],
                measure["unit"],
                list(body["quarters"]),
                [str(t) for t in body["techniques"]],
                points,
            )
        )
    return series


# ---------------------------------------------------------------- benchmarking


@dataclass
class FunnelUnit:
    level: str  # "site" or "surgeon"
    site_id: int
    surgeon_id: int | None
    events: int | None
    n: int | None
    rate: float | None
    outside95: bool
    outside998: bool
    name: str = ""  # filled in by the viewer's rules (named, unnamed, "you")
    own: bool = False
    withheld: bool = False


@dataclass
class Funnel:
    key: str
    label: str
    unit: str
    events: int
    n: int
    rate: float | None
    limits: dict[str, list[float | None]]
    units: list[FunnelUnit]
    withheld: int = 0
    blocked: str = ""  # why the whole plot is withheld for this viewer


def funnels(result: Mapping[str, Any]) -> list[Funnel]:
    measures = []
    for measure in result["body"]["measures"]:
        registry = measure["registry"]
        measures.append(
            Funnel(
                key=measure["key"],
                label=measure["label"],
                unit=measure["unit"],
                events=int(registry["events"]),
                n=int(registry["n"]),
                rate=registry["rate"],
                limits={key: list(values) for key, values in measure["limits"].items()},
                units=[
                    FunnelUnit(
                        level=u["level"],
                        site_id=int(u["site_id"]),
                        surgeon_id=u.get("surgeon_id"),
                        events=int(u["events"]),
                        n=int(u["n"]),
                        rate=u["rate"],
                        outside95=bool(u["outside95"]),
                        outside998=bool(u["outside998"]),
                    )
                    for u in measure["units"]
                ],
            )
        )
    return measures


# ---------------------------------------------------------------- tables 1 and 2


def table1(result: Mapping[str, Any]) -> Mapping[str, Any]:
    """The stored `outcomes.statistics.Table` of Table 1 (`table1` or `standard_report`)."""
    body = result["body"]
    return (body["table1"] if result["analysis"] == "standard_report" else body)["table"]


def table2(result: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(str(item["technique"]), item["table"]) for item in result["body"]["tables"]]


def n_patients(result: Mapping[str, Any]) -> int:
    return int(result["cohort"]["n_patients"])
