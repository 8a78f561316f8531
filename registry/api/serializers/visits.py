from rest_framework import serializers

from registry.api.serializers.base import RECORD_FIELDS, RecordSerializer
from registry.models import ODI_FIELDS, FollowUpVisit, RadiographicMeasurement
from registry.models.visits import HEIGHT_FIELDS

FILM_ITEMS = ["film_position", *HEIGHT_FIELDS, "lka_degrees"]


class RadiographSerializer(RecordSerializer):
    class Meta:
        model = RadiographicMeasurement
        fields = [*RECORD_FIELDS, "visit", "treated_level", *FILM_ITEMS, "rfvh_percent"]


class NewRadiographSerializer(RadiographSerializer):
    class Meta(RadiographSerializer.Meta):
        fields = ["id", "treated_level", *FILM_ITEMS, "rfvh_percent"]


class WindowSerializer(serializers.Serializer):
    status = serializers.CharField()
    target_date = serializers.DateField(allow_null=True)
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    days_after_procedure = serializers.IntegerField(allow_null=True)


class VisitSerializer(RecordSerializer):
    radiographs = NewRadiographSerializer(
        many=True,
        required=False,
        help_text="Per treated vertebra: given on create; edit them at /radiographs/.",
    )
    odi_band = serializers.CharField(read_only=True, allow_null=True)
    window = WindowSerializer(read_only=True, help_text="Where the visit falls in its window.")

    class Meta:
        model = FollowUpVisit
        fields = [
            *RECORD_FIELDS,
            "procedure",
            "timepoint",
            "visit_date",
            "window",
            "vas",
            *ODI_FIELDS,
            "odi_percent",
            "odi_band",
            "weight_bearing_resumed",
            "weight_bearing_date",
            "analgesics",
            "notes",
            "radiographs",
        ]
