"""Every write to calendarsync's state: connecting accounts, their calendars, the sync settings, permissions.

Views, the API, the admin and the OAuth adapter check who asks, then call one of these.
Refusals are exceptions with a sentence for the user: `Refused` (not allowed: a 403) and
`Invalid` (a bad request: a 400).
"""

import ipaddress
import logging
from datetime import date, timedelta
from functools import partial
from urllib.parse import urljoin, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from calendarsync import app_settings, jobs, presets, providers, selectors
from calendarsync.models import (
    AccountProblem,
    AccountState,
    Direction,
    EventLink,
    ExternalAccount,
    FirstSync,
    OutboxEntry,
    Provider,
    RemoteCalendar,
    Trigger,
)
from calendarsync.providers.caldav.dav import address_guard, quote_path
from calendarsync.providers.caldav.discovery import DiscoveryError, discover
from crm import selectors as crm_selectors
from crm import services as crm_services
from crm.models import Action
from crm.recurrence import EARLIEST_YEAR
from crm.validators import validate_hex_color

log = logging.getLogger(__name__)
ORIGIN = "calendarsync"  # how this app's writes to the CRM are announced (signals carry it)


def origin_of(calendar_id) -> str:
    """How a run of one calendar announces its writes, so that the outbox does not send them back there."""
    return f"{ORIGIN}:{calendar_id}"


def outbox_add(action, calendar_ids, *, action_id=None):
    """Put a change of `action` in these calendars' outboxes, in the caller's transaction, and queue their
    push for after the commit. A new change resets the tries. `action_id`: for a deleted appointment,
    whose instance has lost its primary key."""
    OutboxEntry.objects.bulk_create([OutboxEntry(calendar_id=pk, action_id=action_id or action.pk, uid=action.uid)
                                     for pk in calendar_ids],
                                    update_conflicts=True, unique_fields=["calendar", "action_id"],
                                    update_fields=["uid", "queued_at", "attempts", "last_error"])
    for pk in calendar_ids:
        transaction.on_commit(partial(jobs.push_soon, pk))


def forget_deleted(action, action_id, *, origin):
    """An appointment deleted (in the CRM, or by a sync from another calendar) leaves the import-only
    calendars it came from: they never delete remotely, and a link kept would carry the deletion out if the
    calendar later exported. The event stays there, and comes back only if it changes. A series takes its
    changed occurrences' links along. The calendar a sync deleted it for keeps its own bookkeeping."""
    mine = Q(action_id=action_id) | (Q(ical_uid=action.uid) if not action.series_id and action.uid else Q())
    links = EventLink.objects.filter(mine, calendar__direction=Direction.IMPORT)
    if origin.startswith(origin_of("")):
        links = links.exclude(calendar_id=origin.removeprefix(origin_of("")))
    links.delete()


class Refused(Exception):
    """The user may not do this (profile permissions, someone else's account)."""


class Invalid(Exception):
    """The request cannot be done as asked; the message says why."""


# Accounts --------------------------------------------------------------------------------------

