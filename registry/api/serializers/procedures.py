from rest_framework import serializers

from registry.api.serializers.base import RECORD_FIELDS, RecordSerializer
from registry.models import AdverseEvent, Fracture, Procedure, Technique, TreatedLevel


class FractureSerializer(RecordSerializer):
    region = serializers.CharField(read_only=True, help_text="thoracic or lumbar")

    class Meta:
        model = Fracture
        fields = [
            *RECORD_FIELDS,
            "patient",
            "level",
            "episode",
            "onset_date",
            "imaging",
            "genant_grade",
            "morphology",
            "bone_marrow_oedema",
            "intravertebral_cleft",
            "posterior_wall_intact",
            "aetiology",
            "region",
        ]


LEVEL_ITEMS = [
    "cement_volume_ml",
    "leakage",
    "leakage_location",
    "leakage_symptomatic",
    "leakage_seen_on",
    "devices_used",
    "devices_ruptured",
]


class TreatedLevelSerializer(RecordSerializer):
    level = serializers.CharField(source="fracture.level", read_only=True)

    class Meta:
        model = TreatedLevel
        fields = [*RECORD_FIELDS, "procedure", "fracture", "level", *LEVEL_ITEMS]
        read_only_fields = ["procedure"]


class NewLevelSerializer(TreatedLevelSerializer):
    """A treated vertebra given with a new procedure."""

    class Meta(TreatedLevelSerializer.Meta):
        fields = ["id", "version", "fracture", "level", *LEVEL_ITEMS]
        read_only_fields = []


class LevelEditSerializer(TreatedLevelSerializer):
    """A treated vertebra of a recorded procedure, edited with it: its id, the version you
    read (in the procedure's `levels`) and the items to change."""

    id = serializers.IntegerField(help_text="A treated level of this procedure.")
    version = serializers.IntegerField(min_value=1, help_text="The level's version you read.")

    class Meta(TreatedLevelSerializer.Meta):
        fields = ["id", "version", "level", *LEVEL_ITEMS]
        read_only_fields = []


class ProcedureSerializer(RecordSerializer):
    technique = serializers.SlugRelatedField(
        slug_field="code", queryset=Technique.objects.all(), help_text="Technique code."
    )
    levels = NewLevelSerializer(
        many=True,
        source="treated_levels",
        required=False,
        help_text="The treated vertebrae (on an update: `id` and `version` of each to edit).",
    )

    class Meta:
        model = Procedure
        fields = [
            *RECORD_FIELDS,
            "patient",
            "date",
            "surgeon",
            "technique",
            "approach",
            "route",
            "anaesthesia",
            "operation_time_min",
            "fluoroscopy_shots",
            "ambulation_hours",
            "hospital_stay_days",
            "levels",
        ]
        read_only_fields = ["surgeon"]


class AdverseEventSerializer(RecordSerializer):
    class Meta:
        model = AdverseEvent
        fields = [
            *RECORD_FIELDS,
            "procedure",
            "treated_level",
            "event_type",
            "onset_date",
            "clavien_dindo",
            "resolved",
            "description",
        ]


class ProcedureUpdateSerializer(ProcedureSerializer):
    """A procedure's update: its fields, and its treated levels to edit (by id)."""

    levels = LevelEditSerializer(
        many=True,
        source="treated_levels",
        required=False,
        help_text="Treated levels to edit: each with its `id` and the `version` you read.",
    )
