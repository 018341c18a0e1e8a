from django.apps import AppConfig


class OAuthConfig(AppConfig):
    """allauth finds the Google and Microsoft providers of calendarsync in this app's provider.py."""

    name = "calendarsync.oauth"
    label = "calendarsync_oauth"
    verbose_name = "Calendar account connections"
