"""Time-zone names as Outlook writes them, read as IANA zones.

Outlook clients name zones the Windows way ("W. Europe Standard Time"); Graph passes those names
on. They are read through CLDR's Windows-to-IANA table as icalendar maintains it, never guessed:
a name the table does not know is reported, not replaced by a zone that looks close.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

# Names Exchange uses for UTC beside the Windows table's "UTC".
UTC_NAMES = {"utc", "tzone://microsoft/utc", "coordinated universal time", "gmt", "etc/utc", "etc/gmt"}


class UnknownZone(ValueError):
    pass


def iana(name: str) -> str:
    """The IANA name of a Windows or IANA zone name; UnknownZone when neither table nor tz database has it."""
    if not name or name.lower() in UTC_NAMES:
        return "UTC"
    found = WINDOWS_TO_OLSON.get(name, name)
    if found == "Etc/UTC":
        return "UTC"
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZone(name) from exc
    return found
