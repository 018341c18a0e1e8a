"""Forms of the CRM pages. They turn what a person types into the values crm.services takes."""

import re
import zoneinfo
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from icalendar.prop import vRecur

from crm import recurrence, selectors
from crm.models import Action, ActionStatus, Availability, Company, Contact, Privacy
from crm.signals import colors_wanted
from crm.validators import validate_agenda_year

# Google Calendar's event palette, so that colors survive a round trip through it.
PALETTE = [
    ("", _("Type color")), ("#7986cb", _("Lavender")), ("#33b679", _("Sage")), ("#8e24aa", _("Grape")),
    ("#e67c73", _("Flamingo")), ("#f6bf26", _("Banana")), ("#f4511e", _("Tangerine")),
    ("#039be5", _("Peacock")), ("#616161", _("Graphite")), ("#3f51b5", _("Blueberry")),
    ("#0b8043", _("Basil")), ("#d50000", _("Tomato")),
]
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
REPEAT_CHOICES = [("", _("Does not repeat")), ("DAILY", _("Daily")), ("WEEKLY", _("Weekly")),
                  ("MONTHLY", _("Monthly")), ("YEARLY", _("Yearly")), ("CUSTOM", _("Custom rule (RRULE)"))]
WEEKDAYS = [("MO", _("Mon")), ("TU", _("Tue")), ("WE", _("Wed")), ("TH", _("Thu")), ("FR", _("Fri")),
            ("SA", _("Sat")), ("SU", _("Sun"))]
ENDS_CHOICES = [("never", _("Never")), ("until", _("On")), ("count", _("After"))]
TIME_ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})

