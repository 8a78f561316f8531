from typing import Any

from django import forms
from django.core.exceptions import ObjectDoesNotExist

from registry import derived
from registry.forms.base import RegistryModelForm
from registry.models import ODI_FIELDS, FollowUpVisit, RadiographicMeasurement
from registry.models.visits import HEIGHT_FIELDS, ODI_SECTION_NAMES

# Paraphrased anchors of each ODI 2.1a section (0 = no problem, 5 = worst).
ODI_ANCHORS = (
    ("no pain", "worst imaginable pain"),
    ("normal self-care", "cannot dress, stays in bed"),
    ("lifts heavy weights", "cannot lift anything"),
    ("walks any distance", "in bed most of the time"),
    ("sits as long as liked", "cannot sit at all"),
    ("stands as long as liked", "cannot stand at all"),
    ("sleep never disturbed", "cannot sleep at all"),
    ("normal sex life", "no sex life because of pain"),
    ("normal social life", "no social life"),
    ("travels anywhere", "only to receive treatment"),
)
ODI_CHOICES = [("", "—"), *((score, str(score)) for score in range(6))]
RADIOGRAPH_FIELDS = ["film_position", *HEIGHT_FIELDS, "lka_degrees"]


class VisitForm(RegistryModelForm):
    class Meta(RegistryModelForm.Meta):
        model = FollowUpVisit
        fields = [
            "timepoint",
            "visit_date",
            "vas",
            *ODI_FIELDS,
            "weight_bearing_resumed",
            "weight_bearing_date",
            "analgesics",
            "notes",
        ]
        labels = {"weight_bearing_date": "Weight-bearing resumed on"}
        help_texts = {"vas": "0 no pain, 10 worst pain imaginable; one decimal allowed."}
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for number, name in enumerate(ODI_FIELDS):
            self.fields[name] = forms.TypedChoiceField(
                label=ODI_SECTION_NAMES[number],
                choices=ODI_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
            self.fields[name].anchors = ODI_ANCHORS[number]

    def odi_fields(self) -> list:
        return [self[name] for name in ODI_FIELDS]

    def odi_preview(self) -> float | None:
        """The ODI % of what is in the form, as the server computes it (shown on re-render)."""
        answers = []
        for name in ODI_FIELDS:
            value = self[name].value()
            try:
                score = int(value)
            except (TypeError, ValueError):
                answers.append(None)
                continue
            answers.append(score if 0 <= score <= 5 else None)
        return derived.odi_percent(answers)

    # A scheduled timepoint already recorded is the service's DuplicateError (same message,
    # with a link to that visit, also when a concurrent submit wins the race).


class RadiographForm(RegistryModelForm):
    """Lateral-film measurements of one treated vertebra; all empty means not measured."""

    class Meta(RegistryModelForm.Meta):
        model = RadiographicMeasurement
        fields = RADIOGRAPH_FIELDS
        labels = {
            "anterior_height_mm": "Anterior height",
            "middle_height_mm": "Middle height",
            "posterior_height_mm": "Posterior height",
            "above_anterior_height_mm": "Above: anterior height",
            "below_anterior_height_mm": "Below: anterior height",
            "lka_degrees": "Kyphosis angle (LKA)",
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        try:
            self.treated_level = self.instance.treated_level
        except ObjectDoesNotExist:
            self.treated_level = None

    def is_blank(self) -> bool:
        measured = [name for name in RADIOGRAPH_FIELDS if name != "film_position"]
        return not self.instance.pk and all(self[name].value() in (None, "") for name in measured)

    def full_clean(self) -> None:
        if self.is_bound and self.is_blank():
            self.cleaned_data = {}
            self._errors = forms.utils.ErrorDict()
            return
        super().full_clean()

    def rfvh_preview(self) -> float | None:
        def number(name: str) -> float | None:
            try:
                return float(self[name].value())
            except (TypeError, ValueError):
                return None

        return derived.rfvh(*(number(n) for n in HEIGHT_FIELDS[:1] + HEIGHT_FIELDS[3:]))
