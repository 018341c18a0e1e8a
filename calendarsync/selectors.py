"""Every read of calendarsync's state for pages, the API and the admin: who may do what, what to show."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.db.models import Count, Exists, F, Prefetch, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from calendarsync import app_settings, presets
from calendarsync.models import (
    AccountProblem,
    AccountState,
    CalendarStatus,
    ConflictRecord,
    Direction,
    EventLink,
    ExternalAccount,
    Provider,
    RemoteCalendar,
    TrashedAction,
)
from crm.models import ActionType


@dataclass(frozen=True)
class Allowed:
    """What a user's profile lets them sync (Z4)."""

    providers: frozenset[str] = field(default_factory=frozenset)
    directions: frozenset[str] = field(default_factory=frozenset)
    max_calendars: int = 0

    def provider_refusal(self, provider) -> str:
        if provider not in self.providers:
            return _("Your profile does not allow connecting %(provider)s; an administrator can change that.") % {
                "provider": Provider(provider).label}
        return ""

    def direction_refusal(self, direction) -> str:
        if direction not in self.directions:
            return _("Your profile does not allow the direction “%(direction)s”.") % {
                "direction": Direction(direction).label}
        return ""


def allowed_for(user) -> Allowed:
    """Superusers may do everything; others what their profile's sync permissions say, or nothing."""
    limit = app_settings.MAX_CALENDARS_PER_ACCOUNT
    if user.is_superuser:
        return Allowed(frozenset(Provider.values), frozenset(Direction.values), limit)
    policy = getattr(user.profile, "sync_policy", None) if user.profile_id else None
    if policy is None:
        return Allowed()
    providers = {name for name, on in ((Provider.GOOGLE, policy.allow_google),
                                       (Provider.MICROSOFT, policy.allow_microsoft),
                                       (Provider.CALDAV, policy.allow_caldav)) if on}
    directions = {name for name, on in ((Direction.IMPORT, policy.allow_import),
                                        (Direction.EXPORT, policy.allow_export),
                                        (Direction.BOTH, policy.allow_both)) if on}
    return Allowed(frozenset(providers), frozenset(directions), min(policy.max_calendars, limit))


@dataclass(frozen=True)
class Offer:
    """A provider as a user may connect it here: through which client, or why not."""

    provider: Provider
    client: object  # an oauth.clients.Client; None for CalDAV (no client needed), or when OAuth is not set up
    refusal: str  # why the user's profile may not connect it; empty when it may

    @property
    def oauth(self) -> bool:
        return self.provider != Provider.CALDAV

    @property
    def available(self) -> bool:
        """Whether this server can connect it (CalDAV always can: the user brings the password)."""
        return self.client is not None or not self.oauth


def offers_for(user) -> list[Offer]:
    from calendarsync.oauth import clients

    allowed = allowed_for(user)
    return [Offer(provider, clients.offered(provider.value) if provider != Provider.CALDAV else None,
                  allowed.provider_refusal(provider.value)) for provider in Provider]


def accounts_of(user):
    """The user's accounts with their calendars (still listed ones first), their last runs and how many
    events each links (`entries`)."""
    calendars = (RemoteCalendar.objects.order_by("gone_at", "-is_primary", "name").select_related("last_run")
                 .prefetch_related("action_types").annotate(entries=Count("links")))
    return (ExternalAccount.objects.filter(user=user).order_by("provider", "email")
            .prefetch_related(Prefetch("calendars", queryset=calendars)))


def named_colors(user) -> list[tuple[str, list[tuple[str, str]]]]:
    """The colors the user's calendars hold by name beyond the CRM's palette (Outlook's categories), for a
    color picker: (heading, [(#rrggbb, name)]) per account that has any."""
    accounts = ExternalAccount.objects.filter(user=user, state=AccountState.ACTIVE).exclude(colors={})
    return [(_("Outlook categories · %(email)s") % {"email": account.email} if account.provider == Provider.MICROSOFT
             else account.email, sorted(((color, name) for name, color in account.colors.items()),
                                        key=lambda choice: choice[1].casefold()))
            for account in accounts.order_by("provider", "email")]


def calendars_due(account) -> bool:
    """Whether the account's list of calendars is older than CALENDAR_REFRESH_SECONDS (read it again)."""
    due = timezone.now() - timedelta(seconds=app_settings.CALENDAR_REFRESH_SECONDS)
    return account.is_active and (account.calendars_refreshed_at is None or account.calendars_refreshed_at < due)


def calendars_of(user):
    return RemoteCalendar.objects.filter(account__user=user).select_related("account").prefetch_related("action_types")


def large_calendar() -> int:
    """Above this many entries, a calendar imported here or served to devices is flagged: calendar apps and
    servers struggle beyond (BlueMind's B3). CALENDARSYNC_LARGE_CALENDAR."""
    return app_settings.LARGE_CALENDAR


