"""The one reader of stored result JSON for the dashboards.

Every key of a stored result that a figure or a table needs is named here and nowhere
else, so a change of the result layout (the result contract of the statistics issue)
is adapted in this module. What comes out are small records with plain numbers; the
figure builders never look inside a result.

Where a result includes patients outside the viewer's sites (the registry-wide
reference, other sites' benchmark points) it goes through the one suppression function,
`outcomes.suppression.suppress`, in `shown` below, before any record is read from it: a
withheld value is `null` there and `withheld` (with the "<5" text as `mask`) in the
records, and the figure builders draw nothing of it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from outcomes import variables
from outcomes.suppression import suppress


def shown(
    result: Mapping[str, Any],
    *,
    registry_wide: bool,
    visible_sites: Collection[int] = (),
    k: int | None = None,
) -> Mapping[str, Any]:
    """What a viewer may see of a stored result: itself when it holds only patients of
    the viewer's sites; else small-cell suppressed. A benchmarking result keeps the
    points of the viewer's own (visible) sites as they are; the registry line and the
    other sites' points are suppressed together, so that (with the registry total and
    the viewer's points shown) no withheld point can be recovered by subtraction."""
    if not registry_wide:
        return result
    if result["analysis"] != "benchmarking":
        return suppress(dict(result), k=k)
    visible = set(visible_sites)
    measures = result["body"]["measures"]

    def others(units: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        # other sites' surgeons are never shown (see Viewer.label_funnel)
        return [u for u in units if u["site_id"] not in visible and u["level"] == "site"]

    body = {**result["body"], "measures": [{**m, "units": others(m["units"])} for m in measures]}
    outside = {**result, "body": body}
    out = suppress(outside, analysis="benchmarking", k=k)
    for measure, original in zip(out["body"]["measures"], measures, strict=True):
        measure["units"] = [u for u in original["units"] if u["site_id"] in visible] + measure[
            "units"
        ]
    return out


def mask_of(result: Mapping[str, Any]) -> str:
    """How a withheld cell reads ("<5"), from the result's suppression stamp."""
    return (result.get("suppression") or {}).get("text") or ""


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def _withheld(holder: Mapping[str, Any], *keys: str) -> bool:
    listed = holder.get("withheld") or ()
    return any(key in listed for key in keys)


def test_label(code: str | None) -> str:
    """A test's name as a figure's note has it, inside a sentence (`variables`' words)."""
    return variables.test_label(code, in_sentence=True)


def timepoint_label(code: str) -> str:
    """A timepoint as a chart's axis has it: "Baseline", "2 weeks" (`variables`' words)."""
    return variables.timepoint_label(code, short=True)


@dataclass
class Estimate:
    """A mean (or a rate, as a proportion) with its 95 % CI and how many it rests on."""

    group: str
    x: str  # timepoint, quarter or category
    n: int | None  # None: withheld
    value: float | None
    low: float | None
    high: float | None
    events: int | None = None  # rates only
    withheld: bool = False
    mask: str = ""  # how a withheld count reads: "<5"


@dataclass
class Comparison:
    x: str
    test: str
    p: float | None
    n: int | None  # None: withheld
    withheld: bool = False
    mask: str = ""


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
    mask = mask_of(result)
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
                    _count(s["n"]),
                    s["mean"],
                    s["ci_low"],
                    s["ci_high"],
                    withheld=_withheld(s, "n", "mean"),
                    mask=mask,
                )
            )
        for entry in outcome["changes"]:
            c = entry["change"]
            item.changes.append(
                Estimate(
                    str(entry["group"]),
                    entry["timepoint"],
                    _count(c["n_paired"]),
                    c["mean_diff"],
                    c["ci_low"],
                    c["ci_high"],
                    withheld=_withheld(c, "n_paired", "mean_diff"),
                    mask=mask,
                )
            )
        for entry in outcome["comparisons"]:
            c = entry["comparison"]
            target = item.between if entry["of"] == "value" else item.between_change
            target.append(
                Comparison(
                    entry["timepoint"],
                    c.get("test") or "",
                    c["p"],
                    _count(c["n"]),
                    withheld=_withheld(c, "n", "p", "mean_diff"),
                    mask=mask,
                )
            )
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
    mask: str = ""


