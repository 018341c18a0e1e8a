from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import serializers

from crm.api.preconditions import etag_of, occurrence_etag
from crm.models import Action, ActionType, Company, Contact, User
from crm.occurrences import Occurrence
from crm.validators import validate_agenda_year


class DateTimeField(serializers.DateTimeField):
    """A date-time that is a 400, not a 500, when it cannot be placed in a time zone (year 1)."""

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError:
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss][+HH:MM|-HH:MM|Z]")


class UserSerializer(serializers.ModelSerializer):
    profile = serializers.StringRelatedField()
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "job_title", "phone", "time_zone",
                  "work_days", "work_start", "work_end", "profile", "permissions"]
        read_only_fields = ["username", "email", "profile"]

    def get_permissions(self, user) -> list[str]:
        return sorted(user.get_all_permissions())

    def validate(self, attrs):
        start, end = (attrs.get(name, getattr(self.instance, name, None)) for name in ("work_start", "work_end"))
        if start and end and end <= start:
            raise serializers.ValidationError({"work_end": ["The working day must end after it starts."]})
        return attrs


class UserSummarySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]


class ActionTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActionType
        fields = ["id", "code", "name", "is_appointment", "color", "default_duration"]


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "website", "email", "phone", "address", "postal_code", "city", "country",
                  "industry", "notes", "account_manager", "created_at", "updated_at"]


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "first_name", "last_name", "company", "job_title", "email", "phone", "mobile", "notes",
                  "created_at", "updated_at"]


ACTION_FIELDS = [
    "id", "uid", "action_type", "subject", "description", "location", "all_day", "start", "end",
    "start_date", "end_date", "time_zone", "owner", "participants", "contacts", "company", "status",
    "color", "display_color", "availability", "privacy", "rrule", "exdates", "series", "recurrence_id",
    "created_at", "updated_at", "etag",
]


