"""OpenAPI generation: every operation documents the errors the API can answer.

The exception handler (errors.py) gives each of these one shape; here they are declared once
for every operation instead of on each view, so no status code goes undocumented.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from registry.identifiers import PATIENT_IDENTIFIERS

# Fields a de-identified token never receives: documented as optional in responses.
WITHHELD_FROM_DEIDENTIFIED = frozenset(
    {*PATIENT_IDENTIFIERS, "notes", "description", "withdrawal_reason"}
)

DetailError = inline_serializer("DetailError", {"detail": serializers.CharField()})
FieldErrors = inline_serializer(
    "FieldErrors",
    {
        "non_field_errors": serializers.ListField(child=serializers.CharField(), required=False),
    },
)
ConflictChanges = inline_serializer(
    "StaleVersion",
    {
        "detail": serializers.CharField(),
        "current_version": serializers.IntegerField(allow_null=True),
        "changes": inline_serializer(
            "ChangedField",
            {
                "field": serializers.CharField(),
                "was": serializers.JSONField(allow_null=True),
                "now": serializers.JSONField(allow_null=True),
            },
            many=True,
        ),
    },
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The ETag you read, e.g. "patient-12-v3". Required: a stale tag answers 412.',
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="An ETag you hold: 304 when the resource has not changed.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (e.g. a UUID): a retried POST returns the first result.",
)


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        extra = {"401": DetailError, "403": DetailError, "404": DetailError, "429": DetailError}
        if self.method in ("POST", "PUT", "PATCH") or self._has_query_parameters():
            extra["400"] = FieldErrors
        if self.method in ("POST", "PUT", "PATCH"):
            extra["409"] = FieldErrors
        if self.method in ("PUT", "PATCH"):
            extra["412"] = ConflictChanges
            extra["428"] = DetailError
        if self.method == "GET":
            responses.setdefault("304", {"description": "Not modified (If-None-Match)."})
        for code, serializer in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(serializer, code, direction=direction)
        return responses

    def _has_query_parameters(self) -> bool:
        return self.method == "GET"

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method in ("PUT", "PATCH"):
            parameters.append(IF_MATCH)
        if self.method == "GET" and not self._is_list_view():
            parameters.append(IF_NONE_MATCH)
        if self.method == "POST" and self._is_create_operation():
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _postprocess_serializer_schema(self, schema, serializer, direction):
        schema = super()._postprocess_serializer_schema(schema, serializer, direction)
        if direction == "response" and "required" in schema:
            schema["required"] = [
                name for name in schema["required"] if name not in WITHHELD_FROM_DEIDENTIFIED
            ]
            if not schema["required"]:
                del schema["required"]
        return schema


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "registry.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <key>` (or `Bearer <key>`). Create a key at /account/tokens/ or with "
                "`manage.py create_api_token`; it is shown once."
            ),
        }
