"""Reads behind a patient's timeline: the case with its computed values, and its history.

Computed values come from `registry.derived` (the same functions the models use): RFVH and
height restoration against the baseline film of the same vertebra, LKA correction, Beck index,
the suggested Genant grade and whether the surgeon's grade disagrees, window flags.
A fixed number of queries whatever the size of the record: one per table, history included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Prefetch
from django.utils.text import capfirst

from registry import derived, vertebrae
from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    Technique,
    TimepointChoice,
    TreatedLevel,
)
from registry.selectors.worklist import (
    FOLLOW_UP_TIMEPOINTS,
    TIMEPOINT_LABELS,
    pending_follow_ups,
)

# --- readable values (also used by the conflict message) -----------------------------------


def user_label(user) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def field_label(model: type[models.Model], name: str) -> str:
    try:
        return capfirst(str(model._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:
        return capfirst(name.replace("_", " "))


def display_value(model: type[models.Model], name: str, value: Any) -> str:
    """A stored value as a person reads it (choice labels, Yes/No, dates)."""
    if value is None or value == "":
        return "—"
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return f"{value:%d %b %Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    if isinstance(value, models.Model):
        return str(value)
    if model_field.is_relation and model_field.related_model is not None:
        related = model_field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value}"
    return str(value)


UPCOMING = "upcoming"
MISSED = "missed"


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
                expected=_expected(procedure, visits, today, patient.is_withdrawn),
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
    procedure: Procedure, visits: list[FollowUpVisit], today: date, withdrawn: bool
) -> list[ExpectedVisit]:
    """Scheduled follow-ups not recorded yet: upcoming, due, overdue or missed."""
    recorded = {v.timepoint for v in visits}
    pending = {item.timepoint: item for item in pending_follow_ups(procedure.date, recorded, today)}
    expected = []
    for tp in FOLLOW_UP_TIMEPOINTS:
        if tp in recorded:
            continue
        window = derived.visit_window(tp, procedure.date, None)
        if tp in pending and not withdrawn:
            status = pending[tp].status
        elif window.start_date > today and not withdrawn:
            status = UPCOMING
        else:
            status = MISSED
        expected.append(
            ExpectedVisit(tp, status, window.start_date, window.target_date, window.end_date)
        )
    return expected


# --- history -----------------------------------------------------------------------------

_ALWAYS_EXCLUDED = ("created_at", "updated_at")
# Non-editable columns that diff_against leaves out but a reader must see change.
_EXTRA_TRACKED = {Patient: ("withdrawn_at", "withdrawal_reason")}


@dataclass
class HistoryEntry:
    when: datetime
    who: str
    kind: str  # "created", "changed", "deleted"
    record: str
    changes: list[tuple[str, str, str]]


def patient_history(patient: Patient, timeline: Timeline, *, limit: int | None = None):
    """Who changed what, when, across every record of the patient, newest first.

    Returns (entries, total). Diffs come from simple-history's `diff_against` between each
    historical row and the previous row of the same record.
    """
    procedure_ids = [block.procedure.pk for block in timeline.procedures]
    visit_ids = [row.visit.pk for block in timeline.procedures for row in block.visits]
    sources = [
        (Patient, {"id": patient.pk}),
        (Fracture, {"patient_id": patient.pk}),
        (Procedure, {"patient_id": patient.pk}),
        (TreatedLevel, {"procedure_id__in": procedure_ids}),
        (FollowUpVisit, {"procedure_id__in": procedure_ids}),
        (RadiographicMeasurement, {"visit_id__in": visit_ids}),
        (AdverseEvent, {"procedure_id__in": procedure_ids}),
    ]
    names = _Names(timeline)
    entries: list[HistoryEntry] = []
    for model, lookup in sources:
        if any(isinstance(v, list) and not v for v in lookup.values()):
            continue
        records = list(
            model.history.filter(**lookup)
            .select_related("history_user")
            .order_by("id", "history_date", "history_id")
        )
        previous: dict[int, Any] = {}
        for record in records:
            before = previous.get(record.id)
            previous[record.id] = record
            entries.append(_entry(model, record, before, names))
    names.resolve_users()
    entries.sort(key=lambda e: e.when, reverse=True)
    total = len(entries)
    return (entries[:limit] if limit else entries), total


def _entry(model, record, before, names: _Names) -> HistoryEntry:
    kind = {"+": "created", "~": "changed", "-": "deleted"}[record.history_type]
    changes: list[tuple[str, str, str]] = []
    if before is not None and record.history_type == "~":
        delta = record.diff_against(before, excluded_fields=_ALWAYS_EXCLUDED)
        changes = [
            names.row(model, change.field, change.old, change.new) for change in delta.changes
        ]
        for name in _EXTRA_TRACKED.get(model, ()):
            old, new = getattr(before, name), getattr(record, name)
            if old != new:
                changes.append(names.row(model, name, old, new))
    return HistoryEntry(
        when=record.history_date,
        who=user_label(record.history_user),
        kind=kind,
        record=names.record(model, record),
        changes=changes,
    )


class _Names:
    """Readable names for records and values in the history without a query per row."""

    def __init__(self, timeline: Timeline):
        self.fractures = {f.pk: f.level for f in timeline.fractures}
        self.levels = {
            tl.pk: tl.fracture.level for b in timeline.procedures for tl in b.treated_levels
        }
        self.visits = {
            r.visit.pk: TIMEPOINT_LABELS.get(r.visit.timepoint, r.visit.timepoint)
            for b in timeline.procedures
            for r in b.visits
        }
        self.techniques: dict[int, str] | None = None
        self._user_ids: set[int] = set()
        self.users: dict[int, str] = {}

    def record(self, model, record) -> str:
        if model is Patient:
            return "Patient"
        if model is Fracture:
            return f"Fracture {record.level}"
        if model is Procedure:
            return f"Procedure of {record.date:%d %b %Y}"
        if model is TreatedLevel:
            return f"Treated level {self.fractures.get(record.fracture_id, '?')}"
        if model is FollowUpVisit:
            return f"Visit: {TIMEPOINT_LABELS.get(record.timepoint, record.timepoint)}"
        if model is RadiographicMeasurement:
            level = self.levels.get(record.treated_level_id, "?")
            return f"Radiograph {level}, {self.visits.get(record.visit_id, 'visit')}"
        if model is AdverseEvent:
            return f"Adverse event: {record.get_event_type_display()}"
        return model._meta.verbose_name.capitalize()

    def row(self, model, name: str, old: Any, new: Any) -> tuple[str, str, str]:
        def show(value: Any) -> Any:
            if value is None:
                return "—"
            if name == "technique":
                return self._technique(value)
            if name == "fracture":
                return self.fractures.get(value, f"#{value}")
            if name == "treated_level":
                return self.levels.get(value, f"#{value}")
            if name == "surgeon":
                self._user_ids.add(value)
                return _UserName(self.users, value)
            if name == "withdrawn_at":
                return f"{value:%d %b %Y %H:%M}"
            return display_value(model, name, value)

        return (field_label(model, name), show(old), show(new))

    def _technique(self, pk: int) -> str:
        if self.techniques is None:
            self.techniques = dict(Technique.objects.values_list("pk", "code"))
        return self.techniques.get(pk, f"#{pk}")

    def resolve_users(self) -> None:
        """Surgeon ids in diffs become names (one query for all of them)."""
        if self._user_ids:
            users = get_user_model().objects.in_bulk(self._user_ids)
            self.users.update({pk: user_label(user) for pk, user in users.items()})


class _UserName:
    """A user named once every id in the history is known (see `_Names.resolve_users`)."""

    def __init__(self, names: dict[int, str], pk: int):
        self.names, self.pk = names, pk

    def __str__(self) -> str:
        return self.names.get(self.pk, f"#{self.pk}")
