from django import forms
from django.utils.translation import gettext_lazy as _

from calendarsync import presets
from calendarsync.models import Direction, FirstSync
from crm.selectors import action_types_active


def active_action_types():
    return list(action_types_active().values_list("pk", "name"))


class CalendarSettingsForm(forms.Form):
    """How one remote calendar syncs; the directions offered are those the profile allows and the calendar takes."""

    selected = forms.BooleanField(label=_("Sync this calendar"), required=False)
    enabled = forms.BooleanField(label=_("Sync on"), required=False,
                                 help_text=_("Switch off to pause without losing the settings."))
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    action_types = forms.TypedMultipleChoiceField(
        label=_("Action types that sync"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple,
        help_text=_("Only these kinds of action go to this calendar and come from it. Default: appointments."))
    first_sync = forms.ChoiceField(label=_("The first sync covers"), choices=FirstSync.choices,
                                   widget=forms.RadioSelect)
    first_sync_since = forms.DateField(label=_("Since"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    is_destination = forms.BooleanField(
        label=_("New CRM appointments go to this calendar (one per connected account)"), required=False)
    counts_busy = forms.BooleanField(
        label=_("Its events make me busy"), required=False,
        help_text=_("Counted in your availability (overlap warnings, Find a time, colleagues' view), synced or not."))

    def __init__(self, *args, calendar, allowed, action_types=None, **kwargs):
        """`action_types`: the active types as (id, name) pairs, read once for a page of forms."""
        initial = {"selected": calendar.selected, "enabled": calendar.enabled, "direction": calendar.direction,
                   "action_types": [kind.pk for kind in calendar.action_types.all()], "first_sync": calendar.first_sync,
                   "first_sync_since": calendar.first_sync_since, "is_destination": calendar.is_destination,
                   "counts_busy": calendar.counts_for_availability}
        super().__init__(*args, initial=initial, prefix=f"calendar-{calendar.pk}", **kwargs)
        self.calendar = calendar
        self.fields["action_types"].choices = action_types if action_types is not None else active_action_types()
        directions = [(value, label) for value, label in Direction.choices
                      if value in allowed.directions and (calendar.can_write or value == Direction.IMPORT)]
        self.fields["direction"].choices = directions or [(calendar.direction, Direction(calendar.direction).label)]
        if not calendar.can_write:
            self.fields["direction"].help_text = _("Read-only for you: it can only be imported.")


class CalDAVAccountForm(forms.Form):
    """A CalDAV account as the user gives it: the provider (or a server's address), a user name, an app
    password. Only the form's shape is checked here; the service checks the rest, the worker the server."""

    preset = forms.ChoiceField(label=_("Provider"), choices=lambda: [(preset.key, preset.name)
                                                                     for preset in presets.offered()])
    server_url = forms.CharField(label=_("Server address"), required=False, max_length=500,
                                 help_text=_("Not needed for iCloud, Fastmail and Yahoo, nor for Zoho on zoho.com."))
    username = forms.CharField(label=_("User name"), max_length=254,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}))
    password = forms.CharField(label=_("App password"), max_length=500, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

