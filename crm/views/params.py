"""Reading query parameters strictly: anything unexpected is None, never an exception."""

from datetime import date, datetime

from django.core.exceptions import ValidationError

from crm.validators import validate_agenda_year


def parse_moment(text, zone):
    """Read a date or a date-time (in `zone` without an offset) within the agenda years, or None."""
    if not text:
        return None
    try:
        moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        validate_agenda_year(moment)
    except (ValueError, ValidationError):
        return None
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment


def id_param(params, name):
    """Return the positive integer id in a query parameter, or None."""
    text = params.get(name, "")
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 19 else None
