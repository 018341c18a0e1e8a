"""Reads of the CRM domain: who sees what, and what an agenda window shows."""

from datetime import datetime

from django.db.models import CharField, DateTimeField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.base import ModelState
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from crm import recurrence
from crm.models import Action, ActionType, Company, Contact, User
from crm.occurrences import Occurrence

SPAN = {"span_start", "span_end"}
PEOPLE = (("participants", "participant_ids", "user"), ("contacts", "contact_ids", "contact"))


def actions_visible_to(user: User) -> QuerySet[Action]:
    """Return the actions a user may see: their own, those they take part in, or all by profile."""
    if user.has_perm("crm.view_all_actions"):
        return Action.objects.all()
    return actions_involving(user)


def actions_involving(user: User) -> QuerySet[Action]:
    """Return the actions a user owns or takes part in: their own agenda.

    An occurrence override is seen exactly when its series is, whoever its own participants are.
    """
    taking_part = Action.participants.through.objects.filter(user_id=user.pk).values("action_id")
    return Action.objects.filter(
        Q(series__isnull=True, owner_id=user.pk) | Q(series__isnull=True, pk__in=taking_part)
        | Q(series__owner_id=user.pk) | Q(series_id__in=taking_part)
    )


def action_can_edit(*, user: User, action: Action) -> bool:
    """Tell whether a user may change or delete an action (for an override: its series)."""
    owner_id = action.series.owner_id if action.series_id else action.owner_id
    return user.has_perm("crm.change_all_actions") or owner_id == user.pk


def actions_in_period(actions: QuerySet[Action], period: str) -> QuerySet[Action]:
    """Return the actions not yet over ("upcoming", soonest first), over ("past", latest first), or all."""
    now = timezone.now()
    if period == "upcoming":
        return chronological(actions.filter(Q(span_end__isnull=True) | Q(span_end__gte=now)))
    if period == "past":
        return chronological(actions.filter(span_end__lt=now)).reverse()
    return chronological(actions)


def chronological(actions: QuerySet[Action]) -> QuerySet[Action]:
    """Order actions by their first start, all-day dates at the start of their day (UTC)."""
    return actions.order_by(Coalesce("start", Cast("start_date", DateTimeField())), "pk")


def action_types_active() -> QuerySet[ActionType]:
    return ActionType.objects.filter(is_active=True)


def users_active() -> QuerySet[User]:
    return User.objects.filter(is_active=True)


def companies_all() -> QuerySet[Company]:
    return Company.objects.select_related("account_manager")


def contacts_all() -> QuerySet[Contact]:
    return Contact.objects.select_related("company")


def occurrences_between(
    *, actions: QuerySet[Action], start: datetime, end: datetime, zone, read_only=False
) -> list[Occurrence]:
    """Return every occurrence of `actions` that overlaps [start, end), sorted, series expanded.

    `zone` is the viewer's time zone: it decides which dates an instant window covers for
    all-day actions. Two queries whatever the number of rows: the actions (with what the caller
    selected to come with them), and the keys of the overrides of the series among them.

    `read_only` rows are built from their columns alone, without what was selected with them, and come
    with `participant_ids` and `contact_ids` (as with_people_ids gives them) and `type_color`, their
    overrides' keys with them: one query (an API's window, read at every look at an agenda).
    """
    overlapping = actions_overlapping(actions, start=start, end=end)
    if read_only:
        rows = _read_only(overlapping)
        overridden = {(row.pk, key) for row in rows for key in row.overridden}
    else:
        rows = list(overlapping)
        series_ids = [row.pk for row in rows if row.is_series]
        overridden = set(
            Action.objects.filter(series_id__in=series_ids).values_list("series_id", "recurrence_id")
        ) if series_ids else set()
    first_day, last_day = recurrence.all_day_window(start, end, zone)

    found = []
    for row in rows:
        window = (first_day, last_day) if row.all_day else (start, end)
        if row.is_series:
            first_start, first_end = row.first_occurrence()
            for occurrence_start, occurrence_end in recurrence.occurrences_between(
                rrule=row.rrule, exdates=row.exdates, start=first_start, end=first_end,
                window_start=window[0], window_end=window[1],
            ):
                key = recurrence.occurrence_key(occurrence_start)
                if (row.pk, key) not in overridden:
                    found.append(Occurrence(row, occurrence_start, occurrence_end, key))
        else:
            row_start, row_end = row.first_occurrence()
            if _overlaps(row_start, row_end, *window):
                found.append(Occurrence(row, row_start, row_end, row.recurrence_id))
    found.sort(key=lambda occurrence: occurrence.sort_key(zone))
    return found