@dataclass
class Complications:
    techniques: list[str]
    leakage: list[RateSet]  # per patient, per level
    leakage_types: CountTable
    clavien_dindo: CountTable
    device_rupture: RateSet


def _rate_set(item: Mapping[str, Any], mask: str = "") -> RateSet:
    rates = []
    for rate in item["rates"]:
        p = rate["proportion"]
        rates.append(
            Estimate(
                str(rate["group"]),
                str(rate["group"]),
                _count(rate["n"]),
                p["proportion"],
                p["ci_low"],
                p["ci_high"],
                events=_count(rate["events"]),
                withheld=_withheld(rate, "n", "events"),
                mask=mask,
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
    mask = mask_of(result)
    techniques = [str(t) for t in body["techniques"]]
    leakage = [
        _rate_set(item, mask) for item in body["leakage"] if item["label"].startswith("Cement")
    ]
    types = body["leakage_types"]
    grades = [item for item in body["adverse_events"] if item["label"].startswith(_GRADE_PREFIX)]
    by_group: dict[str, list[int | None]] = {t: [] for t in techniques}
    for item in grades:
        events = {str(r["group"]): _count(r["events"]) for r in item["rates"]}
        for technique in techniques:
            by_group[technique].append(events.get(technique, 0))
    clavien = CountTable(
        "Patients with an adverse event, by worst Clavien-Dindo grade",
        techniques,
        [item["label"].removeprefix(_GRADE_PREFIX).split(",")[0] for item in grades],
        [by_group[t] for t in techniques],
        mask,
    )
    return Complications(
        techniques=techniques,
        leakage=leakage,
        leakage_types=CountTable(
            types["label"],
            [str(g) for g in types["row_labels"]],
            [str(c) for c in types["col_labels"]],
            [[_count(n) for n in row] for row in types["observed"]],
            mask,
        ),
        clavien_dindo=clavien,
        device_rupture=_rate_set(body["device_rupture"][0], mask),
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
    mask = mask_of(result)
    series = []
    for measure in body["measures"]:
        points = [
            Estimate(
                str(p["technique"]),
                p["quarter"],
                _count(p["n"]),
                p["value"],
                p["ci_low"],
                p["ci_high"],
                events=_count(p.get("events")),
                withheld=_withheld(p, "n", "events", "value"),
                mask=mask,
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
    mask: str = ""


@dataclass
class Funnel:
    key: str
    label: str
    unit: str
    events: int | None  # None: withheld
    n: int | None
    rate: float | None
    limits: dict[str, list[float | None]]
    units: list[FunnelUnit]
    withheld: int = 0
    blocked: str = ""  # why the whole plot is withheld for this viewer
    as_of: str = ""  # the run's as-of date: which follow-up windows had closed
    mask: str = ""


def funnels(result: Mapping[str, Any]) -> list[Funnel]:
    measures = []
    mask = mask_of(result)
    as_of = result.get("as_of") or result["body"].get("as_of") or ""
    for measure in result["body"]["measures"]:
        registry = measure["registry"]
        withheld = _withheld(registry, "events", "n")
        measures.append(
            Funnel(
                key=measure["key"],
                label=measure["label"],
                unit=measure["unit"],
                events=_count(registry["events"]),
                n=_count(registry["n"]),
                rate=None if withheld else registry["rate"],
                as_of=as_of,
                mask=mask,
                limits={key: list(values) for key, values in measure["limits"].items()},
                units=[
                    FunnelUnit(
                        level=u["level"],
                        site_id=int(u["site_id"]),
                        surgeon_id=u.get("surgeon_id"),
                        events=_count(u["events"]),
                        n=_count(u["n"]),
                        rate=u["rate"],
                        outside95=bool(u["outside95"]),
                        outside998=bool(u["outside998"]),
                        withheld=_withheld(u, "events", "n", "rate"),
                        mask=mask,
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
