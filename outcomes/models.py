from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from outcomes import cohorts
from registry.models import Site, Technique


class Cohort(models.Model):
    """A saved patient selection: filters plus the seed studies' inclusion rules.

    `definition_hash` identifies the definition (not the name): two cohorts with the same
    filters written in another order hash the same, and a result computed for one
    definition is never shown for another.
    """

    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cohorts"
    )
    description = models.TextField(blank=True)
    filters = models.JSONField(default=dict, blank=True)
    rule_min_age = models.BooleanField(cohorts.RULES[0].label, default=True)
    rule_baseline_vas = models.BooleanField(cohorts.RULES[1].label, default=True)
    rule_collapse = models.BooleanField(cohorts.RULES[2].label, default=True)
    rule_exclude_pathological = models.BooleanField(cohorts.RULES[3].label, default=True)
    auto_refresh = models.BooleanField(
        "refresh the standard report nightly and after data changes", default=True
    )
    # Made by a dashboard's URL filters rather than saved by a person: not listed among
    # the saved cohorts, but a cohort like any other for the runs it holds.
    dashboard_view = models.BooleanField(default=False, editable=False)
    definition_hash = models.CharField(max_length=64, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Who changed a cohort's definition, when: results name the definition they used.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "definition_hash"], name="cohort_definition_once_per_owner"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.filters = cohorts.normalise_filters(self.filters)
        self.definition_hash = cohorts.definition_hash(self.filters, self.rules)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("outcomes:cohort_detail", args=[self.pk])

    @property
    def rules(self) -> dict[str, bool]:
        return {field: getattr(self, field) for field in cohorts.RULE_FIELDS}

    def describe(self) -> list[str]:
        return cohorts.describe(self.filters, self.rules)

    def clean(self) -> None:
        self.filters = cohorts.normalise_filters(
            self.filters,
            technique_codes=Technique.objects.values_list("code", flat=True),
            site_codes=Site.objects.values_list("code", flat=True),
        )
        self.definition_hash = cohorts.definition_hash(self.filters, self.rules)
        duplicate = (
            Cohort.objects.filter(owner_id=self.owner_id, definition_hash=self.definition_hash)
            .exclude(pk=self.pk)
            .first()
        )
        if duplicate is not None:
            raise ValidationError(
                f"You already have a cohort with this definition: “{duplicate.name}”."
            )


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class RunTrigger(models.TextChoices):
    USER = "user", "Requested by a user"
    NIGHTLY = "nightly", "Nightly refresh"
    DATA_CHANGE = "data_change", "Refresh after data changes"


class StatisticsRun(models.Model):
    """One computation of an analysis over a cohort, as a job row the task claims.

    `scope_sites` are the sites whose patients the run reads (the requester's visible
    sites); `data_version` fingerprints the rows it read. A done run is reused while the
    cohort definition, analysis, parameters, scope, data version and software version are
    all unchanged.
    """

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="runs")
    cohort_hash = models.CharField(max_length=64)
    analysis = models.CharField(max_length=40)
    parameters = models.JSONField(default=dict, blank=True)
    # The data's as-of date: follow-up windows (missing vs not yet due) are judged on it.
    as_of = models.DateField("data as of", null=True, blank=True)
    parameters_hash = models.CharField(max_length=64)
    scope_sites = models.JSONField(default=list)
    scope_key = models.CharField(max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="statistics_runs",
    )
    trigger = models.CharField(max_length=12, choices=RunTrigger.choices, default=RunTrigger.USER)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    data_version = models.CharField(max_length=64)
    software_version = models.CharField(max_length=255)
    result = models.JSONField(null=True, blank=True)
    # The claim: which task holds the run and at which Celery retry, so that a redelivered
    # message (same task, same retry) does nothing while a retry may take the run back.
    task_id = models.CharField(max_length=64, blank=True)
    # The outbox: the row is the truth, the broker message a hint. `dispatched_at` is when
    # the task message was last handed to the broker (None: not yet, e.g. the broker was
    # down); `dispatch_error` why the last attempt failed, for the job page.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_error = models.CharField(max_length=300, blank=True)
    claim_retries = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a later request found the data this run read unchanged (its data version
    # current): a dashboard shows it as fresh again without recomputing.
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["cohort", "analysis", "parameters_hash", "scope_key", "data_version"],
                name="run_reuse_lookup",
            ),
            models.Index(fields=["status", "started_at"], name="run_status_started"),
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="run_pending_outbox",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "cohort",
                    "cohort_hash",
                    "analysis",
                    "parameters_hash",
                    "scope_key",
                    "data_version",
                    "software_version",
                ],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="run_one_active_per_request",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="run_progress_percent"),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.DONE)
                | Q(result__isnull=False, finished_at__isnull=False),
                name="run_done_has_result",
            ),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.FAILED) | ~Q(error=""),
                name="run_failed_has_error",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analysis} on {self.cohort} ({self.status})"

    @property
    def analysis_label(self) -> str:
        """The analysis in words (a page never prints its code)."""
        from outcomes.analyses import ANALYSES  # analyses read models: import here

        analysis = ANALYSES.get(self.analysis)
        return analysis.label if analysis else self.analysis.replace("_", " ")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_delayed(self) -> bool:
        """Pending because the job queue could not be reached (it goes out when it is back)."""
        return self.status == RunStatus.PENDING and bool(self.dispatch_error)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class PendingRefresh(models.Model):
    """A site whose clinical data changed since the last refresh of the standard reports.

    Writes only move the timestamps; the periodic task refreshes once the site has been
    quiet for a while (or has waited too long), so a clinic entering 40 visits in five
    minutes costs one refresh, not 40.
    """

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="+")
    first_change_at = models.DateTimeField()
    last_change_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.site} changed at {self.last_change_at:%Y-%m-%d %H:%M}"


class SiteDataStamp(models.Model):
    """When a site's clinical data last changed (kept, unlike PendingRefresh): a stored
    result of a scope is stale when a site of the scope changed after the result read."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="+")
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.site} changed at {self.changed_at:%Y-%m-%d %H:%M}"


# Exports (outcomes/exports/models.py) are models of this app.
from outcomes.exports.models import Export, ExportSubject  # noqa: E402

__all__ = ["Cohort", "Export", "ExportSubject", "PendingRefresh", "SiteDataStamp", "StatisticsRun"]
