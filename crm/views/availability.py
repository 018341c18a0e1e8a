"""Availability in the pages: the form's overlap warnings and "Find a time" (JSON for its script), and the
free/busy grid of a set of people over a day or a week."""

import zoneinfo
from datetime import date, datetime, time, timedelta
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm import selectors
from crm.availability import selectors as availability
from crm.forms import TIME_ZONES
from crm.validators import validate_agenda_year
from crm.views.agenda_layout import PERSON_COLORS
from crm.views.params import parse_moment

FIND_DAYS = 14  # how far "Find a time" looks ahead


class WhenForm(forms.Form):
    """The appointment form's time and people, as its script sends them while someone types."""

    all_day = forms.BooleanField(required=False)
    start_date = forms.DateField(validators=[validate_agenda_year])
    start_time = forms.TimeField(required=False)
    end_date = forms.DateField(required=False, validators=[validate_agenda_year])
    end_time = forms.TimeField(required=False)
    time_zone = forms.ChoiceField(choices=[(name, name) for name in TIME_ZONES])
    owner = forms.ModelChoiceField(queryset=selectors.users_active(), required=False)
    participants = forms.ModelMultipleChoiceField(queryset=selectors.users_active(), required=False)
    action = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        zone = zoneinfo.ZoneInfo(data["time_zone"])
        end_date = data.get("end_date") or data["start_date"]
        if data["all_day"]:
            data["start"], data["end"] = data["start_date"], max(end_date, data["start_date"]) + timedelta(days=1)
        else:
            data["start"] = datetime.combine(data["start_date"], data.get("start_time") or time(9), zone)
            data["end"] = max(datetime.combine(end_date, data.get("end_time") or time(10), zone), data["start"])
        return data

    def people(self, user):
        owner = self.cleaned_data.get("owner") or user
        return [owner, *(person for person in self.cleaned_data["participants"] if person != owner)]

    def ignored_uid(self, user) -> str:
        if not self.cleaned_data.get("action"):
            return ""
        found = selectors.actions_visible_to(user).filter(pk=self.cleaned_data["action"]).only("uid").first()
        return found.uid if found else ""


def when_asked(view):
    """Give the view the form's time and people, checked; what cannot be read is a 400 saying why."""
    @wraps(view)
    def checked(request):
        form = WhenForm(request.GET)
        if not form.is_valid():
            return JsonResponse({"error": " ".join(f"{name}: {' '.join(errors)}"
                                                   for name, errors in form.errors.items())}, status=400)
        return view(request, form)
    return checked


@login_required
@require_GET
@when_asked
def overlaps(request, form):
    """What the time in the form meets, in words, before it is saved."""
    found = availability.overlaps(viewer=request.user, people=form.people(request.user),
                                  start=form.cleaned_data["start"], end=form.cleaned_data["end"],
                                  ignore_uid=form.ignored_uid(request.user))
    zone = timezone.get_current_timezone()
    return JsonResponse({"warnings": [overlap.text(zone) for overlap in found],
                         "pending": any(overlap.state == "pending" for overlap in found)})


@login_required
@require_GET
@when_asked
def slots(request, form):
    """The first free times of the form's duration for its people over the next two weeks, in the form's zone."""
    data = form.cleaned_data
    zone = zoneinfo.ZoneInfo(data["time_zone"])
    if data["all_day"]:
        return JsonResponse({"error": _("Find a time looks for times of day: untick All day first.")}, status=400)
    duration = max(data["end"] - data["start"], timedelta(minutes=15))
    begin = max(datetime.combine(data["start_date"], time.min, zone), timezone.now())
    people = form.people(request.user)
    offered, found = availability.slots(viewer=request.user, people=people, duration=duration, start=begin,
                                        end=begin + timedelta(days=FIND_DAYS),
                                        ignore_uid=form.ignored_uid(request.user))
    names = {person.pk: str(person) for person in people}
    return JsonResponse({
        "slots": [_slot_data(slot, zone, names) for slot in offered],
        "unknown": [f"{person.user}: {answer.name} ({answer.reason})" for person in found for answer in person.unknown],
    })


