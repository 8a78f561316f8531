"""Conditional requests on records: ETag = the record's version; If-Match on updates;
If-None-Match on reads (304); Idempotency-Key on creates."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import TypeVar

from django.db import models
from rest_framework.exceptions import APIException, ValidationError

M = TypeVar("M", bound=models.Model)
_VERSION_TAG = re.compile(
    r'^(?:W/)?"(?P<model>[a-z]+)-(?P<pk>\d+)-v(?P<version>\d+)(?:-c[0-9a-f]+)?"$'
)
# Nested records shown inside a record's body: their versions are part of its ETag, so an
# edit of a treated level changes the procedure's representation tag (If-None-Match).
_CHILDREN = {"procedure": "treated_levels", "followupvisit": "radiographs"}


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = (
        'Send If-Match with the ETag you read (e.g. If-Match: "patient-12-v3"), so that an '
        "update never overwrites a change you have not seen."
    )
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = 412
    default_detail = "If-Match does not name a version of this record."
    default_code = "precondition_failed"


def etag_of(instance: models.Model) -> str:
    tag = f"{instance._meta.model_name}-{instance.pk}-v{instance.version}"
    children = _CHILDREN.get(instance._meta.model_name)
    if children:
        versions = ",".join(f"{c.pk}.{c.version}" for c in getattr(instance, children).all())
        tag += "-c" + hashlib.sha256(versions.encode()).hexdigest()[:12]
    return f'"{tag}"'


def expected_version(request, instance: models.Model) -> int:
    """The version the client last read, from If-Match. A tag of another record is 412."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if header == "*":
        return instance.version
    match = _VERSION_TAG.match(header.split(",")[0].strip())
    if (
        match is None
        or match["model"] != instance._meta.model_name
        or int(match["pk"]) != instance.pk
    ):
        raise PreconditionFailed()
    return int(match["version"])


def not_modified(request, etag: str) -> bool:
    tags = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
    return etag in tags or f"W/{etag}" in tags or "*" in tags


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if key and not key.isprintable():
        raise ValidationError({"idempotency_key": ["Use printable characters only."]})
    return key or None


def create_once(request, *, create: Callable[..., M]) -> tuple[M, bool]:
    """Call a create service with the request's Idempotency-Key (every create service takes
    `idempotency_key`): a retried POST gets the record the first one created, marked
    `replayed` by the service (`created` is False then)."""
    record = create(idempotency_key=idempotency_key(request))
    return record, not getattr(record, "replayed", False)
