from decimal import Decimal

from django.db import models


def as_decimal(value: float | None, places: int) -> Decimal | None:
    """A derived float as the Decimal its column stores, so validation sees the stored value."""
    return None if value is None else Decimal(f"{value:.{places}f}")


def updated_index(name: str) -> models.Index:
    """Every record's `updated_at` index: the API's `updated_since` (incremental sync)."""
    return models.Index(fields=["updated_at"], name=name)


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

    # Stored derived columns: computed by refresh_derived, never typed, so never validated as
    # input (their inputs are; a value out of the column's range is an input error there).
    DERIVED_FIELDS: tuple[str, ...] = ()

    def save(self, *args, **kwargs):
        self.refresh_derived()
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        super().clean_fields(exclude={*(exclude or ()), *self.DERIVED_FIELDS})

    def validate_constraints(self, exclude=None):
        """Unique constraints are checked by the write services (a DuplicateError naming the
        existing record, also when a concurrent insert wins the race), not here with
        Django's generic "... with this ... already exists"; the database enforces them."""
        unique_fields = {
            name
            for constraint in self._meta.constraints
            if isinstance(constraint, models.UniqueConstraint)
            for name in constraint.fields
        }
        super().validate_constraints(exclude={*(exclude or ()), *unique_fields})

    def refresh_derived(self) -> None:
        """Recompute stored derived columns; overridden where a model has some."""
