"""Availability over the API: people's busy times, free slots, and what stands in the way of a time."""

from contextlib import contextmanager
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import selectors
from crm.api.mixins import UserTimeZoneMixin
from crm.api.serializers import WindowSerializer
from crm.availability import selectors as availability

MAX_PEOPLE = 50


class PeopleField(serializers.CharField):
    """Comma-separated user ids, active users only."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            ids = list(dict.fromkeys(int(part) for part in text.split(",") if part.strip()))
        except ValueError:
            raise ValidationError("Give user ids separated by commas, e.g. 3,7.") from None
        if not ids or len(ids) > MAX_PEOPLE:
            raise ValidationError(f"Give 1 to {MAX_PEOPLE} people.")
        found = {user.pk: user for user in selectors.users_active().filter(pk__in=ids)}
        unknown = [str(pk) for pk in ids if pk not in found]
        if unknown:
            raise ValidationError(f"No active user has the id {', '.join(unknown)}.")
        return [found[pk] for pk in ids]


class AvailabilityQuery(WindowSerializer):
    MAX_DAYS = availability.MAX_WINDOW.days

    people = PeopleField(help_text="User ids, comma-separated (at most 50).")
    action = serializers.IntegerField(required=False, help_text="An appointment to leave out (the one being moved).")


class SlotsQuery(AvailabilityQuery):
    duration = serializers.IntegerField(min_value=5, max_value=24 * 60, help_text="Minutes.")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


def source_data(answer) -> dict:
    return {"name": answer.name, "state": answer.state, "reason": answer.reason, "requests": answer.requests,
            "fetched_at": answer.fetched_at}


def busy_data(item) -> dict:
    return {"start": item.start.astimezone(timezone.get_current_timezone()),
            "end": item.end.astimezone(timezone.get_current_timezone()), "subject": item.subject,
            "action": item.action_id, "occurrence": item.occurrence, "source": item.source}


def overlap_data(overlap) -> dict:
    data = {"person": overlap.person.pk, "name": str(overlap.person),
            "text": overlap.text(timezone.get_current_timezone())}
    if overlap.busy is not None:
        data |= busy_data(overlap.busy)
    else:
        data |= {"start": None, "end": None, "subject": "", "action": None, "occurrence": "",
                 "source": overlap.unknown.name}
    return data


def warnings_of(request, action, occurrence=None) -> list[dict]:
    """The `warnings` of a write's answer: whose busy times the saved appointment meets."""
    return [overlap_data(found) for found in availability.overlaps_of(viewer=request.user, action=action,
                                                                      occurrence=occurrence)]


@contextmanager
def window_errors():
    try:
        yield
    except availability.WindowTooLong as exc:
        raise ValidationError({"end": [str(exc)]}) from exc


def _ignored_uid(request, data) -> str:
    if "action" not in data:
        return ""
    action = selectors.actions_visible_to(request.user).filter(pk=data["action"]).only("uid").first()
    if action is None:
        raise ValidationError({"action": ["No appointment you can see has this id."]})
    return action.uid


def _person_data(person) -> dict:
    return {"id": person.user.pk, "name": str(person.user), "complete": not person.unknown,
            "busy": [busy_data(item) for item in person.busy],
            "sources": [source_data(answer) for answer in person.sources]}


class AvailabilityView(UserTimeZoneMixin, APIView):
    """Busy times of people over a window (at most 62 days): from the CRM and every calendar they connected.
    A calendar not asked yet is `pending` (ask again in a moment), one that could not be asked `missing`, with
    the reason: never free. Subjects only where you may see them."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[AvailabilityQuery], responses={200: dict})
    def get(self, request):
        query = AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        with window_errors():
            found = availability.availability(viewer=request.user, people=data["people"], start=data["start"],
                                              end=data["end"], ignore_uid=_ignored_uid(request, data))
        return Response({"start": data["start"], "end": data["end"], "people": [_person_data(one) for one in found]})


class SlotsView(UserTimeZoneMixin, APIView):
    """Free times of `duration` minutes for all these people within everyone's working hours (each in their own
    zone), those that suit everyone first, then those fewer people miss; `unsure` names people one of whose
    calendars could not be asked."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[SlotsQuery], responses={200: dict})
    def get(self, request):
        query = SlotsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        with window_errors():
            offered, found = availability.slots(
                viewer=request.user, people=data["people"], duration=timedelta(minutes=data["duration"]),
                start=data["start"], end=data["end"], limit=data["limit"], ignore_uid=_ignored_uid(request, data))
        zone = timezone.get_current_timezone()
        return Response({"slots": [{"start": slot.start.astimezone(zone), "end": slot.end.astimezone(zone),
                                    "suits_everyone": slot.suits_everyone, "busy": slot.busy, "away": slot.away,
                                    "unsure": slot.unsure} for slot in offered],
                         "people": [{"id": person.user.pk, "name": str(person.user), "complete": not person.unknown,
                                     "sources": [source_data(answer) for answer in person.sources]}
                                    for person in found]})


class OverlapsView(UserTimeZoneMixin, APIView):
    """What an appointment of these people at [start, end) would meet, before it is saved: who is busy when
    (in words too), and whose calendars could not be checked. A warning, never a refusal."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[AvailabilityQuery], responses={200: dict})
    def get(self, request):
        query = AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        with window_errors():
            found = availability.overlaps(viewer=request.user, people=data["people"], start=data["start"],
                                          end=data["end"], ignore_uid=_ignored_uid(request, data))
        return Response({"warnings": [overlap_data(overlap) for overlap in found]})
