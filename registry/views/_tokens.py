"""The idempotency token of a create form.

A create page renders a fresh random token in a hidden field; the POST hands it to the
service as `idempotency_key` (the API passes its `Idempotency-Key` header to the same
argument). A double click, a resubmit after a timeout or a back-button repost carries the
same token: the service returns the record the first submit created, and the page shows it.
A re-rendered form (errors: nothing was created) keeps its token.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import HttpRequest

from registry.services.idempotency import MAX_KEY_LENGTH, replayed

TOKEN_FIELD = "idempotency_key"  # noqa: S105 - a field name, not a secret


def form_token(request: HttpRequest) -> str:
    posted = request.POST.get(TOKEN_FIELD, "") if request.method == "POST" else ""
    if posted and len(posted) <= MAX_KEY_LENGTH and posted.isprintable():
        return posted
    return secrets.token_urlsafe(24)


def posted_token(request: HttpRequest) -> str | None:
    """The token the POST carried (None without one: each submit then creates)."""
    token = request.POST.get(TOKEN_FIELD, "")
    return token if token and len(token) <= MAX_KEY_LENGTH and token.isprintable() else None


def note_replay(request: HttpRequest, record) -> bool:
    """Say so when the submit was a repeat; returns whether it was."""
    if getattr(record, "replayed", False):
        messages.info(request, "This form was submitted already: here is what it saved.")
        return True
    return False


def earlier_submit(request: HttpRequest, action: str):
    """On a POST whose token already created a record: that record (else None)."""
    if request.method != "POST":
        return None
    record = replayed(user=request.user, key=posted_token(request), action=action)
    if record is not None:
        record.replayed = True
        note_replay(request, record)
    return record
