"""The access log's one way in: `record_access`, and its one way out: `purge_access_log`.

Sign-ins, sign-outs, failed sign-ins, lockouts, token creation and revocation are recorded by
the receivers in `registry.audit_receivers`; permission denials, token use and patient pages
by `registry.middleware.AccessAuditMiddleware`. Features call `record_access` for what only
they know (an export, an identified view through the API):

    from registry.audit import record_access
    record_access(request_or_user=request, action=AccessAction.EXPORT, obj=cohort,
                  format="csv", identified=False, rows=1200)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from registry.models import AccessAction, AccessEvent

# The attribute a request carries once something about it has been logged, so the middleware
# does not log a patient view twice when the view already did.
RECORDED = "_access_recorded"
PURGE_SETTING = "registry.audit_purge"
# On PostgreSQL the log refuses TRUNCATE (migration 0008) unless the transaction set this: only
# the test suite's flush does (tests/conftest.py); the application deletes by retention only.
TRUNCATE_SETTING = "registry.audit_truncate"


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind TRUSTED_PROXY_COUNT proxies it is that many entries from
    the right of X-Forwarded-For (the left of it is whatever the client chose to send). Axes
    uses the same function, so lockouts and the log agree on who the address is."""
    meta = getattr(request, "META", {})
    address = meta.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        chain = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [part for part in chain if part]
        if len(chain) >= proxies:
            address = chain[-proxies]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def _object_fields(obj: Model | str | None, site: Any, object_type: str) -> dict[str, Any]:
    if obj is None:
        fields: dict[str, Any] = {"object_type": object_type, "object_id": ""}
    elif isinstance(obj, str):
        fields = {"object_type": object_type, "object_id": obj[:100]}
    else:
        # Patients are named by their registry ID (a pseudonym), never their name.
        identifier = getattr(obj, "registry_id", None) or getattr(obj, "token_key", None) or obj.pk
        fields = {"object_type": obj._meta.label_lower, "object_id": str(identifier)[:100]}
        if site is None:
            site = getattr(obj, "site_id", None)
    fields["site_id"] = site if isinstance(site, int) or site is None else site.pk
    return fields


def record_access(
    *,
    request_or_user: HttpRequest | AbstractBaseUser | None,
    action: str,
    obj: Model | str | None = None,
    site: Any = None,
    status: int | None = None,
    username: str = "",
    object_type: str = "",
    **detail: Any,
) -> AccessEvent:
    """Append one event to the access log and return it.

    - `request_or_user`: the request (user, address, method and path are taken from it; a DRF
      Request works too), or a user when there is no request (a task, a command), or None.
    - `action`: an `AccessAction` value.
    - `obj`: the object accessed: a model instance (a Patient is logged by its registry ID and
      its site, a knox token by its key prefix, anything else by its primary key) or a string.
    - `site`: the site the event belongs to when `obj` does not say (a Site or its id); site
      administrators see the events of their sites.
    - `username`: for an attempt without a user (a failed sign-in names who was tried).
    - `object_type`: the kind of object when `obj` is a string ("registry.patient").
    - `**detail`: JSON-serialisable facts worth keeping (format, row count, reason...). Never
      pass identifying fields of a patient here.

    The row is written on the caller's connection: inside a request's transaction it commits
    with the request and disappears with it if the request fails (an export that failed did
    not happen). Denials are logged after the request's transaction by the middleware.
    """
    request = request_or_user if hasattr(request_or_user, "META") else None
    user = getattr(request, "user", None) if request is not None else request_or_user
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    event = AccessEvent(
        action=action,
        user_id=user.pk if user is not None else None,
        username=(user.get_username() if user is not None else username)[:150],
        ip_address=client_ip(request) if request is not None else None,
        method=(request.method or "")[:10] if request is not None else "",
        path=request.get_full_path()[:500] if request is not None else "",
        status=status,
        detail=detail,
        **_object_fields(obj, site, object_type),
    )
    event.save()
    if request is not None:
        recorded = getattr(request, RECORDED, set())
        recorded.add((action, event.object_id))
        setattr(request, RECORDED, recorded)
    return event


# The request being answered (set by AccessAuditMiddleware), for receivers that are told only
# about a model row (a token saved or deleted) and would otherwise log no address or actor.
_CURRENT_REQUEST: ContextVar[HttpRequest | None] = ContextVar("access_request", default=None)


@contextmanager
def request_context(request: HttpRequest) -> Iterator[None]:
    token = _CURRENT_REQUEST.set(request)
    try:
        yield
    finally:
        _CURRENT_REQUEST.reset(token)


def current_request() -> HttpRequest | None:
    return _CURRENT_REQUEST.get()


def already_recorded(request: HttpRequest, action: str, object_id: str) -> bool:
    return (action, object_id) in getattr(request, RECORDED, set())


def retention_cutoff() -> timezone.datetime:
    return timezone.now() - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)


def purge_access_log(*, older_than=None, user: AbstractBaseUser | None = None) -> int:
    """Delete the events older than the retention period (ACCESS_LOG_RETENTION_DAYS), the only
    delete the log permits, and log that it happened. On PostgreSQL the trigger lets a DELETE
    through only inside this transaction, which sets `registry.audit_purge` locally."""
    cutoff = older_than or retention_cutoff()
    table = AccessEvent._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'on', true)", [PURGE_SETTING])
        cursor.execute(f"DELETE FROM {table} WHERE at < %s", [cutoff])  # noqa: S608 - table name is ours
        deleted = cursor.rowcount
        record_access(
            request_or_user=user,
            action=AccessAction.PURGED,
            deleted=deleted,
            older_than=cutoff.isoformat(),
        )
    return deleted
