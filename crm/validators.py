"""Field validators shared by models, forms and the API."""

import zoneinfo
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.recurrence import EARLIEST_YEAR, LATEST_YEAR


def validate_time_zone(value):
    """Reject anything that is not an IANA time zone name known to this system."""
    if not value:
        return
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("“%(value)s” is not a known IANA time zone (e.g. Europe/Paris)."),
            code="invalid_time_zone", params={"value": value},
        ) from exc




def validate_agenda_year(value: date | datetime):
    """Keep dates within the years an agenda can mean."""
    if value and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Choose a date between the years %(first)s and %(last)s."), code="out_of_range",
            params={"first": EARLIEST_YEAR, "last": LATEST_YEAR},
        )


def validate_hex_color(value):
    """Accept #RRGGBB colors only, so every client can render them."""
    if value and not (len(value) == 7 and value[0] == "#" and _is_hex(value[1:])):
        raise ValidationError(
            _("Use a color like #1a73e8."), code="invalid_color", params={"value": value}
        )


def _is_hex(text):
    try:
        int(text, 16)
    except ValueError:
        return False
    return True
