"""The CalDAV services people connect most, with what each needs: its address, which user name, and where it
makes app passwords (two-step verification refuses the account's own password to calendar clients).

Checked against each provider's help pages; none can be reached from the test machines, so discovery from
these addresses is tested against Radicale and Xandikos, which do what these servers do (RFC 6764, 4791).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from calendarsync import app_settings


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    url: str  # where discovery starts; "" when each organisation runs its own server
    username: str  # what the user name is there
    app_password: str  # where to make an app password, in the provider's menus
    address: str = ""  # what the address looks like, when the user must give it


PRESETS = [
    Preset("icloud", "iCloud", "https://caldav.icloud.com/", _("your Apple Account e-mail address"),
           _("iCloud takes an app-specific password, not your Apple Account password: make one at "
             "account.apple.com → Sign-In and Security → App-Specific Passwords.")),
    Preset("fastmail", "Fastmail", "https://caldav.fastmail.com/", _("your full Fastmail address"),
           _("Fastmail takes an app password: make one in Settings → Privacy & Security → App passwords → New app "
             "password, with access to calendars (CalDAV).")),
    Preset("nextcloud", "Nextcloud", "", _("your Nextcloud user name"),
           _("With two-step verification, Nextcloud takes an app password: make one in Settings → Security → "
             "Devices & sessions → Create new app password."),
           "https://cloud.example.org"),
    Preset("bluemind", "BlueMind", "", _("your BlueMind login (usually your e-mail address)"),
           _("If your organisation uses two-step verification, make an app password in BlueMind's settings "
             "(My account → Security); otherwise your BlueMind password works."),
           "https://mail.example.org"),
    Preset("zoho", "Zoho Calendar", "https://calendar.zoho.com/caldav/", _("your Zoho e-mail address"),
           _("Zoho takes an app-specific password: make one at accounts.zoho.com → Security → App Passwords → "
             "Generate New Password. Accounts in a "
             "Zoho data centre other than zoho.com use its address (calendar.zoho.eu, calendar.zoho.in…).")),
    Preset("yahoo", "Yahoo Calendar", "https://caldav.calendar.yahoo.com/", _("your Yahoo e-mail address"),
           _("Yahoo takes an app password: make one at login.yahoo.com → Account security → Generate app "
             "password.")),
    Preset("generic", _("Another CalDAV server"), "", _("the user name you sign in with"),
           _("If the account uses two-step verification, make an app password in its settings and use that."),
           "https://calendar.example.org"),
]


def offered() -> list[Preset]:
    """The presets a user may choose, the demo server first where `make run` started one."""
    url = app_settings.CALDAV_DEMO_URL
    return [Preset("demo", _("Demo CalDAV server (Radicale, on this machine)"), url,
                   _("a demo person's user name: marc, alice, dana or tom"),
                   _("The demo's people all have the password “demo” there."))] * bool(url) + PRESETS


def find(key: str) -> Preset | None:
    return next((preset for preset in offered() if preset.key == key), None)


def preset(key: str) -> Preset:
    """The preset an account was added with (the generic one when it is no longer offered)."""
    return find(key) or PRESETS[-1]
