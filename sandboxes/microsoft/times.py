"""Graph's dateTimeTimeZone values: zones by IANA or Windows name, and the texts Graph writes.

Zone names follow CLDR's Windows-to-IANA table, as Outlook does. Stored times are naive UTC ISO
texts, except all-day events, whose midnights float: they are kept as given and shown as
midnights in whatever zone the client asks for, as Graph does. Answers use seven fractional
digits, no offset, and the zone name the client used. Years are bounded (Exchange keeps
1601-4500) so that no zone or recurrence arithmetic can overflow.
"""

import re
import zoneinfo
from datetime import UTC, datetime

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .errors import GraphError

EARLIEST, LATEST = datetime(1601, 1, 2, tzinfo=UTC), datetime(4500, 12, 30, tzinfo=UTC)
LONGEST_VIEW_DAYS = 1825  # the longest window a calendar view, delta or instances request may ask for
FRACTION = re.compile(r"(\.\d{6})\d+")


def zone_named(name) -> zoneinfo.ZoneInfo:
    """Return the zone for an IANA or Windows name, or raise GraphError."""
    try:
        if not isinstance(name, str):
            raise ValueError(name)
        return zoneinfo.ZoneInfo(WINDOWS_TO_OLSON.get(name, name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise GraphError(400, "ErrorTimeZoneNotSupportedException", f"A valid TimeZone value must be specified. "
                         f"The following TimeZone value is not supported: '{name}'.") from exc


def moment(text, zone=UTC) -> datetime:
    """An ISO date-time (any number of fractional digits, offset optional) within Exchange's years."""
    try:
        found = datetime.fromisoformat(FRACTION.sub(r"\1", str(text).replace("Z", "+00:00")))
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidRequest", f"Cannot convert the literal '{text}' to a date and time.") \
            from exc
    found = found if found.tzinfo else found.replace(tzinfo=zone)
    if not EARLIEST <= found <= LATEST:
        raise GraphError(400, "ErrorInvalidRequest", f"The date and time '{text}' is out of range.")
    return found


def parse(value, name):
    """A dateTimeTimeZone from a request: (aware datetime, the zone name it was given in, the naive wall-clock
    time in that zone as written, which a time in a DST gap keeps)."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str) or not value["dateTime"]:
        raise GraphError(400, "ErrorInvalidRequest", f"Your request can't be completed. {name} is required.")
    zone_name = value.get("timeZone") or "UTC"
    zone = zone_named(zone_name)
    found = moment(value["dateTime"], zone)
    wall = found.replace(tzinfo=None) if found.tzinfo is zone else found.astimezone(zone).replace(tzinfo=None, fold=0)
    return found, zone_name, wall


def stored(when: datetime) -> dict:
    """How an event keeps a time: naive UTC."""
    return {"dateTime": when.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def floating(when: datetime) -> dict:
    """How an all-day event keeps a time: the wall-clock midnight as given, in no zone."""
    return {"dateTime": when.replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def utc(value: dict) -> datetime:
    """A stored time back as an aware UTC datetime (floating times read as UTC)."""
    return datetime.fromisoformat(value["dateTime"]).replace(tzinfo=UTC)


def shown(when: datetime, zone, name, *, all_day=False) -> dict:
    """A time as Graph answers it; an all-day event's midnights stay midnights."""
    local = when if all_day else when.astimezone(zone)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": name}


def window(request) -> tuple[datetime, datetime]:
    """The startDateTime/endDateTime window a calendar view or an instances request needs."""
    texts = request.arg("startDateTime"), request.arg("endDateTime")
    if not all(texts):
        raise GraphError(400, "ErrorInvalidParameter", "This request requires a time window specified by the query "
                         "string parameters StartDateTime and EndDateTime.")
    try:
        start, end = moment(texts[0]), moment(texts[1])
    except GraphError as exc:
        raise GraphError(400, "ErrorInvalidParameter", "The value of StartDateTime or EndDateTime is invalid.") from exc
    if (end - start).days > LONGEST_VIEW_DAYS:
        raise GraphError(400, "ErrorInvalidRequest", "Your request can't be completed. The range between the "
                         "start and end dates is greater than the allowed range. Maximum number of days: "
                         f"{LONGEST_VIEW_DAYS}")
    return start, end


def overlaps(begin: datetime, finish: datetime, start: datetime, end: datetime) -> bool:
    """Whether [begin, finish) meets the window [start, end); an instant counts inside its window."""
    return begin < end and (finish > start or (finish == begin and begin >= start))
