"""The world the permission matrix is walked in: two sites, one actor of each kind, one
patient of site A with a whole case, a cohort and a run, an export, a data-quality run with a
finding, and two real API tokens of site A's surgeon (read-only and de-identified; read-write
and identified); and how to fill each URL's kwargs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from outcomes.services import cohort_create, run_request
from registry import services
from registry.models import Role, TokenScope
from registry.permission_matrix import ACTORS
from registry.services.api_tokens import api_token_create
from tests.factories import SiteFactory, UserFactory, member
from tests.registry.web_cases import full_case


@dataclass
class World:
    site_a: object
    site_b: object
    users: dict
    patient: object
    objects: dict  # route segment(s) before <pk> -> pk
    tokens: dict  # token actor -> key


def build_world() -> World:
    site_a = SiteFactory(code="site-a", name="Hospital A")
    site_b = SiteFactory(code="site-b", name="Hospital B")
    surgeon = member(site_a, Role.SURGEON, username="m-surgeon")
    users = {
        "anonymous": None,
        "surgeon": surgeon,
        "other_surgeon": member(site_b, Role.SURGEON, username="m-other"),
        "coordinator": member(site_a, Role.COORDINATOR, username="m-coordinator"),
        "site_admin": member(site_a, Role.SITE_ADMIN, username="m-siteadmin"),
        "superuser": UserFactory(username="m-root", is_staff=True, is_superuser=True),
        "token_read": None,
        "token_write": None,
    }
    patient, procedure, visit = full_case(site_a, surgeon, procedure_date=date(2024, 3, 1))
    fracture = patient.fractures.first()
    event = services.adverse_event_record(user=surgeon, procedure=procedure, **ADVERSE_EVENT)
    objects = {
        "fractures": fracture.pk,
        "procedures": procedure.pk,
        "visits": visit.pk,
        "adverse-events": event.pk,
    }
    cohort = cohort_create(owner=surgeon, name="Matrix cohort")
    objects["cohorts"] = cohort.pk
    objects["runs"] = run_request(user=surgeon, cohort=cohort, analysis="rates").run.pk
    # A de-identified export of site A's coordinator (its job is not run here).
    from outcomes.exports.services import export_request

    coordinator = users["coordinator"]
    objects["exports"] = export_request(user=coordinator, format="csv").pk
    # The API's records by primary key (its patients too: the pages take the registry ID).
    level = procedure.treated_levels.order_by("pk").first()
    objects["patients"] = patient.pk
    objects["treated-levels"] = level.pk
    objects["radiographs"] = visit.radiographs.order_by("pk").first().pk
    # A data-quality run over site A, done (its checks run here, not on a worker), and a
    # finding of it: the case has no 2-week visit.
    from outcomes.quality.models import Finding
    from outcomes.quality.services import run_execute
    from outcomes.quality.services import run_request as quality_run_request

    quality = quality_run_request(user=coordinator, site=site_a).run
    run_execute(run_id=quality.pk)
    finding = Finding.objects.filter(run=quality).order_by("pk").first()
    assert finding is not None, "the matrix world's case should give a data-quality finding"
    objects["quality/runs"] = quality.pk
    objects["findings"] = finding.pk
    # Real tokens of site A's surgeon: a read-only de-identified feed, a read-write client.
    tokens = {
        "token_read": api_token_create(
            user=surgeon, name="matrix feed", scope=TokenScope.READ, deidentified=True
        )[1],
        "token_write": api_token_create(
            user=surgeon, name="matrix client", scope=TokenScope.WRITE, deidentified=False
        )[1],
    }
    # Every admin model has a row to open (so its change, config and QR pages are walked too).
    TOTPDevice.objects.create(user=users["superuser"], name="matrix", confirmed=False)
    return World(site_a, site_b, users, patient, objects, tokens)


def walk(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, name with namespace, pattern) of every URL pattern, includes resolved; a DRF
    router's regex (`^patients/(?P<pk>[^/.]+)/$`) reads as a route (`patients/<pk>/`)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield prefix + _readable(str(pattern.pattern)), name, pattern


_ROUTER_GROUP = re.compile(r"\(\?P<(\w+)>\[\^/\.\]\+\)")


def _readable(pattern: str) -> str:
    if pattern.startswith("^") and pattern.endswith("$"):
        return _ROUTER_GROUP.sub(r"<\1>", pattern[1:-1])
    return pattern


def api_operations(pattern: URLPattern) -> set[str] | None:
    """The HTTP methods a REST API view answers (a viewset's actions, an APIView's
    handlers), or None for a view that is not DRF's."""
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds `head` to a viewset's actions once it has answered a GET: not an operation.
        return {method.upper() for method in actions} - {"HEAD", "OPTIONS"}
    view_class = getattr(callback, "cls", None)
    if view_class is None:
        return None
    allowed = getattr(view_class, "http_method_names", [])
    return {
        method.upper()
        for method in ("get", "post", "put", "patch", "delete")
        if method in allowed and hasattr(view_class, method)
    }


