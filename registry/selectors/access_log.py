"""Reads of the access log, scoped to what the reader may see (registry.permissions)."""

from __future__ import annotations

from datetime import date, datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from registry import permissions
from registry.models import AccessEvent, SiteMembership


def access_events_visible_to(*, user: AbstractBaseUser) -> QuerySet[AccessEvent]:
    """Superusers read every event; a site administrator reads the events about their sites'
    patients and the events of their sites' members (their sign-ins, denials, tokens)."""
    if not permissions.can_view_access_log(user):
        return AccessEvent.objects.none()
    site_ids = permissions.access_log_site_ids(user)
    if site_ids is None:
        return AccessEvent.objects.all()
    members = SiteMembership.objects.filter(site_id__in=site_ids).values("user_id")
    return AccessEvent.objects.filter(Q(site_id__in=site_ids) | Q(user_id__in=members))


def filter_access_events(
    events: QuerySet[AccessEvent],
    *,
    action: str = "",
    username: str = "",
    object_id: str = "",
    ip_address: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AccessEvent]:
    if action:
        events = events.filter(action=action)
    if username:
        events = events.filter(username__iexact=username)
    if object_id:
        events = events.filter(object_id=object_id)
    if ip_address:
        events = events.filter(ip_address=ip_address)
    zone = timezone.get_current_timezone()
    if since:
        events = events.filter(at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until:
        events = events.filter(at__lte=datetime.combine(until, time.max, tzinfo=zone))
    return events
