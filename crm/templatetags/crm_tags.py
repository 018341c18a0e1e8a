"""Template helpers for showing actions and occurrences."""

from datetime import datetime, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone

from crm import recurrence

register = template.Library()


@register.simple_tag
def occurrence_url(occurrence):
    """Return the page of an occurrence: its row, with the occurrence key for a series."""
    url = reverse("crm:action-detail", args=[occurrence.action.pk])
    if occurrence.is_generated:
        url += f"?occurrence={occurrence.recurrence_id}"
    return url


@register.filter
def when(occurrence):
    """Describe when an occurrence (or an action's first occurrence) happens, in the viewer's zone."""
    start, end = occurrence.first_occurrence() if hasattr(occurrence, "first_occurrence") else (
        occurrence.start, occurrence.end)
    if not isinstance(start, datetime):
        last = end - timedelta(days=1)
        if last <= start:
            return f"{start:%a %d %b %Y} · all day"
        return f"{start:%a %d %b} – {last:%a %d %b %Y} · all day"
    start, end = timezone.localtime(start), timezone.localtime(end)
    if start.date() == end.date():
        return f"{start:%a %d %b %Y}, {start:%H:%M} – {end:%H:%M}"
    return f"{start:%a %d %b %Y %H:%M} – {end:%a %d %b %Y %H:%M}"


@register.filter
def schedule(action):
    """Describe when an action happens: its times, or for a series its rule and times of day."""
    if not action.is_series:
        return when(action)
    start, end = action.first_occurrence()
    times = "all day" if action.all_day else f"{timezone.localtime(start):%H:%M} – {timezone.localtime(end):%H:%M}"
    return f"{recurrence.describe(action.rrule, action.zone)} · {times}"


@register.filter
def clock(value):
    """Return HH:MM of an aware datetime in the viewer's zone."""
    return f"{timezone.localtime(value):%H:%M}"


@register.simple_tag(takes_context=True)
def query(context, **changes):
    """Return the current query string with some parameters replaced."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return "?" + params.urlencode()
