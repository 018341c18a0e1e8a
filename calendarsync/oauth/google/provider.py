from allauth.socialaccount.providers.google.provider import GoogleProvider

from .views import GoogleAdapter


class GoogleCalendarProvider(GoogleProvider):
    package = "calendarsync.oauth.google"
    oauth2_adapter_class = GoogleAdapter
