"""Graph's patternedRecurrence <-> the RRULEs the CRM stores, both ways, with no HTTP.

Every pattern Graph has is an RRULE. Not every RRULE is a pattern: what Graph cannot hold is
exported as closely as it can be, and `to_pattern` says what was changed, for the user. Reading
that pattern back gives the rule Outlook really follows, which is what the CRM compares with (the
provider's `storable`), so the CRM keeps its own rule and nothing is changed silently.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar.prop import vRecur

from crm.recurrence import until_date

DAYS = {"MO": "monday", "TU": "tuesday", "WE": "wednesday", "TH": "thursday", "FR": "friday", "SA": "saturday",
        "SU": "sunday"}
WEEKDAY_CODES = {name: code for code, name in DAYS.items()}
ORDER = list(DAYS)  # Monday first, as datetime.weekday() counts
INDEXES = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
INDEX_NAMES = {number: name for name, number in INDEXES.items()}
MAX_OCCURRENCES = 999  # the most a numbered range holds


class Unexpressible(ValueError):
    """A pattern that cannot be read (an unknown type, say)."""


def to_rrule(recurrence: dict, *, all_day: bool) -> str:
    """The RRULE of a Graph patternedRecurrence (UNTIL as a date: the CRM's normalization places it)."""
    pattern, span = recurrence.get("pattern") or {}, recurrence.get("range") or {}
    kind, interval = pattern.get("type"), int(pattern.get("interval") or 1)
    days = [WEEKDAY_CODES[day] for day in pattern.get("daysOfWeek") or () if day in WEEKDAY_CODES]
    parts = {"daily": ["FREQ=DAILY"], "weekly": ["FREQ=WEEKLY"], "absoluteMonthly": ["FREQ=MONTHLY"],
             "relativeMonthly": ["FREQ=MONTHLY"], "absoluteYearly": ["FREQ=YEARLY"],
             "relativeYearly": ["FREQ=YEARLY"]}.get(kind)
    if parts is None:
        raise Unexpressible(f"its recurrence pattern “{kind}” is unknown")
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if kind.endswith("Yearly"):
        parts.append(f"BYMONTH={int(pattern.get('month') or 0)}")
    if kind == "weekly":
        if not days:
            raise Unexpressible("its weekly recurrence names no day")
        parts.append("BYDAY=" + ",".join(_sorted(days)))
        first_day = WEEKDAY_CODES.get(pattern.get("firstDayOfWeek") or "sunday", "SU")
        if interval > 1 and first_day != "MO":  # the week start only matters every other week or more
            parts.append(f"WKST={first_day}")
    elif kind.startswith("absolute"):
        day = int(pattern.get("dayOfMonth") or 0)
        # Outlook puts a 29th, 30th or 31st on the last day of the months that lack it.
        parts.append(f"BYMONTHDAY={day}" if day <= 28 else f"BYMONTHDAY={','.join(map(str, range(28, day + 1)))}"
                     ";BYSETPOS=-1")
    elif kind.startswith("relative"):
        if not days:
            raise Unexpressible(f"its {kind} recurrence names no day")
        index = INDEXES.get(pattern.get("index") or "first", 1)
        parts.append(f"BYDAY={index}{days[0]}" if len(days) == 1 else
                     f"BYDAY={','.join(_sorted(days))};BYSETPOS={index}")
    ending = span.get("type")
    if ending == "numbered":
        parts.append(f"COUNT={int(span.get('numberOfOccurrences') or 1)}")
    elif ending == "endDate":
        parts.append(f"UNTIL={date.fromisoformat(span['endDate']).strftime('%Y%m%d')}")
    return ";".join(parts)


def simplified(rrule: str, first: date) -> str:
    """The rule without the parts a series starting on `first` implies (BYDAY=TU for a weekly series that
    starts on a Tuesday, and so on), as calendar apps write it: Graph always names them."""
    parts = dict(part.split("=", 1) for part in rrule.split(";"))
    implied = {"WEEKLY": {"BYDAY": ORDER[first.weekday()]}, "MONTHLY": {"BYMONTHDAY": str(first.day)},
               "YEARLY": {"BYMONTH": str(first.month), "BYMONTHDAY": str(first.day)}}.get(parts["FREQ"], {})
    if implied and all(parts.get(name) == value for name, value in implied.items()):
        parts = {name: value for name, value in parts.items() if name not in implied}
    return ";".join(f"{name}={value}" for name, value in parts.items())


def to_pattern(rrule: str, start: date | datetime, zone: str) -> tuple[dict, list[str]]:
    """A patternedRecurrence for an RRULE of a series starting at `start` (in its zone `zone`), and what
    Graph could not hold, in words (empty when the pattern is exact)."""
    rule = vRecur.from_ical(rrule.removeprefix("RRULE:"))
    lost = []
    frequency = rule["FREQ"][0]
    interval = int((rule.get("INTERVAL") or [1])[0])
    day = start.date() if isinstance(start, datetime) else start
    by_day = [str(item).upper() for item in rule.get("BYDAY", [])]
    by_month_day = [int(item) for item in rule.get("BYMONTHDAY", [])]
    months = [int(item) for item in rule.get("BYMONTH", [])]
    positions = [int(item) for item in rule.get("BYSETPOS", [])]
    plain_days = [item[-2:] for item in by_day]
    first_day = DAYS.get(str((rule.get("WKST") or ["MO"])[0]).upper(), "monday")
    pattern = {"interval": interval, "firstDayOfWeek": first_day}
    if frequency == "DAILY" and not by_day:
        pattern["type"] = "daily"
    elif frequency in ("DAILY", "WEEKLY"):
        if frequency == "DAILY" and interval > 1:
            lost.append("a rule of every few days on given weekdays became a weekly rule on those days")
        pattern.update(type="weekly", interval=interval if frequency == "WEEKLY" else 1,
                       daysOfWeek=[DAYS[code] for code in _sorted(plain_days or [ORDER[day.weekday()]])])
        if positions:
            lost.append("BYSETPOS in a weekly rule was left out")
    elif frequency in ("MONTHLY", "YEARLY"):
        yearly = frequency == "YEARLY"
        if yearly:
            pattern["month"] = months[0] if months else day.month
            if len(months) > 1:
                lost.append("only the first of its months was kept")
        ordinal = [item for item in by_day if item[:-2] not in ("", "+")]
        if by_day and (ordinal or positions):
            index = int(ordinal[0][:-2]) if ordinal else positions[0]
            if index not in INDEX_NAMES:
                lost.append(f"Outlook cannot place an occurrence on position {index} of the month; "
                            f"{'the last' if index < 0 else 'the fourth'} was used")
                index = -1 if index < 0 else 4
            if len({item[:-2] for item in ordinal}) > 1 or (ordinal and positions):
                lost.append("several positions in the month became one")
            pattern.update(type="relativeYearly" if yearly else "relativeMonthly", index=INDEX_NAMES[index],
                           daysOfWeek=[DAYS[code] for code in _sorted(plain_days)])
        elif by_day:
            lost.append("every given weekday of the month became the first of them")
            pattern.update(type="relativeYearly" if yearly else "relativeMonthly", index="first",
                           daysOfWeek=[DAYS[code] for code in _sorted(plain_days)])
        else:
            pattern.update(type="absoluteYearly" if yearly else "absoluteMonthly",
                           dayOfMonth=_day_of_month(by_month_day, positions, day.day, lost))
    else:
        raise Unexpressible(f"FREQ={frequency}")
    span = {"startDate": day.isoformat(), "recurrenceTimeZone": zone or "UTC"}
    if "COUNT" in rule:
        count = int(rule["COUNT"][0])
        if count > MAX_OCCURRENCES:
            lost.append(f"Outlook counts at most {MAX_OCCURRENCES} occurrences")
        span.update(type="numbered", numberOfOccurrences=min(count, MAX_OCCURRENCES))
    elif "UNTIL" in rule:
        last_day = until_date(rrule.removeprefix("RRULE:"), ZoneInfo(zone or "UTC"))
        span.update(type="endDate", endDate=last_day.isoformat())
    else:
        span["type"] = "noEnd"
    return {"pattern": pattern, "range": span}, lost


def _day_of_month(days, positions, default, lost):
    """Graph's dayOfMonth for BYMONTHDAY: one day; the last day of the month (-1, or Outlook's own
    "28..31 and the last of them"); the day the series starts on when there is none."""
    if not days:
        return default
    if positions == [-1] and days == list(range(28, max(days) + 1)):
        return max(days)
    if positions:
        lost.append("BYSETPOS was left out")
    if days[0] == -1:
        return 31
    if days[0] < 0:
        lost.append(f"a day counted from the end of the month ({days[0]}) became the last day")
        return 31
    if len(days) > 1:
        lost.append("only the first of its days of the month was kept")
    if days[0] > 28:
        lost.append(f"Outlook puts day {days[0]} on the last day of shorter months, which the rule skips")
    return days[0]


def _sorted(codes):
    return sorted(dict.fromkeys(codes), key=ORDER.index)
