"""Template helpers of the security pages (the navbar's access-log link)."""

from django import template

from registry import permissions

register = template.Library()


@register.filter
def can_view_access_log(user) -> bool:
    return permissions.can_view_access_log(user)
