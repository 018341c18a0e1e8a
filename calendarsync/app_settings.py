"""Every CALENDARSYNC_* setting, read when used (so tests can override them), with its default.

Provider URLs default to the real services; `make run` and the tests point them at the sandboxes.
"""

from django.conf import settings

DEFAULTS = {
    "GOOGLE_API_URL": "https://www.googleapis.com",  # the Calendar API lives under /calendar/v3
    "GOOGLE_AUTHORIZE_URL": "https://accounts.google.com/o/oauth2/v2/auth",
    "GOOGLE_TOKEN_URL": "https://oauth2.googleapis.com/token",
    "GOOGLE_USERINFO_URL": "https://www.googleapis.com/oauth2/v2/userinfo",
    "MICROSOFT_LOGIN_URL": "https://login.microsoftonline.com",  # the authority is {this}/{tenant}
    "MICROSOFT_GRAPH_URL": "https://graph.microsoft.com",  # Graph lives under /v1.0
    "MICROSOFT_CA_BUNDLE": "",  # empty: the system's trusted CAs; the sandbox's test CA otherwise
}


def __getattr__(name):
    if name not in DEFAULTS:
        raise AttributeError(name)
    return getattr(settings, f"CALENDARSYNC_{name}", DEFAULTS[name])
