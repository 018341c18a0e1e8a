from django.conf import settings
from django.core.checks import Tags, Warning, register

from calendarsync import app_settings


@register(Tags.security, deploy=True)
def token_keys_set(app_configs, **kwargs):
    """Stored OAuth tokens should have keys of their own in production, not keys derived from SECRET_KEY."""
    if app_settings.TOKEN_KEYS.strip() or settings.DEBUG:
        return []
    return [Warning("CALENDARSYNC_TOKEN_KEYS is not set: stored OAuth tokens are encrypted with a key derived "
                    "from SECRET_KEY, so changing SECRET_KEY would force every user to reconnect.",
                    hint="Set CALENDARSYNC_TOKEN_KEYS to a long random string.", id="calendarsync.W001")]
