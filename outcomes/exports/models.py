"""An export: the job row, its record (who, when, cohort, rows, format, level), its file."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from outcomes.dictionary import Level


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV (codes)"
    CSV_LABELLED = "csv_labelled", "CSV (labels)"
    XLSX = "xlsx", "Excel (XLSX)"
    SAV = "sav", "SPSS (.sav)"
    DTA = "dta", "Stata (.dta)"
    PARQUET = "parquet", "Parquet"


class ExportLevel(models.TextChoices):
    DEIDENTIFIED = Level.DEIDENTIFIED, "De-identified (days relative to the procedure)"
    SHIFTED = Level.SHIFTED, "De-identified, dates shifted per patient"
    IDENTIFIED = Level.IDENTIFIED, "Identified (site administrators, with a reason)"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class Export(models.Model):
    """One requested export; the row stays after its file is deleted (the record)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports"
    )
    cohort = models.ForeignKey(
        "outcomes.Cohort", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cohort_name = models.CharField(max_length=200, blank=True)
    filters = models.JSONField(default=dict)
    rules = models.JSONField(default=dict)
    cohort_hash = models.CharField(max_length=64)
    scope_sites = models.JSONField(default=list)
    format = models.CharField(max_length=12, choices=ExportFormat.choices)
    level = models.CharField(max_length=12, choices=ExportLevel.choices)
    reason = models.TextField(blank=True, help_text="Why identified data is needed.")
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    as_of = models.DateField(default=timezone.localdate)
    row_counts = models.JSONField(default=dict, blank=True)
    data_version = models.CharField(max_length=64, blank=True)
    software_version = models.CharField(max_length=255, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    download_count = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "created_at"], name="export_owner_created"),
            models.Index(fields=["status", "expires_at"], name="export_status_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(level=Level.IDENTIFIED) | ~Q(reason=""),
                name="export_identified_has_reason",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="export_progress_pct"),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.format}, {self.level}) by {self.owner}"

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.PENDING, ExportStatus.RUNNING)

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values()) if self.row_counts else 0

    def is_expired(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == ExportStatus.EXPIRED or (
            self.expires_at is not None and self.expires_at <= now
        )


class ExportSubject(models.Model):
    """A patient of an export while it is built: pseudonym and date offset, per export.

    The rows are deleted when the export is built, and with them the only link between a
    pseudonym and a patient (the HMAC secret is never stored).
    """

    export = models.ForeignKey(Export, on_delete=models.CASCADE, related_name="+")
    # No index and no constraint: the rows live for one build and are written in bulk.
    patient = models.ForeignKey(
        "registry.Patient",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    procedure = models.ForeignKey(
        "registry.Procedure",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    pseudonym = models.CharField(max_length=24)
    shift_days = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return self.pseudonym
