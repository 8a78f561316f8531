"""One place that turns service errors into HTTP answers, so no view maps them itself.

- Django ValidationError (the services' field-level errors) -> 400 {field: [messages]};
  PartError (one part of a composite write) -> 400 nested under the part and its index,
  {"radiographs": {"1": {field: [messages]}}}, as DRF reports a nested list's items;
  DuplicateError (the record exists, sequential or raced) -> 409 with the same messages
  and the existing record's type and id.
- ConflictError (a stale version) -> 412 with the fields that changed and the current ETag.
- PermissionDenied -> 403, Http404 -> 404 (DRF), invalid values the database refuses -> 400.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from registry.services import ConflictError, DuplicateError, PartError

logger = logging.getLogger(__name__)

# Codes Django gives unique-constraint validation errors.
DUPLICATE_CODES = frozenset({"unique", "unique_together", "unique_constraint", "duplicate"})
NON_FIELD = "non_field_errors"


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            (NON_FIELD if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {NON_FIELD: error.messages}


def _is_duplicate(error: ValidationError) -> bool:
    def codes(err: ValidationError) -> list[Any]:
        if hasattr(err, "error_dict"):
            return [e.code for errors in err.error_dict.values() for e in errors]
        return [e.code for e in err.error_list]

    found = codes(error)
    return bool(found) and all(code in DUPLICATE_CODES for code in found)


def conflict_body(error: ConflictError) -> dict[str, Any]:
    return {
        "detail": str(error),
        "current_version": getattr(error.instance, "version", None),
        "changes": [
            {"field": field, "was": _plain(was), "now": _plain(now)}
            for field, was, now in error.changes
        ],
    }


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, ConflictError):
        set_rollback()
        response = Response(conflict_body(exc), status=status.HTTP_412_PRECONDITION_FAILED)
        from registry.api.conditional import etag_of  # avoid an import cycle at load

        response["ETag"] = etag_of(exc.instance)
        return response
    if isinstance(exc, DuplicateError):
        set_rollback()
        body = field_errors(exc)
        existing = exc.existing
        body["existing"] = {"type": existing._meta.model_name, "id": existing.pk}
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, PartError):
        # The error of one part of a composite write: nested under the part, with its index.
        set_rollback()
        errors = field_errors(exc.error)
        errors = {exc.part: errors if exc.index is None else {exc.index: errors}}
        return Response(errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError):
        set_rollback()
        code = status.HTTP_409_CONFLICT if _is_duplicate(exc) else status.HTTP_400_BAD_REQUEST
        return Response(field_errors(exc), status=code)
    if isinstance(exc, IntegrityError):
        # A race the service's own validation could not see (the twin committed between
        # its check and its insert): the same answer as a sequential duplicate.
        set_rollback()
        logger.info("API write refused by a constraint: %s", exc)
        return Response(
            {NON_FIELD: ["This record conflicts with one saved a moment ago; reload it."]},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DataError):
        set_rollback()
        return Response(
            {NON_FIELD: ["A value is not valid here (wrong type, too long or out of range)."]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return None


@csrf_exempt  # nothing to protect: it only answers 404, whatever the method
def not_found(request, *args, **kwargs):
    """Any /api/ path no route matched: a JSON 404 like the API's own, never an HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)