def selected_count(account) -> int:
    return account.calendars.filter(selected=True, gone_at__isnull=True).count()


def account_problem(account) -> str:
    """What is wrong with the account and what to do, in the user's words; empty when nothing is."""
    if account.state == AccountState.DISABLED:
        return _("An administrator disabled this account: nothing syncs through it until they enable it again.")
    if account.provider == Provider.CALDAV:
        return _caldav_problem(account)
    if account.state == AccountState.RECONNECT:
        return {
            AccountProblem.REVOKED: _("%(provider)s no longer accepts this connection (access was withdrawn or "
                                      "expired). Reconnect the account; nothing is lost meanwhile."),
            AccountProblem.SCOPES_MISSING: _("Insufficient permissions: %(missing)s was not granted. Reconnect "
                                             "and allow access to your calendars."),
            AccountProblem.TOKEN_UNREADABLE: _("The stored credentials can no longer be read (the server's keys "
                                               "changed). Reconnect the account."),
        }.get(account.problem, _("Reconnect the account.")) % {
            "provider": account.get_provider_display(),
            "missing": ", ".join(account.missing_scopes.split()) or _("calendar access")}
    if account.problem == AccountProblem.UNREACHABLE:
        return _("%(provider)s could not be reached the last time; it will be tried again by itself.") % {
            "provider": account.get_provider_display()}
    return ""


def _caldav_problem(account) -> str:
    host = urlsplit(account.server_url).hostname or account.server_url
    preset = presets.preset(account.preset)
    again = _("Give the address again under “Reconnect”.")
    if account.state == AccountState.RECONNECT:
        return {
            AccountProblem.REVOKED: _("%(host)s refused the user name or the password. %(help)s Then reconnect "
                                      "with it; nothing is lost meanwhile."),
            AccountProblem.CERTIFICATE: _("The connection to %(host)s is not secure: its certificate could not be "
                                          "verified. Check the address; a server with a certificate of its own "
                                          "needs it trusted by this server first.") + " " + again,
            AccountProblem.NOT_FOUND: _("No calendar was found at %(url)s for %(user)s: check the address (your "
                                        "provider's help names it) and the user name.") + " " + again,
            AccountProblem.NOT_CALDAV: _("A web server answered at %(url)s, but not a CalDAV server: check the "
                                         "address (your provider's help names it).") + " " + again,
            AccountProblem.FORBIDDEN_ADDRESS: _("%(host)s leads to an address this CRM does not reach (this "
                                                "machine, or a network's own services): check the address.")
            + " " + again,
            AccountProblem.INSECURE: _("%(host)s sent the connection on to an address without https, where the "
                                       "password would travel unencrypted: check the address with your provider.")
            + " " + again,
            AccountProblem.TOKEN_UNREADABLE: _("The stored password can no longer be read (the server's keys "
                                               "changed). Reconnect with the app password."),
        }.get(account.problem, _("Reconnect the account.")) % {
            "host": host, "url": account.server_url, "user": account.username, "help": preset.app_password}
    if account.problem == AccountProblem.UNREACHABLE:
        if not account.home_url:
            return _("Nothing answered at %(host)s yet: check the address, and that the server is up. It is tried "
                     "again by itself.") % {"host": host}
        return _("%(host)s could not be reached the last time; it will be tried again by itself.") % {"host": host}
    return ""


def pause_reasons(user, calendars=None) -> dict[int, str]:
    """Why each of the user's selected calendars is paused by their profile, by calendar id (Z4).

    Worked out from the profile's permissions every time, so that a permission turned off pauses
    at once, and turned on again resumes, whatever changed it. Calendars beyond the per-account
    limit are the most recently added ones. `calendars`: all the user's calendars when already loaded.
    """
    return {calendar.pk: reason for calendar, reason in _paused(user, calendars)}


def _paused(user, calendars=None):
    allowed = allowed_for(user)
    if calendars is None:
        calendars = RemoteCalendar.objects.filter(account__user=user, selected=True, gone_at__isnull=True
                                                  ).select_related("account")
    counted = Counter()
    for calendar in sorted((calendar for calendar in calendars if calendar.selected and not calendar.gone_at),
                           key=lambda calendar: (calendar.account_id, calendar.pk)):
        counted[calendar.account_id] += 1
        over = counted[calendar.account_id] > allowed.max_calendars
        reason = (allowed.provider_refusal(calendar.account.provider) or allowed.direction_refusal(calendar.direction)
                  or (_("Your profile allows %(count)d calendars per account.") % {"count": allowed.max_calendars}
                      if over else ""))
        if reason:
            yield calendar, reason


