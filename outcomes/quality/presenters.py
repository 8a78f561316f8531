"""Stored results shaped for the page, the CSV and the API (no queries here).

One declared shape per table (`CompletenessRow`, `PromRow`), built from the SiteResults of
the sites shown; the page, the CSV download and the API all call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.conf import settings

from outcomes.quality.completeness import STATUSES
from outcomes.quality.models import SEVERITY_ORDER, FindingStatus, SiteResult
from outcomes.quality.rules import CATEGORIES, RULES
from registry.derived import SCHEDULED_TIMEPOINTS
from registry.models import Site, TimepointChoice

TIMEPOINT_LABELS = dict(TimepointChoice.choices)
ALL_SITES = "All sites shown"


def prom_target() -> float:
    return float(settings.QUALITY_PROM_TARGET_PERCENT)


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


@dataclass(frozen=True)
class CompletenessRow:
    site: str
    timepoint: str
    due: int
    in_window: int
    out_of_window: int
    missing: int
    not_due: int
    withdrawn: int
    recorded: int
    completion_percent: float | None

    @property
    def timepoint_label(self) -> str:
        return TIMEPOINT_LABELS.get(self.timepoint, self.timepoint)

    def as_dict(self) -> dict:
        return asdict(self)


CSV_COLUMNS = [
    "site",
    "timepoint",
    "due",
    "in_window",
    "out_of_window",
    "missing",
    "not_due",
    "withdrawn",
    "recorded",
    "completion_percent",
]


def _row(site: str, timepoint: str, cell: dict) -> CompletenessRow:
    counts = {status.value: int(cell.get(status.value, 0)) for status in STATUSES}
    recorded = counts["in_window"] + counts["out_of_window"]
    due = recorded + counts["missing"]
    return CompletenessRow(
        site=site,
        timepoint=timepoint,
        due=due,
        recorded=recorded,
        completion_percent=percent(recorded, due),
        **counts,
    )


def completeness_rows(sites: Iterable[Site], results: dict[int, SiteResult]) -> list:
    """A row per site and timepoint, then the total of the sites shown per timepoint."""
    rows = []
    totals = {tp: dict.fromkeys((s.value for s in STATUSES), 0) for tp in SCHEDULED_TIMEPOINTS}
    for site in sites:
        result = results.get(site.pk)
        if result is None:
            continue
        for tp in SCHEDULED_TIMEPOINTS:
            cell = result.completeness.get(tp, {})
            rows.append(_row(site.name, tp, cell))
            for status in totals[tp]:
                totals[tp][status] += int(cell.get(status, 0))
    if len({row.site for row in rows}) > 1:
        rows.extend(_row(ALL_SITES, tp, totals[tp]) for tp in SCHEDULED_TIMEPOINTS)
    return rows


@dataclass(frozen=True)
class PromRow:
    site: str
    eligible: int
    baseline: int
    follow_up: int
    complete: int
    completion_percent: float | None
    target_percent: float
    meets_target: bool | None

    def as_dict(self) -> dict:
        return asdict(self)


def _prom_row(site: str, figures: dict) -> PromRow:
    eligible = int(figures.get("eligible", 0))
    complete = int(figures.get("complete", 0))
    share = percent(complete, eligible)
    target = prom_target()
    return PromRow(
        site=site,
        eligible=eligible,
        baseline=int(figures.get("baseline", 0)),
        follow_up=int(figures.get("follow_up", 0)),
        complete=complete,
        completion_percent=share,
        target_percent=target,
        meets_target=None if share is None else share >= target,
    )


def prom_rows(sites: Iterable[Site], results: dict[int, SiteResult]) -> list[PromRow]:
    rows, total = [], dict.fromkeys(("eligible", "baseline", "follow_up", "complete"), 0)
    for site in sites:
        result = results.get(site.pk)
        if result is None:
            continue
        rows.append(_prom_row(site.name, result.prom))
        for key in total:
            total[key] += int(result.prom.get(key, 0))
    if len(rows) > 1:
        rows.append(_prom_row(ALL_SITES, total))
    return rows


@dataclass
class RuleRow:
    code: str
    title: str
    description: str
    severity: str
    category: str
    record_type: str
    by_site: list[int]
    open: int
    verified: int
    will_correct: int


def rule_rows(sites: list[Site], counts: list[dict]) -> list[RuleRow]:
    """Open findings per rule (rows) and site (columns), with reviewed totals."""
    index = {site.pk: i for i, site in enumerate(sites)}
    rows = {
        rule.code: RuleRow(
            rule.code,
            rule.title,
            rule.description,
            str(rule.severity),
            CATEGORIES[rule.category],
            rule.record_type,
            [0] * len(sites),
            0,
            0,
            0,
        )
        for rule in RULES
    }
    for count in counts:
        row = rows.get(count["rule"])
        if row is None or count["site_id"] not in index:
            continue
        if count["status"] == FindingStatus.OPEN:
            row.by_site[index[count["site_id"]]] += count["n"]
            row.open += count["n"]
        elif count["status"] == FindingStatus.VERIFIED:
            row.verified += count["n"]
        else:
            row.will_correct += count["n"]
    return sorted(rows.values(), key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.code))


def severity_totals(counts: list[dict]) -> dict[str, int]:
    by_code = {rule.code: str(rule.severity) for rule in RULES}
    totals = {"high": 0, "medium": 0, "low": 0}
    for count in counts:
        if count["status"] == FindingStatus.OPEN and count["rule"] in by_code:
            totals[by_code[count["rule"]]] += count["n"]
    return totals
