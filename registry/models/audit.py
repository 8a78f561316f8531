"""The access log: who signed in, opened, exported or was refused what, and when.

Record history (simple_history) says who changed a clinical row; this log says who *read* or
tried to. Rows are only ever added: the model refuses updates and deletes, and on PostgreSQL
triggers refuse them in the database too (migration 0006), and TRUNCATE (0008). The one
permitted delete is the retention purge, `registry.audit.purge_access_log`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccessAction(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    LOCKED_OUT = "locked_out", "Locked out"
    SIGN_OUT = "sign_out", "Signed out"
    SECOND_FACTOR = "second_factor", "Second factor verified"
    SECOND_FACTOR_FAILED = "second_factor_failed", "Second factor refused"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", "Second factor enrolled"
    PASSWORD_RESET = "password_reset", "Password reset requested"
    UNLOCKED = "unlocked", "Lockout lifted"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    TOKEN_USED = "token_used", "API token used"
    PATIENT_VIEWED = "patient_viewed", "Patient record opened"
    EXPORT = "export", "Export"
    DENIED = "denied", "Permission denied"
    PURGED = "purged", "Access log purged"


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AccessLogIsAppendOnly("the access log is append-only: rows are never updated")

    def delete(self):
        raise AccessLogIsAppendOnly(
            "the access log is append-only: only registry.audit.purge_access_log deletes rows"
        )


class AccessLogIsAppendOnly(Exception):
    pass


class AccessEvent(models.Model):
    """One access. `user_id` is kept without a foreign-key constraint and with the username
    beside it, so deleting a user neither cascades into nor rewrites the log."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=32, choices=AccessAction.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The object touched: "registry.patient" + its registry ID, "knox.authtoken" + its prefix...
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True, db_index=True)
    # The site the object belongs to, so that a site administrator sees their site's events.
    site_id = models.IntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"]), models.Index(fields=["site_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or 'anonymous'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AccessLogIsAppendOnly("the access log is append-only: rows are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AccessLogIsAppendOnly(
            "the access log is append-only: only registry.audit.purge_access_log deletes rows"
        )
