"""The sync permissions the standard profiles start with; administrators change them on each profile."""

from calendarsync.models import SyncPolicy
from crm.models import Profile

POLICIES = {
    "Sales": {},  # everything: both providers, every direction
    "Manager": {},
    "Technician": {"allow_export": False, "allow_both": False, "max_calendars": 3},  # sees remote busy times only
}


def policies_install() -> list[str]:
    """Give the standard profiles that have none their default sync permissions; return their names."""
    created = []
    for profile in Profile.objects.filter(name__in=POLICIES, sync_policy__isnull=True):
        SyncPolicy.objects.create(profile=profile, **POLICIES[profile.name])
        created.append(profile.name)
    return created
