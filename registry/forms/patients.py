from typing import Any

from django import forms

from registry.forms.base import RegistryModelForm
from registry.models import Patient, Site, Technique

PATIENT_FIELDS = [
    "hospital_record_number",
    "family_name",
    "given_name",
    "date_of_birth",
    "sex",
    "height_cm",
    "weight_kg",
    "bmd_t_score",
    "osteoporosis_treatment",
    "corticosteroid_use",
    "asa_class",
    "smoking",
    "consent_given",
    "consent_date",
]


class PatientForm(RegistryModelForm):
    """New patient (with the site, among those the user may edit) or an edit (without)."""

    class Meta(RegistryModelForm.Meta):
        model = Patient
        fields = ["site", *PATIENT_FIELDS]
        help_texts = {
            "bmd_t_score": "Lowest T-score of the spine or hip (DXA).",
        }

    def __init__(self, *args: Any, sites=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["site"]
        else:
            self.fields["site"].queryset = sites if sites is not None else Site.objects.none()
            self.fields["site"].empty_label = None
        self.fields["asa_class"].widget = forms.Select(
            choices=[("", "—"), *((n, f"ASA {n}") for n in range(1, 6))]
        )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the withdrawal",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="For example: the patient withdrew consent on a given date. Kept in history.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason for the withdrawal.")
        return reason


PER_PAGE_CHOICES = (25, 50, 100)


class PatientFilterForm(forms.Form):
    """The patient list's search box and filters (GET)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": "Registry ID, hospital record number or name", "type": "search"}
        ),
    )
    technique = forms.ChoiceField(label="Technique", required=False)
    site = forms.ModelChoiceField(
        label="Site", queryset=Site.objects.none(), required=False, empty_label="All my sites"
    )
    due = forms.BooleanField(label="Follow-up due or overdue", required=False)
    per_page = forms.TypedChoiceField(
        label="Per page",
        choices=[(n, n) for n in PER_PAGE_CHOICES],
        coerce=int,
        required=False,
        empty_value=PER_PAGE_CHOICES[0],
    )

    def __init__(self, *args: Any, sites=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites if sites is not None else Site.objects.none()
        self.fields["technique"].choices = [
            ("", "Any technique"),
            *Technique.objects.values_list("code", "name"),
        ]

    def filters(self) -> dict[str, Any]:
        """Valid filters only: a bad value in the URL is ignored, not an error page."""
        if not self.is_valid():
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        else:
            data = self.cleaned_data
        return {
            "query": data.get("q") or "",
            "technique_code": data.get("technique") or "",
            "site": data.get("site"),
            "follow_up_due": bool(data.get("due")),
            "per_page": data.get("per_page") or PER_PAGE_CHOICES[0],
        }
