"""Stored results of the data-quality job, and the reviews coordinators make of findings.

A `QualityRun` is a job row the Celery task claims. It writes one `SiteResult` per site
(completeness, PROM completion, the data version it read) and a `Finding` per flagged
record. Only the latest done run of a site is current: older findings of that site are
deleted when a newer run finishes, so the page reads a bounded table.

A `Review` outlives runs: it is keyed by what was flagged (rule, record, item) and keeps
the value it was made on. While the record still holds that value, the next run marks the
finding with the review's decision ("verified as correct" stops flagging it); once the value
changes the finding is open again. Reviews are kept in history (simple-history).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

# A quality run moves through the same states as a statistics run: one set of choices.
from outcomes.models import ACTIVE_STATUSES, RunStatus
from registry.models import Patient, Site


class Severity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    VERIFIED = "verified", "Verified as correct"
    WILL_CORRECT = "will_correct", "Will be corrected"


class Decision(models.TextChoices):
    VERIFIED = FindingStatus.VERIFIED.value, FindingStatus.VERIFIED.label
    WILL_CORRECT = FindingStatus.WILL_CORRECT.value, FindingStatus.WILL_CORRECT.label


class RunTrigger(models.TextChoices):
    USER = "user", "Requested by a user"
    NIGHTLY = "nightly", "Nightly"


class QualityRun(models.Model):
    """One run of every rule over the patients of `scope_sites` on `as_of`."""

    scope_sites = models.JSONField(default=list)
    scope_key = models.CharField(max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quality_runs",
    )
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices, default=RunTrigger.USER)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.PENDING)
    as_of = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    software_version = models.CharField(max_length=255, blank=True)
    n_findings = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="quality_run_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["scope_key"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="quality_one_active_run_per_scope",
            ),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.FAILED) | ~Q(error=""),
                name="quality_failed_run_has_error",
            ),
        ]

    def __str__(self) -> str:
        return f"Data-quality run {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SiteResult(models.Model):
    """What a run found for one site: the stored completeness and PROM figures."""

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="site_results")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    data_version = models.CharField(max_length=64)
    # {timepoint: {status: count}} in registry.followup.FollowUpStatus codes
    completeness = models.JSONField(default=dict)
    # {"eligible": n, "complete": n, "baseline": n, "follow_up": n}
    prom = models.JSONField(default=dict)
    n_findings = models.PositiveIntegerField(default=0)
    # {rule: {status: n}}: the page's counts without counting findings; a review updates it
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["site_id", "-run_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "site"], name="quality_site_result_once")
        ]
        indexes = [models.Index(fields=["site", "-run"], name="quality_site_latest")]

    def __str__(self) -> str:
        return f"{self.site} in run {self.run_id}"


class Finding(models.Model):
    """One record flagged by one rule in one run."""

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="findings")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=12)
    severity = models.CharField(max_length=6, choices=Severity.choices)
    severity_rank = models.PositiveSmallIntegerField(default=0)  # 0 high, 1 medium, 2 low
    record_type = models.CharField(max_length=15)
    record_id = models.BigIntegerField()
    # What within the record: a treated vertebra's level, an outcome's name; empty if whole.
    item = models.CharField(max_length=40, blank=True)
    # The primary key the record's edit page takes (a radiograph is edited on its visit).
    edit_pk = models.BigIntegerField()
    # The flagged value(s) as text: a review holds while the record still shows this.
    value = models.CharField(max_length=200, blank=True)
    # What the page shows beside it (means and SDs move with other data: not part of value).
    detail = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=12, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )

    class Meta:
        ordering = ["severity_rank", "site_id", "rule", "patient_id", "id"]
        indexes = [
            # the work list: a run's findings of a status in the list's order (LIMIT 50)
            models.Index(
                fields=["run", "status", "severity_rank", "site", "rule", "patient", "id"],
                name="quality_finding_list",
            ),
            models.Index(fields=["run", "site", "rule", "status"], name="quality_finding_rule"),
            models.Index(
                fields=["rule", "record_type", "record_id", "item"], name="quality_finding_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.record_type} {self.record_id}"


class Review(models.Model):
    """A coordinator's decision on a flagged value; history keeps every change."""

    rule = models.CharField(max_length=12)
    record_type = models.CharField(max_length=15)
    record_id = models.BigIntegerField()
    item = models.CharField(max_length=40, blank=True)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    value = models.CharField("value reviewed", max_length=200, blank=True)
    decision = models.CharField(max_length=12, choices=Decision.choices)
    comment = models.TextField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quality_reviews"
    )
    reviewed_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "record_type", "record_id", "item"], name="quality_review_once"
            )
        ]
        indexes = [models.Index(fields=["site"], name="quality_review_site")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.rule} on {self.record_type} {self.record_id}"
