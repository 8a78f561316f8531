"""Reads behind a patient's history (who changed what, when) and the readable values that
the history, the timeline and the conflict message show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst

from registry.models import (
    AdverseEvent,
    FollowUpVisit,
    Fracture,
    Patient,
    Procedure,
    RadiographicMeasurement,
    Technique,
    TreatedLevel,
)
from registry.selectors.followups import TIMEPOINT_LABELS

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


def patient_history(patient: Patient, timeline, *, limit: int | None = None):
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

    def __init__(self, timeline):
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
