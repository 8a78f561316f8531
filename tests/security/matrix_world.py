"""The world the permission matrix is walked in: two sites, one actor of each kind, one
patient of site A with a whole case, a cohort and a run; and how to fill each URL's kwargs."""

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
from registry.models import Role
from registry.permission_matrix import ACTORS
from tests.factories import SiteFactory, UserFactory, member
from tests.registry.web_cases import full_case


@dataclass
class World:
    site_a: object
    site_b: object
    users: dict
    patient: object
    objects: dict  # route segment -> pk


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
    # Every admin model has a row to open (so its change, config and QR pages are walked too).
    TOTPDevice.objects.create(user=users["superuser"], name="matrix", confirmed=False)
    return World(site_a, site_b, users, patient, objects)


def walk(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, name with namespace, pattern) of every URL pattern, includes resolved."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield prefix + str(pattern.pattern), name, pattern


ADVERSE_EVENT = {"event_type": "other", "onset_date": date(2024, 3, 2), "clavien_dindo": "I"}
_PK_AFTER = re.compile(r"([a-z-]+)/<int:pk>")


def url_for(world: World, route: str, name: str, pattern: URLPattern) -> str | None:
    """A concrete URL for a route, or None when it cannot be built (a regex admin catch-all)."""
    kwargs = {}
    for key in pattern.pattern.regex.groupindex:
        if key == "registry_id":
            kwargs[key] = world.patient.registry_id
        elif key == "pk" and route.startswith("admin/"):
            kwargs[key] = _admin_object_id(name)
        elif key == "pk":
            segment = _PK_AFTER.findall(route)[-1]
            kwargs[key] = world.objects[segment]
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
    if actor.startswith("token_"):
        # Until a token model exists, a token header on a web page counts for nothing.
        return Client(HTTP_AUTHORIZATION="Token not-a-valid-token")
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def user_model():
    return get_user_model()
