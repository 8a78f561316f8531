"""The follow-up chase: which scheduled visits are due soon or overdue, for the worklist,
the patient list and the timeline.

The status of a timepoint is `registry.followup.followup_status` (the one definition: in
window / out of window / missing / not yet due / withdrawn). The worklist subdivides it:
- due soon: not yet due, and the window opens today or in the next DUE_SOON_DAYS days;
- overdue: not yet due with its window open, or missing for at most OVERDUE_GRACE_DAYS after
  the window closed (it can still be recorded, flagged out of window); after that it shows as
  missing on the patient's timeline only;
- a timepoint is no longer chased once a later timepoint has been recorded (superseded);
- withdrawn patients are never chased.
`pending_follow_ups` is the rule as a pure function; the list pages use SQL twins
(`_pending_q`, `patients._pending_procedures_of`) that tests/registry/test_followup_twins.py
pins to it with a table of literal cases.

Scale (a site of 40,000 patients on PostgreSQL): the worklist queries filter procedures and
visits by their patient's site, which lets PostgreSQL walk the date indexes instead of hashing
every visible patient; `sites_visible_to` gives those sites, and a user's patients are exactly
the patients of those sites (`patients_visible_to`, tested to agree). Lists are counted up to
COUNT_CAP rows ("1000+"): nobody pages through more, and an exact count of a large set costs a
full scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Value

from registry import derived
from registry.followup import FollowUpStatus, followup_status, window_dates
from registry.models import FollowUpVisit, Fracture, Procedure, Site, TimepointChoice
from registry.selectors.sql import AddDays, _as_date
from registry.selectors.visibility import sites_visible_to

DUE_SOON_DAYS = 14
OVERDUE_GRACE_DAYS = 90
OUT_OF_WINDOW_LOOKBACK_DAYS = 90
COUNT_CAP = 1000
FOLLOW_UP_TIMEPOINTS: tuple[str, ...] = tuple(
    tp for tp in derived.SCHEDULED_TIMEPOINTS if tp != derived.Timepoint.BASELINE
)
DUE = "due"
OVERDUE = "overdue"
TIMEPOINT_LABELS = dict(TimepointChoice.choices)


def _later_or_same(timepoint: str) -> list[str]:
    """The timepoint and every later one: recording any of them stops the chase."""
    return list(FOLLOW_UP_TIMEPOINTS[FOLLOW_UP_TIMEPOINTS.index(timepoint) :])


@dataclass(frozen=True)
class FollowUpItem:
    """An expected follow-up visit of one procedure that is due soon or overdue."""

    timepoint: str
    status: str  # DUE or OVERDUE
    window_start: date
    target_date: date
    window_end: date
    procedure: Procedure | None = None

    @property
    def timepoint_label(self) -> str:
        return TIMEPOINT_LABELS.get(self.timepoint, self.timepoint)

    @property
    def window_closed(self) -> bool:
        return self.status == OVERDUE and self.window_end < _today()

    def days_from(self, today: date) -> int:
        return (self.window_start - today).days


def _today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def chase_status(
    timepoint: str,
    procedure_date: date,
    recorded: Iterable[str],
    today: date,
    withdrawn_on: date | None = None,
) -> str | None:
    """DUE, OVERDUE or None (not chased) for one timepoint, from the one follow-up status."""
    if set(recorded).intersection(_later_or_same(timepoint)):
        return None
    status = followup_status(
        timepoint=timepoint,
        procedure_date=procedure_date,
        visit_date=None,
        as_of=today,
        withdrawn_on=withdrawn_on,
    )
    dates = window_dates(timepoint, procedure_date)
    if status == FollowUpStatus.NOT_DUE:
        if today <= dates.opens <= today + timedelta(days=DUE_SOON_DAYS):
            return DUE
        if dates.opens < today:
            return OVERDUE
    elif status == FollowUpStatus.MISSING and today <= dates.closes + timedelta(
        days=OVERDUE_GRACE_DAYS
    ):
        return OVERDUE
    return None


def pending_follow_ups(
    procedure_date: date,
    recorded: Iterable[str],
    today: date,
    withdrawn_on: date | None = None,
) -> list[FollowUpItem]:
    """Due-soon and overdue timepoints of a procedure, given the timepoints already recorded."""
    recorded = set(recorded)
    items = []
    for tp in FOLLOW_UP_TIMEPOINTS:
        status = chase_status(tp, procedure_date, recorded, today, withdrawn_on)
        if status is not None:
            dates = window_dates(tp, procedure_date)
            items.append(FollowUpItem(tp, status, dates.opens, dates.target, dates.closes))
    return items


# --- SQL versions -------------------------------------------------------------------------


def _pending_q(timepoint: str, status: str, today: date) -> Q:
    """Procedures whose `timepoint` visit is `status` today, as a filter on Procedure."""
    window = derived.WINDOWS[timepoint]
    if status == DUE:
        dates = Q(
            date__gte=today - timedelta(days=window.start),
            date__lte=today + timedelta(days=DUE_SOON_DAYS - window.start),
        )
    else:
        dates = Q(
            date__lt=today - timedelta(days=window.start),
            date__gte=today - timedelta(days=window.end + OVERDUE_GRACE_DAYS),
        )
    recorded = FollowUpVisit.objects.filter(
        procedure=OuterRef("pk"), timepoint__in=_later_or_same(timepoint)
    )
    return dates & ~Q(Exists(recorded))


def visible_site_ids(*, user: AbstractBaseUser, site: Site | None) -> list[int]:
    """The sites whose patients the user sees (all of them, or the one asked for if visible)."""
    ids = list(sites_visible_to(user=user).values_list("pk", flat=True))
    if site is not None:
        return [site.pk] if site.pk in ids else []
    return ids


def _chased_procedures(site_ids: list[int]) -> QuerySet[Procedure]:
    return Procedure.objects.filter(
        patient__site_id__in=site_ids, patient__withdrawn_at__isnull=True
    )


class FollowUpRows:
    """Pending visits (one row per procedure and timepoint) ordered by window start, counted
    up to COUNT_CAP, sliced in SQL. A Paginator takes it as its object list.

    Each timepoint is its own branch of a UNION ALL. On PostgreSQL each branch is cut to the
    rows the page needs before the union (window start = procedure date + a constant, so a
    branch's first rows by date are its first by window start): the date index answers a
    page without reading every pending visit.
    """

    def __init__(self, site_ids: list[int], status: str, today: date):
        base = _chased_procedures(site_ids)
        self.branches = []
        for tp in FOLLOW_UP_TIMEPOINTS:
            window = derived.WINDOWS[tp]
            self.branches.append(
                base.filter(_pending_q(tp, status, today))
                .annotate(
                    timepoint=Value(tp),
                    window_start=AddDays(F("date"), window.start),
                    target_date=AddDays(F("date"), window.target),
                    window_end=AddDays(F("date"), window.end),
                )
                .values("pk", "timepoint", "window_start", "target_date", "window_end")
            )

    def _union(self, limit: int | None = None) -> QuerySet:
        cut = limit is not None and connection.features.supports_slicing_ordering_in_compound
        parts = [
            (branch.order_by("date", "pk")[:limit] if cut else branch.order_by())
            for branch in self.branches
        ]
        first, *rest = parts
        return first.union(*rest, all=True)

    def count(self) -> int:
        return self._union()[: COUNT_CAP + 1].count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[dict]:
        start, stop = item.start or 0, item.stop
        if stop is not None and stop <= start:
            return []
        return list(self._union(limit=stop).order_by("window_start", "pk")[start:stop])


def follow_up_rows(
    *, user: AbstractBaseUser, site: Site | None, status: str, today: date
) -> FollowUpRows:
    return FollowUpRows(visible_site_ids(user=user, site=site), status, today)


def follow_up_items(rows: Iterable[dict], status: str) -> list[FollowUpItem]:
    """Turn a page of `follow_up_rows` into items with their procedures: one more query."""
    rows = list(rows)
    procedures = Procedure.objects.select_related("patient__site", "technique").prefetch_related(
        Prefetch("treated_levels__fracture", queryset=Fracture.objects.only("id", "level"))
    )
    by_id = procedures.in_bulk([row["pk"] for row in rows])
    return [
        FollowUpItem(
            timepoint=row["timepoint"],
            status=status,
            window_start=_as_date(row["window_start"]),
            target_date=_as_date(row["target_date"]),
            window_end=_as_date(row["window_end"]),
            procedure=by_id[row["pk"]],
        )
        for row in rows
    ]


def _out_of_window_q() -> Q:
    condition = Q()
    for tp, window in derived.WINDOWS.items():
        condition |= Q(timepoint=tp) & (
            Q(visit_date__lt=AddDays(F("procedure__date"), window.start))
            | Q(visit_date__gt=AddDays(F("procedure__date"), window.end))
        )
    return condition


def out_of_window_visits(
    *, user: AbstractBaseUser, site: Site | None, today: date
) -> QuerySet[FollowUpVisit]:
    """Recently recorded visits dated outside their window, newest first."""
    return (
        FollowUpVisit.objects.filter(
            procedure__patient__site_id__in=visible_site_ids(user=user, site=site),
            visit_date__gte=today - timedelta(days=OUT_OF_WINDOW_LOOKBACK_DAYS),
        )
        .filter(_out_of_window_q())
        .select_related("procedure__patient__site", "procedure__technique")
        .order_by("-visit_date", "-pk")
    )
