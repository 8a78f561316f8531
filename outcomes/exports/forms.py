"""The export request form: which cohort, which format, which de-identification level."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from outcomes.exports.models import ExportFormat, ExportLevel
from outcomes.selectors import cohorts_visible_to
from registry.permissions import is_site_admin_somewhere


class ExportForm(forms.Form):
    cohort = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="All active patients of the sites I may export",
    )
    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.CSV)
    level = forms.ChoiceField(
        label="De-identification",
        choices=ExportLevel.choices,
        initial=ExportLevel.DEIDENTIFIED,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reason for identified data",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for an identified export; it is recorded with the export.",
    )

    def __init__(self, *args, user: AbstractBaseUser, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohorts_visible_to(user=user).order_by("name")
        if not is_site_admin_somewhere(user):
            self.fields["level"].choices = [
                c for c in ExportLevel.choices if c[0] != ExportLevel.IDENTIFIED
            ]
            del self.fields["reason"]
        self.fields["cohort"].widget.attrs["class"] = "form-select"
        self.fields["format"].widget.attrs["class"] = "form-select"
        if "reason" in self.fields:
            self.fields["reason"].widget.attrs["class"] = "form-control"
