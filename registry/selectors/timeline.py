"""Reads behind a patient's timeline: the case with its computed values (its history is
`registry.selectors.history`).

Computed values come from `registry.derived` (the same functions the models use): RFVH and
height restoration against the baseline film of the same vertebra, LKA correction, Beck index,
the suggested Genant grade and whether the surgeon's grade disagrees, window flags.
A fixed number of queries whatever the size of the record: one per table, history included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch

from registry import derived, vertebrae
from registry.followup import FollowUpStatus, followup_status
from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    TimepointChoice,
    TreatedLevel,
)
from registry.selectors.followups import (
    FOLLOW_UP_TIMEPOINTS,
    TIMEPOINT_LABELS,
    pending_follow_ups,
)

UPCOMING = "upcoming"
MISSED = "missed"
WITHDRAWN = "withdrawn"


@dataclass
class RadiographRow:
    radiograph: RadiographicMeasurement
    level: str
    restoration: float | None  # RFVH(visit) - RFVH(baseline), percentage points
    lka_correction: float | None  # LKA(baseline) - LKA(visit), degrees
    suggested_grade: int | None
    mismatch: bool


@dataclass
class VisitRow:
    visit: FollowUpVisit
    window: derived.VisitWindow
    radiographs: list[RadiographRow]

    @property
    def out_of_window(self) -> bool:
        return self.window.status in (derived.WindowStatus.EARLY, derived.WindowStatus.LATE)


@dataclass
class ExpectedVisit:
    timepoint: str
    status: str  # UPCOMING, DUE, OVERDUE, MISSED
    window_start: date
    target_date: date
    window_end: date

    @property
    def label(self) -> str:
        return TIMEPOINT_LABELS[self.timepoint]


@dataclass
class ProcedureBlock:
    procedure: Procedure
    treated_levels: list[TreatedLevel]
    visits: list[VisitRow]
    expected: list[ExpectedVisit]
    adverse_events: list[AdverseEvent]
    has_baseline: bool


@dataclass
class Timeline:
    patient: Patient
    fractures: list[Fracture]
    procedures: list[ProcedureBlock]
    age_at_procedure: int | None
    untreated: list[Fracture] = field(default_factory=list)


def patient_timeline(patient: Patient, *, today: date) -> Timeline:
    fractures = sorted(
        Fracture.objects.filter(patient=patient),
        key=lambda f: (vertebrae.level_index(f.level), f.episode),
    )
    by_fracture = {f.pk: f for f in fractures}
    procedures = list(
        Procedure.objects.filter(patient=patient)
        .select_related("technique", "surgeon")
        .prefetch_related(
            "treated_levels",
            Prefetch(
                "adverse_events",
                queryset=AdverseEvent.objects.order_by("onset_date", "pk"),
            ),
            Prefetch(
                "visits",
                queryset=FollowUpVisit.objects.order_by("visit_date", "pk").prefetch_related(
                    "radiographs"
                ),
            ),
        )
        .order_by("date", "pk")
    )
    treated_ids = set()
    blocks = []
    withdrawn_on = patient.withdrawn_at.date() if patient.withdrawn_at else None
    for procedure in procedures:
        levels = list(procedure.treated_levels.all())
        for level in levels:
            if level.fracture_id in by_fracture:  # already read: no query per level
                level.fracture = by_fracture[level.fracture_id]
            treated_ids.add(level.fracture_id)
        levels.sort(key=lambda tl: vertebrae.level_index(tl.fracture.level))
        level_by_id = {tl.pk: tl for tl in levels}
        visits = list(procedure.visits.all())
        baseline = next((v for v in visits if v.timepoint == TimepointChoice.BASELINE), None)
        baseline_films = (
            {r.treated_level_id: r for r in baseline.radiographs.all()} if baseline else {}
        )
        rows = [_visit_row(visit, procedure, baseline_films, level_by_id) for visit in visits]
        events = list(procedure.adverse_events.all())
        for event in events:
            event.level = level_by_id.get(event.treated_level_id)
        blocks.append(
            ProcedureBlock(
                procedure=procedure,
                treated_levels=levels,
                visits=rows,
                expected=_expected(procedure, visits, today, withdrawn_on),
                adverse_events=events,
                has_baseline=baseline is not None,
            )
        )
    first_date = procedures[0].date if procedures else None
    return Timeline(
        patient=patient,
        fractures=fractures,
        procedures=blocks,
        age_at_procedure=patient.age_on(first_date),
        untreated=[f for f in fractures if f.pk not in treated_ids],
    )


def _visit_row(
    visit: FollowUpVisit,
    procedure: Procedure,
    baseline_films: dict[int, RadiographicMeasurement],
    level_by_id: dict[int, TreatedLevel],
) -> VisitRow:
    films = []
    for film in visit.radiographs.all():
        treated = level_by_id.get(film.treated_level_id)
        film.treated_level = treated
        before = baseline_films.get(film.treated_level_id)
        is_baseline = visit.timepoint == TimepointChoice.BASELINE
        loss = derived.height_loss(film.rfvh_percent)
        films.append(
            RadiographRow(
                radiograph=film,
                level=treated.fracture.level if treated else "?",
                restoration=None
                if is_baseline or before is None
                else derived.difference(film.rfvh_percent, before.rfvh_percent),
                lka_correction=None
                if is_baseline or before is None
                else derived.difference(before.lka_degrees, film.lka_degrees),
                suggested_grade=derived.suggested_genant_grade(loss),
                mismatch=bool(treated)
                and derived.genant_mismatch(treated.fracture.genant_grade, loss),
            )
        )
    films.sort(key=lambda row: vertebrae.level_index(row.level) if row.level != "?" else 99)
    window = derived.visit_window(visit.timepoint, procedure.date, visit.visit_date)
    return VisitRow(visit=visit, window=window, radiographs=films)


def _expected(
    procedure: Procedure, visits: list[FollowUpVisit], today: date, withdrawn_on: date | None
) -> list[ExpectedVisit]:
    """Scheduled follow-ups not recorded yet: upcoming, due, overdue, missed or withdrawn
    (`registry.followup.followup_status`, subdivided by the worklist's chase)."""
    recorded = {v.timepoint for v in visits}
    pending = {
        item.timepoint: item
        for item in pending_follow_ups(procedure.date, recorded, today, withdrawn_on)
    }
    expected = []
    for tp in FOLLOW_UP_TIMEPOINTS:
        if tp in recorded:
            continue
        window = derived.visit_window(tp, procedure.date, None)
        status = followup_status(
            timepoint=tp,
            procedure_date=procedure.date,
            visit_date=None,
            as_of=today,
            withdrawn_on=withdrawn_on,
        )
        if tp in pending:
            shown = pending[tp].status
        elif status == FollowUpStatus.WITHDRAWN:
            shown = WITHDRAWN
        elif status == FollowUpStatus.NOT_DUE and window.start_date > today:
            shown = UPCOMING
        else:
            shown = MISSED
        expected.append(
            ExpectedVisit(tp, shown, window.start_date, window.target_date, window.end_date)
        )
    return expected
