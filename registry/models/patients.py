import secrets
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registry import derived
from registry.identifiers import PATIENT_IDENTIFIERS
from registry.models.base import ClinicalRecord, updated_index
from registry.models.choices import OsteoporosisTreatment, Sex, Smoking
from registry.models.sites import Site

# Crockford base32 without look-alikes (no I, L, O, U): readable over the phone.
_PSEUDONYM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_registry_id(choose=secrets.choice) -> str:
    """A pseudonym that carries no information about the patient or the site."""
    return "OV-" + "".join(choose(_PSEUDONYM_ALPHABET) for _ in range(8))


def not_in_future(value: date) -> None:
    if value and value > timezone.localdate():
        raise ValidationError("This date is in the future.", code="future_date")


class PatientQuerySet(models.QuerySet):
    def active(self) -> "PatientQuerySet":
        """Patients who have not withdrawn consent: the only ones statistics and exports use."""
        return self.filter(withdrawn_at__isnull=True)


class Patient(ClinicalRecord):
    IDENTIFIERS = PATIENT_IDENTIFIERS

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    registry_id = models.CharField(
        "registry ID", max_length=16, unique=True, editable=False, default=new_registry_id
    )
    # Identifying items (see registry/identifiers.py)
    hospital_record_number = models.CharField(max_length=40)
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[not_in_future])

    sex = models.CharField(max_length=1, choices=Sex.choices)
    height_cm = models.DecimalField(
        "height (cm)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(100), MaxValueValidator(230)],
    )
    weight_kg = models.DecimalField(
        "weight (kg)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(25), MaxValueValidator(250)],
    )
    bmd_t_score = models.DecimalField(
        "lowest BMD T-score",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(-8), MaxValueValidator(4)],
    )
    osteoporosis_treatment = models.CharField(
        "anti-osteoporosis treatment",
        max_length=20,
        choices=OsteoporosisTreatment.choices,
        blank=True,
    )
    corticosteroid_use = models.BooleanField(null=True, blank=True)
    asa_class = models.PositiveSmallIntegerField(
        "ASA class",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    smoking = models.CharField(max_length=10, choices=Smoking.choices, blank=True)
    consent_given = models.BooleanField(default=False)
    consent_date = models.DateField(null=True, blank=True, validators=[not_in_future])
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawal_reason = models.TextField(blank=True, editable=False)

    history = HistoricalRecords()
    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["registry_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "hospital_record_number"], name="patient_unique_record_number"
            ),
            models.CheckConstraint(
                condition=Q(height_cm__isnull=True) | Q(height_cm__gte=100, height_cm__lte=230),
                name="patient_height_range",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gte=25, weight_kg__lte=250),
                name="patient_weight_range",
            ),
            models.CheckConstraint(
                condition=Q(asa_class__isnull=True) | Q(asa_class__gte=1, asa_class__lte=5),
                name="patient_asa_range",
            ),
            models.CheckConstraint(
                condition=Q(consent_given=False) | Q(consent_date__isnull=False),
                name="patient_consent_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "withdrawn_at"]),
            # A site's active patients in id order (worklist: incomplete cases).
            models.Index(
                fields=["site", "id"],
                condition=Q(withdrawn_at__isnull=True),
                name="patient_site_active_idx",
            ),
            updated_index("patient_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.registry_id

    @property
    def bmi(self) -> float | None:
        return derived.bmi(self.height_cm, self.weight_kg)

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def age_on(self, on: date | None) -> int | None:
        return derived.age_at(self.date_of_birth, on)

    def clean(self) -> None:
        if self.consent_given and not self.consent_date:
            raise ValidationError({"consent_date": "Give the date consent was given."})
        if self.consent_date and self.date_of_birth and self.consent_date < self.date_of_birth:
            raise ValidationError({"consent_date": "Consent cannot precede the date of birth."})
