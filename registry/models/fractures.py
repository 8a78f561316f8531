from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry import vertebrae
from registry.models.base import ClinicalRecord, updated_index
from registry.models.choices import Aetiology, Imaging, Morphology
from registry.models.patients import Patient, not_in_future


class Fracture(ClinicalRecord):
    """One fractured vertebra. A later new fracture of the same level is a new episode."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="fractures")
    level = models.CharField(max_length=3, choices=vertebrae.LEVEL_CHOICES)
    episode = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    onset_date = models.DateField(
        "date of onset", null=True, blank=True, validators=[not_in_future]
    )
    imaging = models.CharField(
        "confirming imaging", max_length=10, choices=Imaging.choices, blank=True
    )
    genant_grade = models.PositiveSmallIntegerField(
        "Genant grade", validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    morphology = models.CharField(max_length=10, choices=Morphology.choices, blank=True)
    bone_marrow_oedema = models.BooleanField("bone-marrow oedema on MRI", null=True, blank=True)
    intravertebral_cleft = models.BooleanField(null=True, blank=True)
    posterior_wall_intact = models.BooleanField(null=True, blank=True)
    aetiology = models.CharField(
        max_length=15, choices=Aetiology.choices, default=Aetiology.OSTEOPOROTIC
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["patient_id", "episode", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "level", "episode"], name="fracture_one_per_level_episode"
            ),
            models.CheckConstraint(
                condition=Q(genant_grade__gte=1, genant_grade__lte=3), name="fracture_genant_range"
            ),
        ]
        indexes = [updated_index("fracture_updated_idx")]

    def __str__(self) -> str:
        return f"{self.level} (Genant {self.genant_grade})"

    @property
    def region(self) -> str:
        return vertebrae.region_of(self.level)

    @property
    def is_thoracolumbar_junction(self) -> bool:
        return self.level in vertebrae.THORACOLUMBAR_JUNCTION

    @property
    def is_pathological(self) -> bool:
        return self.aetiology != Aetiology.OSTEOPOROTIC

    def clean(self) -> None:
        if self.onset_date and self.patient_id and self.onset_date < self.patient.date_of_birth:
            raise ValidationError({"onset_date": "The onset cannot precede the date of birth."})
