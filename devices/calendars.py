"""The calendars the CRM serves a user, as views of the actions, by the pages' own visibility rules.

- their agenda ("agenda"): what they own or take part in, but the action types they keep apart;
- a colleague's agenda ("user-<id>"), for those who may see every agenda (as the agenda page offers them),
  writable by those who may edit every action;
- their appointments of one action type ("type-<id>"), kept apart from the agenda once switched on (an
  *Interventions* calendar, say): an action is in one of a user's calendars, never in two.

A calendar holds resources: one per single action or series (its overrides go with it, RFC 4791 4.1).
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm import selectors as crm_selectors
from crm.models import Action, ActionType, User
from devices.models import DeviceCalendar

AGENDA = "agenda"
AGENDA_COLOR = "#1a73e8"
COLLEAGUE_COLORS = ("#d50000", "#33b679", "#8e24aa", "#f4511e", "#039be5", "#616161", "#e67c73", "#0b8043")


@dataclass(frozen=True)
class Calendar:
    viewer: User
    key: str
    name: str
    color: str
    subject: User  # whose appointments it holds
    action_type: ActionType | None = None
    writable: bool = True
    colleague: bool = False
    choice: DeviceCalendar | None = None  # what the viewer chose for it, if anything yet

    @property
    def synced(self) -> bool:
        return self.choice.synced if self.choice is not None else not self.colleague and self.action_type is None

    @property
    def epoch(self) -> int:
        return self.choice.epoch if self.choice is not None else 0

    def actions(self) -> QuerySet[Action]:
        """Its resources' actions: single actions and series (their overrides are fetched with them)."""
        rows = crm_selectors.actions_involving(self.subject).filter(series__isnull=True)
        if self.action_type is not None:
            return rows.filter(action_type=self.action_type)
        if self.colleague:
            return rows
        return rows.exclude(action_type__in=apart(self.viewer))


def apart(user: User) -> list[int]:
    """The action types the user keeps in calendars of their own (a type made inactive has none: its
    appointments are back in the agenda)."""
    kept = [int(choice.key.removeprefix("type-")) for choice in DeviceCalendar.objects.filter(
        user=user, key__startswith="type-", synced=True)]
    return list(ActionType.objects.filter(pk__in=kept, is_active=True).values_list("pk", flat=True)) if kept else []


def calendars_of(user: User) -> list[Calendar]:
    """Every calendar the user may have on devices, with their choices, in a few queries."""
    choices = {choice.key: choice for choice in DeviceCalendar.objects.filter(user=user)}
    found = [Calendar(user, AGENDA, _("%(name)s's agenda") % {"name": user}, AGENDA_COLOR, user,
                      choice=choices.get(AGENDA))]
    for action_type in crm_selectors.action_types_active():
        key = f"type-{action_type.pk}"
        found.append(Calendar(user, key, _("My %(type)s") % {"type": action_type.name}, action_type.color, user,
                              action_type=action_type, choice=choices.get(key)))
    if user.has_perm("crm.view_all_actions"):
        writable = user.has_perm("crm.change_all_actions")
        for colleague in crm_selectors.users_active().exclude(pk=user.pk):
            key = f"user-{colleague.pk}"
            found.append(Calendar(user, key, _("%(name)s's agenda") % {"name": colleague},
                                  COLLEAGUE_COLORS[colleague.pk % len(COLLEAGUE_COLORS)], colleague,
                                  writable=writable, colleague=True, choice=choices.get(key)))
    return found


def calendar_of(user: User, key: str) -> Calendar | None:
    """One of the user's calendars by its key, or None (not theirs to have, or no such calendar)."""
    if key == AGENDA:
        return Calendar(user, AGENDA, _("%(name)s's agenda") % {"name": user}, AGENDA_COLOR, user,
                        choice=DeviceCalendar.objects.filter(user=user, key=key).first())
    return next((calendar for calendar in calendars_of(user) if calendar.key == key), None)
