"""Shapes of /api/v1/quality/: declared once here, built from the same presenters as the page."""

from __future__ import annotations

from rest_framework import serializers

from outcomes.quality.models import Decision, Finding, QualityRun


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    severity = serializers.CharField()
    record_type = serializers.CharField()
    category = serializers.CharField()


class FindingSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    registry_id = serializers.CharField(source="patient.registry_id")
    timeline_url = serializers.SerializerMethodField()
    edit_url = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "site",
            "registry_id",
            "rule",
            "severity",
            "record_type",
            "record_id",
            "item",
            "value",
            "detail",
            "status",
            "timeline_url",
            "edit_url",
        ]

    def _links(self, finding: Finding) -> dict:
        from outcomes.quality.links import record_links

        return record_links(finding)

    def get_timeline_url(self, finding: Finding) -> str:
        return self._links(finding)["timeline"]

    def get_edit_url(self, finding: Finding) -> str:
        return self._links(finding)["edit"]


class QualityRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualityRun
        fields = [
            "id",
            "status",
            "trigger",
            "scope_sites",
            "as_of",
            "created_at",
            "started_at",
            "finished_at",
            "n_findings",
            "error",
        ]


class QualityRunRequestSerializer(serializers.Serializer):
    site = serializers.CharField(required=False, allow_blank=True)


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(max_length=2000)
    value = serializers.CharField(read_only=True)
    reviewed_by = serializers.CharField(source="reviewed_by.get_username", read_only=True)
    reviewed_at = serializers.DateTimeField(read_only=True)
