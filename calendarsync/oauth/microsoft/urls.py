from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from .provider import MicrosoftCalendarProvider

urlpatterns = default_urlpatterns(MicrosoftCalendarProvider)