ADVERSE_EVENT = {"event_type": "other", "onset_date": date(2024, 3, 2), "clavien_dindo": "I"}
_PK = re.compile(r"<(?:int:)?pk>")
# Regex routes without a name: a URL that stands for them.
EXAMPLES = {"^api/": "/api/v0/no-such-endpoint/"}


def _object_pk(world: World, route: str) -> int:
    """The world's object for the <pk> of `route`: the longest key its path before <pk>
    ends with (`quality/runs` before `runs`)."""
    before = "/" + route[: _PK.search(route).start()].strip("/")
    keys = [key for key in world.objects if before.endswith("/" + key)]
    if not keys:
        raise KeyError(f"the matrix world has no object for <pk> in {route}")
    return world.objects[max(keys, key=len)]


def url_for(world: World, route: str, name: str, pattern: URLPattern) -> str | None:
    """A concrete URL for a route, or None when it cannot be built (a regex admin catch-all)."""
    kwargs = {}
    for key in pattern.pattern.regex.groupindex:
        if key == "registry_id":
            kwargs[key] = world.patient.registry_id
        elif key == "pk" and route.startswith("admin/"):
            kwargs[key] = _admin_object_id(name)
        elif key == "pk":
            kwargs[key] = _object_pk(world, route)
        elif key == "cohort_pk":
            kwargs[key] = world.objects["cohorts"]
        elif key == "analysis":
            kwargs[key] = "rates"
        elif key == "page":
            kwargs[key] = "outcomes"
        elif key == "fmt":
            kwargs[key] = "xlsx"
        elif key == "key":
            kwargs[key] = "vas"
        elif key in ("uidb64", "token"):
            kwargs[key] = "x" if key == "uidb64" else "set-password"
        elif key in ("object_id", "id"):
            kwargs[key] = _admin_object_id(name)
        elif key == "history_id":
            kwargs[key] = "1"
        elif key == "app_label":
            kwargs[key] = "registry"
        elif key == "content_type_id":
            kwargs[key] = "1"
        elif key == "url":
            return None
        else:
            raise KeyError(f"the matrix does not know how to fill <{key}> in {route}")
    if route in EXAMPLES:
        return EXAMPLES[route]
    if not name:
        return None
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        if route.startswith("admin/"):
            return None  # an admin pattern with positional groups: covered by the admin rule
        raise


def _admin_object_id(name: str) -> str:
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
            return str(first if first is not None else 0)
    return "0"


def client_for(world: World, actor: str) -> Client:
    assert actor in ACTORS
    user = world.users.get(actor)
    if actor in world.tokens:
        # A real token: the API acts as its user (site A's surgeon) within its scope; web
        # pages ignore it (they read the session only), so there it is an anonymous visitor.
        return Client(HTTP_AUTHORIZATION=f"Token {world.tokens[actor]}")
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def user_model():
    return get_user_model()
