from django.urls import reverse
from rest_framework import serializers

from calendarsync import presets, selectors
from calendarsync.models import Direction, ExternalAccount, FirstSync, RemoteCalendar
from crm.selectors import action_types_active


class ProviderSerializer(serializers.Serializer):
    provider = serializers.CharField()
    name = serializers.CharField()
    available = serializers.BooleanField(help_text="Whether this server can connect it (a real app or the sandbox).")
    sandbox = serializers.BooleanField(help_text="Connections go to the local sandbox, not the real service.")
    refusal = serializers.CharField(help_text="Why your profile may not connect it; empty when it may.")
    connect_url = serializers.CharField(help_text="The web page where the user connects accounts (OAuth needs a "
                                                  "browser).")
    needs_browser = serializers.BooleanField(help_text="Connected at connect_url (OAuth consent); false: through "
                                                       "POST accounts/ (CalDAV).")


class CalDAVAccountSerializer(serializers.Serializer):
    """A CalDAV account as the user gives it."""

    preset = serializers.ChoiceField(choices=[], default="generic", help_text=(
        "icloud, fastmail, nextcloud, bluemind, zoho, yahoo or generic (demo where the server runs one)."))
    server_url = serializers.CharField(required=False, allow_blank=True, max_length=500, default="",
                                       help_text="The server's address; not needed for presets that have one.")
    username = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=500, write_only=True, trim_whitespace=False,
                                     style={"input_type": "password"}, help_text="An app password.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [preset.key for preset in presets.offered()]


class CalDAVReconnectSerializer(serializers.Serializer):
    """A CalDAV account's new app password; its address or user name too, if they changed."""

    password = serializers.CharField(max_length=500, write_only=True, trim_whitespace=False,
                                     style={"input_type": "password"}, help_text="The new app password.")
    server_url = serializers.CharField(required=False, max_length=500, help_text="Only if the server moved.")
    username = serializers.CharField(required=False, max_length=254, help_text="Only if it changed.")


class RemoteCalendarSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="off, pending, synced, syncing, paused, error or gone")
    status_text = serializers.CharField(read_only=True, help_text="What happened and how to fix it, when not synced.")
    action_types = serializers.PrimaryKeyRelatedField(many=True, queryset=action_types_active(),
                                                      required=False)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    first_sync = serializers.ChoiceField(choices=FirstSync.choices, required=False)
    counts_busy = serializers.BooleanField(source="counts_for_availability", required=False, help_text=(
        "Whether its events make its owner busy in availability (by default the account's own calendars)."))

    class Meta:
        model = RemoteCalendar
        fields = ["id", "account", "name", "color", "can_write", "is_primary", "owner_email", "gone_at", "selected",
                  "enabled", "direction", "action_types", "first_sync", "first_sync_since", "is_destination",
                  "counts_busy", "last_synced_at", "status", "status_text"]
        read_only_fields = ["id", "account", "name", "color", "can_write", "is_primary", "owner_email", "gone_at",
                            "last_synced_at"]

    def validate(self, attrs):
        if "counts_for_availability" in attrs:  # read as the calendar counts; written as its own choice
            attrs["counts_busy"] = attrs.pop("counts_for_availability")
        return attrs

    def to_representation(self, calendar):
        if "pause_reasons" not in self.context:  # once per response, however many calendars it lists
            self.context["pause_reasons"] = selectors.pause_reasons(calendar.account.user)
        status, text = selectors.calendar_status(calendar, self.context["pause_reasons"])
        return super().to_representation(calendar) | {"status": status.value, "status_text": text}


class ExternalAccountSerializer(serializers.ModelSerializer):
    problem_text = serializers.SerializerMethodField(help_text="What is wrong and what to do; empty when nothing.")
    reconnect_url = serializers.SerializerMethodField(help_text="The web page where the user reconnects it.")

    class Meta:
        model = ExternalAccount
        fields = ["id", "provider", "email", "name", "sandbox", "username", "server_url", "state", "problem",
                  "problem_text", "connected_at", "calendars_refreshed_at", "reconnect_url"]
        read_only_fields = fields

    def get_problem_text(self, account) -> str:
        return selectors.account_problem(account)

    def get_reconnect_url(self, account) -> str:
        request = self.context.get("request")
        url = f"{reverse('calendarsync:settings')}#account-{account.pk}"
        return request.build_absolute_uri(url) if request else url
