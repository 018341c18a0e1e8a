"""Writes of the devices app: device passwords, the calendars' switches and feed secrets."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import User
from devices.models import DeviceCalendar, DevicePassword

ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: typed on a phone, read aloud
GROUPS, GROUP = 5, 4  # 20 characters of 32: 100 bits
FAILURES_ALLOWED, FAILURE_WINDOW = 20, 300  # failed sign-ins per address, per 5 minutes
LAST_USE_EVERY = timedelta(minutes=5)  # a device asks many times a minute: its last use is kept coarsely


def password_create(*, user: User, name: str) -> tuple[DevicePassword, str]:
    """A new device password; returns it and its secret, which is shown once and never kept."""
    secret = "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP)) for _ in range(GROUPS))
    password = DevicePassword.objects.create(user=user, name=name.strip()[:80] or "Device",
                                             digest=_digest(secret), hint=secret[-4:])
    return password, secret


def password_revoke(*, user: User, pk: int) -> bool:
    """Revoke one of the user's device passwords; whether there was one."""
    return DevicePassword.objects.filter(user=user, pk=pk).delete()[0] > 0


class Throttled(Exception):
    """Too many failed sign-ins from this address lately: the answer is 429 until the window passes."""


def authenticate(username: str, secret: str, address: str) -> DevicePassword | None:
    """The device password given with its user's name (an active user's), or None. A right one always
    opens (so that nobody can lock a user's devices out by failing in their name); failures are counted
    per address, and past FAILURES_ALLOWED in the window that address is Throttled, right or wrong. Whether
    the user exists changes nothing in the answer nor in the work done (one hash, one lookup)."""
    key = f"devices:failed:{address}"
    password = (DevicePassword.objects.select_related("user").filter(digest=_digest(secret.strip())).first()
                if secret else None)
    right = password is not None and password.user.is_active and hmac.compare_digest(
        password.user.username.casefold(), username.casefold())
    if (cache.get(key) or 0) >= FAILURES_ALLOWED:
        raise Throttled(_("Too many failed sign-ins from this address: try again in a few minutes."))
    if not right:
        cache.add(key, 0, FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, FAILURE_WINDOW)
        return None
    now = timezone.now()
    if password.last_used_at is None or now - password.last_used_at > LAST_USE_EVERY:
        DevicePassword.objects.filter(pk=password.pk).update(last_used_at=now)
    return password


def calendar_switch(*, user: User, key: str, synced: bool) -> DeviceCalendar:
    """Switch a calendar's *Sync to devices* on or off. A type calendar switched changes what the agenda
    holds: the agenda's epoch is renewed, so that devices list it again rather than miss what moved."""
    with transaction.atomic():
        choice = _choice(user, key)
        if choice.synced != synced:
            choice.synced = synced
            choice.epoch = F("epoch") + 1
            if not choice.feed_secret:
                choice.feed_secret, choice.busy_feed_secret = _feed_secret(), _feed_secret()
            choice.save()
            if key.startswith("type-"):
                agenda_changed(user)
        choice.refresh_from_db()
    return choice


def agenda_ensure(*, user: User) -> None:
    """The user's agenda goes to devices until they say otherwise: its choices exist (its feed secrets)."""
    _choice(user, "agenda")


def feeds_renew(*, user: User, key: str) -> DeviceCalendar:
    """New secret addresses for the calendar's feeds: the old ones stop working."""
    choice = _choice(user, key)
    choice.feed_secret, choice.busy_feed_secret = _feed_secret(), _feed_secret()
    choice.save(update_fields=["feed_secret", "busy_feed_secret"])
    return choice


def agenda_changed(user: User) -> None:
    """What the user's agenda holds changed other than by appointments changing: its tokens are renewed."""
    _choice(user, "agenda")
    DeviceCalendar.objects.filter(user=user, key="agenda").update(epoch=F("epoch") + 1)


def _choice(user, key) -> DeviceCalendar:
    choice, _created = DeviceCalendar.objects.get_or_create(
        user=user, key=key, defaults={"synced": key == "agenda", "feed_secret": _feed_secret(),
                                      "busy_feed_secret": _feed_secret()})
    return choice


def _feed_secret() -> str:
    return secrets.token_urlsafe(32)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
