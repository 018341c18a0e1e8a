"""getSchedule: free/busy of people over a window, as Outlook's scheduling assistant asks for it.

Each person's default calendar counts: single events, occurrences and exceptions whose showAs is
not free. Where items overlap in one interval, the digit shows the strongest: out of office,
then busy, then working elsewhere, then tentative (a sandbox choice; Graph does not document it).
"""

from datetime import timedelta

from . import times
from .errors import GraphError
from .graph import json_body, response_zone
from .paths import ME, V1
from .views import in_window

DIGITS = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4", "unknown": "0"}
STRENGTH = ["free", "unknown", "tentative", "workingElsewhere", "busy", "oof"]
MAX_SCHEDULES = 20  # a sandbox limit, to keep one request from holding the store for long
WORKING_HOURS = {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                 "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000", "timeZone": {"name": "UTC"}}


def install(service):
    service.router.add("POST", f"{V1}{ME}/calendar/getSchedule", lambda r: get_schedule(service, r),
                       "get_schedule")


def get_schedule(service, request):
    body = json_body(request)
    schedules = body.get("schedules")
    if not isinstance(schedules, list) or not 0 < len(schedules) <= MAX_SCHEDULES \
            or not all(isinstance(item, str) for item in schedules):
        raise GraphError(400, "ErrorInvalidParameter", f"schedules must list 1 to {MAX_SCHEDULES} e-mail addresses.")
    start, end = (times.parse(body.get(name), name)[0] for name in ("startTime", "endTime"))
    interval = body.get("availabilityViewInterval", 30)
    if type(interval) is not int or not 5 <= interval <= 1440:
        raise GraphError(400, "ErrorInvalidParameter", "availabilityViewInterval must be from 5 to 1440 minutes.")
    if end <= start or end - start > timedelta(days=62):
        raise GraphError(400, "ErrorInvalidParameter", "The time window must end after it starts and span at "
                         "most 62 days.")
    zone = response_zone(request)
    value = [_schedule(service.store, address, start, end, timedelta(minutes=interval), zone)
             for address in schedules]
    return service.json({"@odata.context": f"{request.base_url}{V1}/$metadata#Collection("
                                           "microsoft.graph.scheduleInformation)", "value": value})


def _schedule(store, address, start, end, interval, zone):
    user = next((user for email, user in store.users.items() if email.lower() == address.lower()), None)
    if user is None:
        return {"scheduleId": address, "availabilityView": "", "scheduleItems": [], "error": {
            "message": f"The specified user {address} could not be found.",
            "responseCode": "ErrorMailRecipientNotFound"}}
    calendar = store.calendars[next(entry.calendar_id for entry in user.calendars if entry.is_default)]
    busy = [event for event in in_window(calendar, start, end)
            if event.get("showAs", "busy") != "free" and not event.get("isCancelled")]
    slots = -(-(end - start) // interval)  # intervals, the last one possibly cut short
    strongest = ["free"] * slots
    for event in busy:  # each event marks only the intervals it covers
        first = max(0, (times.utc(event["start"]) - start) // interval)
        last = min(slots - 1, (times.utc(event["end"]) - start - timedelta(microseconds=1)) // interval)
        status = event.get("showAs", "busy")
        for slot in range(first, last + 1):
            strongest[slot] = max(strongest[slot], status, key=STRENGTH.index)
    items = []
    for event in busy:
        private = event.get("sensitivity") in ("private", "confidential")
        item = {"isPrivate": private, "status": event.get("showAs", "busy"),
                **{name: times.shown(times.utc(event[name]), *zone, all_day=event.get("isAllDay", False))
                   for name in ("start", "end")}}
        if not private:  # a private item shows as a busy block only
            item.update(subject=event.get("subject", ""), location=(event.get("location") or {}).get("displayName", ""))
        items.append(item)
    return {"scheduleId": address, "availabilityView": "".join(DIGITS[status] for status in strongest),
            "scheduleItems": items, "workingHours": WORKING_HOURS}