class ActionSerializer(serializers.ModelSerializer):
    """An action. Timed: `start`/`end` (ISO 8601; without an offset, read in the user's zone).
    All-day: `all_day=true` with `start_date`/`end_date`, the end date exclusive as in iCalendar."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.DateTimeField: DateTimeField}

    display_color = serializers.CharField(read_only=True)
    etag = serializers.SerializerMethodField(help_text=(
        "Its version, as in the ETag header: send it as If-Match with a change to have it refused (412) if the "
        "action changed since. An occurrence's is its own."))
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)
    action_type = serializers.PrimaryKeyRelatedField(queryset=ActionType.objects.filter(is_active=True))
    exdates = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="Keys of cancelled occurrences, e.g. 20261123T090000Z.")

    class Meta:
        model = Action
        fields = ACTION_FIELDS
        read_only_fields = ["uid", "series", "recurrence_id", "created_at", "updated_at"]
        validators = []  # the service validates the whole action (crm.services)
        extra_kwargs = {"time_zone": {"required": False, "help_text": "IANA name; default: the user's time zone."}}

    def get_etag(self, action) -> str:
        return etag_of(action)

    def validate(self, attrs):
        if self.instance is None and "time_zone" not in attrs:
            user = self.context["request"].user
            attrs["time_zone"] = user.time_zone or settings.TIME_ZONE
        return attrs


class ActionWrittenSerializer(ActionSerializer):
    """An action as a create or an update answers it: with its `warnings`."""

    warnings = serializers.SerializerMethodField(help_text=(
        "Whose busy times the saved appointment meets (its owner's and participants'; for a series, over its "
        "next four weeks), each with its time and, where you may see it, its subject; and whose calendars could "
        "not be checked (start and end null). A warning, never a refusal."))

    class Meta(ActionSerializer.Meta):
        fields = [*ACTION_FIELDS, "warnings"]

    def get_warnings(self, action) -> list[dict]:
        return self.context.get("warnings", [])


class OccurrenceSerializer(serializers.Serializer):
    """One occurrence in a window: the action's fields, with this occurrence's own times.

    `id` is the row it comes from (the series for a generated occurrence); `recurrence_id`
    names the occurrence within its series (use it with /actions/{id}/occurrences/{recurrence_id}/).

    A window is the API's hottest read (every agenda shown, every phone's refresh), so the action's
    fields are written here directly rather than by ActionSerializer's generic field machinery, which
    costs several times more per row; a test holds the two to the same output. The rows come with
    `participant_ids` and `contact_ids` (crm.selectors.with_people_ids).
    """

    def to_representation(self, occurrence: Occurrence):
        data = dict(self.action_data(occurrence.action))
        data["is_generated"] = occurrence.is_generated
        if occurrence.is_generated:  # else the row's own times, key and series, as written already
            start, end = occurrence.start, occurrence.end
            if isinstance(start, datetime):
                data["start"], data["end"] = _iso(start, self._zone), _iso(end, self._zone)
            else:
                data["start_date"], data["end_date"] = date.isoformat(start), date.isoformat(end)
            data["recurrence_id"] = occurrence.recurrence_id
            data["series"] = occurrence.series_id
            data["etag"] = occurrence_etag(occurrence)
        return data

    @cached_property
    def _actions(self) -> dict:
        return {}

    @cached_property
    def _zone(self):
        return timezone.get_current_timezone()

    def action_data(self, action: Action) -> dict:
        """What ActionSerializer(action).data holds, once per action (a series' occurrences share it)."""
        found = self._actions.get(action.pk)
        if found is None:
            found = self._actions[action.pk] = action_data(action, self._zone)
        return found


def action_data(action: Action, zone=None) -> dict:
    """ActionSerializer's output for `action`, which comes with `participant_ids` and `contact_ids` (and
    its type's color as `type_color`, or its type)."""
    zone = zone or timezone.get_current_timezone()
    display_color = action.color or getattr(action, "type_color", None) or action.action_type.color

    def moment(value):
        return _iso(value, zone) if value is not None else None

    def day(value):
        return value.isoformat() if value is not None else None

    return {
        "id": action.pk, "uid": action.uid, "action_type": action.action_type_id, "subject": action.subject,
        "description": action.description, "location": action.location, "all_day": action.all_day,
        "start": moment(action.start), "end": moment(action.end), "start_date": day(action.start_date),
        "end_date": day(action.end_date), "time_zone": action.time_zone, "owner": action.owner_id,
        "participants": list(action.participant_ids), "contacts": list(action.contact_ids),
        "company": action.company_id, "status": action.status, "color": action.color,
        "display_color": display_color, "availability": action.availability, "privacy": action.privacy,
        "rrule": action.rrule, "exdates": [str(key) for key in action.exdates], "series": action.series_id,
        "recurrence_id": action.recurrence_id, "created_at": moment(action.created_at),
        "updated_at": moment(action.updated_at), "etag": etag_of(action),
    }


def _iso(moment, zone):
    """As DRF writes a date-time: ISO 8601 in the current zone, UTC as Z."""
    text = moment.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class WindowSerializer(serializers.Serializer):
    """The ?start=&end= window of an occurrence query."""

    MAX_DAYS = 400

    start = DateTimeField(help_text="Window start (ISO 8601 date-time or date).",
                          validators=[validate_agenda_year])
    end = DateTimeField(help_text="Window end, exclusive.", validators=[validate_agenda_year])

    def to_internal_value(self, data):
        data = {key: data.get(key) for key in data if key not in ("start", "end")} | {
            key: _date_to_midnight(data.get(key)) for key in ("start", "end") if data.get(key)}
        return super().to_internal_value(data)

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "The window must end after it starts."})
        if (attrs["end"] - attrs["start"]).days > self.MAX_DAYS:
            raise serializers.ValidationError({"end": f"A window spans at most {self.MAX_DAYS} days."})
        return attrs


def _date_to_midnight(value):
    """Accept a bare date (2026-11-23) as the start of that day in the user's zone."""
    if isinstance(value, str) and len(value) == 10:
        return f"{value}T00:00"
    return value


class OccurrenceChangeSerializer(serializers.ModelSerializer):
    """The fields one occurrence of a series may change."""

    serializer_field_mapping = ActionSerializer.serializer_field_mapping

    class Meta:
        model = Action
        fields = ["subject", "description", "location", "all_day", "start", "end", "start_date", "end_date",
                  "status", "color", "availability", "privacy", "participants", "contacts", "company"]
        validators = []
