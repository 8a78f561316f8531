from typing import Any

from django import forms

from registry import derived, vertebrae
from registry.forms.base import RegistryModelForm, copy_formfield
from registry.models import Fracture, RadiographicMeasurement

GENANT_CHOICES = [
    ("", "Choose…"),
    (1, "1: mild (20-25 % height loss)"),
    (2, "2: moderate (25-40 %)"),
    (3, "3: severe (more than 40 %)"),
]
FRACTURE_FIELDS = [
    "onset_date",
    "imaging",
    "genant_grade",
    "morphology",
    "bone_marrow_oedema",
    "intravertebral_cleft",
    "posterior_wall_intact",
    "aetiology",
]
AID_FIELDS = ("anterior_height_mm", "above_anterior_height_mm", "below_anterior_height_mm")


class FractureForm(RegistryModelForm):
    """One fractured vertebra. On the new-fractures page the level comes from the picker and
    the optional heights suggest a Genant grade (they are an aid: they prefill the baseline
    radiographs, the grade the surgeon picks is what is recorded)."""

    extra_fields = AID_FIELDS

    genant_grade = forms.TypedChoiceField(
        label="Genant grade", choices=GENANT_CHOICES, coerce=int, empty_value=None
    )

    class Meta(RegistryModelForm.Meta):
        model = Fracture
        fields = ["level", *FRACTURE_FIELDS]

    def __init__(self, *args: Any, with_level: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not with_level:
            del self.fields["level"]
            for name in AID_FIELDS:
                self.fields[name] = copy_formfield(RadiographicMeasurement, name, required=False)
        self.suggested_grade: int | None = None
        self.height_loss: float | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if all(name in self.fields for name in AID_FIELDS):
            heights = [data.get(name) for name in AID_FIELDS]
            problems = derived.implausible_heights(*heights)
            for name, message in problems.items():
                self.add_error(name, message)
            if problems:
                return data
            rfvh = derived.rfvh(*heights)
            self.height_loss = derived.height_loss(rfvh)
            self.suggested_grade = derived.suggested_genant_grade(self.height_loss)
        return data

    @property
    def grade_mismatch(self) -> bool:
        recorded = self.cleaned_data.get("genant_grade") if hasattr(self, "cleaned_data") else None
        return derived.genant_mismatch(recorded, self.height_loss)

    def heights(self) -> dict[str, str]:
        """The aid heights as text, to prefill the baseline radiographs."""
        return {
            name: str(self.cleaned_data[name])
            for name in AID_FIELDS
            if self.cleaned_data.get(name) is not None
        }


class LevelPickerForm(forms.Form):
    levels = forms.MultipleChoiceField(
        label="Fractured vertebrae",
        choices=vertebrae.LEVEL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one fractured vertebra."},
    )

    def __init__(self, *args: Any, recorded: set[str] = frozenset(), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.recorded = set(recorded)

    def clean_levels(self) -> list[str]:
        levels = self.cleaned_data["levels"]
        already = [level for level in levels if level in self.recorded]
        if already:
            raise forms.ValidationError(
                f"Already recorded for this patient: {', '.join(already)}. Edit them instead."
            )
        return sorted(levels, key=vertebrae.level_index)
