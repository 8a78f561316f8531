"""The errors write services raise, and what a caller (a page or the REST API) does with them.

- `django.core.exceptions.ValidationError`: field-level problems; nothing was written.
  A page puts them next to the fields; the API answers 400 with the same dictionary.
- `PartError` (a ValidationError): the problem is in one part of a composite write (the
  second radiograph of a visit, the level L1 of a procedure). `part` and `index` say which,
  so a page marks the right sub-form and the API can nest the errors.
- `DuplicateError` (a ValidationError): the record already exists (the same visit timepoint,
  the same record number at a site, a vertebra already treated, a cohort with the same
  definition). `existing` is that record: a page links to it, the API answers 409 with its
  address. A unique-constraint race ends as this error with the same message as the
  sequential case.
- `AlreadyWithdrawnError` (a DuplicateError): the patient was withdrawn already (maybe by
  a concurrent request a moment ago). A page says so; the API answers 409.
- `ConflictError`: someone saved the record after the edit began (optimistic concurrency);
  nothing was written. A page shows the conflict and rebases the form; the API answers 409
  (or 412 for an If-Match precondition).
- `django.core.exceptions.PermissionDenied`: 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class DuplicateError(ValidationError):
    """The record to create exists already; `existing` is it, `field` the field to blame."""

    def __init__(self, message: str, *, existing: models.Model, field: str | None = None):
        self.existing = existing
        self.field = field
        if field:
            super().__init__({field: [ValidationError(message, code="duplicate")]})
        else:
            super().__init__(message, code="duplicate")
        self.text = message


class AlreadyWithdrawnError(DuplicateError):
    def __init__(self, patient: models.Model):
        super().__init__(
            f"{patient} is already withdrawn.", existing=patient, field="withdrawal_reason"
        )


class PartError(ValidationError):
    """A ValidationError of one part of a composite write, e.g. ("radiographs", 1)."""

    def __init__(self, part: str, index: int | None, error: ValidationError):
        self.part = part
        self.index = index
        self.error = error
        super().__init__(error.error_dict if hasattr(error, "error_dict") else error.error_list)


class ConflictError(Exception):
    """Someone else saved the record after this edit began; nothing was written.

    `changes` lists (field, value when the edit began, value now) so the user sees what
    the other person changed. `part`/`index` name the part of a composite edit it concerns
    (None: the main record).
    """

    def __init__(
        self,
        instance: models.Model,
        changes: list[tuple[str, Any, Any]],
        *,
        part: str | None = None,
        index: int | None = None,
    ):
        self.instance = instance
        self.changes = changes
        self.part = part
        self.index = index
        names = ", ".join(field for field, _, _ in changes) or "the record"
        super().__init__(
            f"This {instance._meta.verbose_name} was changed by someone else while you were "
            f"editing it ({names}). Nothing was saved: review their change and edit again."
        )
