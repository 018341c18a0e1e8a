from allauth.socialaccount.providers.microsoft.provider import MicrosoftGraphProvider

from .views import MicrosoftAdapter


class MicrosoftCalendarProvider(MicrosoftGraphProvider):
    package = "calendarsync.oauth.microsoft"
    oauth2_adapter_class = MicrosoftAdapter
