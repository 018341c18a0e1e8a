import uuid
import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import recurrence
from crm.validators import validate_agenda_year, validate_hex_color, validate_time_zone

from .directory import Company, Contact

# All-day events are dates, seen the same in every zone; their index bounds are widened by the
# largest UTC offset so that a window query in any viewer's zone finds them.
ALL_DAY_SLACK = timedelta(hours=14)


class ActionType(models.Model):
    """A kind of action: appointment, call, task, e-mail, intervention, ..."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_appointment = models.BooleanField(
        _("is an appointment"), default=False,
        help_text=_("Appointments take time in an agenda and may sync with external calendars."),
    )
    color = models.CharField(_("color"), max_length=7, default="#1a73e8", validators=[validate_hex_color])
    default_duration = models.PositiveIntegerField(_("default duration (minutes)"), default=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("action type")
        verbose_name_plural = _("action types")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Availability(models.TextChoices):
    BUSY = "busy", _("Busy")
    FREE = "free", _("Free")


class Privacy(models.TextChoices):
    NORMAL = "normal", _("Normal")
    PRIVATE = "private", _("Private")


def new_uid():
    return f"{uuid.uuid4()}@crm"


class Action(models.Model):
    """A call, task, e-mail or appointment, possibly a recurring series or one of its overrides.

    Timed actions have `start`/`end` (stored in UTC) and keep their IANA `time_zone`; all-day
    actions have `start_date`/`end_date` (end exclusive, as in iCalendar) instead. A series has an
    `rrule` and `exdates` (keys of cancelled occurrences); an occurrence that was moved or edited
    is its own row with `series` and `recurrence_id` (the key of the occurrence it replaces) and
    shares the series' `uid`, as a RECURRENCE-ID component does in iCalendar.
    """

    uid = models.CharField(_("iCalendar UID"), max_length=255, default=new_uid, editable=False)
    action_type = models.ForeignKey(
        ActionType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="actions"
    )
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location"), max_length=255, blank=True)

    all_day = models.BooleanField(_("all day"), default=False)
    start = models.DateTimeField(_("start"), null=True, blank=True, validators=[validate_agenda_year])
    end = models.DateTimeField(_("end"), null=True, blank=True, validators=[validate_agenda_year])
    start_date = models.DateField(_("start date"), null=True, blank=True, validators=[validate_agenda_year])
    end_date = models.DateField(_("end date (exclusive)"), null=True, blank=True, validators=[validate_agenda_year])
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="owned_actions",
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), blank=True,
        related_name="participating_actions",
    )
    contacts = models.ManyToManyField(Contact, verbose_name=_("contacts"), blank=True, related_name="actions")
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="actions",
    )
    status = models.CharField(_("status"), max_length=12, choices=ActionStatus, default=ActionStatus.PLANNED)
    color = models.CharField(
        _("color"), max_length=7, blank=True, validators=[validate_hex_color],
        help_text=_("Empty: the color of the action type."),
    )
    availability = models.CharField(
        _("show as"), max_length=8, choices=Availability, default=Availability.BUSY
    )
    privacy = models.CharField(_("privacy"), max_length=8, choices=Privacy, default=Privacy.NORMAL)

    rrule = models.CharField(_("recurrence rule"), max_length=500, blank=True)
    exdates = models.JSONField(_("cancelled occurrences"), default=list, blank=True)
    series = models.ForeignKey(
        "self", verbose_name=_("series"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="overrides",
    )
    recurrence_id = models.CharField(_("replaces occurrence"), max_length=20, blank=True)

    # Index columns derived from the fields above by compute_span(), so that one indexed range
    # query finds everything a window can show: singles, all-day events and whole series.
    span_start = models.DateTimeField(editable=False)
    span_end = models.DateTimeField(null=True, editable=False)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["span_start", "pk"]
        permissions = [
            ("view_all_actions", _("Can see every user's actions")),
            ("change_all_actions", _("Can edit and delete every user's actions")),
        ]
        indexes = [
            models.Index(fields=["owner", "span_start"]),
            models.Index(fields=["span_start", "span_end"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["uid", "recurrence_id"], name="action_uid_occurrence_unique"),
            models.CheckConstraint(
                name="action_times_match_all_day",
                condition=(
                    Q(all_day=True, start_date__isnull=False, end_date__isnull=False, start__isnull=True)
                    | Q(all_day=False, start__isnull=False, end__isnull=False, start_date__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="action_override_is_not_a_series",
                condition=(
                    Q(series__isnull=True, recurrence_id="")
                    | (Q(series__isnull=False, rrule="") & ~Q(recurrence_id=""))
                ),
            ),
        ]

    def __str__(self):
        return self.subject

    def get_constraints(self):
        """What validation asks the database about: the uniqueness only. The check constraints are rules that
        clean() enforces on the fields already (the database would evaluate each in a query of its own); the
        database keeps them all as the last guard when a row is written."""
        return [(model, [rule for rule in constraints if not isinstance(rule, models.CheckConstraint)])
                for model, constraints in super().get_constraints()]

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)

    @property
    def is_series(self):
        return bool(self.rrule)

    @property
    def display_color(self):
        return self.color or self.action_type.color

    def first_occurrence(self):
        """Return (start, end): aware datetimes in the action's zone, or dates when all-day."""
        if self.all_day:
            return self.start_date, self.end_date
        return self.start.astimezone(self.zone), self.end.astimezone(self.zone)

    def clean(self):
        errors = {}
        if self.all_day:
            self.start = self.end = None
            if not self.start_date:
                errors["start_date"] = _("An all-day action needs a start date.")
            if not self.end_date:
                errors["end_date"] = _("An all-day action needs an end date.")
            elif self.start_date and self.end_date <= self.start_date:
                errors["end_date"] = _("The end date must be after the start date (it is exclusive).")
        else:
            self.start_date = self.end_date = None
            if not self.start:
                errors["start"] = _("A timed action needs a start.")
            if not self.end:
                errors["end"] = _("A timed action needs an end.")
            elif self.start and self.end < self.start:
                errors["end"] = _("The end must not be before the start.")
        if self.rrule and self.series_id:
            errors["rrule"] = _("An occurrence of a series cannot itself recur.")
        elif bool(self.series_id) != bool(self.recurrence_id):
            errors["recurrence_id"] = _("A changed occurrence needs both its series and its occurrence key; "
                                        "any other action has neither.")
        if errors:
            raise ValidationError(errors)
        if self.rrule and _is_time_zone(self.time_zone) and _in_range(*self.first_occurrence()):
            try:
                self.rrule = recurrence.normalize_rrule(self.rrule, start=self.first_occurrence()[0], zone=self.zone)
            except recurrence.RecurrenceError as exc:
                raise ValidationError({"rrule": str(exc)}) from exc
        exdates = self._clean_exdates()
        self.exdates = exdates if self.rrule else []  # only a series has occurrences to cancel

    def _clean_exdates(self):
        if not isinstance(self.exdates, list) or not all(isinstance(key, str) for key in self.exdates):
            raise ValidationError({"exdates": _("Give a list of occurrence keys.")})
        try:
            return sorted({
                recurrence.occurrence_key(recurrence.parse_occurrence_key(key, all_day=self.all_day))
                for key in self.exdates
            })
        except recurrence.RecurrenceError as exc:
            raise ValidationError({"exdates": str(exc)}) from exc

    def compute_span(self):
        """Set span_start/span_end, the instants that bound every occurrence of this row."""
        first_start, first_end = self.first_occurrence()
        duration = first_end - first_start
        last_start = first_start
        if self.rrule:
            last_start = recurrence.last_start_bound(rrule=self.rrule, start=first_start)
        self.span_start = _instant(first_start, -ALL_DAY_SLACK)
        self.span_end = None if last_start is None else _instant(last_start + duration, ALL_DAY_SLACK)


def _in_range(*values):
    try:
        for value in values:
            validate_agenda_year(value)
    except ValidationError:
        return False
    return True


def _is_time_zone(name):
    try:
        validate_time_zone(name)
    except ValidationError:
        return False
    return True


def _instant(value, slack):
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time.min, UTC) + slack