def _slot_data(slot, zone, names) -> dict:
    """A found time as the form's fields hold it (in the form's zone), and in words (in the viewer's)."""
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    return {"start_date": f"{start:%Y-%m-%d}", "start_time": f"{start:%H:%M}", "end_date": f"{end:%Y-%m-%d}",
            "end_time": f"{end:%H:%M}", "suits_everyone": slot.suits_everyone, "note": _slot_note(slot, names),
            "label": availability.span_text(slot.start, slot.end, timezone.get_current_timezone())}


def _slot_note(slot, names) -> str:
    parts = [_("%(person)s is busy") % {"person": names[pk]} for pk in slot.busy]
    parts += [_("outside %(person)s's working hours") % {"person": names[pk]} for pk in slot.away]
    parts += [_("%(person)s's calendars not all checked") % {"person": names[pk]} for pk in slot.unsure]
    return "; ".join(parts)


# The free/busy grid --------------------------------------------------------------------------------

FIRST_HOUR, LAST_HOUR = 7, 21  # the hours a grid's day shows; what falls outside is marked at the edge


@login_required
def grid(request):
    """A set of people over a day or a week: their busy blocks, working hours and what could not be asked."""
    zone = timezone.get_current_timezone()
    view = "day" if request.GET.get("view") == "day" else "week"
    anchor = parse_moment(request.GET.get("date") or "", zone)
    anchor = anchor if isinstance(anchor, date) and not isinstance(anchor, datetime) else timezone.localdate()
    first = anchor if view == "day" else anchor - timedelta(days=anchor.weekday())
    days = [first + timedelta(days=offset) for offset in range(1 if view == "day" else 7)]
    everyone = list(selectors.users_active())
    chosen_ids = set(request.GET.getlist("people")) or {str(request.user.pk)}
    chosen = [person for person in everyone if str(person.pk) in chosen_ids]
    start, end = datetime.combine(days[0], time.min, zone), datetime.combine(days[-1] + timedelta(days=1), time.min,
                                                                              zone)
    people = availability.availability(viewer=request.user, people=chosen, start=start, end=end) if chosen else []
    rows = [{"person": person, "color": PERSON_COLORS[index % len(PERSON_COLORS)], "unknown": person.unknown,
             "pending": any(answer.state == "pending" for answer in person.unknown),
             "days": [_day_cells(person, day, zone) for day in days]} for index, person in enumerate(people)]
    step = timedelta(days=1 if view == "day" else 7)
    return render(request, "crm/availability.html", {
        "view": view, "days": days, "rows": rows, "everyone": everyone, "chosen_ids": chosen_ids,
        "previous": first - step, "next": first + step, "today": timezone.localdate(), "zone_name": str(zone),
        "hours": list(range(FIRST_HOUR, LAST_HOUR + 1, 2 if view == "week" else 1)),
        "pending": any(row["pending"] for row in rows)})


def _day_cells(person, day, zone) -> dict:
    """One person's day as positions on the grid's hours: busy blocks, working hours, what lies outside."""
    top, bottom = (datetime.combine(day, time(hour), zone) for hour in (FIRST_HOUR, LAST_HOUR))
    span = (bottom - top).total_seconds()

    def placed(begin, stop):
        left = max(0.0, (begin - top).total_seconds() / span * 100)
        right = min(100.0, (stop - top).total_seconds() / span * 100)
        return f"left: {left:.2f}%; width: {max(right - left, 0.4):.2f}%"
    blocks, outside = [], []
    for item in person.busy:
        begin, stop = item.start.astimezone(zone), item.end.astimezone(zone)
        if stop <= datetime.combine(day, time.min, zone) or begin >= datetime.combine(day + timedelta(days=1),
                                                                                       time.min, zone):
            continue
        text = f"{availability.span_text(item.start, item.end, zone)} · {item.subject or _('busy')}" + (
            "" if item.source == availability.CRM else f" · {item.source}")
        if stop <= top or begin >= bottom:
            outside.append(text)
            continue
        blocks.append({"style": placed(begin, stop), "text": text, "subject": item.subject,
                       "external": item.source != availability.CRM})
    hours = availability.working_hours(person.user)
    working = [placed(begin.astimezone(zone), stop.astimezone(zone)) for begin, stop in hours.between(top, bottom)]
    return {"day": day, "blocks": blocks, "working": working, "outside": outside}
