from rest_framework import serializers

from registry.api.serializers.base import RECORD_FIELDS, RecordSerializer
from registry.dictionary import derived_docs
from registry.identifiers import PATIENT_IDENTIFIERS
from registry.models import Patient, Site
from registry.selectors import sites_visible_to


class VisibleSiteField(serializers.SlugRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Site.objects.none()
        return sites_visible_to(user=request.user)


class PatientSerializer(RecordSerializer):
    site = VisibleSiteField(slug_field="code", help_text="Site code.")
    bmi = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text=derived_docs()["bmi"].description(),
    )

    class Meta:
        model = Patient
        fields = [
            *RECORD_FIELDS,
            "registry_id",
            "site",
            *PATIENT_IDENTIFIERS,
            "sex",
            "height_cm",
            "weight_kg",
            "bmi",
            "bmd_t_score",
            "osteoporosis_treatment",
            "corticosteroid_use",
            "asa_class",
            "smoking",
            "consent_given",
            "consent_date",
            "withdrawn_at",
            "withdrawal_reason",
        ]
        read_only_fields = ["registry_id", "withdrawn_at", "withdrawal_reason"]


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why consent was withdrawn.")