@sensitive_variables("access_token", "refresh_token")
def account_connect(user, *, provider, remote_id, email, name, access_token, refresh_token, expires_at, scopes,
                    sandbox, reconnect=None) -> ExternalAccount:
    """Keep what an OAuth consent gave: a new account, or the same one reconnected (never a second copy).

    `reconnect` is the account the user asked to reconnect; the consent must be for that very account.
    """
    refusal = selectors.allowed_for(user).provider_refusal(provider)
    if refusal:
        raise Refused(refusal)
    if reconnect is not None and (reconnect.user_id != user.pk or reconnect.provider != provider):
        raise Refused(_("This account is not yours to reconnect."))
    if reconnect is not None and reconnect.remote_id != remote_id:
        raise Invalid(_("You signed in as %(email)s, but the account to reconnect is %(expected)s. Reconnect again "
                        "and choose %(expected)s.") % {"email": email or remote_id, "expected": reconnect.email})
    with transaction.atomic():
        account = reconnect or ExternalAccount.objects.select_for_update().filter(
            user=user, provider=provider, remote_id=remote_id).first() or ExternalAccount(
            user=user, provider=provider, remote_id=remote_id)
        account.email, account.name, account.sandbox = email or account.email, name or account.name, sandbox
        account.access_token, account.access_token_expires_at = access_token, expires_at
        account.refresh_token = refresh_token or account.refresh_token  # providers do not always send a new one
        account.scopes = scopes
        missing = providers.provider_class(provider).missing_scopes(scopes) if scopes else set()
        account.problem = AccountProblem.SCOPES_MISSING if missing else (
            "" if account.refresh_token else AccountProblem.REVOKED)
        account.missing_scopes = " ".join(sorted(missing))
        if account.state != AccountState.DISABLED:
            account.state = _usable_state(account)
        account.save()
    if account.is_active:  # its calendars are read by a worker: the consent's redirect does not wait for them
        transaction.on_commit(partial(jobs.refresh_calendars, account.pk, force=True))
    return account


@sensitive_variables("password")
def caldav_connect(user, *, preset="generic", server_url="", username, password, reconnect=None) -> ExternalAccount:
    """Keep a CalDAV account as the user gave it: a new one, or the same one (same address and user name)
    with a new password, never a second copy. Nothing here calls the server: a worker finds the calendars,
    and what goes wrong there is shown on the account. `reconnect`: the account whose details these replace."""
    refusal = selectors.allowed_for(user).provider_refusal(Provider.CALDAV)
    if refusal:
        raise Refused(refusal)
    if reconnect is not None and (reconnect.user_id != user.pk or reconnect.provider != Provider.CALDAV):
        raise Refused(_("This account is not yours to reconnect."))
    chosen = presets.find(preset or "generic")
    if chosen is None and reconnect is not None and preset == reconnect.preset:
        chosen = presets.preset(preset)  # one no longer offered (the demo's): the account reconnects as it is
    if chosen is None:
        raise Invalid(_("Unknown CalDAV provider “%(preset)s”.") % {"preset": preset})
    url = caldav_address(server_url or chosen.url)
    username, password = (username or "").strip(), password or ""
    if not username or not password:
        raise Invalid(_("Give the user name and the app password (%(help)s)") % {"help": chosen.app_password})
    remote_id = f"{username} {url}"
    if len(remote_id) > ExternalAccount._meta.get_field("remote_id").max_length:
        raise Invalid(_("This user name and address are too long together."))
    try:
        with transaction.atomic():
            account = _caldav_keep(user, reconnect, remote_id, username, url, chosen, password)
    except IntegrityError:  # the same account added at the same moment by another request: that one stands
        account = ExternalAccount.objects.get(user=user, provider=Provider.CALDAV, remote_id=remote_id)
    transaction.on_commit(partial(jobs.refresh_calendars, account.pk, force=True))
    return account


@sensitive_variables("password")
def _caldav_keep(user, reconnect, remote_id, username, url, chosen, password):
    same = ExternalAccount.objects.select_for_update().filter(user=user, provider=Provider.CALDAV,
                                                              remote_id=remote_id).first()
    if reconnect is not None and same is not None and same.pk != reconnect.pk:
        raise Invalid(_("You have already added %(account)s: reconnect that one.") % {"account": same})
    if reconnect is not None:  # as it is now (a worker may have written to it since the page was shown)
        same = ExternalAccount.objects.select_for_update().get(pk=reconnect.pk)
    account = same or ExternalAccount(user=user, provider=Provider.CALDAV)
    moved = bool(account.pk) and account.remote_id != remote_id
    if moved:  # another address or user: its home is found again, and its calendars list anew from there
        account.home_url = ""
        calendars_reset_cursor(account.calendars.all())
    account.remote_id, account.username, account.server_url, account.preset = remote_id, username, url, chosen.key
    account.email = username if "@" in username else ""
    account.name = chosen.name
    account.refresh_token, account.problem, account.missing_scopes = password, "", ""
    if account.state != AccountState.DISABLED:
        account.state = AccountState.ACTIVE
    account.save()
    return account


