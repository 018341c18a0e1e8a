"""Availability over the API: people's busy times, free slots, and what stands in the way of a time."""

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
MAX_ID = 2**63 - 1  # ids are 64-bit: a larger number names nobody, and no database could be asked for it


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
        if not all(0 < pk <= MAX_ID for pk in ids):
            raise ValidationError("A user id is a positive number.")
        found = {user.pk: user for user in selectors.users_active().filter(pk__in=ids)}
        unknown = [str(pk) for pk in ids if pk not in found]
        if unknown:
            raise ValidationError(f"No active user has the id {', '.join(unknown)}.")
        return [found[pk] for pk in ids]


class AvailabilityQuery(WindowSerializer):
    people = PeopleField(help_text="User ids, comma-separated (at most 50).")
    action = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                      help_text="An appointment to leave out (the one being moved).")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        try:  # availability's own bounds (62 days), with its words
            availability.check_window(attrs["start"], attrs["end"])
        except availability.WindowTooLong as exc:
            raise serializers.ValidationError({"end": [str(exc)]}) from exc
        return attrs


class SlotsQuery(AvailabilityQuery):
    duration = serializers.IntegerField(min_value=5, max_value=24 * 60, help_text="Minutes.")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class SourceSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Where the busy times come from: CRM, or a provider and a calendar.")
    state = serializers.ChoiceField(choices=["ok", "pending", "missing"], help_text=(
        "ok: its busy times are in the answer; pending: being asked (ask again in a moment); missing: it could "
        "not be asked (see reason). Never take pending or missing for free."))
    reason = serializers.CharField()
    requests = serializers.IntegerField(help_text="Requests it took to ask the provider (0 for the CRM).")
    fetched_at = serializers.DateTimeField(allow_null=True, help_text="When the provider was asked.")


class BusySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    subject = serializers.CharField(help_text="Empty where you may not see it (a colleague's, a private one).")
    action = serializers.IntegerField(source="action_id", allow_null=True,
                                      help_text="The CRM appointment, where you may open it.")
    occurrence = serializers.CharField(help_text="With `action`: the occurrence of that series.")
    source = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.pk")
    name = serializers.CharField(source="user")
    complete = serializers.SerializerMethodField(help_text="Whether every calendar of theirs answered.")
    busy = BusySerializer(many=True)
    sources = SourceSerializer(many=True)

    def get_complete(self, person) -> bool:
        return not person.unknown


class AvailabilitySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    people = PersonSerializer(many=True)


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    suits_everyone = serializers.BooleanField()
    busy = serializers.ListField(child=serializers.IntegerField(), help_text="People busy then.")
    away = serializers.ListField(child=serializers.IntegerField(), help_text="People outside their working hours.")
    unsure = serializers.ListField(child=serializers.IntegerField(),
                                   help_text="People one of whose calendars could not be asked.")


class SlotPersonSerializer(PersonSerializer):
    busy = None


class SlotsSerializer(serializers.Serializer):
    slots = SlotSerializer(many=True)
    people = SlotPersonSerializer(many=True)


class WarningSerializer(serializers.Serializer):
    person = serializers.IntegerField(source="person.pk")
    name = serializers.CharField(source="person")
    state = serializers.ChoiceField(choices=["busy", "pending", "missing"], help_text=(
        "busy: they are busy then; pending: one of their calendars is being asked (ask again in a moment); "
        "missing: one could not be asked."))
    text = serializers.SerializerMethodField(help_text="The warning in words, times in your zone.")
    start = serializers.DateTimeField(source="busy.start", allow_null=True,
                                      help_text="Null when one of their calendars could not be checked.")
    end = serializers.DateTimeField(source="busy.end", allow_null=True)
    subject = serializers.SerializerMethodField()
    action = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()

    def get_text(self, overlap) -> str:
        return overlap.text(timezone.get_current_timezone())

    def get_subject(self, overlap) -> str:
        return overlap.busy.subject if overlap.busy else ""

    def get_action(self, overlap) -> int | None:
        return overlap.busy.action_id if overlap.busy else None

    def get_source(self, overlap) -> str:
        return overlap.busy.source if overlap.busy else overlap.unknown.name


class WarningsSerializer(serializers.Serializer):
    warnings = WarningSerializer(many=True)


def warnings_of(request, action, occurrence=None) -> list[dict]:
    """The `warnings` of a write's answer: whose busy times the saved appointment meets."""
    return WarningSerializer(availability.overlaps_of(viewer=request.user, action=action, occurrence=occurrence),
                             many=True).data


def _question(request, query_class) -> dict:
    """The query's parameters, checked (a 400 naming the field), with the uid of the appointment to leave out."""
    query = query_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return {**query.validated_data, "ignore_uid": _ignored_uid(request, query.validated_data)}


def _ignored_uid(request, data) -> str:
    if "action" not in data:
        return ""
    action = selectors.actions_visible_to(request.user).filter(pk=data["action"]).only("uid").first()
    if action is None:
        raise ValidationError({"action": ["No appointment you can see has this id."]})
    return action.uid


class AvailabilityView(UserTimeZoneMixin, APIView):
    """Busy times of people over a window (at most 62 days): from the CRM and every calendar they connected.
    A calendar not asked yet is `pending` (ask again in a moment), one that could not be asked `missing`, with
    the reason: never free. Subjects only where you may see them."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[AvailabilityQuery], responses={200: AvailabilitySerializer})
    def get(self, request):
        data = _question(request, AvailabilityQuery)
        found = availability.availability(viewer=request.user, people=data["people"], start=data["start"],
                                          end=data["end"], ignore_uid=data["ignore_uid"])
        return Response(AvailabilitySerializer({"start": data["start"], "end": data["end"], "people": found}).data)


class SlotsView(UserTimeZoneMixin, APIView):
    """Free times of `duration` minutes for all these people within everyone's working hours (each in their own
    zone), those that suit everyone first, then those fewer people miss; `unsure` names people one of whose
    calendars could not be asked."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[SlotsQuery], responses={200: SlotsSerializer})
    def get(self, request):
        data = _question(request, SlotsQuery)
        offered, found = availability.slots(
            viewer=request.user, people=data["people"], duration=timedelta(minutes=data["duration"]),
            start=data["start"], end=data["end"], limit=data["limit"], ignore_uid=data["ignore_uid"])
        return Response(SlotsSerializer({"slots": offered, "people": found}).data)


class OverlapsView(UserTimeZoneMixin, APIView):
    """What an appointment of these people at [start, end) would meet, before it is saved: who is busy when
    (in words too), and whose calendars could not be checked. A warning, never a refusal."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[AvailabilityQuery], responses={200: WarningsSerializer})
    def get(self, request):
        data = _question(request, AvailabilityQuery)
        found = availability.overlaps(viewer=request.user, people=data["people"], start=data["start"],
                                      end=data["end"], ignore_uid=data["ignore_uid"])
        return Response(WarningsSerializer({"warnings": found}).data)
