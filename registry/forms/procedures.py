from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from registry import permissions
from registry.forms.base import RegistryModelForm
from registry.models import (
    AdverseEvent,
    Leakage,
    Procedure,
    Technique,
    TreatedLevel,
)

PROCEDURE_FIELDS = [
    "date",
    "technique",
    "approach",
    "route",
    "anaesthesia",
    "surgeon",
    "operation_time_min",
    "fluoroscopy_shots",
    "ambulation_hours",
    "hospital_stay_days",
]
LEVEL_FIELDS = [
    "cement_volume_ml",
    "leakage",
    "leakage_location",
    "leakage_symptomatic",
    "leakage_seen_on",
    "devices_used",
    "devices_ruptured",
]


class SurgeonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class ProcedureForm(RegistryModelForm):
    surgeon = SurgeonChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Operating surgeon"
    )

    class Meta(RegistryModelForm.Meta):
        model = Procedure
        fields = PROCEDURE_FIELDS

    def __init__(self, *args: Any, site=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        current = self.instance.technique_id if self.instance.pk else None
        self.fields["technique"].queryset = Technique.objects.filter(Q(active=True) | Q(pk=current))
        self.fields["technique"].empty_label = "Choose…"
        self.fields["technique"].label_from_instance = lambda t: f"{t.code}: {t.name}"
        users = get_user_model().objects.filter(
            memberships__site=site, memberships__role__in=permissions.EDITOR_ROLES
        )
        if self.instance.surgeon_id:
            users = users | get_user_model().objects.filter(pk=self.instance.surgeon_id)
        self.fields["surgeon"].queryset = users.distinct().order_by("last_name", "username")


class TreatedLevelForm(RegistryModelForm):
    """What happened at one treated vertebra. On a new procedure, `treated` says whether this
    fractured vertebra was treated at all; the rest is only validated when it was."""

    extra_fields = ("treated",)

    class Meta(RegistryModelForm.Meta):
        model = TreatedLevel
        fields = LEVEL_FIELDS
        labels = {
            "leakage_location": "Leak location (type C)",
            "leakage_symptomatic": "Symptomatic leak",
            "leakage_seen_on": "Leak seen on",
            "devices_used": "Devices used (balloons/stents)",
        }

    def __init__(self, *args: Any, choosable: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fracture = self.instance.fracture
        if choosable:
            self.fields["treated"] = forms.BooleanField(
                required=False, label=f"{self.fracture.level} treated"
            )
        self.fields["devices_ruptured"].help_text = "Balloons or stents that ruptured."

    @property
    def is_treated(self) -> bool:
        if "treated" not in self.fields:
            return True
        return bool(self["treated"].value())

    def full_clean(self) -> None:
        if self.is_bound and not self.is_treated:  # an untreated vertebra is not validated
            self.cleaned_data = {"treated": False}
            self._errors = forms.utils.ErrorDict()
            return
        super().full_clean()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("leakage") == Leakage.NONE:
            for name in ("leakage_location", "leakage_seen_on"):
                if data.get(name):
                    self.add_error(name, "No leakage recorded: leave this empty.")
        return data


class AdverseEventForm(RegistryModelForm):
    """An adverse event of a procedure. With `optional`, an empty form means "none"."""

    class Meta(RegistryModelForm.Meta):
        model = AdverseEvent
        fields = [
            "event_type",
            "onset_date",
            "clavien_dindo",
            "resolved",
            "treated_level",
            "description",
        ]
        labels = {"treated_level": "Vertebra concerned"}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, optional: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        procedure = self.instance.procedure
        field = self.fields["treated_level"]
        field.queryset = procedure.treated_levels.select_related("fracture")
        field.label_from_instance = lambda level: level.fracture.level
        field.empty_label = "Not level-specific"
        self.optional = optional
        if optional:
            for name in ("event_type", "onset_date", "clavien_dindo"):
                self.fields[name].required = False

    def is_blank(self) -> bool:
        return self.optional and not any(
            self[name].value() not in (None, "", "unknown") for name in self.fields
        )

    def full_clean(self) -> None:
        if self.is_bound and self.is_blank():
            self.cleaned_data = {}
            self._errors = forms.utils.ErrorDict()
            return
        super().full_clean()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.optional:
            for name in ("event_type", "onset_date", "clavien_dindo"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Needed to record the adverse event.")
        return data