def caldav_address(text: str) -> str:
    """A server's address as the user typed it ("cloud.example.org", a URL), made an https URL. Plain http
    only to this machine (or where the settings allow it): elsewhere the password would travel in clear. The
    addresses a name leads to are checked by the worker, which resolves it (caldav_guard)."""
    text = (text or "").strip()
    if text and "://" not in text:
        text = f"https://{text}"
    wrong = Invalid(_("Give the server's address, such as https://cloud.example.org."))
    try:
        parts = urlsplit(text)
        host, _port = parts.hostname, parts.port
    except ValueError:  # "https://[::1", a port that is not a number
        raise wrong from None
    if parts.scheme not in ("http", "https") or not host:
        raise wrong
    if parts.username or parts.password:
        raise Invalid(_("Give the user name and the password in their own fields, not in the address."))
    if parts.scheme == "http" and not (app_settings.CALDAV_ALLOW_PLAIN_HTTP or _loopback(host)):
        raise Invalid(_("The address must start with https://: over plain http the password would travel "
                        "unencrypted."))
    url = urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))
    if len(url) > ExternalAccount._meta.get_field("server_url").max_length:
        raise Invalid(_("This address is too long for a server's address."))
    return url


def caldav_guard():
    """Dav's check of the hosts a CalDAV account's requests go to (see providers.caldav.dav.address_guard)."""
    return address_guard(loopback=app_settings.CALDAV_ALLOW_LOOPBACK)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def account_lost(account, problem, detail=""):
    """The provider refused the grant: sync stops for the account until the user reconnects it."""
    ExternalAccount.objects.filter(pk=account.pk).exclude(state=AccountState.DISABLED).update(
        state=AccountState.RECONNECT, problem=problem, missing_scopes="", access_token="")
    account.refresh_from_db()
    log.info("Account %s needs reconnecting: %s %s", account.pk, problem, detail)  # the provider's words: the log


def account_set_disabled(account, disabled: bool):
    """An administrator's switch; enabling brings back the state the account's tokens support."""
    if disabled:
        account.state = AccountState.DISABLED
    elif account.state == AccountState.DISABLED:
        account.state = _usable_state(account)
    account.save(update_fields=["state"])


NEEDS_USER = {AccountProblem.REVOKED, AccountProblem.SCOPES_MISSING, AccountProblem.TOKEN_UNREADABLE,
              AccountProblem.CERTIFICATE, AccountProblem.NOT_FOUND, AccountProblem.NOT_CALDAV,
              AccountProblem.FORBIDDEN_ADDRESS, AccountProblem.INSECURE}


def _usable_state(account):
    """What an account's grant allows: sync, or nothing until the user reconnects."""
    needs_user = account.problem in NEEDS_USER
    return AccountState.RECONNECT if needs_user or not account.refresh_token else AccountState.ACTIVE


def account_disconnect(account, *, appointments: str):
    """Stop all sync through the account and forget it. The appointments that came from its calendars
    are kept as plain CRM appointments (`appointments="keep"`) or deleted as if by hand ("remove")."""
    if appointments not in ("keep", "remove"):
        raise Invalid(_("Say “keep” or “remove”: what becomes of the appointments that came from %(account)s.") % {
            "account": account})
    with transaction.atomic():
        if appointments == "remove":
            imported = set(EventLink.objects.filter(calendar__account=account, imported=True)
                           .values_list("action_id", flat=True))
            # An occurrence goes with its series when that is removed too (deleting it first would
            # cancel it in a series about to go).
            for action in Action.objects.filter(pk__in=imported).exclude(series__in=imported):
                crm_services.action_delete(action=action, origin=ORIGIN)
        account.delete()


