"""`GET /api/v1/`: where a client starts. The links come from the URL resolver (every
/api/v1/ route without a path parameter), so the index never lists an endpoint a second
time and a new collection appears by itself. Public, like the schema: it holds no data."""

from __future__ import annotations

from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

PREFIX = "api/v1/"


def _routes(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


@cache  # the routes are fixed once the URL configuration is loaded
def collections() -> tuple[str, ...]:
    """The parameter-free /api/v1/ routes, in URL order, without the index itself."""
    found = []
    for route in _routes(get_resolver().url_patterns):
        rest = route.removeprefix(PREFIX)
        if route.startswith(PREFIX) and rest and "<" not in rest and "(?P" not in rest:
            rest = rest.removeprefix("^").removesuffix("$")
            if rest not in found:
                found.append(rest)
    return tuple(found)


class ApiRoot(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The API's index: its documentation and collections",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="name -> absolute URL")},
    )
    def get(self, request: Request) -> Response:
        base = request.build_absolute_uri("/" + PREFIX)
        return Response(
            {
                "documentation": base + "docs/",
                "schema": base + "schema/",
                "authentication": "Authorization: Token <key> (create one at /account/tokens/)",
                "endpoints": {route.rstrip("/"): base + route for route in collections()},
            }
        )
