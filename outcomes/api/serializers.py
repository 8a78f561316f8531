"""Shapes of cohorts, runs and aggregate responses. Writes go through outcomes.services."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from outcomes import cohorts
from outcomes.analyses import ANALYSES
from outcomes.api import aggregates
from outcomes.models import Cohort, RunStatus, StatisticsRun
from registry.models import Sex


class CohortFiltersSerializer(serializers.Serializer):
    """The filters of a cohort (outcomes/cohorts.py); absent means no restriction."""

    techniques = serializers.ListField(child=serializers.CharField(), required=False)
    sites = serializers.ListField(child=serializers.CharField(), required=False)
    date_from = serializers.DateField(required=False, allow_null=True)
    date_to = serializers.DateField(required=False, allow_null=True)
    age_min = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=120)
    age_max = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=120)
    sexes = serializers.ListField(child=serializers.ChoiceField(Sex.values), required=False)
    genant_grades = serializers.ListField(
        child=serializers.ChoiceField(cohorts.GENANT_GRADES), required=False
    )
    region = serializers.ChoiceField(tuple(cohorts.REGIONS), required=False, allow_null=True)
    levels = serializers.ChoiceField(cohorts.LEVEL_COUNTS, required=False, allow_null=True)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        for key in ("date_from", "date_to"):
            if values.get(key) is not None:
                values[key] = values[key].isoformat()
        return values


class CohortRulesSerializer(serializers.Serializer):
    rule_min_age = serializers.BooleanField(required=False, help_text=cohorts.RULES[0].label)
    rule_baseline_vas = serializers.BooleanField(required=False, help_text=cohorts.RULES[1].label)
    rule_collapse = serializers.BooleanField(required=False, help_text=cohorts.RULES[2].label)
    rule_exclude_pathological = serializers.BooleanField(
        required=False, help_text=cohorts.RULES[3].label
    )


class CohortSerializer(serializers.ModelSerializer):
    filters = CohortFiltersSerializer(required=False)
    rules = CohortRulesSerializer(required=False, help_text="Inclusion rules; absent ones on.")
    owner = serializers.CharField(source="owner.username", read_only=True)
    definition = serializers.ListField(
        child=serializers.CharField(), source="describe", read_only=True
    )

    class Meta:
        model = Cohort
        fields = [
            "id",
            "name",
            "description",
            "filters",
            "rules",
            "auto_refresh",
            "definition",
            "definition_hash",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["definition_hash"]

    def get_validators(self):
        return []  # the service reports a duplicate definition


class RunSerializer(serializers.ModelSerializer):
    result_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = StatisticsRun
        fields = [
            "id",
            "url",
            "cohort",
            "analysis",
            "parameters",
            "status",
            "progress",
            "error",
            "trigger",
            "created_at",
            "started_at",
            "finished_at",
            "cohort_hash",
            "data_version",
            "software_version",
            "result_url",
        ]

    def get_url(self, run) -> str:
        return reverse("api-run-detail", args=[run.cohort_id, run.pk])

    def get_result_url(self, run) -> str | None:
        if run.status != RunStatus.DONE:
            return None
        return reverse("api-run-result", args=[run.cohort_id, run.pk])


class RunRequestSerializer(serializers.Serializer):
    analysis = serializers.ChoiceField(tuple(ANALYSES))
    parameters = serializers.DictField(required=False, help_text="The analysis' parameters.")


# ------------------------------------------------------------------ aggregate queries


class CohortQuerySerializer(serializers.Serializer):
    """A saved cohort (`cohort`) or an ad-hoc one from these filters."""

    cohort = serializers.IntegerField(required=False, min_value=1, help_text="A saved cohort.")
    techniques = serializers.CharField(required=False, help_text="Comma-separated, e.g. PKP,VBS")
    site = serializers.CharField(required=False, help_text="Site code(s), comma-separated.")
    procedure_from = serializers.DateField(required=False)
    procedure_to = serializers.DateField(required=False)
    genant_grade = serializers.CharField(required=False, help_text="1, 2, 3 (comma-separated).")
    region = serializers.ChoiceField(tuple(cohorts.REGIONS), required=False)
    sex = serializers.ChoiceField(Sex.values, required=False)
    age_min = serializers.IntegerField(required=False, min_value=0, max_value=120)
    age_max = serializers.IntegerField(required=False, min_value=0, max_value=120)
    inclusion_rules = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Apply the seed studies' inclusion rules to an ad-hoc cohort (default on).",
    )


class OutcomesQuerySerializer(CohortQuerySerializer):
    metric = serializers.CharField(help_text="vas, odi, rfvh, height or lka")

    def validate_metric(self, value):
        if value not in aggregates.METRICS:
            raise serializers.ValidationError(
                f"Unknown metric {value!r}: choose one of "
                f"{aggregates.choices_text(aggregates.METRICS)}."
            )
        return value


class RatesQuerySerializer(CohortQuerySerializer):
    event = serializers.CharField(help_text="leakage, rupture or adverse_event")
    type = serializers.CharField(
        required=False, help_text="Leakage: B, S, C; adverse event: its type code."
    )
    unit = serializers.CharField(required=False, help_text="patient, level or device")

    def validate(self, attrs):
        event = attrs["event"]
        if event not in aggregates.EVENTS:
            raise serializers.ValidationError(
                {
                    "event": f"Unknown event {event!r}: choose one of "
                    f"{aggregates.choices_text(aggregates.EVENTS)}."
                }
            )
        units = aggregates.UNITS[event]
        attrs.setdefault("unit", units[0])
        if attrs["unit"] not in units:
            raise serializers.ValidationError(
                {"unit": f"{event} is counted per {aggregates.choices_text(units)}."}
            )
        kind = attrs.get("type")
        if kind is not None and kind not in aggregates.TYPES[event]:
            valid = aggregates.choices_text(aggregates.TYPES[event]) or "none"
            raise serializers.ValidationError(
                {"type": f"Unknown type {kind!r} for {event}: choose one of {valid}."}
            )
        if event == "leakage" and kind is not None and attrs["unit"] != "level":
            raise serializers.ValidationError({"unit": "Leakage by type is counted per level."})
        return attrs


class Table2QuerySerializer(CohortQuerySerializer):
    followup = serializers.ChoiceField(("2w", "12w", "1y"), required=False)
    age_cut = serializers.IntegerField(required=False, min_value=40, max_value=100)


# ------------------------------------------------------------------ responses
# Aggregate responses are typed by the result contract: outcomes/api/openapi.py.


class RunPendingSerializer(serializers.Serializer):
    detail = serializers.CharField()
    run = RunSerializer()