def actions_overlapping(actions: QuerySet[Action], *, start: datetime, end: datetime) -> QuerySet[Action]:
    """Return the rows of `actions` that may have an occurrence in [start, end), by their indexed span."""
    return actions.filter(Q(span_start__lt=end) & (Q(span_end__isnull=True) | Q(span_end__gte=start)))


def _read_only(actions: QuerySet[Action]) -> list[Action]:
    """The actions, each built from its columns without Model.__init__, which costs twice the reading of them:
    for rows that are only read. Their index columns (span_*) are left out; a relation, read, is a query. What
    the window needs beside them comes in the same query: people's and contacts' ids, the keys of the
    overrides of a series (`overridden`) and the type's color."""
    names = [field.attname for field in Action._meta.concrete_fields if field.attname not in SPAN]
    joined = {attribute: _Joined(_ordered(relation, target)) for relation, attribute, target in PEOPLE}
    joined["overridden"] = _Joined(Action.objects.filter(series_id=OuterRef("pk")).order_by().values(
        member=F("recurrence_id")))
    rows, database = [], actions.db
    query = actions.annotate(**joined, type_color=F("action_type__color")).order_by().values_list(
        *names, *joined, "type_color")  # in no order: occurrences are sorted
    for *values, participants, contacts, overridden, type_color in query:
        row = Action.__new__(Action)
        row.__dict__.update(zip(names, values, strict=True))
        row.participant_ids = [int(pk) for pk in participants.split(",")] if participants else []
        row.contact_ids = [int(pk) for pk in contacts.split(",")] if contacts else []
        row.overridden, row.type_color = overridden.split(",") if overridden else [], type_color
        row._state = ModelState()
        row._state.adding, row._state.db = False, database
        rows.append(row)
    return rows


class _Joined(Subquery):
    """The values a subquery selects (as `member`, never holding a comma), in its order, as one text ("3,1,2";
    "" for none)."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="array_to_string(ARRAY(%(subquery)s), ',')", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, **extra,
                           template="COALESCE((SELECT group_concat(member, ',') FROM (%(subquery)s)), '')")


def _ordered(relation: str, target: str, actions=None) -> QuerySet:
    """The ids an action's relation holds, in the order of `.<relation>.all()`: of the outer query's action,
    or of those among `actions`."""
    through = getattr(Action, relation).through
    ordering = [f"{target}__{name}" for name in through._meta.get_field(target).related_model._meta.ordering]
    pairs = through.objects.filter(action_id=OuterRef("pk")) if actions is None else through.objects.filter(
        action_id__in=actions)
    return pairs.order_by(*ordering, f"{target}_id").values(member=F(f"{target}_id"))


def with_people_ids(actions: list[Action]) -> list[Action]:
    """Give each action `participant_ids` and `contact_ids`, in the order of `.participants.all()` and
    `.contacts.all()`: two queries of ids for the lot (a prefetch builds a queryset per row and relation)."""
    by_pk = {action.pk: action for action in actions}
    for action in actions:
        action.participant_ids, action.contact_ids = [], []
    for relation, attribute, target in PEOPLE:
        for action_id, target_id in _ordered(relation, target, by_pk).values_list("action_id", "member"):
            getattr(by_pk[action_id], attribute).append(target_id)
    return actions


def occurrence_of(*, action: Action, recurrence_id: str = "") -> Occurrence:
    """Return the occurrence of `action` named by `recurrence_id` (the action itself if empty).

    Raises crm.recurrence.RecurrenceError when the series has no such occurrence.
    """
    if not recurrence_id or not action.is_series:
        start, end = action.first_occurrence()
        return Occurrence(action, start, end, action.recurrence_id)
    override = action.overrides.filter(recurrence_id=recurrence_id).select_related("action_type").first()
    if override is not None:
        start, end = override.first_occurrence()
        return Occurrence(override, start, end, recurrence_id)
    first_start, first_end = action.first_occurrence()
    if not recurrence.is_occurrence(
        rrule=action.rrule, exdates=action.exdates, start=first_start, key=recurrence_id
    ):
        raise recurrence.RecurrenceError(f"“{recurrence_id}” is not an occurrence of this series.")
    original = recurrence.parse_occurrence_key(recurrence_id, all_day=action.all_day)
    if not action.all_day:
        original = original.astimezone(action.zone)
    return Occurrence(action, original, original + (first_end - first_start), recurrence_id)


def _overlaps(start, end, window_start, window_end):
    if start == end:  # an action of no length shows where it starts
        return window_start <= start < window_end
    return start < window_end and end > window_start