# Where an error the model reports on one of its fields shows on this form.
MODEL_TO_FORM_FIELD = {"start": "start_time", "end": "end_time", "rrule": "rrule", "exdates": None,
                       "__all__": None}


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class ActionForm(forms.Form):
    """An action, or one occurrence of a series (then without the recurrence fields)."""

    action_type = forms.ModelChoiceField(label=_("Type"), queryset=selectors.action_types_active(),
                                         empty_label=None)
    subject = forms.CharField(label=_("Subject"), max_length=255)
    all_day = forms.BooleanField(label=_("All day"), required=False)
    start_date = forms.DateField(label=_("Starts"), widget=DateInput, validators=[validate_agenda_year])
    start_time = forms.TimeField(label=_("at"), required=False, widget=TimeInput)
    end_date = forms.DateField(label=_("Ends"), widget=DateInput, validators=[validate_agenda_year])
    end_time = forms.TimeField(label=_("at"), required=False, widget=TimeInput)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[(name, name) for name in TIME_ZONES])

    repeat = forms.ChoiceField(label=_("Repeat"), choices=REPEAT_CHOICES, required=False)
    interval = forms.IntegerField(label=_("every"), min_value=1, max_value=999, initial=1, required=False)
    weekdays = forms.MultipleChoiceField(label=_("on"), choices=WEEKDAYS, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    ends = forms.ChoiceField(label=_("Ends"), choices=ENDS_CHOICES, initial="never", required=False,
                             widget=forms.RadioSelect)
    until = forms.DateField(label=_("on"), required=False, widget=DateInput, validators=[validate_agenda_year])
    count = forms.IntegerField(label=_("after"), min_value=1, max_value=9999, required=False)
    rrule = forms.CharField(label=_("Rule"), required=False, max_length=500,
                            help_text=_("An RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=-1FR"))

    location = forms.CharField(label=_("Location"), max_length=255, required=False)
    company = forms.ModelChoiceField(label=_("Company"), queryset=Company.objects.all(), required=False)
    contacts = forms.ModelMultipleChoiceField(label=_("Contacts"), queryset=Contact.objects.select_related(
        "company"), required=False, widget=forms.SelectMultiple(attrs={"size": 5}))
    participants = forms.ModelMultipleChoiceField(label=_("Participants"), queryset=selectors.users_active(),
                                                  required=False, widget=forms.SelectMultiple(attrs={"size": 5}))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices, initial=ActionStatus.PLANNED)
    color = forms.ChoiceField(label=_("Color"), choices=PALETTE, required=False)
    availability = forms.ChoiceField(label=_("Show as"), choices=Availability.choices, initial=Availability.BUSY)
    privacy = forms.ChoiceField(label=_("Privacy"), choices=Privacy.choices, initial=Privacy.NORMAL)

    RECURRENCE_FIELDS = ("repeat", "interval", "weekdays", "ends", "until", "count", "rrule")

    def __init__(self, *args, with_recurrence=True, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_recurrence = with_recurrence
        self.fields["color"].choices = _color_choices(owner, self.data.get("color") if self.is_bound
                                                      else self.initial.get("color"))
        if not with_recurrence:
            for name in self.RECURRENCE_FIELDS:
                del self.fields[name]

    @classmethod
    def initial_for(cls, action: Action, start, end) -> dict:
        """Return initial values showing `action` with the given occurrence times."""
        initial = {name: getattr(action, name) for name in (
            "action_type", "subject", "all_day", "time_zone", "location", "company", "description", "status",
            "color", "availability", "privacy")}
        if action.pk:
            initial["contacts"] = list(action.contacts.all())
            initial["participants"] = list(action.participants.all())
        if isinstance(start, datetime):
            local_start, local_end = start.astimezone(action.zone), end.astimezone(action.zone)
            initial.update(start_date=local_start.date(), start_time=local_start.time(),
                           end_date=local_end.date(), end_time=local_end.time())
        else:
            initial.update(start_date=start, end_date=end - timedelta(days=1),
                           start_time=time(9), end_time=time(10))
        initial.update(_recurrence_initial(action.rrule, action.zone))
        return initial

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        self.action_fields = {name: data[name] for name in (
            "action_type", "subject", "all_day", "time_zone", "location", "company", "description", "status",
            "color", "availability", "privacy")}
        self.action_fields.update(self._clean_times(data))
        if self.with_recurrence:
            self.action_fields["rrule"] = self._clean_rrule(data)
        return data

    def add_service_errors(self, error: ValidationError):
        """Show the errors crm.services raised on the fields a person can fix."""
        for field, messages in error.message_dict.items():
            target = MODEL_TO_FORM_FIELD.get(field, field)
            self.add_error(target if target in self.fields else None, messages)

    def _clean_times(self, data):
        if data["all_day"]:
            if data["end_date"] < data["start_date"]:
                raise ValidationError({"end_date": _("The end date must not be before the start date.")})
            return {"start_date": data["start_date"], "end_date": data["end_date"] + timedelta(days=1),
                    "start": None, "end": None}
        missing = {name: _("Give a time, or tick All day.") for name in ("start_time", "end_time") if not data[name]}
        if missing:
            raise ValidationError(missing)
        zone = zoneinfo.ZoneInfo(data["time_zone"])
        return {"start": datetime.combine(data["start_date"], data["start_time"], zone),
                "end": datetime.combine(data["end_date"], data["end_time"], zone),
                "start_date": None, "end_date": None}

    def _clean_rrule(self, data):
        frequency = data.get("repeat")
        if not frequency:
            return ""
        if frequency == "CUSTOM":
            if not data.get("rrule"):
                raise ValidationError({"rrule": _("Write the rule, or choose how it repeats.")})
            return data["rrule"]
        parts = [f"FREQ={frequency}"]
        if (data.get("interval") or 1) > 1:
            parts.append(f"INTERVAL={data['interval']}")
        if frequency == "WEEKLY" and data.get("weekdays"):
            parts.append("BYDAY=" + ",".join(day for day, _ in WEEKDAYS if day in data["weekdays"]))
        if data.get("ends") == "until":
            if not data.get("until"):
                raise ValidationError({"until": _("Give the last date.")})
            parts.append(f"UNTIL={data['until']:%Y%m%d}")
        elif data.get("ends") == "count":
            if not data.get("count"):
                raise ValidationError({"count": _("Give the number of occurrences.")})
            parts.append(f"COUNT={data['count']}")
        return ";".join(parts)


def _color_choices(owner, current):
    """The palette, then the colors the owner's calendars hold by name (Outlook's categories). A color none
    of them has (from a calendar, or set through the API) is offered as it is, so that an edit that leaves
    the color alone keeps it."""
    named = [group for _receiver, groups in colors_wanted.send(sender=ActionForm, owner=owner) for group in groups
             or ()] if owner is not None else []
    choices = [PALETTE[0], (_("Colors"), PALETTE[1:]), *named] if named else list(PALETTE)
    offered = {value for _label, values in named for value, _name in values} | set(dict(PALETTE))
    if current and current not in offered and HEX_COLOR.fullmatch(current):
        choices.insert(1, (current, _("Current color")))
    return choices


def _recurrence_initial(rrule: str, zone) -> dict:
    """Show a rule in the simple controls when they can express it, as raw text otherwise."""
    if not rrule:
        return {"repeat": ""}
    rule = vRecur.from_ical(rrule)
    simple = {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL"}
    frequency = rule["FREQ"][0]
    days = [str(day) for day in rule.get("BYDAY", [])]
    plain_days = frequency == "WEEKLY" and all(day in dict(WEEKDAYS) for day in days)
    if set(rule) - simple or frequency not in dict(REPEAT_CHOICES) or (days and not plain_days):
        return {"repeat": "CUSTOM", "rrule": rrule}
    initial = {"repeat": frequency, "interval": int((rule.get("INTERVAL") or [1])[0]), "weekdays": days,
               "rrule": rrule, "ends": "never"}
    if "COUNT" in rule:
        initial.update(ends="count", count=rule["COUNT"][0])
    elif "UNTIL" in rule:
        initial.update(ends="until", until=recurrence.until_date(rrule, zone))
    return initial


class CompanyForm(forms.ModelForm):
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Company
        fields = ["name", "industry", "account_manager", "website", "email", "phone", "address", "postal_code",
                  "city", "country", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "company", "job_title", "email", "phone", "mobile", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}


def default_times(start: datetime | date | None, minutes: int, zone) -> tuple:
    """Return the times a new action gets: the slot clicked, or the next full hour."""
    if isinstance(start, date) and not isinstance(start, datetime):
        return start, start + timedelta(days=1)
    if start is None:
        now = datetime.now(zone)
        start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return start, start + timedelta(minutes=minutes)
