"""Reads behind the patient list, the follow-up worklist and the patient timeline.

Every query starts from `patients_visible_to`, the one visibility rule. Lists are built so that
they run a fixed number of queries whatever the page size: a count, one query for the page, and
a prefetch per related table.

Follow-up rules (scheduled timepoints after the procedure, windows from `derived.WINDOWS`):
- due soon: the window opens today or in the next DUE_SOON_DAYS days, nothing recorded;
- overdue: the window opened before today and nothing is recorded. A missing visit stays on the
  worklist until OVERDUE_GRACE_DAYS after its window closed (it can still be recorded, flagged out
  of window); after that it shows as missed on the patient's timeline only;
- a timepoint is no longer chased once a later timepoint has been recorded (superseded);
- out of window: a recorded visit dated outside its window (recorded in the last
  OUT_OF_WINDOW_LOOKBACK_DAYS days on the worklist; the timeline flags every one);
- incomplete: a patient without a procedure (stopped before it), or with a procedure of the
  last INCOMPLETE_LOOKBACK_DAYS days that has no baseline visit.
Withdrawn patients are never chased.

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
from django.db.models import (
    Case,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from registry import derived
from registry.models import (
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    Site,
    TimepointChoice,
)
from registry.selectors import patients_visible_to, sites_visible_to

DUE_SOON_DAYS = 14
OVERDUE_GRACE_DAYS = 90
OUT_OF_WINDOW_LOOKBACK_DAYS = 90
INCOMPLETE_LOOKBACK_DAYS = 365
COUNT_CAP = 1000
FOLLOW_UP_TIMEPOINTS: tuple[str, ...] = tuple(
    tp for tp in derived.SCHEDULED_TIMEPOINTS if tp != derived.Timepoint.BASELINE
)
DUE = "due"
OVERDUE = "overdue"
TIMEPOINT_LABELS = dict(TimepointChoice.choices)


class AddDays(Func):
    """`date + n days` as a date, on PostgreSQL and SQLite (n is a constant of ours)."""

    output_field = DateField()

    def __init__(self, expression, days: int):
        if not isinstance(days, int):
            raise TypeError("days must be an int")
        self.days = days
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template=f"(%(expressions)s + {self.days:d})", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template=f"date(%(expressions)s, '{self.days:+d} days')", **extra
        )


def _later_or_same(timepoint: str) -> list[str]:
    """The timepoint and every later one: recording any of them stops the chase."""
    return list(FOLLOW_UP_TIMEPOINTS[FOLLOW_UP_TIMEPOINTS.index(timepoint) :])


# --- the rules as a pure function (the timeline and the list use it; SQL mirrors it) ------


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


def pending_follow_ups(
    procedure_date: date, recorded: Iterable[str], today: date
) -> list[FollowUpItem]:
    """Due-soon and overdue timepoints of a procedure, given the timepoints already recorded."""
    recorded = set(recorded)
    items = []
    for tp in FOLLOW_UP_TIMEPOINTS:
        if recorded.intersection(_later_or_same(tp)):
            continue
        window = derived.WINDOWS[tp]
        start = procedure_date + timedelta(days=window.start)
        end = procedure_date + timedelta(days=window.end)
        target = procedure_date + timedelta(days=window.target)
        if today <= start <= today + timedelta(days=DUE_SOON_DAYS):
            items.append(FollowUpItem(tp, DUE, start, target, end))
        elif start < today <= end + timedelta(days=OVERDUE_GRACE_DAYS):
            items.append(FollowUpItem(tp, OVERDUE, start, target, end))
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


def _as_date(value) -> date:
    # date + int is a date on PostgreSQL; SQLite hands back the ISO text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


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


def incomplete_cases(
    *, user: AbstractBaseUser, site: Site | None, today: date
) -> QuerySet[Patient]:
    """Patients whose case entry stopped early: no procedure yet (no fracture either, or
    fractures only), or a procedure of the last INCOMPLETE_LOOKBACK_DAYS days without its
    baseline visit. Each row carries what is missing (annotations), newest registration first.

    Both conditions are sets computed once (hashed by PostgreSQL) rather than probed patient
    by patient: recent procedures come from the date index.
    """
    site_ids = visible_site_ids(user=user, site=site)
    no_baseline = FollowUpVisit.objects.filter(
        procedure=OuterRef("pk"), timepoint=TimepointChoice.BASELINE
    )
    recent_without_baseline = (
        Procedure.objects.filter(
            date__gte=today - timedelta(days=INCOMPLETE_LOOKBACK_DAYS),
            patient__site_id__in=site_ids,
        )
        .exclude(Exists(no_baseline))
        .values("patient_id")
    )
    first_without_baseline = (
        Procedure.objects.filter(
            patient=OuterRef("pk"), date__gte=today - timedelta(days=INCOMPLETE_LOOKBACK_DAYS)
        )
        .exclude(Exists(no_baseline))
        .order_by("date", "pk")
        .values("pk")[:1]
    )
    return (
        Patient.objects.filter(site_id__in=site_ids, withdrawn_at__isnull=True)
        .filter(
            ~Q(pk__in=Procedure.objects.values("patient_id")) | Q(pk__in=recent_without_baseline)
        )
        .annotate(
            has_fracture=Exists(Fracture.objects.filter(patient=OuterRef("pk"))),
            has_procedure=Exists(Procedure.objects.filter(patient=OuterRef("pk"))),
            procedure_without_baseline=Subquery(
                first_without_baseline, output_field=IntegerField()
            ),
        )
        .select_related("site")
        .order_by("-pk")
    )


# --- the patient list ------------------------------------------------------------------------


def patient_list(
    *,
    user: AbstractBaseUser,
    query: str = "",
    technique_code: str = "",
    site: Site | None = None,
    follow_up_due: bool = False,
    today: date,
) -> QuerySet[Patient]:
    """Visible patients, newest registration first, filtered; related rows are prefetched for
    the page only (fractures, procedures with technique, visit timepoints)."""
    patients = patients_visible_to(user=user).select_related("site")
    if site is not None:
        patients = patients.filter(site=site)
    query = " ".join(query.split())
    if query:
        patients = patients.filter(_search_q(query))
    if technique_code:
        patients = patients.filter(
            Exists(Procedure.objects.filter(patient=OuterRef("pk"), technique__code=technique_code))
        )
    if follow_up_due:
        patients = patients.filter(withdrawn_at__isnull=True).filter(
            Exists(_pending_procedures_of(OuterRef("pk"), today))
        )
    return patients.order_by("-pk").prefetch_related(
        Prefetch("fractures", queryset=Fracture.objects.only("id", "patient_id", "level")),
        Prefetch(
            "procedures",
            queryset=Procedure.objects.select_related("technique").prefetch_related(
                Prefetch(
                    "visits",
                    queryset=FollowUpVisit.objects.only(
                        "id", "procedure_id", "timepoint", "visit_date"
                    ),
                )
            ),
        ),
    )


def _pending_procedures_of(patient, today: date) -> QuerySet[Procedure]:
    """A patient's procedures with a visit due soon or overdue: the rule of `_pending_q`, put
    as "the latest follow-up recorded comes before this timepoint" so that each procedure is
    checked with one index probe (the list walks patients newest first and stops at a page),
    not with a hash of every recorded visit."""
    rank = Case(
        *(When(timepoint=tp, then=Value(n)) for n, tp in enumerate(FOLLOW_UP_TIMEPOINTS)),
        output_field=IntegerField(),
    )
    latest = (
        FollowUpVisit.objects.filter(procedure=OuterRef("pk"), timepoint__in=FOLLOW_UP_TIMEPOINTS)
        .annotate(rank=rank)
        .order_by("-rank")
        .values("rank")[:1]
    )
    pending = Q()
    for n, tp in enumerate(FOLLOW_UP_TIMEPOINTS):
        window = derived.WINDOWS[tp]
        due_or_overdue = Q(
            date__gte=today - timedelta(days=window.end + OVERDUE_GRACE_DAYS),
            date__lte=today + timedelta(days=DUE_SOON_DAYS - window.start),
        )
        pending |= due_or_overdue & (Q(latest_rank__isnull=True) | Q(latest_rank__lt=n))
    return (
        Procedure.objects.filter(patient=patient)
        .annotate(latest_rank=Subquery(latest, output_field=IntegerField()))
        .filter(pending)
    )


def _search_q(query: str) -> Q:
    """Registry ID or hospital record number (exact, any case), else every word starts the
    family or the given name ("smi jo" finds Smith, John)."""
    exact = Q(registry_id__iexact=query) | Q(hospital_record_number__iexact=query)
    words = Q()
    for word in query.replace(",", " ").split():
        words &= Q(family_name__istartswith=word) | Q(given_name__istartswith=word)
    return exact | words


@dataclass(frozen=True)
class CaseStatus:
    """Where a patient's case entry stands, from prefetched rows (no query)."""

    next_step: str | None  # "fractures", "procedure", "baseline" or None when complete
    procedure: Procedure | None
    follow_ups: list[FollowUpItem]


def case_status(patient: Patient, today: date) -> CaseStatus:
    fractures = list(patient.fractures.all())
    procedures = sorted(patient.procedures.all(), key=lambda p: (p.date, p.pk))
    follow_ups: list[FollowUpItem] = []
    if not patient.is_withdrawn:
        for procedure in procedures:
            recorded = [v.timepoint for v in procedure.visits.all()]
            follow_ups += [
                FollowUpItem(
                    i.timepoint, i.status, i.window_start, i.target_date, i.window_end, procedure
                )
                for i in pending_follow_ups(procedure.date, recorded, today)
            ]
    if not fractures:
        return CaseStatus("fractures", None, follow_ups)
    if not procedures:
        return CaseStatus("procedure", None, follow_ups)
    for procedure in procedures:
        if not any(v.timepoint == TimepointChoice.BASELINE for v in procedure.visits.all()):
            return CaseStatus("baseline", procedure, follow_ups)
    return CaseStatus(None, procedures[-1], follow_ups)
