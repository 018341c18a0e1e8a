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
WORKING_HOURS = {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                 "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000", "timeZone": {"name": "UTC"}}


def install(service):
    service.router.add("POST", f"{V1}{ME}/calendar/getSchedule", lambda r: get_schedule(service, r),
                       "get_schedule")


def get_schedule(service, request):
    body = json_body(request)
    schedules = body.get("schedules")
    if not isinstance(schedules, list) or not schedules or not all(isinstance(item, str) for item in schedules):
        raise GraphError(400, "ErrorInvalidParameter", "schedules must list at least one e-mail address.")
    start, end = (times.parse(body.get(name), name)[0] for name in ("startTime", "endTime"))
    interval = body.get("availabilityViewInterval", 30)
    if not isinstance(interval, int) or not 5 <= interval <= 1440:
        raise GraphError(400, "ErrorInvalidParameter", "availabilityViewInterval must be from 5 to 1440 minutes.")
    if end <= start or end - start > timedelta(days=62):
        raise GraphError(400, "ErrorInvalidParameter", "The time window must end after it starts and span at "
                         "most 62 days.")
    zone = response_zone(request)
    with service.store.lock:
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
    view = []
    slot = start
    while slot < end:
        statuses = [event.get("showAs", "busy") for event in busy
                    if times.utc(event["start"]) < slot + interval and times.utc(event["end"]) > slot]
        view.append(DIGITS[max(statuses, key=STRENGTH.index)] if statuses else "0")
        slot += interval
    items = []
    for event in busy:
        private = event.get("sensitivity") in ("private", "confidential")
        item = {"isPrivate": private, "status": event.get("showAs", "busy"),
                "start": times.shown(times.utc(event["start"]), zone),
                "end": times.shown(times.utc(event["end"]), zone)}
        if not private:  # a private item shows as a busy block only
            item.update(subject=event.get("subject", ""), location=(event.get("location") or {}).get("displayName", ""))
        items.append(item)
    return {"scheduleId": address, "availabilityView": "".join(view), "scheduleItems": items,
            "workingHours": WORKING_HOURS}
