from decimal import Decimal

from django.db import models


def as_decimal(value: float | None, places: int) -> Decimal | None:
    """A derived float as the Decimal its column stores, so validation sees the stored value."""
    return None if value is None else Decimal(f"{value:.{places}f}")


class ClinicalRecord(models.Model):
    """Common columns of every clinical record.

    `version` is bumped by every service update; an edit that started from an older version
    is refused instead of overwriting someone else's change (optimistic concurrency).
    """

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.refresh_derived()
        super().save(*args, **kwargs)

    def refresh_derived(self) -> None:
        """Recompute stored derived columns; overridden where a model has some."""
