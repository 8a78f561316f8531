from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry import derived
from registry.models.base import ClinicalRecord, as_decimal, updated_index
from registry.models.choices import Analgesics, FilmPosition, TimepointChoice
from registry.models.patients import not_in_future
from registry.models.procedures import Procedure, TreatedLevel

ODI_FIELDS = tuple(f"odi_{n}" for n in range(1, derived.ODI_SECTIONS + 1))
ODI_SECTION_NAMES = (
    "Pain intensity",
    "Personal care",
    "Lifting",
    "Walking",
    "Sitting",
    "Standing",
    "Sleeping",
    "Sex life",
    "Social life",
    "Travelling",
)


def _odi_field(number: int) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        f"ODI {number}. {ODI_SECTION_NAMES[number - 1]}",
        null=True,
        blank=True,
        validators=[MaxValueValidator(5)],
    )


class FollowUpVisit(ClinicalRecord):
    """A patient-level visit at a timepoint. An out-of-window visit is kept and flagged."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="visits")
    timepoint = models.CharField(max_length=12, choices=TimepointChoice.choices)
    visit_date = models.DateField(validators=[not_in_future])
    vas = models.DecimalField(
        "VAS back pain (0-10)",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    odi_1 = _odi_field(1)
    odi_2 = _odi_field(2)
    odi_3 = _odi_field(3)
    odi_4 = _odi_field(4)
    odi_5 = _odi_field(5)
    odi_6 = _odi_field(6)
    odi_7 = _odi_field(7)
    odi_8 = _odi_field(8)
    odi_9 = _odi_field(9)
    odi_10 = _odi_field(10)
    DERIVED_FIELDS = ("odi_percent",)
    odi_percent = models.DecimalField(
        "ODI (%)", max_digits=4, decimal_places=1, null=True, blank=True, editable=False
    )
    weight_bearing_resumed = models.BooleanField(
        "back to pre-injury weight-bearing activity", null=True, blank=True
    )
    weight_bearing_date = models.DateField(null=True, blank=True, validators=[not_in_future])
    analgesics = models.CharField(
        "analgesic use", max_length=15, choices=Analgesics.choices, blank=True
    )
    notes = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["procedure_id", "visit_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "timepoint"],
                condition=~Q(timepoint=TimepointChoice.UNSCHEDULED),
                name="visit_one_per_scheduled_timepoint",
            ),
            models.CheckConstraint(
                condition=Q(vas__isnull=True) | Q(vas__gte=0, vas__lte=10), name="visit_vas_range"
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{f}__isnull": True}) | Q(**{f"{f}__lte": 5}),
                    name=f"visit_{f}_range",
                )
                for f in ODI_FIELDS
            ),
        ]
        indexes = [
            models.Index(fields=["timepoint", "procedure"]),
            # The worklist's recently recorded out-of-window visits, newest first.
            models.Index(fields=["visit_date"], name="visit_date_idx"),
            updated_index("visit_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_timepoint_display()} on {self.visit_date:%Y-%m-%d}"

    @property
    def odi_answers(self) -> list[int | None]:
        return [getattr(self, f) for f in ODI_FIELDS]

    @property
    def odi_band(self) -> str | None:
        return derived.odi_band(self.odi_percent)

    @property
    def window(self) -> derived.VisitWindow:
        return derived.visit_window(self.timepoint, self.procedure.date, self.visit_date)

    def refresh_derived(self) -> None:
        self.odi_percent = as_decimal(derived.odi_percent(self.odi_answers), 1)

    def clean(self) -> None:
        errors = {}
        if self.procedure_id and self.visit_date:
            procedure_date = self.procedure.date
            if self.timepoint == TimepointChoice.BASELINE:
                if self.visit_date > procedure_date:
                    errors["visit_date"] = (
                        "The baseline visit must be on or before the procedure date."
                    )
            elif self.visit_date <= procedure_date:
                errors["visit_date"] = "A follow-up visit must be after the procedure date."
        if self.weight_bearing_date and not self.weight_bearing_resumed:
            errors["weight_bearing_date"] = "Give a date only when weight-bearing has resumed."
        if errors:
            raise ValidationError(errors)


HEIGHT_FIELDS = (
    "anterior_height_mm",
    "middle_height_mm",
    "posterior_height_mm",
    "above_anterior_height_mm",
    "below_anterior_height_mm",
)


def _height_field(label: str) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(80)],
    )


# RFVH of a vertebra collapsed as the inclusion rule asks (outcomes.cohorts states the rule;
# a test checks the two agree).
COLLAPSED_RFVH_PERCENT = 80


class RadiographicMeasurement(ClinicalRecord):
    """Lateral-film measurements of one treated vertebra at one visit."""

    HEIGHT_FIELDS = HEIGHT_FIELDS
    DERIVED_FIELDS = ("rfvh_percent",)

    visit = models.ForeignKey(FollowUpVisit, on_delete=models.CASCADE, related_name="radiographs")
    treated_level = models.ForeignKey(
        TreatedLevel, on_delete=models.PROTECT, related_name="radiographs"
    )
    film_position = models.CharField(
        max_length=10, choices=FilmPosition.choices, default=FilmPosition.STANDING
    )
    anterior_height_mm = _height_field("anterior height (mm)")
    middle_height_mm = _height_field("middle height (mm)")
    posterior_height_mm = _height_field("posterior height (mm)")
    above_anterior_height_mm = _height_field("anterior height of vertebra above (mm)")
    below_anterior_height_mm = _height_field("anterior height of vertebra below (mm)")
    lka_degrees = models.DecimalField(
        "local kyphosis angle (°)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(-45), MaxValueValidator(90)],
    )
    rfvh_percent = models.DecimalField(
        "RFVH (%)", max_digits=5, decimal_places=2, null=True, blank=True, editable=False
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["visit_id", "treated_level_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "treated_level"], name="radiograph_once_per_visit"
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{f}__isnull": True}) | Q(**{f"{f}__gt": 0}),
                    name=f"radiograph_{f}_positive",
                )
                for f in HEIGHT_FIELDS
            ),
        ]
        indexes = [
            updated_index("radiograph_updated_idx"),
            # The films showing a collapse of the inclusion rule (RFVH at most 80 %: a
            # height loss of 20 % or more, DOMAIN.md): the cohort selection reads their
            # visits, from this index alone in a third of the table's scan time.
            models.Index(
                fields=["visit"],
                condition=Q(rfvh_percent__lte=COLLAPSED_RFVH_PERCENT),
                name="radiograph_collapsed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Radiograph of level {self.treated_level_id} at visit {self.visit_id}"

    def refresh_derived(self) -> None:
        heights = (
            self.anterior_height_mm,
            self.above_anterior_height_mm,
            self.below_anterior_height_mm,
        )
        # Implausible heights are refused by clean(); never store a value the column cannot
        # hold, whoever saves (a raw "no more than 5 digits" is not a message for a person).
        value = None if derived.implausible_heights(*heights) else derived.rfvh(*heights)
        self.rfvh_percent = as_decimal(value, 2)

    @property
    def height_loss(self) -> float | None:
        return derived.height_loss(self.rfvh_percent)

    @property
    def suggested_genant_grade(self) -> int | None:
        return derived.suggested_genant_grade(self.height_loss)

    @property
    def genant_mismatch(self) -> bool:
        return derived.genant_mismatch(self.treated_level.fracture.genant_grade, self.height_loss)

    @property
    def beck_index(self) -> float | None:
        return derived.beck_index(self.anterior_height_mm, self.posterior_height_mm)

    def clean(self) -> None:
        errors = derived.implausible_heights(
            self.anterior_height_mm, self.above_anterior_height_mm, self.below_anterior_height_mm
        )
        if (
            self.visit_id
            and self.treated_level_id
            and self.treated_level.procedure_id != self.visit.procedure_id
        ):
            errors["treated_level"] = "This vertebra was not treated in this visit's procedure."
        if errors:
            raise ValidationError(errors)