def provider_for(account):
    """The account's provider client; tokens it refreshes are stored on the account. A CalDAV account's
    client knows where each calendar's floating times are."""
    if account.provider == Provider.CALDAV:
        return providers.for_caldav(account, dict(account.calendars.values_list("remote_id", "time_zone")),
                                    verify=app_settings.CALDAV_CA_BUNDLE or True, guard=caldav_guard())

    def save(tokens):
        account.access_token, account.access_token_expires_at = tokens.access_token, tokens.expires_at
        account.refresh_token = tokens.refresh_token or account.refresh_token
        account.save(update_fields=["access_token", "access_token_expires_at", "refresh_token"])
    return providers.for_account(account, save)


# Calendars -------------------------------------------------------------------------------------

def calendars_refresh(account, *, force=False) -> bool:
    """Read the account's calendars again (at most every CALENDAR_REFRESH_SECONDS unless forced).

    New ones are added unselected, changed ones updated, missing ones marked gone (never dropped: the
    user sees what disappeared). Returns whether the provider was read. Provider trouble is recorded
    on the account, never raised.
    """
    if not account.is_active or not (force or selectors.calendars_due(account)):
        return False
    now = timezone.now()
    due = now - timedelta(seconds=app_settings.CALENDAR_REFRESH_SECONDS)
    if not force:  # claim the refresh before calling out: two page loads never both read the provider
        claimed = ExternalAccount.objects.filter(pk=account.pk).filter(
            Q(calendars_refreshed_at__isnull=True) | Q(calendars_refreshed_at__lt=due)).update(
            calendars_refreshed_at=now)
        if not claimed:
            return False
    if not account.refresh_token:
        account_lost(account, AccountProblem.TOKEN_UNREADABLE)
        return False
    try:
        provider, listed = _listed(account)
    except DiscoveryError as exc:
        if exc.problem == AccountProblem.UNREACHABLE:
            log.warning("No CalDAV server found for account %s: %s", account.pk, exc)
            ExternalAccount.objects.filter(pk=account.pk).update(problem=AccountProblem.UNREACHABLE,
                                                                 calendars_refreshed_at=now)
        else:
            account_lost(account, exc.problem, str(exc))
        return False
    except providers.AuthorizationLost as exc:
        account_lost(account, exc.problem, str(exc))
        return False
    except Exception as exc:  # noqa: BLE001 - whatever a server sends, the page stops waiting for the list
        if not isinstance(exc, providers.ProviderUnavailable):
            log.exception("Calendars of account %s not refreshed", account.pk)
        log.warning("Calendars of account %s not refreshed: %s", account.pk, exc)
        # The attempt counts: pages do not wait on a provider that is down at every visit.
        ExternalAccount.objects.filter(pk=account.pk).update(problem=AccountProblem.UNREACHABLE,
                                                             calendars_refreshed_at=now)
        return False
    _store_calendars(account, listed)
    _store_colors(account, provider)
    return True


def _listed(account):
    """The account's provider client and its calendars. A CalDAV account's home is found first if unknown,
    and found again if the server no longer has it there (it moved it)."""
    if account.provider == Provider.CALDAV and not account.home_url:
        _find_home(account)
    provider = provider_for(account)
    try:
        return provider, provider.list_calendars()
    except providers.ProviderUnavailable as exc:
        if account.provider != Provider.CALDAV or getattr(exc, "status", None) not in HOME_MOVED:
            raise
    _find_home(account)
    provider = provider_for(account)
    return provider, provider.list_calendars()


HOME_MOVED = (301, 302, 307, 308, 404, 410)  # what a CalDAV server answers at a calendar home it moved


