"""Saving a page: one service call, its errors next to the fields, conflicts merged.

A page writes through one service (a procedure and its levels, a visit and its radiographs).
`all_or_nothing()` runs it in one savepoint; a ValidationError is attached to the form it
came from (a PartError to the sub-form of its part, a DuplicateError with a link to the
existing record), a ConflictError is kept for the page, and if anything failed the savepoint
is rolled back so nothing is half-saved (ATOMIC_REQUESTS would otherwise commit the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.html import format_html

from registry.selectors.history import display_value, field_label, user_label
from registry.services import ConflictError, DuplicateError, PartError
from registry.views._links import record_url

# part name -> the sub-forms of that part (indexed like the service's list) or one form.
Parts = Mapping[str, Sequence[forms.BaseForm] | forms.BaseForm]


def duplicate_message(error: DuplicateError) -> str:
    """The duplicate's message with a link to the record that exists."""
    url = record_url(error.existing)
    if url is None:
        return error.text
    return format_html('{} <a href="{}">Open it</a>.', error.text, url)


def attach_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's field-level errors next to the fields; others at the top of the form."""
    if isinstance(error, DuplicateError):
        name = error.field if error.field in form.fields else None
        form.add_error(name, [duplicate_message(error)])
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.error_dict.items():
        if name in form.fields:
            form.add_error(name, messages)
        elif name == NON_FIELD_ERRORS:
            form.add_error(None, messages)
        else:
            label = name.replace("_", " ")
            for message in messages:
                form.add_error(None, f"{label.capitalize()}: {' '.join(message.messages)}")


def _part_form(form: forms.BaseForm, parts: Parts, part: str | None, index: int | None):
    target = parts.get(part) if part else None
    if target is None:
        return form
    if isinstance(target, forms.BaseForm):
        return target
    return target[index] if index is not None and index < len(target) else form


@dataclass
class Conflict:
    form: forms.BaseForm
    error: ConflictError
    changed_by: str = ""
    changed_at: datetime | None = None
    rows: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Saver:
    failed: bool = False
    conflicts: list[Conflict] = field(default_factory=list)

    def __call__(
        self,
        form: forms.BaseForm,
        service: Callable[..., Any],
        /,
        parts: Parts | None = None,
        **kwargs: Any,
    ):
        """Run one service call; on failure note it against `form` (or the sub-form in
        `parts` the error names) and return None."""
        parts = parts or {}
        try:
            with transaction.atomic():
                return service(**kwargs)
        except PartError as error:
            target = _part_form(form, parts, error.part, error.index)
            inner = error.error
            attach_errors(target, inner if isinstance(inner, DuplicateError) else error)
        except ValidationError as error:
            attach_errors(form, error)
        except ConflictError as error:
            self.conflicts.append(Conflict(_part_form(form, parts, error.part, error.index), error))
        self.failed = True
        return None


@contextmanager
def all_or_nothing() -> Iterator[Saver]:
    saver = Saver()
    with transaction.atomic():
        yield saver
        if saver.failed:
            transaction.set_rollback(True)


# --- conflicts ---------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    def norm(value: Any) -> Any:
        if isinstance(value, models.Model):
            return value.pk
        if value == "":
            return None
        if isinstance(value, float | int) and not isinstance(value, bool):
            return Decimal(str(value))
        return value

    return norm(a) == norm(b)


def rebase(
    conflict: Conflict, form_class: type[forms.ModelForm], **form_kwargs: Any
) -> forms.ModelForm:
    """A fresh form on the record as saved now: the other person's changes are in it, the
    user's own edits are kept on top, and fields both changed are marked for review.

    The new form carries the current version, so saving it again is a deliberate choice.
    """
    posted = conflict.form
    current = conflict.error.instance
    model = type(current)
    theirs = {name: (old, new) for name, old, new in conflict.error.changes}
    initial: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for name in posted.fields:
        if name == "version" or name not in posted.cleaned_data:
            continue
        mine = posted.cleaned_data[name]
        if name in theirs:
            old, new = theirs[name]
            if not _same(mine, old):  # both changed it: keep mine, say what they saved
                initial[name] = mine
                notes[name] = (
                    f"Also changed by {conflict.changed_by}: they saved "
                    f"“{display_value(model, name, new)}”. Yours is kept here; check it."
                )
        elif name in posted.changed_data:
            initial[name] = mine
    initial["version"] = current.version
    form = form_class(instance=current, initial=initial, prefix=posted.prefix, **form_kwargs)
    form.notes = notes
    return form


def describe(conflict: Conflict) -> Conflict:
    """Fill who changed the record, when, and a table of field / before / now."""
    current = conflict.error.instance
    model = type(current)
    latest = current.history.select_related("history_user").order_by("-history_date").first()
    if latest is not None:
        conflict.changed_by = user_label(latest.history_user)
        conflict.changed_at = latest.history_date
    else:
        conflict.changed_by = "someone else"
    conflict.rows = [
        (field_label(model, name), display_value(model, name, old), display_value(model, name, new))
        for name, old, new in conflict.error.changes
    ]
    return conflict


def rebase_conflicts(
    conflicts: list[Conflict],
    form: forms.ModelForm,
    form_class: type[forms.ModelForm],
    children: list[forms.ModelForm] = (),
    child_class: type[forms.ModelForm] | None = None,
    **form_kwargs: Any,
) -> tuple[forms.ModelForm, list[forms.ModelForm], list[Conflict]]:
    """After a refused save: each conflicting form (the page's main form or one of its child
    forms) is rebuilt on the record as saved now; returns the forms and the described
    conflicts for the page."""
    children = list(children)
    described = []
    for conflict in conflicts:
        described.append(describe(conflict))
        if conflict.form is form:
            form = rebase(conflict, form_class, **form_kwargs)
        else:
            index = children.index(conflict.form)
            children[index] = rebase(conflict, child_class)
    return form, children, described
