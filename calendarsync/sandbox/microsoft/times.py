"""Graph's dateTimeTimeZone values: zones by IANA or Windows name, and the texts Graph writes.

Zone names follow CLDR's Windows-to-IANA table, as Outlook does. Stored times are naive UTC
ISO texts; answers use seven fractional digits and no offset.
"""

import zoneinfo
from datetime import UTC, datetime

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .errors import GraphError


def zone_named(name: str):
    """Return the zone for an IANA or Windows name, or raise GraphError."""
    try:
        return zoneinfo.ZoneInfo(WINDOWS_TO_OLSON.get(name, name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise GraphError(400, "ErrorTimeZoneNotSupportedException", f"A valid TimeZone value must be specified. "
                         f"The following TimeZone value is not supported: '{name}'.") from exc


def parse(value, name):
    """A dateTimeTimeZone from a request: (aware datetime, the zone name it was given in)."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise GraphError(400, "ErrorInvalidRequest", f"Your request can't be completed. {name} is required.")
    zone_name = value.get("timeZone") or "UTC"
    zone = zone_named(zone_name)
    try:
        moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00")[:26])
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidRequest", f"Cannot convert the literal '{value['dateTime']}'.") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)), zone_name


def stored(moment: datetime) -> dict:
    """How an event keeps a time: naive UTC."""
    return {"dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def utc(value: dict) -> datetime:
    """A stored time back as an aware UTC datetime."""
    return datetime.fromisoformat(value["dateTime"]).replace(tzinfo=UTC)


def shown(moment: datetime, zone) -> dict:
    return {"dateTime": moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": label(zone)}


def label(zone):
    return "UTC" if zone in (UTC, zoneinfo.ZoneInfo("UTC")) else str(zone)


def window(request) -> tuple[datetime, datetime]:
    """The startDateTime/endDateTime window a calendar view or an instances request needs."""
    texts = request.arg("startDateTime"), request.arg("endDateTime")
    if not all(texts):
        raise GraphError(400, "ErrorInvalidParameter", "This request requires a time window specified by the query "
                         "string parameters StartDateTime and EndDateTime.")
    try:
        start, end = (datetime.fromisoformat(text) for text in texts)
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidParameter", "The value of StartDateTime or EndDateTime is invalid.") from exc
    return tuple(moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in (start, end))