def _find_home(account):
    """Where a CalDAV account's calendars are, from the address the user gave (RFC 6764 discovery)."""
    found = discover(account.server_url, account.username, account.refresh_token,
                     verify=app_settings.CALDAV_CA_BUNDLE or True, guard=caldav_guard())
    account.home_url = urljoin(found.base_url, quote_path(found.home))
    ExternalAccount.objects.filter(pk=account.pk).update(home_url=account.home_url)


def _store_colors(account, provider):
    """Keep the colors the account's events can take by name, for the color picker. Unreadable, they stay
    as they were: a color never costs the account its calendars, nor a reconnection."""
    try:
        colors = provider.color_names()
    except (providers.AuthorizationLost, providers.ProviderUnavailable) as exc:
        log.warning("Colors of account %s not read: %s", account.pk, exc)
        return
    ExternalAccount.objects.filter(pk=account.pk).update(colors=colors)


def _store_calendars(account, listed):
    now = timezone.now()
    with transaction.atomic():
        ExternalAccount.objects.select_for_update().get(pk=account.pk)  # one refresh of an account at a time
        known = {calendar.remote_id: calendar for calendar in account.calendars.all()}
        for info in listed:
            remote_id = info.remote_id[:RemoteCalendar._meta.get_field("remote_id").max_length]
            calendar = known.pop(remote_id, None) or RemoteCalendar(account=account, remote_id=remote_id)
            values = {"name": info.name[:RemoteCalendar._meta.get_field("name").max_length],
                      "color": info.color if _is_color(info.color) else "", "can_write": info.can_write,
                      "is_primary": info.is_primary, "owner_email": info.owner_email[:254],
                      "time_zone": info.time_zone[:64], "gone_at": None}
            if not info.can_write and calendar.direction != Direction.IMPORT:
                values.update(direction=Direction.IMPORT, is_destination=False)  # write access was taken away
            if calendar.pk and all(getattr(calendar, name) == value for name, value in values.items()):
                continue  # as it was: nothing to write
            for name, value in values.items():
                setattr(calendar, name, value)
            calendar.save()
        for calendar in known.values():
            if calendar.gone_at is None:
                calendar.gone_at, calendar.is_destination = now, False
                calendar.save(update_fields=["gone_at", "is_destination"])
        account.problem = "" if account.problem == AccountProblem.UNREACHABLE else account.problem
        account.calendars_refreshed_at = now
        account.save(update_fields=["problem", "calendars_refreshed_at"])


def calendar_resume(user, calendar) -> RemoteCalendar:
    """The user looked at a calendar held for too many deletions and lets its sync go on, deletions included."""
    if calendar.account.user_id != user.pk:
        raise Refused(_("This calendar is not yours."))
    if calendar.held_by_admin:
        raise Invalid(_("An administrator paused this calendar; only an administrator can resume it."))
    RemoteCalendar.objects.filter(pk=calendar.pk, held_by_admin=False).exclude(hold="").update(
        hold="", deletions_confirmed=True)
    calendar.refresh_from_db()
    return calendar


def calendar_sync_now(calendar):
    """Queue a run of one calendar now (the settings page's and the admin's "Sync now")."""
    status, text = selectors.calendar_status(calendar, selectors.pause_reasons(calendar.account.user))
    if status not in selectors.RUNNABLE:
        raise Invalid(text or _("This calendar is not selected for sync."))
    jobs.sync_now(calendar.pk, Trigger.MANUAL)


# An administrator's switches, for any number of calendars at once; each returns how many it changed.

def calendars_reset_cursor(calendars) -> int:
    """Make their next run list the whole window again, as after a lost cursor: it pairs what is unlinked
    and finds what was deleted meanwhile."""
    return calendars.update(cursor="")


def calendars_hold(calendars, reason) -> int:
    """Pause their sync, saying why to their users (who cannot resume it)."""
    return calendars.update(hold=reason, held_by_admin=True)


def calendars_release(calendars) -> int:
    """Lift a hold without approving deletions: a run that would still delete too much holds again."""
    return calendars.update(hold="", held_by_admin=False)


