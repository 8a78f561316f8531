"""Template helpers of exports: whether to offer the Exports link (registry.permissions)."""

from django import template

from registry.permissions import can_export

register = template.Library()


@register.filter
def may_export(user) -> bool:
    return bool(user and user.is_authenticated and can_export(user))
