from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from registry.models.base import ClinicalRecord, updated_index
from registry.models.choices import (
    AdverseEventType,
    Anaesthesia,
    Approach,
    ClavienDindo,
    Leakage,
    LeakageLocation,
    LeakageSeenOn,
    Route,
)
from registry.models.fractures import Fracture
from registry.models.patients import Patient, not_in_future
from registry.models.sites import Technique


class Procedure(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="procedures")
    date = models.DateField("procedure date", validators=[not_in_future])
    surgeon = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="procedures",
    )
    technique = models.ForeignKey(Technique, on_delete=models.PROTECT, related_name="procedures")
    approach = models.CharField(max_length=15, choices=Approach.choices)
    route = models.CharField(max_length=15, choices=Route.choices, default=Route.TRANSPEDICULAR)
    anaesthesia = models.CharField(max_length=10, choices=Anaesthesia.choices)
    fractures = models.ManyToManyField(Fracture, through="TreatedLevel", related_name="procedures")
    operation_time_min = models.PositiveSmallIntegerField(
        "operation time (min)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
    )
    fluoroscopy_shots = models.PositiveSmallIntegerField(
        "fluoroscopy shots", null=True, blank=True, validators=[MaxValueValidator(2000)]
    )
    ambulation_hours = models.DecimalField(
        "time to ambulation (hours)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(2000)],
    )
    hospital_stay_days = models.PositiveSmallIntegerField(
        "hospital stay (days)", null=True, blank=True, validators=[MaxValueValidator(365)]
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "id"]
        indexes = [
            models.Index(fields=["technique", "date"]),
            models.Index(fields=["date"]),
            updated_index("procedure_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(operation_time_min__isnull=True) | Q(operation_time_min__gte=1),
                name="procedure_operation_time_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.technique.code} on {self.date:%Y-%m-%d}"

    def clean(self) -> None:
        if self.date and self.patient_id and self.date < self.patient.date_of_birth:
            raise ValidationError({"date": "The procedure cannot precede the date of birth."})


class TreatedLevel(ClinicalRecord):
    """A vertebra treated in a procedure, with what happened at that level."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="treated_levels"
    )
    fracture = models.ForeignKey(Fracture, on_delete=models.PROTECT, related_name="treatments")
    cement_volume_ml = models.DecimalField(
        "cement volume (ml)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(20)],
    )
    leakage = models.CharField(
        "cement leakage (Yeom)", max_length=4, choices=Leakage.choices, default=Leakage.NONE
    )
    leakage_location = models.CharField(
        max_length=15,
        choices=LeakageLocation.choices,
        blank=True,
        help_text="Where a type C leak went.",
    )
    leakage_symptomatic = models.BooleanField(default=False)
    leakage_seen_on = models.CharField(max_length=5, choices=LeakageSeenOn.choices, blank=True)
    devices_used = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(4)], help_text="Balloons or stents used."
    )
    devices_ruptured = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(4)]
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["procedure_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "fracture"], name="treated_level_once"),
            models.CheckConstraint(
                condition=Q(devices_ruptured__lte=F("devices_used")),
                name="treated_level_ruptured_le_used",
            ),
            models.CheckConstraint(
                condition=Q(cement_volume_ml__isnull=True) | Q(cement_volume_ml__gt=0),
                name="treated_level_cement_positive",
            ),
        ]
        indexes = [updated_index("treated_level_updated_idx")]

    def __str__(self) -> str:
        return f"{self.fracture.level} in procedure {self.procedure_id}"

    @property
    def leaked(self) -> bool:
        return self.leakage != Leakage.NONE

    def clean(self) -> None:
        errors = {}
        same_patient = (
            not (self.procedure_id and self.fracture_id)
            or self.fracture.patient_id == self.procedure.patient_id
        )
        if not same_patient:
            errors["fracture"] = "This fracture belongs to another patient."
        if self.devices_ruptured > self.devices_used:
            errors["devices_ruptured"] = "More devices ruptured than were used."
        if self.leakage == Leakage.NONE:
            if self.leakage_location or self.leakage_symptomatic:
                errors["leakage_location"] = (
                    "No leakage recorded: leave location and symptoms empty."
                )
        elif self.leakage == Leakage.C and not self.leakage_location:
            errors["leakage_location"] = "Say where a type C (cortical) leak went."
        if errors:
            raise ValidationError(errors)


class AdverseEvent(ClinicalRecord):
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="adverse_events"
    )
    treated_level = models.ForeignKey(
        TreatedLevel, on_delete=models.PROTECT, null=True, blank=True, related_name="adverse_events"
    )
    event_type = models.CharField(max_length=25, choices=AdverseEventType.choices)
    onset_date = models.DateField(validators=[not_in_future])
    clavien_dindo = models.CharField(
        "Clavien-Dindo grade", max_length=3, choices=ClavienDindo.choices
    )
    resolved = models.BooleanField(null=True, blank=True)
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["procedure_id", "onset_date", "id"]
        indexes = [models.Index(fields=["event_type"]), updated_index("adverse_event_updated_idx")]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} ({self.clavien_dindo})"

    def clean(self) -> None:
        errors = {}
        if self.procedure_id and self.onset_date and self.onset_date < self.procedure.date:
            errors["onset_date"] = "An adverse event cannot start before the procedure."
        if self.treated_level_id and self.treated_level.procedure_id != self.procedure_id:
            errors["treated_level"] = "This level was not treated in this procedure."
        if errors:
            raise ValidationError(errors)
