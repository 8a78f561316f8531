"""Template helpers: Bootstrap form fields, the navbar, query strings, clinical formatting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms, template
from django.apps import apps
from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from registry import permissions
from registry.forms.base import unit_for
from registry.models import Patient, SiteMembership

register = template.Library()

_CHOICE_WIDGETS = (forms.RadioSelect, forms.CheckboxSelectMultiple)


def _widget_kind(bound_field) -> str:
    widget = bound_field.field.widget
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, _CHOICE_WIDGETS):
        return "choices"
    if isinstance(widget, forms.Select):
        return "select"
    return "input"


@register.inclusion_tag("registry/_field.html")
def field(bound_field, label: str | None = None, compact: bool = False) -> dict[str, Any]:
    """One labelled Bootstrap field: unit after the input, error and help next to it, and the
    conflict note when another user changed it meanwhile."""
    kind = _widget_kind(bound_field)
    css = {
        "checkbox": "form-check-input",
        "select": "form-select",
        "input": "form-control",
    }.get(kind, "")
    if compact and kind in ("input", "select"):
        css += " form-control-sm" if kind == "input" else " form-select-sm"
    errors = bound_field.errors
    note = getattr(bound_field.form, "notes", {}).get(bound_field.name)
    described = []
    if errors:
        css += " is-invalid"
        described.append(f"{bound_field.auto_id}_error")
    if note:
        css += " is-conflict"
        described.append(f"{bound_field.auto_id}_note")
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}_helptext")
    unit = unit_for(bound_field.name)
    if unit and kind == "input":
        described.append(f"{bound_field.auto_id}_unit")
    attrs: dict[str, Any] = {}
    if css:
        attrs["class"] = (bound_field.field.widget.attrs.get("class", "") + " " + css).strip()
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if errors:
        attrs["aria-invalid"] = "true"
    widget_html = "" if kind == "choices" else bound_field.as_widget(attrs=attrs)
    return {
        "bf": bound_field,
        "kind": kind,
        "label": label if label is not None else bound_field.label,
        "widget": widget_html,
        "unit": unit if kind == "input" else "",
        "note": note,
        "compact": compact,
    }


@register.simple_tag(takes_context=True)
def nav_memberships(context) -> list[SiteMembership]:
    """The signed-in user's sites and roles, once per request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(request, "_registry_memberships", None)
    if cached is None:
        cached = list(
            SiteMembership.objects.filter(user=user).select_related("site").order_by("site__code")
        )
        request._registry_memberships = cached
    return cached


_NAV_TEMPLATES: list[str] | None = None


def _nav_templates() -> list[str]:
    """`<app_label>/_nav.html` of every other installed app that ships one (looked up once)."""
    global _NAV_TEMPLATES
    if _NAV_TEMPLATES is None:
        found = []
        for config in apps.get_app_configs():
            if config.label == "registry":
                continue
            name = f"{config.label}/_nav.html"
            try:
                get_template(name)
            except TemplateDoesNotExist:
                continue
            found.append(name)
        _NAV_TEMPLATES = found
    return _NAV_TEMPLATES


@register.simple_tag(takes_context=True)
def nav_extra(context) -> str:
    """Navbar links contributed by other apps: drop a template at
    `<app>/templates/<app_label>/_nav.html` (list items, `<li class="nav-item">`)."""
    flat = context.flatten()
    request = context.get("request")
    # The included templates are Django templates, escaped as they render.
    return mark_safe("".join(get_template(n).render(flat, request) for n in _nav_templates()))


@register.simple_tag(takes_context=True)
def query_string(context, **changes: Any) -> str:
    """The current query string with some parameters replaced (None drops one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def dash(value: Any) -> Any:
    """— for a missing value."""
    return "—" if value is None or value == "" else value


@register.filter
def num(value: Any, places: int = 1) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):.{int(places)}f}"


@register.filter
def signed(value: Any, places: int = 1) -> str:
    if value is None:
        return "—"
    number = float(value)
    return f"{number:+.{int(places)}f}" if number else f"{0:.{int(places)}f}"


@register.filter
def yesno_dash(value: bool | None) -> str:
    return "—" if value is None else ("Yes" if value else "No")


@register.filter
def as_decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if mapping else None


# What a template may ask `{% can "edit" patient as may_edit %}`: registry.permissions decides.
_PREDICATES = {
    "read": lambda user, obj: permissions.can_read(user, _site_of(obj)),
    "edit": lambda user, patient: permissions.can_edit(user, patient),
    "edit_site": lambda user, obj: permissions.can_edit_site(user, _site_of(obj)),
    "withdraw": lambda user, patient: permissions.can_withdraw(user, patient),
    "enter_cases": lambda user, _: permissions.can_enter_cases(user),
    "run_statistics": lambda user, _: permissions.can_run_statistics(user),
    "export": lambda user, obj: permissions.can_export(user, _site_of(obj) if obj else None),
    "export_identified": lambda user, obj: permissions.can_export_identified(user, _site_of(obj)),
}


def _site_of(obj: Any):
    return obj.site_id if isinstance(obj, Patient) else obj


@register.simple_tag(takes_context=True)
def can(context, action: str, obj: Any = None) -> bool:
    """The one permission tag: `{% can "withdraw" patient as may_withdraw %}`."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return False
    try:
        predicate = _PREDICATES[action]
    except KeyError:
        raise template.TemplateSyntaxError(f"can: unknown action {action!r}") from None
    return predicate(user, obj)


@register.simple_tag
def idle_timeout_seconds() -> int:
    return settings.SESSION_COOKIE_AGE


@register.simple_tag
def idle_timeout_minutes() -> int:
    return settings.SESSION_IDLE_TIMEOUT_MINUTES


_RECORD_NAMES = {
    "follow up visit": "visit",
    "radiographic measurement": "radiograph",
    "treated level": "treated vertebra",
}


@register.filter
def verbose_name(instance: Any) -> str:
    name = str(instance._meta.verbose_name)
    return _RECORD_NAMES.get(name, name)


@register.simple_tag
def any_errors(*items: Any) -> bool:
    """Whether any of the forms (or lists of forms) has an error; unbound forms have none."""
    for item in items:
        for form in item if isinstance(item, list | tuple) else [item]:
            if form is not None and form.is_bound and form.errors:
                return True
    return False


@register.filter
def add_class(bound_field, css: str):
    """Render a bound field's widget with extra CSS classes (filter forms)."""
    existing = bound_field.field.widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def split_commas(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@register.filter
def pairs(items: list[str]) -> list[tuple[str, str]]:
    """["a:b", ...] -> [("a", "b"), ...] (small literal tables in templates)."""
    return [tuple(item.split(":", 1)) for item in items]
