"""Small builders for test data. Actions are made through the services, as the product does."""

from datetime import datetime
from zoneinfo import ZoneInfo

from crm import defaults, services
from crm.models import ActionType, Company, Contact, User


def action_type(*, code="appointment"):
    found = ActionType.objects.filter(code=code).first()
    if found is None:  # a transactional test flushed the rows the migration installs
        defaults.action_types_install()
        found = ActionType.objects.get(code=code)
    return found


def profile(name):
    return defaults.profile_install(name)


def user(username, *, profile=None, time_zone="Europe/Paris", **fields):
    fields.setdefault("first_name", username.capitalize())
    fields.setdefault("email", f"{username}@example.com")
    return User.objects.create_user(
        username=username, password="secret-pass-1", profile=profile, time_zone=time_zone, **fields
    )


def company(name="Acme", **fields):
    return Company.objects.create(name=name, **fields)


def contact(last_name="Martin", **fields):
    return Contact.objects.create(last_name=last_name, **fields)


def local(text, zone="Europe/Paris"):
    """Return an aware datetime from '2026-11-23 10:00' in `zone`."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def appointment(owner, start, end=None, *, subject="Meeting", zone=None, **fields):
    """Create a timed appointment; `start`/`end` are local '2026-11-23 10:00' strings."""
    zone = zone or owner.time_zone
    fields.setdefault("action_type", action_type())
    begin = local(start, zone)
    finish = local(end, zone) if end else begin.replace(hour=begin.hour + 1)
    return services.action_create(
        owner=owner, subject=subject, start=begin, end=finish, time_zone=zone, **fields
    )


def external_account(user, *, provider="google", email="ada@example.com", **fields):
    from calendarsync.models import ExternalAccount

    return ExternalAccount.objects.create(user=user, provider=provider, remote_id=f"id-{email}", email=email,
                                          refresh_token="refresh-secret", **fields)


def remote_calendar(account, name="Work", *, can_write=True, **fields):
    from calendarsync.models import RemoteCalendar

    return RemoteCalendar.objects.create(account=account, remote_id=f"{name.lower()}@{account.email}", name=name,
                                         can_write=can_write, **fields)
