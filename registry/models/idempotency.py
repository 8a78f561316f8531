from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """A create that already happened: (user, key) -> the record it made.

    Create forms carry a token and API clients send `Idempotency-Key`; a repeat of the same key
    by the same user returns the first record instead of making a second one. The row is written
    in the same transaction as the record, so a create that failed leaves no key behind.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    action = models.CharField(max_length=60)
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_per_user_key")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.key}"
