"""The action types and profiles a new CRM starts with; administrators change them in the admin."""

from django.contrib.auth.models import Permission

from crm.models import ActionType, Profile

# (code, name, is_appointment, color, default duration in minutes)
ACTION_TYPES = [
    ("appointment", "Appointment", True, "#1a73e8", 60),
    ("call", "Call", False, "#0b8043", 15),
    ("task", "Task", False, "#f09300", 30),
    ("email", "E-mail", False, "#8e24aa", 15),
    ("intervention", "Intervention", False, "#d50000", 120),
]

_WORK_ON_OWN_ACTIONS = ["view_action", "add_action", "change_action", "delete_action", "view_actiontype"]
_READ_DIRECTORY = ["view_company", "view_contact"]
_EDIT_DIRECTORY = [*_READ_DIRECTORY, "add_company", "change_company", "add_contact", "change_contact"]

PROFILES = {
    "Sales": ("Works on their own appointments and keeps companies and contacts up to date.",
              [*_WORK_ON_OWN_ACTIONS, *_EDIT_DIRECTORY]),
    "Technician": ("Plans and reports their own interventions; reads companies and contacts.",
                   [*_WORK_ON_OWN_ACTIONS, *_READ_DIRECTORY]),
    "Manager": ("Sees and edits everyone's actions and the whole directory.",
                [*_WORK_ON_OWN_ACTIONS, "view_all_actions", "change_all_actions", *_EDIT_DIRECTORY,
                 "delete_company", "delete_contact"]),
}


def action_types_install() -> None:
    """Create the standard action types that do not exist yet."""
    for position, (code, name, is_appointment, color, duration) in enumerate(ACTION_TYPES):
        ActionType.objects.get_or_create(code=code, defaults={
            "name": name, "is_appointment": is_appointment, "color": color,
            "default_duration": duration, "position": position,
        })


def profile_install(name: str) -> Profile:
    """Create (or complete) one standard profile with its permissions."""
    description, codenames = PROFILES[name]
    profile, _ = Profile.objects.get_or_create(name=name, defaults={"description": description})
    profile.permissions.add(*Permission.objects.filter(content_type__app_label="crm", codename__in=codenames))
    return profile