def default_action_types():
    return list(crm_selectors.action_types_active().filter(is_appointment=True))


def _is_color(text) -> bool:
    try:
        validate_hex_color(text)
    except ValidationError:
        return False
    return bool(text)


def calendar_configure(user, calendar, *, selected=None, enabled=None, direction=None, action_types=None,
                       first_sync=None, first_sync_since=None, is_destination=None, counts_busy=None) -> RemoteCalendar:
    """Change how one calendar syncs; only the arguments given change. Raises Refused or Invalid."""
    if calendar.account.user_id != user.pk:
        raise Refused(_("This calendar is not yours."))
    if not calendar.account.is_active:
        raise Refused(selectors.account_problem(calendar.account))
    allowed = selectors.allowed_for(user)
    refusal = allowed.provider_refusal(calendar.account.provider)
    if refusal:
        raise Refused(refusal)
    if calendar.gone_at and (selected or enabled):
        raise Invalid(_("This calendar no longer exists in %(provider)s.") % {
            "provider": calendar.account.get_provider_display()})
    direction = direction if direction is not None else calendar.direction
    if direction not in Direction.values:
        raise Invalid(_("Unknown direction “%(direction)s”.") % {"direction": direction})
    will_select = calendar.selected if selected is None else selected
    if will_select:
        refusal = allowed.direction_refusal(direction)
        if refusal:
            raise Refused(refusal)
        if direction != Direction.IMPORT and not calendar.can_write:
            raise Invalid(_("%(calendar)s is read-only for you: it can only be imported.") % {"calendar": calendar})
    first_sync = first_sync if first_sync is not None else calendar.first_sync
    since = first_sync_since if first_sync_since is not None else calendar.first_sync_since
    if first_sync not in FirstSync.values:
        raise Invalid(_("Unknown first-sync choice “%(choice)s”.") % {"choice": first_sync})
    if first_sync == FirstSync.SINCE and since is None:
        raise Invalid(_("Say from which date the first sync should start."))
    if first_sync == FirstSync.SINCE and not date(EARLIEST_YEAR, 1, 1) <= since <= timezone.localdate():
        raise Invalid(_("The first sync can start from a date between 1900 and today."))
    can_receive = will_select and direction != Direction.IMPORT
    if is_destination and not can_receive:
        raise Invalid(_("New appointments can only go to a selected calendar that exports."))
    first_selection = will_select and not calendar.selected
    if action_types is not None and not action_types and first_selection:
        action_types = None  # none ticked yet: the defaults below
    if will_select and action_types is not None and not action_types:
        raise Invalid(_("Choose at least one action type to sync."))
    with transaction.atomic():
        ExternalAccount.objects.select_for_update().get(pk=calendar.account_id)  # the limit holds under concurrency
        if first_selection and selectors.selected_count(calendar.account) >= allowed.max_calendars:
            raise Refused(_("You may sync at most %(count)d calendars of one account.") % {
                "count": allowed.max_calendars})
        calendar.selected, calendar.direction, calendar.first_sync = will_select, direction, first_sync
        calendar.first_sync_since = since if first_sync == FirstSync.SINCE else None
        calendar.enabled = calendar.enabled if enabled is None else enabled
        if counts_busy is not None and counts_busy != calendar.counts_for_availability:
            calendar.counts_busy = counts_busy
        wanted = calendar.is_destination if is_destination is None else is_destination
        calendar.is_destination = can_receive and wanted
        if calendar.is_destination:  # one per account: a new appointment goes to each account's
            RemoteCalendar.objects.filter(account=calendar.account, is_destination=True).exclude(
                pk=calendar.pk).update(is_destination=False)
        calendar.save()
        if action_types is not None:
            calendar.action_types.set(action_types)
        elif first_selection and not calendar.action_types.exists():
            calendar.action_types.set(default_action_types())  # G1: appointments only, unless said otherwise
    return calendar