def calendars_to_pull():
    """The calendars `syncable` may accept, as one query (the profile's permissions are left to it)."""
    return RemoteCalendar.objects.filter(selected=True, enabled=True, gone_at__isnull=True, hold="",
                                         account__state=AccountState.ACTIVE)


RUNNABLE = {CalendarStatus.PENDING, CalendarStatus.SYNCED, CalendarStatus.SYNCING, CalendarStatus.ERROR}


def syncable(calendar) -> bool:
    """Whether a calendar is to be synced: selected and on, still listed, its account working, its user's
    profile allowing it, and not held; that is, its status is none of off, gone and paused."""
    status, _text = calendar_status(calendar, pause_reasons(calendar.account.user))
    return status in RUNNABLE


def calendar_status(calendar, reasons: dict[int, str]) -> tuple[str, str]:
    """The indicator (a CalendarStatus) and, when it is not plainly fine, the sentence that explains it.

    `reasons` are pause_reasons() of the calendar's user, read once for all their calendars.
    """
    account = calendar.account
    if calendar.gone_at:
        return CalendarStatus.GONE, _("This calendar was deleted in %(provider)s or is no longer shared with you.") % {
            "provider": account.get_provider_display()}
    if not calendar.selected:
        return CalendarStatus.OFF, ""
    if not account.is_active:
        return CalendarStatus.PAUSED, account_problem(account)
    if calendar.pk in reasons:
        return CalendarStatus.PAUSED, reasons[calendar.pk]
    if not calendar.enabled:
        return CalendarStatus.PAUSED, _("You switched sync off for this calendar.")
    if calendar.hold:
        return CalendarStatus.PAUSED, calendar.hold
    if calendar.lease_expires_at and calendar.lease_expires_at > timezone.now():  # a run holds it now
        return CalendarStatus.SYNCING, ""
    if calendar.error:
        return CalendarStatus.ERROR, calendar.error
    if calendar.last_synced_at is None:
        return CalendarStatus.PENDING, ""
    return CalendarStatus.SYNCED, ""


def notices_for(user) -> list[str]:
    """Sentences every page shows until they are dealt with: accounts to reconnect, calendars paused for them."""
    if not user.is_authenticated:
        return []
    notices = [_("%(account)s: %(problem)s") % {"account": account, "problem": account_problem(account)}
               for account in ExternalAccount.objects.filter(user=user, state=AccountState.RECONNECT)]
    notices += [_("%(calendar)s is paused: %(reason)s") % {"calendar": calendar.name, "reason": reason}
                for calendar, reason in _paused(user)]
    return notices


# Calendars that receive CRM changes (paused ones too: their outbox waits for them).
_PUSHING = Q(selected=True, gone_at__isnull=True, direction__in=[Direction.EXPORT, Direction.BOTH])


def push_targets(action) -> list[int]:
    """The calendars a change of this appointment must reach, in one query: those it (or its series) is
    linked to, or when it is in none yet, its owner's destination calendar if that takes its type (G1)."""
    ids = [action.pk, action.series_id] if action.series_id else [action.pk]
    appointment = Exists(ActionType.objects.filter(pk=action.action_type_id, is_appointment=True, is_active=True))
    takes_type = Q(action_types=action.action_type_id) | (Q(action_types__isnull=True) & Q(appointment))
    destination = (Q(account__user_id=action.owner_id, is_destination=True) & takes_type
                   & ~Exists(EventLink.objects.filter(action_id__in=ids)))
    return list(RemoteCalendar.objects.filter(_PUSHING).filter(Q(links__action_id__in=ids) | destination)
                .distinct().values_list("pk", flat=True))


def linked_push_targets(action_ids) -> list[int]:
    return list(RemoteCalendar.objects.filter(_PUSHING, links__action_id__in=action_ids).distinct()
                .values_list("pk", flat=True))



def calendar_activity(calendar_ids, *, latest=10) -> dict[int, dict]:
    """Per calendar, what the user may want to undo: the latest conflicts whose losing version was not
    restored, and the latest appointments deleted remotely (the trash), in two queries."""
    activity = {pk: {"conflicts": [], "trash": []} for pk in calendar_ids}
    for key, rows, newest in (("conflicts", ConflictRecord.objects.filter(restored_at=None), "created_at"),
                              ("trash", TrashedAction.objects.filter(owner=F("calendar__account__user")),
                               "trashed_at")):
        ranked = rows.filter(calendar__in=calendar_ids).annotate(rank=Window(
            RowNumber(), partition_by=F("calendar_id"), order_by=[F(newest).desc(), F("pk").desc()]))
        for row in ranked.filter(rank__lte=latest).order_by("calendar_id", "rank"):
            activity[row.calendar_id][key].append(row)
    return activity
