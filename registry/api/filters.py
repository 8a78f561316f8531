"""Query filters of the record lists (django-filter). `updated_since` is for incremental
sync: a record counts as updated when it or a record shown inside it (treated levels of a
procedure, radiographs of a visit) changed at or after that instant."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Exists, OuterRef, Q

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

ISO = "ISO 8601, e.g. 2026-01-31T00:00:00Z"


def _changed(model, child, parent_key: str, since) -> Q:
    """Changed since `since`: the record itself, or a row shown inside it. The rows inside
    are one `updated_at` index scan hashed once (a correlated EXISTS would probe the child
    table per record), so a page walks the id order and stops at its 100th match."""
    inside = child.objects.filter(updated_at__gte=since).values(parent_key)
    return Q(updated_at__gte=since) | Q(pk__in=inside)


class RecordFilter(filters.FilterSet):
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=f"Changed at or after ({ISO})."
    )


def _site_filter(path: str) -> filters.CharFilter:
    return filters.CharFilter(field_name=f"{path}__code", label="Site code.")


def _technique_filter(path: str) -> filters.CharFilter:
    return filters.CharFilter(field_name=f"{path}__code", label="Technique code (PVP, PKP, ...).")


class PatientFilter(RecordFilter):
    site = _site_filter("site")
    technique = filters.CharFilter(
        method="with_technique", label="Patients with a procedure of this technique."
    )
    procedure_from = filters.DateFilter(
        method="procedure_from_date", label="With a procedure on or after this date."
    )
    procedure_to = filters.DateFilter(
        method="procedure_to_date", label="With a procedure on or before this date."
    )
    withdrawn = filters.BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Patient
        fields = ["sex"]

    def _with_procedure(self, queryset, condition: Q):
        procedures = Procedure.objects.filter(condition, patient_id=OuterRef("pk"))
        return queryset.filter(Exists(procedures))

    def with_technique(self, queryset, name, value):
        return self._with_procedure(queryset, Q(technique__code=value))

    def procedure_from_date(self, queryset, name, value):
        return self._with_procedure(queryset, Q(date__gte=value))

    def procedure_to_date(self, queryset, name, value):
        return self._with_procedure(queryset, Q(date__lte=value))


class FractureFilter(RecordFilter):
    site = _site_filter("patient__site")

    class Meta:
        model = Fracture
        fields = ["patient", "level", "genant_grade", "aetiology"]


class ProcedureFilter(RecordFilter):
    site = _site_filter("patient__site")
    technique = _technique_filter("technique")
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")
    updated_since = filters.IsoDateTimeFilter(method="changed_since", label=f"({ISO}).")

    class Meta:
        model = Procedure
        fields = ["patient", "approach", "anaesthesia"]

    def changed_since(self, queryset, name, value):
        return queryset.filter(_changed(Procedure, TreatedLevel, "procedure_id", value))


class TreatedLevelFilter(RecordFilter):
    site = _site_filter("procedure__patient__site")
    technique = _technique_filter("procedure__technique")

    class Meta:
        model = TreatedLevel
        fields = ["procedure", "fracture", "leakage"]


class VisitFilter(RecordFilter):
    site = _site_filter("procedure__patient__site")
    technique = _technique_filter("procedure__technique")
    patient = filters.NumberFilter(field_name="procedure__patient_id")
    timepoint = filters.ChoiceFilter(choices=TimepointChoice.choices)
    visit_from = filters.DateFilter(field_name="visit_date", lookup_expr="gte")
    visit_to = filters.DateFilter(field_name="visit_date", lookup_expr="lte")
    updated_since = filters.IsoDateTimeFilter(method="changed_since", label=f"({ISO}).")

    class Meta:
        model = FollowUpVisit
        fields = ["procedure"]

    def changed_since(self, queryset, name, value):
        return queryset.filter(_changed(FollowUpVisit, RadiographicMeasurement, "visit_id", value))


class RadiographFilter(RecordFilter):
    site = _site_filter("visit__procedure__patient__site")
    timepoint = filters.ChoiceFilter(field_name="visit__timepoint", choices=TimepointChoice.choices)

    class Meta:
        model = RadiographicMeasurement
        fields = ["visit", "treated_level"]


class AdverseEventFilter(RecordFilter):
    site = _site_filter("procedure__patient__site")
    technique = _technique_filter("procedure__technique")
    patient = filters.NumberFilter(field_name="procedure__patient_id")
    onset_from = filters.DateFilter(field_name="onset_date", lookup_expr="gte")
    onset_to = filters.DateFilter(field_name="onset_date", lookup_expr="lte")

    class Meta:
        model = AdverseEvent
        fields = ["procedure", "event_type", "clavien_dindo"]
