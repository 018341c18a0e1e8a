"""Every CALENDARSYNC_* setting, read when used (so tests can override them), with its default.

Provider URLs default to the real services. A provider with no OAuth client configured is offered
through its sandbox when *_SANDBOX_URL is set (`make run` and the tests set them), else not at all.
"""

from django.conf import settings

DEFAULTS = {
    "GOOGLE_API_URL": "https://www.googleapis.com",  # the Calendar API lives under /calendar/v3
    "GOOGLE_AUTHORIZE_URL": "https://accounts.google.com/o/oauth2/v2/auth",
    "GOOGLE_TOKEN_URL": "https://oauth2.googleapis.com/token",
    "GOOGLE_USERINFO_URL": "https://www.googleapis.com/oauth2/v2/userinfo",
    "MICROSOFT_LOGIN_URL": "https://login.microsoftonline.com",  # the authority is {this}/{tenant}
    "MICROSOFT_GRAPH_URL": "https://graph.microsoft.com",  # Graph lives under /v1.0
    "MICROSOFT_CA_BUNDLE": "",  # the CA file the Microsoft sandbox's certificate is signed with
    "GOOGLE_SANDBOX_URL": "",  # e.g. http://127.0.0.1:8001: the Google sandbox, used when no client is configured
    "MICROSOFT_SANDBOX_URL": "",  # e.g. https://127.0.0.1:8002: identity and Graph of the Microsoft sandbox
    "MICROSOFT_SANDBOX_CONSENT_URL": "",  # its consent page on plain http for browsers (default: the URL above)
    "MICROSOFT_TENANT": "common",  # or "organizations", or one tenant's id
    # OAuth clients. Empty: an app configured in the admin (allauth's social applications), else the
    # sandbox's client when the URLs above point at a sandbox, else the provider is not offered.
    "GOOGLE_CLIENT_ID": "",
    "GOOGLE_CLIENT_SECRET": "",
    "MICROSOFT_CLIENT_ID": "",
    "MICROSOFT_CLIENT_SECRET": "",
    # CalDAV. A demo server offered as a preset (`make run` starts a Radicale with the demo's people); plain
    # http only to loopback unless allowed (a password would cross the network in clear); TLS verification
    # against the system's CAs, or this CA file.
    "CALDAV_DEMO_URL": "",
    "CALDAV_ALLOW_PLAIN_HTTP": False,
    "CALDAV_ALLOW_LOOPBACK": False,  # servers on this machine (`make run`'s demo, the tests); never link-local
    "CALDAV_CA_BUNDLE": "",
    "TOKEN_KEYS": "",  # comma-separated secrets for stored tokens, newest first (see crypto.py)
    "MAX_CALENDARS_PER_ACCOUNT": 10,  # a profile's own limit cannot exceed it
    "CALENDAR_REFRESH_SECONDS": 300,  # how often returning to the settings page re-reads remote calendars
    "HORIZON_DAYS": 365,  # how far ahead remote events are imported (G3)
    "LARGE_CALENDAR": 9000,  # entries above which a calendar (imported, or on devices) is flagged
    "MASS_DELETE_SHARE": 0.5,  # a run deleting more than this share of a calendar's links is held instead
    "MASS_DELETE_MIN_LINKS": 10,  # ... when the calendar has at least this many
    "TRASH_DAYS": 30,  # how long appointments deleted remotely stay restorable
    "PUSH_DELAY_SECONDS": 2,  # saves within this delay go out in one push
    "OUTBOX_ATTEMPTS": 5,  # runs that try a change the provider keeps refusing, before it waits for the user
    "RUNS_KEPT_DAYS": 30,  # sync runs older than this are purged (a calendar's last run is always kept)
    "AGENDA_PULL_SECONDS": 120,  # opening the agenda pulls at most this often per user
    "PULL_MINUTES": 15,  # the periodic pull of every selected calendar
    "FREE_BUSY_SECONDS": 120,  # how long live free/busy of a calendar the CRM does not import is kept
    "FREE_BUSY_ERROR_SECONDS": 30,  # ... and a provider's failure to give it, before it is asked again
    # How long a run holds its calendar without renewing (it renews before each provider call and each step):
    # longer than any one provider call with its Retry-After waits; a dead worker's calendar waits this long.
    "LEASE_SECONDS": 600,
}


def __getattr__(name):
    if name not in DEFAULTS:
        raise AttributeError(name)
    return getattr(settings, f"CALENDARSYNC_{name}", DEFAULTS[name])
