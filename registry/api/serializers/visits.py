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
        fields = ["id", "version", "treated_level", *FILM_ITEMS, "rfvh_percent"]


class RadiographEditSerializer(NewRadiographSerializer):
    """A film edited with its visit: `id` and `version` for one recorded before, or
    `treated_level` and the measurements for a new one."""

    id = serializers.IntegerField(required=False, help_text="A film of this visit.")
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="With id: the film's version you read."
    )

    class Meta(NewRadiographSerializer.Meta):
        extra_kwargs = {"treated_level": {"required": False}}


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
        help_text="Per treated vertebra (on an update: `id` and `version` of each to edit).",
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


class VisitUpdateSerializer(VisitSerializer):
    """A visit's update: its answers, and films to edit (by id) or add."""

    radiographs = RadiographEditSerializer(
        many=True,
        required=False,
        help_text="Films to edit (`id`, `version`) or to add (`treated_level`, measurements).",
    )
